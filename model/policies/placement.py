"""Where to put things: greedy cover of the residents who lack a category ("fill what is missing")."""

from __future__ import annotations

import numpy as np

from ..city import ROAD
from ..metrics import coverage_matrix


def lacking(model, category: str, who: np.ndarray | None = None) -> np.ndarray:
    """Indices of present residents whose own 15-minute walk reaches no provider of ``category``.

    Args:
        model: the CommerceModel.
        category: category name.
        who: optional bool mask over present residents (e.g. the elderly) to restrict to.
    """
    k = model.categories.index[category]
    cov = coverage_matrix(model)[:, k]
    mask = ~cov if who is None else (~cov & who)
    return model.present_idx[mask]


def greedy_cover(model, candidates_xy: np.ndarray, residents: np.ndarray, n: int,
                 already: np.ndarray | None = None) -> list[int]:
    """Pick up to ``n`` candidate cells that cover the most of ``residents`` (greedy set cover).

    A candidate covers a resident when the walking distance from the resident's home to the
    candidate is within the resident's own reach.

    Args:
        model: the CommerceModel.
        candidates_xy: ``(m, 2)`` walkable cells.
        residents: resident indices to cover.
        n: number of candidates to pick.
        already: optional indices of candidates that must not be picked.

    Returns:
        Indices into ``candidates_xy``, in the order picked (stops once nobody more is covered).
    """
    pop = model.population
    if len(residents) == 0 or len(candidates_xy) == 0 or n <= 0:
        return []
    groups = np.unique(pop.reach_m[residents])
    n_homes = len(model.city.home_xy)
    g_of = np.searchsorted(groups, pop.reach_m[residents])
    count = np.zeros((n_homes, len(groups)))
    np.add.at(count, (pop.home[residents], g_of), 1.0)
    src, home, dist = model.city.distances_from(candidates_xy, float(groups.max()))
    within = dist[:, None] <= groups[None, :]  # (pairs, reach groups)
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


def walkable_road_cells(model, community_kind: int | None = None, step: int = 2) -> np.ndarray:
    """Road cells on a lattice (every ``step`` cells) as candidate stops, optionally in one kind."""
    city = model.city
    mask = city.cell_type == ROAD
    if community_kind is not None:
        mask &= city.community_type == community_kind
    xy = np.argwhere(mask)
    keep = (xy[:, 0] % step == 0) & (xy[:, 1] % step == 0)
    return xy[keep].astype(np.int32)
