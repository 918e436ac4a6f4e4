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

from .threads import CHUNKS_PER_THREAD, PARALLEL_MIN_ITEMS, chunk_bounds, run_tasks, thread_count


@numba.njit(cache=True, nogil=True)
def _update(satisfaction, n_seen, need_res, score, memory):  # pragma: no cover - compiled
    """One pass over today's needs, which come grouped by resident."""
    full = np.floor(1.0 / memory + 1e-9)  # outcomes averaged before the moving average
    keep = 1.0 - memory
    n = need_res.shape[0]
    # keep ** j for the few whole j a day can have (at most a resident's needs today), so the
    # loop looks powers up instead of calling pow once per resident
    most = 1
    i = 0
    while i < n:
        j = i
        while j < n and need_res[j] == need_res[i]:
            j += 1
        most = max(most, j - i)
        i = j
    keep_pow = np.empty(most + 1)
    for j in range(most + 1):
        keep_pow[j] = keep ** float(j)
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
        if averaged == 0.0:  # n0 / n0 (exactly 1), without the division
            h = 0.0 if n0 == 0 else 1.0
        else:
            h = n0 / (n0 + averaged)
        h *= keep_pow[int(m - averaged)]  # m - averaged is a whole number
        mean = total / m
        if n0 == 0:
            satisfaction[r] = mean
        else:
            satisfaction[r] = h * satisfaction[r] + (1.0 - h) * mean
        n_seen[r] = n0 + m
        i = j


@numba.njit(cache=True, nogil=True)
def _ascending(x):  # pragma: no cover - compiled
    for i in range(1, x.shape[0]):
        if x[i] < x[i - 1]:
            return False
    return True


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
    if not _ascending(need_res):
        order = np.argsort(need_res, kind="stable")
        need_res, score = need_res[order], np.asarray(score)[order]
    score = np.asarray(score, dtype=np.float64)
    # residents are independent: chunks of needs cut between residents run on the threads
    n = len(need_res)
    if n < PARALLEL_MIN_ITEMS or thread_count() <= 1:
        _update(satisfaction, n_seen, need_res, score, float(memory))
        return
    bounds = chunk_bounds(n, thread_count() * CHUNKS_PER_THREAD)
    for c in range(1, len(bounds) - 1):  # move each cut to the start of a resident's needs
        b = max(bounds[c], bounds[c - 1])
        while b < n and need_res[b] == need_res[b - 1]:
            b += 1
        bounds[c] = b
    run_tasks(len(bounds) - 1, lambda c: _update(
        satisfaction, n_seen, need_res[bounds[c]:bounds[c + 1]],
        score[bounds[c]:bounds[c + 1]], float(memory)))
