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

import itertools

import numba
import numpy as np

from .city import NEW
from .grades import grade_shares, grades_from_counts
from .outcomes import PERCENTILES, SUBGROUPS
from .tallies import ALL_G, NEW_G, rated_sorted, reaches, resident_counts, surplus_and_rates
from .threads import PARALLEL_MIN_ITEMS, chunk_bounds, run_tasks, thread_count


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
            cov[i, k] = reaches(min_walk[home[r], k], s, std_sec[k])
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


def _satisfaction_spread(sat: np.ndarray) -> dict[str, float]:
    """Mean, percentiles and Gini coefficient of the sorted satisfaction values ``sat``."""
    out = {"satisfaction_mean": float(sat.mean()) if len(sat) else float("nan")}
    for q in PERCENTILES:
        out[f"satisfaction_p{q}"] = _percentile_sorted(sat, q)
    out["gini_satisfaction"] = _gini_sorted(sat)
    return out


def compute_metrics(model) -> dict[str, float]:
    """All daily metrics as a dict of floats (see the module docstring)."""
    pop, cats, sup, day, p = model.population, model.categories, model.supply, model.today, model.params
    idx = model.present_idx
    band = p.satisfied_threshold_band
    # three independent compiled jobs (without the GIL) share the threads: the sort of today's
    # satisfaction, the surplus sums (in resident order) and the counts (in chunks)
    bounds = chunk_bounds(len(idx), thread_count())
    min_walk = model.candidates.min_walk(model.supply)
    std_sec = 60.0 * cats.standard_min.astype(np.float64)
    n_communities = len(model.city.community_kind)
    jobs = [lambda: _satisfaction_spread(rated_sorted(idx, model.satisfaction)),
            lambda: surplus_and_rates(
                idx, pop.kind, pop.group, day.need_res,
                np.asarray(day.surplus_yuan, dtype=np.float64), day.chosen, day.turned_away,
                np.asarray(day.walk_min, dtype=np.float64), pop.n)]
    jobs += [lambda lo=lo, hi=hi: resident_counts(
        lo, hi, idx, model.satisfaction, pop.kind, pop.group, model.city.home_community,
        n_communities, pop.home, pop.speed_mps, min_walk, std_sec,
        cats.basic, p.satisfied_threshold, p.satisfied_threshold - band,
        p.satisfied_threshold + band)
        for lo, hi in itertools.pairwise(bounds)]
    done: list = [None] * len(jobs)

    def run(j: int) -> None:
        done[j] = jobs[j]()

    run_tasks(len(jobs), run, None if len(idx) >= PARALLEL_MIN_ITEMS else 1)
    spread, (sur, needs) = done[0], done[1]
    counts, lines, cov_k, access_hist, community_residents, community_hits = (
        sum(part) for part in zip(*done[2:], strict=True))
    n, rated, satisfied, basic_all = counts
    m: dict[str, float] = {"satisfaction_mean": spread["satisfaction_mean"],
                           "share_satisfied": _ratio(satisfied[ALL_G], rated[ALL_G])}
    for g, name in enumerate(SUBGROUPS):
        m[f"share_satisfied_{name}"] = _ratio(satisfied[g], rated[g])
    m["share_satisfied_low_line"] = _ratio(lines[0], rated[ALL_G])
    m["share_satisfied_high_line"] = _ratio(lines[1], rated[ALL_G])
    m.update((name, value) for name, value in spread.items() if name.startswith("satisfaction_p"))
    m["surplus_yuan"] = _ratio(sur[ALL_G], n[ALL_G])
    for g, name in enumerate(SUBGROUPS):
        m[f"surplus_yuan_{name}"] = _ratio(sur[g], n[g])
    m["surplus_yuan_total"] = float(sur[ALL_G])
    for k, name in enumerate(cats.names):
        m[f"coverage_{name}"] = _ratio(cov_k[k], n[ALL_G])
    m["coverage_basic_all"] = _ratio(basic_all[ALL_G], n[ALL_G])
    for g, name in enumerate(SUBGROUPS):
        m[f"coverage_basic_all_{name}"] = _ratio(basic_all[g], n[g])
    residents = community_residents.sum(axis=1)
    grades = grades_from_counts(model, residents, community_hits)
    m.update(grade_shares(grades, {"": residents, "_old": community_residents[:, 0],
                                   "_new": community_residents[:, 1]}))
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
    m["gini_satisfaction"] = spread["gini_satisfaction"]
    m["gini_access"] = _gini_histogram(access_hist, np.arange(cats.k + 1) / cats.k)
    m["entrant_closed_2y"] = entrant_closed_share(shops, model.day, 730)
    new = model.city.community_kind == NEW
    m["occupancy_new"] = _ratio(n[NEW_G], pop.capacity_by_community[new].sum()) if new.any() else 0.0
    return m


def _rent_subsidy_share(model) -> float:
    """Share of rent the active rent-subsidy policies pay on the shops they cover today."""
    shares = [pol.effective_share for pol in model.policies
              if pol.kind == "rent_subsidy" and pol.is_active(model.day)]
    return float(np.mean(shares)) if shares else float("nan")
