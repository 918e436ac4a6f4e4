"""The compiled passes the daily metrics are counted from (``model.metrics`` reads them).

* ``surplus_and_rates``: one pass over today's needs (unmet, turned away, minutes walked) and
  the day's consumer surplus summed per subgroup in resident order;
* ``resident_counts``: counts over a chunk of the present residents -- residents, rated,
  satisfied and reaching every basic format per subgroup, the two extra satisfaction lines,
  coverage per category, formats reached per resident, and per community the residents and
  those reaching each format (what circle grades are computed from). Every count is a whole
  number, so chunks counted on different threads add up exactly;
* ``rated_sorted``: the satisfaction of the residents who have one, sorted (an LSD radix sort,
  ``sort_nonnegative``), for the mean, percentiles and Gini coefficient.

Coverage is decided as ``model.metrics.coverage_matrix`` decides it: an open provider within
the category's standard walk at the resident's own speed.
"""

from __future__ import annotations

import numba
import numpy as np

from .city import OLD
from .outcomes import SUBGROUPS
from .population import ELDERLY

# tallies by subgroup, at the subgroup's place in outcomes.SUBGROUPS, then everyone
OLD_G, NEW_G, ELD_G, NONELD_G = (SUBGROUPS.index(g) for g in ("old", "new", "elderly", "nonelderly"))
ALL_G = len(SUBGROUPS)


@numba.njit(cache=True, nogil=True)
def surplus_and_rates(idx, kind, group, need_res, surplus, chosen, turned, walk_min,
                       n_res):  # pragma: no cover - compiled
    """Today's surplus summed per subgroup (residents in order) and the needs' rate counts.

    Each subgroup's total adds its residents' surplus in resident order; a resident outside
    the subgroup adds 0.0, which leaves the (non-negative) total unchanged, so the totals are
    kept in registers without branches.
    """
    per_res = np.zeros(n_res)
    unmet = turned_away = walked = 0
    minutes = 0.0
    for i in range(need_res.shape[0]):
        per_res[need_res[i]] += surplus[i]
        if chosen[i] < 0:
            unmet += 1
        elif walk_min[i] > 0:
            walked += 1
            minutes += walk_min[i]
        if turned[i]:
            turned_away += 1
    s_old = s_new = s_eld = s_nonel = s_all = 0.0
    for i in range(idx.shape[0]):
        r = idx[i]
        x = per_res[r]
        old = kind[r] == OLD
        elderly = group[r] >= ELDERLY
        s_old += x if old else 0.0
        s_new += 0.0 if old else x
        s_eld += x if elderly else 0.0
        s_nonel += 0.0 if elderly else x
        s_all += x
    sur = np.zeros(5)
    sur[OLD_G], sur[NEW_G], sur[ELD_G], sur[NONELD_G], sur[ALL_G] = \
        s_old, s_new, s_eld, s_nonel, s_all
    return sur, np.array([unmet, turned_away, walked, minutes], dtype=np.float64)


@numba.njit(cache=True, nogil=True, inline="always")
def reaches(walk_m, speed, std_sec):  # pragma: no cover - compiled
    """The coverage rule: ``walk_m`` metres are within ``std_sec`` seconds at ``speed`` m/s.

    ``model.metrics.coverage_matrix`` decides coverage with it too.
    """
    return walk_m <= speed * std_sec


@numba.njit(cache=True, nogil=True, inline="always")
def _count_reach(h, speed, m, c, min_walk, std_sec, basic, cov_k, community_hits,
                 access_hist):  # pragma: no cover - compiled
    """Count ``m`` residents of home ``h`` (community ``c``) walking at ``speed``.

    Adds them to the formats they reach (per category and per community) and to the
    histogram of how many they reach; returns whether they reach every basic format.
    """
    reached = 0
    complete = True
    for k in range(std_sec.shape[0]):
        if reaches(min_walk[h, k], speed, std_sec[k]):
            cov_k[k] += m
            community_hits[c, k] += m
            reached += 1
        elif basic[k]:
            complete = False
    access_hist[reached] += m
    return complete


SPEED_CLASSES = 8  # distinct walking speeds whose coverage is decided once per home


@numba.njit(cache=True, nogil=True)
def resident_counts(lo, hi, idx, sat, kind, group, home_community, n_communities, home,
                     speed, min_walk, std_sec, basic, threshold, low_line,
                     high_line):  # pragma: no cover - compiled
    """Counts over the present residents ``idx[lo:hi]`` (whole numbers, so chunks add exactly).

    Residents are tallied per home, walking speed (the first ``SPEED_CLASSES`` distinct
    speeds met), cell of (old, new) x (elderly, not) and satisfaction status (none yet,
    rated, satisfied); coverage is then decided once per home and speed as
    ``model.metrics.coverage_matrix`` decides it (without keeping the matrix). A resident
    with any further speed is counted on its own. Per community, present residents (old,
    new) and those reaching each format are what circle grades are computed from.
    """
    K = std_sec.shape[0]
    n_homes = min_walk.shape[0]
    # cell = 2 * new + not elderly; status 0 no satisfaction yet, 1 rated, 2 satisfied
    cells = np.zeros((4, 4))  # residents, rated, satisfied, basic formats all reached
    low = high = 0
    cov_k = np.zeros(K)
    access_hist = np.zeros(K + 1, dtype=np.int64)
    community_residents = np.zeros((n_communities, 2), dtype=np.int64)  # old, new
    community_hits = np.zeros((n_communities, K))
    speeds = np.empty(SPEED_CLASSES)
    n_speeds = 0
    tally = np.zeros((n_homes, SPEED_CLASSES, 12), dtype=np.int32)  # [cell * 3 + status]
    for i in range(lo, hi):
        r = idx[i]
        new = 0 if kind[r] == OLD else 1
        cell = 2 * new + (0 if group[r] >= ELDERLY else 1)
        x = sat[r]  # NaN (no satisfaction yet) compares False
        status = (x == x) + (x >= threshold)
        low += x >= low_line
        high += x >= high_line
        s = np.float64(speed[r])
        h = home[r]
        cls = -1
        for j in range(n_speeds):  # a select, not a branch: speeds alternate unpredictably
            cls = j if speeds[j] == s else cls
        if cls < 0 and n_speeds < SPEED_CLASSES:
            speeds[n_speeds] = s
            cls = n_speeds
            n_speeds += 1
        if cls >= 0:
            tally[h, cls, cell * 3 + status] += 1
            continue
        # one more distinct speed: this resident on its own
        c = home_community[h]
        community_residents[c, new] += 1
        cells[0, cell] += 1
        cells[1, cell] += status > 0
        cells[2, cell] += status > 1
        cells[3, cell] += _count_reach(h, s, 1, c, min_walk, std_sec, basic, cov_k,
                                       community_hits, access_hist)
    for h in range(n_homes):  # the residents tallied per home and speed
        c = home_community[h]
        for cls in range(n_speeds):
            at = tally[h, cls]
            m = 0
            for j in range(12):
                m += at[j]
            if m == 0:
                continue
            complete = _count_reach(h, speeds[cls], m, c, min_walk, std_sec, basic, cov_k,
                                    community_hits, access_hist)
            for cell in range(4):
                here = at[cell * 3] + at[cell * 3 + 1] + at[cell * 3 + 2]
                cells[0, cell] += here
                cells[1, cell] += at[cell * 3 + 1] + at[cell * 3 + 2]
                cells[2, cell] += at[cell * 3 + 2]
                if complete:
                    cells[3, cell] += here
                community_residents[c, cell // 2] += here
    counts = np.empty((4, 5))  # the same counts per subgroup
    counts[:, OLD_G] = cells[:, 0] + cells[:, 1]
    counts[:, NEW_G] = cells[:, 2] + cells[:, 3]
    counts[:, ELD_G] = cells[:, 0] + cells[:, 2]
    counts[:, NONELD_G] = cells[:, 1] + cells[:, 3]
    counts[:, ALL_G] = cells[:, 0] + cells[:, 1] + cells[:, 2] + cells[:, 3]
    return counts, np.array([low, high], dtype=np.float64), cov_k, access_hist, \
        community_residents, community_hits


@numba.njit(cache=True, nogil=True)
def rated_sorted(idx, sat):  # pragma: no cover - compiled
    """Satisfaction of the residents ``idx`` who have one (not NaN), sorted ascending."""
    m = 0
    for i in range(idx.shape[0]):
        if not np.isnan(sat[idx[i]]):
            m += 1
    values = np.empty(m)
    m = 0
    for i in range(idx.shape[0]):
        x = sat[idx[i]]
        if not np.isnan(x):
            values[m] = x
            m += 1
    return sort_nonnegative(values)


@numba.njit(cache=True, nogil=True)
def sort_nonnegative(x):  # pragma: no cover - compiled
    """Sorted copy of non-negative floats: an LSD radix sort of their bits (exact, ~2x np.sort)."""
    n = x.shape[0]
    keys = x.copy().view(np.uint64)
    tmp = np.empty_like(keys)
    count = np.empty(65536, dtype=np.int64)
    for shift in range(0, 64, 16):
        count[:] = 0
        for i in range(n):
            count[(keys[i] >> np.uint64(shift)) & np.uint64(0xFFFF)] += 1
        total = 0
        for d in range(65536):
            c = count[d]
            count[d] = total
            total += c
        for i in range(n):
            d = (keys[i] >> np.uint64(shift)) & np.uint64(0xFFFF)
            tmp[count[d]] = keys[i]
            count[d] += 1
        keys, tmp = tmp, keys
    return keys.view(np.float64)
