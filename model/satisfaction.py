"""Residents' satisfaction: a moving average of their need outcomes (scores 0..1).

The n-th outcome a resident has ever had weighs ``max(memory, 1/n)``: the first ``1/memory``
outcomes are simply averaged, later ones enter an exponential moving average with weight
``memory`` (a moving average with its start-up bias removed, so no arbitrary initial value
colours the first months). A resident without any outcome yet has no satisfaction (NaN) and
is left out of the satisfaction metrics. Outcomes of one day enter together: with m outcomes
of mean x today, s <- h s + (1 - h) x, where h is the product of (1 - weight) over those m
outcomes.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _update(satisfaction, n_seen, need_res, score, memory):  # pragma: no cover - compiled
    """One pass over today's needs, which come grouped by resident."""
    full = np.floor(1.0 / memory + 1e-9)  # outcomes averaged before the moving average
    keep = 1.0 - memory
    n = need_res.shape[0]
    i = 0
    while i < n:
        r = need_res[i]
        total = 0.0
        j = i
        while j < n and need_res[j] == r:
            total += score[j]
            j += 1
        m = j - i
        n0 = n_seen[r]
        averaged = min(max(full - n0, 0.0), float(m))  # outcomes weighted 1/n
        h = 0.0 if n0 + averaged == 0 else n0 / (n0 + averaged)
        h *= keep ** (m - averaged)
        mean = total / m
        if n0 == 0:
            satisfaction[r] = mean
        else:
            satisfaction[r] = h * satisfaction[r] + (1.0 - h) * mean
        n_seen[r] = n0 + m
        i = j


def update_satisfaction(satisfaction: np.ndarray, n_seen: np.ndarray, need_res: np.ndarray,
                        score: np.ndarray, memory: float) -> None:
    """Fold today's outcomes into each resident's moving average, in place.

    Args:
        satisfaction: per resident (NaN before the first outcome).
        n_seen: per resident, outcomes so far (updated).
        need_res: resident of each of today's needs, needs of one resident next to each other
            (as the day's needs are drawn).
        score: outcome score of each need.
        memory: weight of one outcome once ``1/memory`` outcomes have been seen.
    """
    need_res = np.asarray(need_res)
    if len(need_res) > 1 and np.any(np.diff(need_res) < 0):
        order = np.argsort(need_res, kind="stable")
        need_res, score = need_res[order], np.asarray(score)[order]
    _update(satisfaction, n_seen, need_res, np.asarray(score, dtype=np.float64), float(memory))
