"""The exact maximal covering location model (MCLP), solved with PySAL spopt and CBC.

Given demand points with weights, candidate sites and which sites cover which demand points,
MCLP (Church & ReVelle 1974; spopt's ``MCLP``) picks exactly ``p`` sites that cover the
largest total weight. Greedy cover (``placement.greedy_cover``) adds one site at a time and
can miss the optimum by up to 1 - 1/e of it; MCLP is the integer program itself, solved to
optimality by CBC (the solver that ships inside the ``pulp`` 3.x wheel; no network, no
licence).

Before solving, the instance is reduced without changing its optimum: candidates that cover
nothing are dropped, and demand points covered by exactly the same candidates are merged
(their weights added). The solution is returned in greedy order within the chosen set (the
site adding the most first), without sites that add nothing (when fewer than ``p`` sites
already cover every demand point): the caller fills the rest by its own rule.

This module knows nothing of the model: :func:`placement.cover` builds the coverage pairs
(the city's walking rule, each resident's own speed and the category's standard walk).
"""

from __future__ import annotations

import warnings

import numpy as np

SOLVER_THREADS = 1
"""CBC runs single-threaded: the same instance gives the same solution on any machine."""


def reduce_instance(demand: np.ndarray, cand: np.ndarray, weight: np.ndarray,
                    n_cand: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge demand points with identical covering sets; keep only useful candidates.

    Args:
        demand: Demand point of each (demand, candidate) covering pair.
        cand: Candidate of each pair (indices ``0..n_cand-1``).
        weight: Weight of each demand point (indexed by ``demand`` values).
        n_cand: Number of candidates.

    Returns:
        ``(cover, weights, keep)``: a boolean matrix (merged demand points x kept
        candidates), the merged weights, and the original index of each kept candidate.
    """
    if len(demand) == 0:
        return np.zeros((0, 0), dtype=bool), np.zeros(0), np.zeros(0, dtype=np.int64)
    keep = np.unique(cand)
    col = np.searchsorted(keep, cand)
    points, row = np.unique(demand, return_inverse=True)
    full = np.zeros((len(points), len(keep)), dtype=bool)
    full[row, col] = True
    merged, inverse = np.unique(full, axis=0, return_inverse=True)
    weights = np.bincount(inverse.ravel(), weights=weight[points], minlength=len(merged))
    useful = weights > 0
    return merged[useful], weights[useful], keep


def solve_mclp(cover: np.ndarray, weights: np.ndarray, p: int) -> list[int]:
    """Columns of ``cover`` that an optimal MCLP solution with ``p`` sites picks.

    Args:
        cover: Boolean matrix, demand points x candidate sites (True: the site covers it).
        weights: Weight of each demand point (residents).
        p: Sites to pick (at most the number of columns).

    Returns:
        The picked columns, in greedy order within the optimal set, without columns that
        add no weight.

    Raises:
        RuntimeError: CBC did not report an optimal solution.
    """
    n_dem, n_site = cover.shape
    p = min(int(p), n_site)
    if p <= 0 or n_dem == 0:
        return []
    with warnings.catch_warnings():
        # pulp 3.x announces its 4.0 API (spopt still builds models the 3.x way)
        warnings.simplefilter("ignore", DeprecationWarning)
        import pulp
        from spopt.locate import MCLP

        # spopt's cost-matrix form: a site covers a demand point when the "cost" is within
        # the service radius; coverage is already decided, so cost 0 (covered) or 1 (not)
        cost = np.where(cover, 0.0, 1.0)
        mclp = MCLP.from_cost_matrix(cost, np.asarray(weights, dtype=np.float64),
                                     service_radius=0.5, p_facilities=p, name="lifecircle_mclp")
        solver = pulp.PULP_CBC_CMD(msg=False, threads=SOLVER_THREADS, gapRel=0.0)
        mclp.solve(solver, results=False)
    chosen = [j for j, var in enumerate(mclp.fac_vars) if (var.value() or 0.0) > 0.5]
    return greedy_order(cover, weights, chosen)


def greedy_order(cover: np.ndarray, weights: np.ndarray, chosen: list[int]) -> list[int]:
    """``chosen`` ordered by marginal weight covered (largest first); zero-gain sites dropped."""
    left = np.asarray(weights, dtype=np.float64).copy()
    rest = list(chosen)
    order: list[int] = []
    while rest:
        gains = [float(left[cover[:, j]].sum()) for j in rest]
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        j = rest.pop(best)
        order.append(j)
        left[cover[:, j]] = 0.0
    return order


def covered_weight(cover: np.ndarray, weights: np.ndarray, chosen: list[int]) -> float:
    """Total weight of the demand points that at least one chosen column covers."""
    if not chosen or cover.size == 0:
        return 0.0
    return float(np.asarray(weights)[cover[:, chosen].any(axis=1)].sum())
