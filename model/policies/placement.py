"""Where to put things: cover the residents who lack a category ("fill what is missing").

A candidate site *covers* a resident for a category when the walk from the resident's home to
the site (the city's walking rule) is within the category's standard walk at the resident's
own speed -- the same rule as the coverage metrics. Sites are chosen by greedy cover (one
site at a time, the one covering most of those still uncovered) or, with a policy's
``placement = "mclp"``, by the exact maximal covering location model (``coverage_model``).
"""

from __future__ import annotations

import numpy as np

from ..city import OLD, RESIDENTIAL, ROAD
from ..errors import ScenarioError
from ..metrics import coverage_matrix
from .coverage_model import reduce_instance, solve_mclp

PLACEMENTS = ("greedy", "mclp")
"""How a policy chooses its sites: greedy cover, or the exact maximal covering location model."""


def lacking(model, category: str, who: np.ndarray | None = None) -> np.ndarray:
    """Indices of present residents who reach no provider of ``category`` within its standard.

    Args:
        model: the CommerceModel.
        category: category name.
        who: optional bool mask over present residents (e.g. the elderly) to restrict to.
    """
    k = model.categories.index[category]
    cov = coverage_matrix(model)[:, k]
    mask = ~cov if who is None else (~cov & who)
    return model.present_idx[mask]


def coverage_pairs(model, candidates_xy: np.ndarray, residents: np.ndarray, category: str,
                   reach_m: float | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Who each candidate covers: residents counted by home and reach, and covering pairs.

    Residents are grouped by home and by reach (their speed times the category's standard
    walk, or ``reach_m`` metres for all: a service radius); a (candidate, home) pair within
    walking range covers the reach groups whose reach is at least the walk.

    Returns:
        ``(count, src, home, within)``: residents per (home, reach group), and for each
        (candidate, home) pair within the longest reach its candidate, its home and which
        reach groups it covers (``(pairs, groups)`` booleans).
    """
    pop = model.population
    if reach_m is None:
        std_m = 60.0 * float(model.categories.standard_min[model.categories.index[category]])
        reach = pop.speed_mps[residents].astype(np.float64) * std_m
    else:
        reach = np.full(len(residents), float(reach_m))
    groups = np.unique(reach)
    n_homes = len(model.city.home_xy)
    g_of = np.searchsorted(groups, reach)
    count = np.zeros((n_homes, len(groups)))
    np.add.at(count, (pop.home[residents], g_of), 1.0)
    src, home, dist = model.city.distances_from(candidates_xy, float(groups.max()))
    within = dist[:, None] <= groups[None, :]  # (pairs, reach groups)
    return count, src, home, within


def greedy_cover(model, candidates_xy: np.ndarray, residents: np.ndarray, n: int,
                 category: str, already: np.ndarray | None = None,
                 reach_m: float | None = None) -> list[int]:
    """Pick up to ``n`` candidate cells that cover the most of ``residents`` (greedy set cover).

    Args:
        model: the CommerceModel.
        candidates_xy: ``(m, 2)`` cells (streets, storefronts).
        residents: resident indices to cover.
        n: number of candidates to pick.
        category: the category whose standard walk defines covering.
        already: optional indices of candidates that must not be picked.
        reach_m: a service radius (network metres) that defines covering instead, the same
            for every resident (a provider that comes to the home).

    Returns:
        Indices into ``candidates_xy``, in the order picked (stops once nobody more is covered).
    """
    if len(residents) == 0 or len(candidates_xy) == 0 or n <= 0:
        return []
    count, src, home, within = coverage_pairs(model, candidates_xy, residents, category,
                                              reach_m)
    picked: list[int] = []
    blocked = set() if already is None else set(np.asarray(already).tolist())
    for _ in range(n):
        gain_pair = (count[home] * within).sum(axis=1)
        gain = np.bincount(src, weights=gain_pair, minlength=len(candidates_xy))
        if blocked or picked:
            gain[list(blocked | set(picked))] = -1.0
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        picked.append(best)
        sel = src == best
        covered_h, covered_w = home[sel], within[sel]
        count[covered_h] *= ~covered_w
    return picked


def mclp_cover(model, candidates_xy: np.ndarray, residents: np.ndarray, n: int,
               category: str, reach_m: float | None = None) -> list[int]:
    """Up to ``n`` candidate cells covering the most of ``residents``: the exact MCLP optimum.

    Same covering rule and same return convention as :func:`greedy_cover` (indices into
    ``candidates_xy``, the site adding the most first, none that adds nobody); the sites are
    those of an optimal maximal covering location solution (``coverage_model``).
    """
    if len(residents) == 0 or len(candidates_xy) == 0 or n <= 0:
        return []
    count, src, home, within = coverage_pairs(model, candidates_xy, residents, category,
                                              reach_m)
    pair, group = np.nonzero(within & (count[home] > 0))
    demand = home[pair].astype(np.int64) * count.shape[1] + group
    incidence, weights, keep = reduce_instance(demand, src[pair].astype(np.int64),
                                               count.ravel(), len(candidates_xy))
    picked = solve_mclp(incidence, weights, n)
    return [int(keep[j]) for j in picked]


def cover(model, candidates_xy: np.ndarray, residents: np.ndarray, n: int, category: str,
          method: str = "greedy", reach_m: float | None = None) -> list[int]:
    """Up to ``n`` candidates covering ``residents``, by ``method`` (one of :data:`PLACEMENTS`)."""
    if method == "mclp":
        return mclp_cover(model, candidates_xy, residents, n, category, reach_m)
    return greedy_cover(model, candidates_xy, residents, n, category, reach_m=reach_m)


def cover_then_fill(model, candidates_xy: np.ndarray, need: np.ndarray, n: int, category: str,
                    key: str, method: str = "greedy", reach_m: float | None = None
                    ) -> list[int]:
    """``n`` candidates: first those covering the residents in ``need``, then the most populous.

    ``method`` chooses how the residents in ``need`` are covered (:data:`PLACEMENTS`); the
    fill that follows (where the most residents are, then in order) is the same for both.
    ``reach_m``: as in ``greedy_cover`` (a service radius instead of the standard walk).

    Raises:
        ScenarioError: naming ``key`` when fewer than ``n`` candidates exist.
    """
    if n > len(candidates_xy):
        raise ScenarioError("policy", key, f"{n} asked for, but this city has only "
                            f"{len(candidates_xy)} places for it")
    picked = cover(model, candidates_xy, need, n, category, method, reach_m)
    if len(picked) < n:  # nobody left to cover: then where the most residents are
        rest = [i for i in greedy_cover(model, candidates_xy, model.present_idx, n, category,
                                        reach_m=reach_m)
                if i not in picked]
        picked += rest[: n - len(picked)]
    if len(picked) < n:  # places that cover nobody at all: in order
        picked += [i for i in range(len(candidates_xy)) if i not in picked][: n - len(picked)]
    return picked


def walkable_road_cells(model, community_kind: int | None = None, step: int = 2) -> np.ndarray:
    """Road cells on a lattice (every ``step`` cells) as candidate stops, optionally in one kind."""
    city = model.city
    mask = city.cell_type == ROAD
    if community_kind is not None:
        mask &= city.community_type == community_kind
    xy = np.argwhere(mask)
    keep = (xy[:, 0] % step == 0) & (xy[:, 1] % step == 0)
    return xy[keep].astype(np.int32)


def idle_ground_floors(model) -> np.ndarray:
    """Residential cells of old communities facing a street: ground floors that could be shops."""
    city = model.city
    res = (city.cell_type == RESIDENTIAL) & (city.community_type == OLD)
    road = city.cell_type == ROAD
    facing = np.zeros_like(road)
    facing[1:, :] |= road[:-1, :]
    facing[:-1, :] |= road[1:, :]
    facing[:, 1:] |= road[:, :-1]
    facing[:, :-1] |= road[:, 1:]
    return np.argwhere(res & facing).astype(np.int32)
