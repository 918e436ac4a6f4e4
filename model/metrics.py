"""Model-level metrics: pure functions of the model's state after a day.

Names follow DESIGN section 3; ``metric_names`` lists them once for every other part.

* **Coverage** of a category is the share of present residents whose own walk, at their own
  speed, reaches an open provider within the category's standard walk (``standard_walk_min``:
  10 minutes for the daily basics of the 2023-25 plan, 15 for quality formats); a vendor stop
  counts where the bus stops on its schedule. ``coverage_basic_all`` asks that for every
  basic category at once.
* **Satisfaction** metrics count the residents who have had at least one outcome;
  ``share_satisfied`` is the share at or above ``satisfied_threshold``, with
  ``_low_line`` / ``_high_line`` at the threshold minus / plus ``satisfied_threshold_band``.
* **Consumer surplus** (``surplus_yuan``): the expected surplus of today's needs, in yuan, per
  present resident (per present resident of the group for the group metrics).
* Rates over today's needs (``unmet_rate``, ``turned_away_rate``, ``mean_walk_min``) are NaN
  on a day without needs.
* ``public_spend`` is the ledger to date; ``spend_<kind>`` its part booked by policies of one
  kind; ``rent_subsidy_share`` the share of rent that rent-subsidy policies pay on the shops
  they cover today (NaN when none is active).
"""

from __future__ import annotations

import numpy as np

from .city import NEW, OLD
from .population import ELDERLY, ELDERLY80

SUBGROUPS = ("old", "new", "elderly", "nonelderly")
"""Subgroups of residents metrics are broken down by: old / new communities, 60+ / under 60."""

PERCENTILES = (10, 50, 90)
"""Percentiles of residents' satisfaction reported daily (the distribution, not one line)."""


def metric_names(categories: list[str] | tuple[str, ...],
                 policy_kinds: list[str] | tuple[str, ...]) -> list[str]:
    """Names of the daily metrics, in order.

    Args:
        categories: the category names of the table.
        policy_kinds: every policy kind (one ``spend_<kind>`` each).
    """
    names = ["satisfaction_mean", "share_satisfied"]
    names += [f"share_satisfied_{g}" for g in SUBGROUPS]
    names += ["share_satisfied_low_line", "share_satisfied_high_line"]
    names += [f"satisfaction_p{q}" for q in PERCENTILES]
    names += ["surplus_yuan"] + [f"surplus_yuan_{g}" for g in SUBGROUPS]
    names += [f"coverage_{c}" for c in categories] + ["coverage_basic_all"]
    names += [f"coverage_basic_all_{g}" for g in SUBGROUPS]
    names += ["unmet_rate", "turned_away_rate", "mean_walk_min", "outlets_open", "chain_rate",
              "independents_open", "outlets_opened", "outlets_closed", "residents",
              "residents_per_outlet", "public_spend"]
    names += [f"spend_{kind}" for kind in sorted(policy_kinds)]
    names += ["rent_subsidy_share", "gini_satisfaction", "gini_access", "entrant_closed_2y",
              "occupancy_new"]
    return names


HEADLINE_METRICS = ("share_satisfied", "share_satisfied_old", "share_satisfied_new",
                    "share_satisfied_elderly", "surplus_yuan", "coverage_basic_all",
                    "coverage_basic_all_old", "coverage_basic_all_new", "coverage_fresh_food",
                    "unmet_rate", "mean_walk_min", "chain_rate", "outlets_open",
                    "residents_per_outlet", "public_spend")
"""The metrics a person reads first: printed by ``lifecircle run``, led with in reports."""

STOCK_METRICS = ("public_spend", "outlets_open", "chain_rate", "residents")
"""Metrics that are stocks (levels at a date): summaries also keep their final value."""


def cumulative_metrics(policy_kinds: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Metrics that add up from day 1 (money to date): summarized by their change, not mean."""
    return ("public_spend", *(f"spend_{kind}" for kind in sorted(policy_kinds)))


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal)."""
    x = np.sort(np.asarray(x, dtype=np.float64))
    n, total = len(x), x.sum()
    if n == 0 or total <= 0:
        return 0.0
    # an elementwise product, not np.dot: BLAS threads cost more than they save here
    return float(2.0 * (np.arange(1, n + 1.0) * x).sum() / (n * total) - (n + 1) / n)


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


def _share(mask: np.ndarray, within: np.ndarray) -> float:
    n = int(within.sum())
    return float((mask & within).sum() / n) if n else float("nan")


def reach_m(model, residents: np.ndarray) -> np.ndarray:
    """(residents, categories) metres each resident walks within each category's standard."""
    speed = model.population.speed_mps[residents].astype(np.float64)
    return speed[:, None] * (60.0 * model.categories.standard_min)[None, :]


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
    cov = min_walk[pop.home[idx]] <= reach_m(model, idx)
    cov.flags.writeable = False
    model._coverage_cache = (min_walk, idx.copy(), cov)
    return cov


def _per_group(values: np.ndarray, residents: np.ndarray, model, groups: dict[str, np.ndarray]
               ) -> dict[str, float]:
    """Sum of per-need values over each group's residents, per present resident of the group."""
    n_res = model.population.n
    per_res = np.bincount(residents, weights=values, minlength=n_res)[model.present_idx]
    out = {"": float(per_res.mean()) if len(per_res) else float("nan")}
    for g, mask in groups.items():
        out[g] = float(per_res[mask].mean()) if mask.any() else float("nan")
    return out


def compute_metrics(model) -> dict[str, float]:
    """All daily metrics as a dict of floats (see the module docstring)."""
    pop, cats, sup, day, p = model.population, model.categories, model.supply, model.today, model.params
    idx = model.present_idx
    kind = pop.kind[idx]
    elderly = np.isin(pop.group[idx], (ELDERLY, ELDERLY80))
    groups = dict(zip(SUBGROUPS, (kind == OLD, kind == NEW, elderly, ~elderly), strict=True))
    sat_all = model.satisfaction[idx]
    rated = ~np.isnan(sat_all)
    sat = sat_all[rated]
    m: dict[str, float] = {"satisfaction_mean": float(sat.mean()) if len(sat) else float("nan")}
    satisfied = sat_all >= p.satisfied_threshold  # NaN compares False
    m["share_satisfied"] = _share(satisfied, rated)
    for g, mask in groups.items():
        m[f"share_satisfied_{g}"] = _share(satisfied, rated & mask)
    band = p.satisfied_threshold_band
    m["share_satisfied_low_line"] = _share(sat_all >= p.satisfied_threshold - band, rated)
    m["share_satisfied_high_line"] = _share(sat_all >= p.satisfied_threshold + band, rated)
    qs = np.percentile(sat, PERCENTILES) if len(sat) else [float("nan")] * len(PERCENTILES)
    for q, v in zip(PERCENTILES, qs, strict=True):
        m[f"satisfaction_p{q}"] = float(v)
    surplus = _per_group(day.surplus_yuan, day.need_res, model, groups)
    m["surplus_yuan"] = surplus[""]
    for g in SUBGROUPS:
        m[f"surplus_yuan_{g}"] = surplus[g]
    cov = coverage_matrix(model)
    for k, name in enumerate(cats.names):
        m[f"coverage_{name}"] = float(cov[:, k].mean()) if len(idx) else float("nan")
    basic_all = cov[:, cats.basic].all(axis=1)
    everyone = np.ones(len(idx), dtype=bool)
    m["coverage_basic_all"] = _share(basic_all, everyone)
    for g, mask in groups.items():
        m[f"coverage_basic_all_{g}"] = _share(basic_all, mask)
    n_needs = len(day.chosen)
    met = day.chosen >= 0
    m["unmet_rate"] = float((~met).mean()) if n_needs else float("nan")
    m["turned_away_rate"] = float(day.turned_away.mean()) if n_needs else float("nan")
    walked = met & (day.walk_min > 0)
    m["mean_walk_min"] = float(day.walk_min[walked].mean()) if walked.any() else float("nan")
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
    m["gini_satisfaction"] = gini(sat)
    m["gini_access"] = gini(cov.mean(axis=1))
    m["entrant_closed_2y"] = entrant_closed_share(shops, model.day, 730)
    new_cap = pop.capacity_by_community[model.city.community_kind == NEW].sum()
    m["occupancy_new"] = float((pop.present & (pop.kind == NEW)).sum() / new_cap) if new_cap else 0.0
    return m


def _rent_subsidy_share(model) -> float:
    """Share of rent the active rent-subsidy policies pay on the shops they cover today."""
    shares = [pol.effective_share for pol in model.policies
              if pol.kind == "rent_subsidy" and pol.is_active(model.day)]
    return float(np.mean(shares)) if shares else float("nan")
