"""The day's needs: which residents need which category today.

A resident of group g needs category k today when its uniform ``u[k]`` is below the
group's daily frequency ``freq[g, k]`` (``categories.toml``; ODD 7.3).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _needs_from_draws(u, freq, group, idx):  # pragma: no cover - compiled
    n, K = u.shape
    count = 0
    for i in range(n):
        g = group[idx[i]]
        for k in range(K):
            if u[i, k] < freq[g, k]:
                count += 1
    need_res = np.empty(count, dtype=np.int64)
    need_cat = np.empty(count, dtype=np.int16)
    c = 0
    for i in range(n):
        g = group[idx[i]]
        r = idx[i]
        for k in range(K):
            if u[i, k] < freq[g, k]:
                need_res[c] = r
                need_cat[c] = k
                c += 1
    return need_res, need_cat


def needs_from_draws(u: np.ndarray, freq: np.ndarray, group: np.ndarray,
                     idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Needs (resident, category) where ``u[i, k] < freq[group[idx[i]], k]``, row by row.

    Equal to ``np.nonzero(u < freq[group[idx]].astype(np.float32))`` mapped through ``idx``,
    without the (residents, categories) temporaries.
    """
    return _needs_from_draws(np.ascontiguousarray(u), np.ascontiguousarray(freq, dtype=np.float32),
                             group, idx)
