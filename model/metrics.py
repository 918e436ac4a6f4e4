"""Model-level metrics: pure functions of the model's state after a day.

Names, words and units follow DESIGN section 3 and are declared once in ``model/outcomes.py``.

* **Coverage** of a category is the share of present residents whose own walk, at their own
  speed, reaches an open provider within the category's standard walk (``standard_walk_min``:
  10 minutes for the daily basics of the 2023-25 plan, 15 for quality formats); a vendor stop
  counts where the bus stops on its schedule. ``coverage_basic_all`` asks that for every
  basic category at once.
* **Satisfaction** metrics count the residents who have had at least one outcome;
  ``share_satisfied`` is the share at or above ``satisfied_threshold``, with
  ``_low_line`` / ``_high_line`` at the threshold minus / plus ``satisfied_threshold_band``.
* **Consumer surplus** (``surplus_yuan``): the expected surplus of today's needs, in yuan, per
  present resident (per present resident of the group for the group metrics);
  ``surplus_yuan_total`` is today's total over all residents (the benefit side of the
  report's benefit-cost ratios).
* **Circle grades** (``model/grades.py``): ``grade_share_<grade>`` is the share of present
  residents living in a community whose circle is graded ``none`` (below basic), ``basic``,
  ``upgraded`` or ``quality`` (基础型、提升型、品质型), also for old and new communities.
* Rates over today's needs (``unmet_rate``, ``turned_away_rate``, ``mean_walk_min``) are NaN
  on a day without needs.
* ``public_spend`` is the ledger to date; ``spend_<kind>`` its part booked by policies of one
  kind; ``rent_subsidy_share`` the share of rent that rent-subsidy policies pay on the shops
  they cover today (NaN when none is active).
"""

from __future__ import annotations

import numba
import numpy as np

from .city import NEW, OLD
from .grades import grade_shares
from .outcomes import PERCENTILES, SUBGROUPS
from .population import ELDERLY


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal)."""
    return _gini_sorted(np.sort(np.asarray(x, dtype=np.float64)))


def entrant_closed_share(shops, today: int, horizon: int) -> float:
    """Share of shops that entered at least ``horizon`` days ago and closed within ``horizon``.

    NaN until some entrant is that old (the sources: about a third of new small shops close
    within two years).
    """
    old_enough = shops.entrant & (shops.opened_day <= today - horizon)
    n = int(old_enough.sum())
    if n == 0:
        return float("nan")
    closed = (shops.closed_day >= 0) & (shops.closed_day - shops.opened_day <= horizon)
    return float((old_enough & closed).sum() / n)


def reach_m(model, residents: np.ndarray) -> np.ndarray:
    """(residents, categories) metres each resident walks within each category's standard."""
    speed = model.population.speed_mps[residents].astype(np.float64)
    return speed[:, None] * (60.0 * model.categories.standard_min)[None, :]


@numba.njit(cache=True, nogil=True)
def _coverage(idx, home, speed, min_walk, std_sec):  # pragma: no cover - compiled
    n, K = idx.shape[0], std_sec.shape[0]
    cov = np.empty((n, K), dtype=np.bool_)
    for i in range(n):
        r = idx[i]
        s = np.float64(speed[r])
        for k in range(K):
            cov[i, k] = min_walk[home[r], k] <= s * std_sec[k]
    return cov


def coverage_matrix(model) -> np.ndarray:
    """(present residents, categories) bool: an open provider within the category's standard.

    Cached on the model, keyed on the state it is computed from: the shortest walks
    (``CandidateIndex.min_walk``, itself cached on the open offers) and the present
    residents. The returned array is read-only.
    """
    idx = model.present_idx
    pop = model.population
    min_walk = model.candidates.min_walk(model.supply)
    cached = getattr(model, "_coverage_cache", None)
    if cached is not None and cached[0] is min_walk and np.array_equal(cached[1], idx):
        return cached[2]
    cov = _coverage(idx, pop.home, pop.speed_mps, min_walk,
                    60.0 * model.categories.standard_min.astype(np.float64))
    cov.flags.writeable = False
    model._coverage_cache = (min_walk, idx.copy(), cov)
    return cov


# tallies by subgroup: 0 old, 1 new, 2 elderly (60+), 3 non-elderly, 4 everyone
_OLD_G, _NEW_G, _ELD_G, _NONELD_G, _ALL_G = range(5)


@numba.njit(cache=True, nogil=True)
def _tallies(idx, sat, kind, group, cov, basic, threshold, low_line, high_line, need_res, surplus,
             chosen, turned, walk_min, n_res):  # pragma: no cover - compiled
    """One pass over today's needs and one over the present residents: counts and sums."""
    per_res = np.zeros(n_res)
    need_stats = np.zeros(4)  # unmet, turned away, walked needs, their minutes
    for i in range(need_res.shape[0]):
        per_res[need_res[i]] += surplus[i]
        if chosen[i] < 0:
            need_stats[0] += 1
        elif walk_min[i] > 0:
            need_stats[2] += 1
            need_stats[3] += walk_min[i]
        if turned[i]:
            need_stats[1] += 1
    K = cov.shape[1]
    n = np.zeros(5)
    rated = np.zeros(5)
    satisfied = np.zeros(5)
    sur = np.zeros(5)
    basic_all = np.zeros(5)
    lines = np.zeros(2)
    cov_k = np.zeros(K)
    access_hist = np.zeros(K + 1, dtype=np.int64)
    values = np.empty(idx.shape[0])
    m = 0
    groups = np.empty(3, dtype=np.int64)
    for i in range(idx.shape[0]):
        r = idx[i]
        groups[0] = _OLD_G if kind[r] == OLD else _NEW_G
        groups[1] = _ELD_G if group[r] >= ELDERLY else _NONELD_G
        groups[2] = _ALL_G
        reached = 0
        complete = True
        for k in range(K):
            if cov[i, k]:
                cov_k[k] += 1
                reached += 1
            elif basic[k]:
                complete = False
        access_hist[reached] += 1
        s = sat[r]
        for g in groups:
            n[g] += 1
            sur[g] += per_res[r]
            if complete:
                basic_all[g] += 1
            if not np.isnan(s):
                rated[g] += 1
                if s >= threshold:
                    satisfied[g] += 1
        if not np.isnan(s):
            values[m] = s
            m += 1
            if s >= low_line:
                lines[0] += 1
            if s >= high_line:
                lines[1] += 1
    return n, rated, satisfied, sur, basic_all, lines, cov_k, access_hist, values[:m], need_stats


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


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else float("nan")


def _percentile_sorted(x: np.ndarray, q: float) -> float:
    """Percentile of sorted values, linear interpolation (numpy's default method)."""
    if len(x) == 0:
        return float("nan")
    pos = (len(x) - 1) * q / 100.0
    lo = int(np.floor(pos))
    hi = min(lo + 1, len(x) - 1)
    return float(x[lo] + (x[hi] - x[lo]) * (pos - lo))


def _gini_sorted(x: np.ndarray) -> float:
    """Gini coefficient of sorted non-negative values (0 = equal)."""
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return 0.0
    # an elementwise product, not np.dot: BLAS threads cost more than they save here
    return float(2.0 * (np.arange(1, n + 1.0) * x).sum() / (n * total) - (n + 1) / n)


def _gini_histogram(counts: np.ndarray, values: np.ndarray) -> float:
    """Gini coefficient of ``counts[j]`` people at value ``values[j]`` (values ascending)."""
    n = counts.sum()
    total = float((counts * values).sum())
    if n == 0 or total <= 0:
        return 0.0
    end = np.cumsum(counts)
    start = end - counts + 1  # 1-based positions start..end share the value
    ranks = (start + end) * counts / 2.0
    return float(2.0 * (ranks * values).sum() / (n * total) - (n + 1) / n)


def compute_metrics(model) -> dict[str, float]:
    """All daily metrics as a dict of floats (see the module docstring)."""
    pop, cats, sup, day, p = model.population, model.categories, model.supply, model.today, model.params
    idx = model.present_idx
    cov = coverage_matrix(model)
    band = p.satisfied_threshold_band
    n, rated, satisfied, sur, basic_all, lines, cov_k, access_hist, values, needs = _tallies(
        idx, model.satisfaction, pop.kind, pop.group, cov, cats.basic, p.satisfied_threshold,
        p.satisfied_threshold - band, p.satisfied_threshold + band, day.need_res,
        np.asarray(day.surplus_yuan, dtype=np.float64), day.chosen, day.turned_away,
        np.asarray(day.walk_min, dtype=np.float64), pop.n)
    sat = sort_nonnegative(values)
    m: dict[str, float] = {"satisfaction_mean": float(sat.mean()) if len(sat) else float("nan"),
                           "share_satisfied": _ratio(satisfied[_ALL_G], rated[_ALL_G])}
    for g, name in enumerate(SUBGROUPS):
        m[f"share_satisfied_{name}"] = _ratio(satisfied[g], rated[g])
    m["share_satisfied_low_line"] = _ratio(lines[0], rated[_ALL_G])
    m["share_satisfied_high_line"] = _ratio(lines[1], rated[_ALL_G])
    for q in PERCENTILES:
        m[f"satisfaction_p{q}"] = _percentile_sorted(sat, q)
    m["surplus_yuan"] = _ratio(sur[_ALL_G], n[_ALL_G])
    for g, name in enumerate(SUBGROUPS):
        m[f"surplus_yuan_{name}"] = _ratio(sur[g], n[g])
    m["surplus_yuan_total"] = float(sur[_ALL_G])
    for k, name in enumerate(cats.names):
        m[f"coverage_{name}"] = _ratio(cov_k[k], n[_ALL_G])
    m["coverage_basic_all"] = _ratio(basic_all[_ALL_G], n[_ALL_G])
    for g, name in enumerate(SUBGROUPS):
        m[f"coverage_basic_all_{name}"] = _ratio(basic_all[g], n[g])
    kind = pop.kind[idx]
    m.update(grade_shares(model, cov, {"": np.ones(len(idx), dtype=bool), "_old": kind == OLD,
                                       "_new": kind == NEW}))
    n_needs = len(day.chosen)
    m["unmet_rate"] = _ratio(needs[0], n_needs)
    m["turned_away_rate"] = _ratio(needs[1], n_needs)
    m["mean_walk_min"] = _ratio(needs[3], needs[2])
    shops = sup.shops
    n_open = int(shops.open.sum())
    m["outlets_open"] = float(n_open)
    m["chain_rate"] = float((shops.open & shops.chain).sum() / n_open) if n_open else 0.0
    m["independents_open"] = float((shops.open & ~shops.chain).sum())
    m["outlets_opened"] = float(len(day.opened))
    m["outlets_closed"] = float(len(day.closed))
    m["residents"] = float(len(idx))
    m["residents_per_outlet"] = float(len(idx) / n_open) if n_open else float("inf")
    m["public_spend"] = float(sum(model.ledger.values()))
    spend_by_kind = dict.fromkeys(model.policy_kinds, 0.0)
    for label, pol in zip(model.policy_labels, model.policies, strict=True):
        spend_by_kind[pol.kind] += model.ledger[label]
    for kind_name in sorted(model.policy_kinds):
        m[f"spend_{kind_name}"] = float(spend_by_kind[kind_name])
    m["rent_subsidy_share"] = _rent_subsidy_share(model)
    m["gini_satisfaction"] = _gini_sorted(sat)
    m["gini_access"] = _gini_histogram(access_hist, np.arange(cats.k + 1) / cats.k)
    m["entrant_closed_2y"] = entrant_closed_share(shops, model.day, 730)
    new = model.city.community_kind == NEW
    m["occupancy_new"] = _ratio(n[_NEW_G], pop.capacity_by_community[new].sum()) if new.any() else 0.0
    return m


def _rent_subsidy_share(model) -> float:
    """Share of rent the active rent-subsidy policies pay on the shops they cover today."""
    shares = [pol.effective_share for pol in model.policies
              if pol.kind == "rent_subsidy" and pol.is_active(model.day)]
    return float(np.mean(shares)) if shares else float("nan")
