"""What a click on the map shows: the residents of a cell, or the shop or stop standing there.

The agents at a cell come from Mesa's grid (``model.grid[(x, y)].agents``): residents are
:class:`~model.agents.Resident` agents at their home cell, shops :class:`~model.agents.Shop`
agents at their storefront. A home cell's report says how many live there, their groups and
satisfaction, and for each category the walk to the nearest open provider, the category's
standard walk and how many of them reach it within it; a shop's report its format, chain or
independent, cash, today's visits against capacity and the policies that support it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from model import CommerceModel
from model.agents import Resident, Shop
from model.city import NEW, OLD, RESIDENTIAL, ROAD, STOREFRONT, WALL
from model.metrics import coverage_matrix
from model.policies import Bus

CELL_TYPES = {ROAD: "road or lane", RESIDENTIAL: "homes", STOREFRONT: "storefront",
              WALL: "compound wall"}
COMMUNITY = {OLD: "old community", NEW: "new community"}


@dataclass(frozen=True)
class Access:
    """One category as seen from a home cell.

    Attributes:
        category: the category.
        walk_m: network walk to the nearest open provider (inf: none within reach).
        minutes: (fastest, slowest) walk in minutes for the residents of the cell.
        reached: residents of the cell who reach it within its standard walk.
    """

    category: str
    walk_m: float
    minutes: tuple[float, float]
    reached: int


def residents_at(model: CommerceModel, xy: tuple[int, int]) -> list[Resident]:
    """The residents living at cell ``xy`` (Mesa's grid)."""
    return [a for a in model.grid[xy].agents if isinstance(a, Resident)]


def access_from(model: CommerceModel, xy: tuple[int, int]) -> list[Access]:
    """Each category as seen from home cell ``xy`` (empty if nobody lives there)."""
    people = residents_at(model, xy)
    if not people:
        return []
    idx = np.array([r.index for r in people])
    rows = np.searchsorted(model.present_idx, idx)
    covered = coverage_matrix(model)[rows]  # (people, categories)
    speeds = np.array([r.walking_speed for r in people])
    walk = model.nearest_walk_m(int(model.city.home_index[xy]))
    out = []
    for k, name in enumerate(model.categories.names):
        minutes = (walk[k] / speeds.max() / 60, walk[k] / speeds.min() / 60)
        out.append(Access(name, float(walk[k]), minutes, int(covered[:, k].sum())))
    return out


def cell_markdown(model: CommerceModel, xy: tuple[int, int]) -> str:
    """What the page says about cell ``xy``."""
    x, y = xy
    kind = int(model.city.community_type[xy])
    title = f"#### Cell ({x}, {y}): {CELL_TYPES[int(model.city.cell_type[xy])]}"
    if kind in COMMUNITY:
        title += f", {COMMUNITY[kind]}"
    lines = [title]
    for shop in (a for a in model.grid[xy].agents if isinstance(a, Shop)):
        lines += shop_lines(model, shop)
    stops = [bus for bus in model.agents_by_type.get(Bus, []) if xy in map(tuple, bus.route)]
    if stops:
        lines.append(f"- A stop of {len(stops)} vendor bus{'es' if len(stops) > 1 else ''}.")
    people = residents_at(model, xy)
    if people:
        lines += resident_lines(model, xy, people)
    elif int(model.city.cell_type[xy]) == RESIDENTIAL:
        lines.append("- Nobody lives here yet (new communities fill up over time).")
    return "\n".join(lines)


def resident_lines(model: CommerceModel, xy: tuple[int, int], people: list[Resident]) -> list[str]:
    """The residents of a home cell and what they reach."""
    groups = Counter(r.group for r in people)
    sat = np.array([r.satisfaction for r in people])
    rated = sat[np.isfinite(sat)]  # a resident has no satisfaction before a first need
    threshold = model.params.satisfied_threshold
    mood = (f"mean {rated.mean():.2f}; {int((rated >= threshold).sum())} of {len(rated)} with "
            f"a satisfaction are satisfied (at least {threshold:.2f})" if len(rated) else
            "nobody has had a need yet")
    lines = [
        f"- **{len(people)} residents**: "
        + ", ".join(f"{n} {g.replace('elderly80', 'aged 80+').replace('elderly', 'aged 60-79')}"
                    for g, n in sorted(groups.items())) + ".",
        f"- Satisfaction: {mood}.",
        "",
        "| format | nearest | walk | standard | reach it within the standard |",
        "|---|---|---|---|---|",
    ]
    standard = dict(zip(model.categories.names, model.categories.standard_min, strict=True))
    for a in access_from(model, xy):
        if np.isfinite(a.walk_m):
            near = f"{a.walk_m:,.0f} m"
            walk = f"{a.minutes[0]:.0f}–{a.minutes[1]:.0f} min"
        else:
            near, walk = "none within reach", "–"
        lines.append(f"| {a.category.replace('_', ' ')} | {near} | {walk} | "
                     f"{standard[a.category]:.0f} min | {a.reached} of {len(people)} |")
    return lines


def supporting_policies(model: CommerceModel, shop_id: int) -> list[str]:
    """Labels of the policies that opened, convert, subsidize or underwrite a shop."""
    owner = int(model.supply.shops.owner[shop_id])
    out = []
    for i, (label, policy) in enumerate(zip(model.policy_labels, model.policies, strict=True)):
        if i == owner or shop_id in policy.supported_shops(model).tolist():
            out.append(label.replace("_", " "))
    return out


def shop_lines(model: CommerceModel, shop: Shop) -> list[str]:
    """A shop: format, chain or not, cash, today's visits against capacity, its supporters."""
    offers = model.supply.offers
    mine = np.flatnonzero(offers.shop == shop.shop_id)
    chosen = model.today.chosen
    visits = np.bincount(chosen[chosen >= 0], minlength=len(offers)) if len(chosen) else \
        np.zeros(len(offers), dtype=np.int64)
    served = "; ".join(
        f"{model.categories.names[int(offers.category[o])].replace('_', ' ')}: "
        f"{int(visits[o])} visits today, capacity {offers.capacity[o]:,.0f}" for o in mine)
    support = supporting_policies(model, shop.shop_id)
    opened = int(model.supply.shops.opened_day[shop.shop_id])
    return [
        f"- **Shop: {shop.category.replace('_', ' ')}**, "
        f"{'chain outlet' if shop.chain else 'independent'}, open since day {opened}; "
        f"cash ¥{shop.cash:,.0f}.",
        f"- {served}.",
        "- Supported by: " + (", ".join(support) if support else "no policy") + ".",
    ]
