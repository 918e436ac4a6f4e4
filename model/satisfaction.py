"""Residents' satisfaction: an exponential moving average of their need outcomes."""

from __future__ import annotations

import numpy as np


def update_satisfaction(satisfaction: np.ndarray, need_res: np.ndarray, score: np.ndarray,
                        memory: float) -> None:
    """Fold today's outcomes into each resident's moving average, in place.

    With n outcomes of mean m today, s <- s + (1 - (1 - memory)^n) (m - s): the same as n
    single updates of weight ``memory`` towards the day's mean.
    """
    n_res = len(satisfaction)
    n = np.bincount(need_res, minlength=n_res)
    has = np.flatnonzero(n)
    if len(has) == 0:
        return
    total = np.bincount(need_res, weights=score, minlength=n_res)
    mean = total[has] / n[has]
    weight = 1.0 - (1.0 - memory) ** n[has]
    satisfaction[has] += weight * (mean - satisfaction[has])
