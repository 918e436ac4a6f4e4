"""Model-level metrics: pure functions of the model's state after a day.

Names follow DESIGN section 3. Coverage of a category is the share of residents whose own
15-minute walk reaches an open provider (a mobile-vendor stop counts where the vendor stops
on its schedule); ``coverage_basic_all`` asks that for every basic category at once.
"""

from __future__ import annotations

import numpy as np

from .city import NEW, OLD
from .population import ELDERLY, ELDERLY80

SUBGROUPS = ("old", "new", "elderly", "nonelderly")
"""Subgroups of residents metrics are broken down by: old / new communities, 60+ / under 60."""


def metric_names(categories: list[str] | tuple[str, ...]) -> list[str]:
    """Names of the daily metrics, in order, for a category table with these category names."""
    names = ["satisfaction_mean", "share_satisfied"]
    names += [f"share_satisfied_{g}" for g in SUBGROUPS]
    names += [f"coverage_{c}" for c in categories] + ["coverage_basic_all"]
    names += [f"coverage_basic_all_{g}" for g in SUBGROUPS]
    names += ["unmet_rate", "mean_walk_min", "outlets_open", "chain_rate", "independents_open",
              "outlets_opened", "outlets_closed", "residents", "residents_per_outlet",
              "public_spend", "gini_satisfaction", "gini_access", "entrant_closed_2y",
              "occupancy_new"]
    return names


HEADLINE_METRICS = ("share_satisfied", "share_satisfied_old", "share_satisfied_new",
                    "share_satisfied_elderly", "coverage_basic_all", "coverage_basic_all_old",
                    "coverage_basic_all_new", "coverage_fresh_food", "unmet_rate",
                    "mean_walk_min", "chain_rate", "outlets_open", "residents_per_outlet",
                    "public_spend")
"""The metrics a person reads first: printed by ``lifecircle run``, led with in reports."""

STOCK_METRICS = ("public_spend", "outlets_open", "chain_rate", "residents")
"""Metrics that are stocks (levels at a date): summaries also keep their final value."""


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


def coverage_matrix(model) -> np.ndarray:
    """(present residents, categories) bool: an open provider within the resident's own reach.

    Cached on the model, keyed on the state it is computed from: the shortest walks
    (``CandidateIndex.min_walk``, itself cached on the open offers) and the present
    residents. The returned array is read-only.
    """
    idx = model.present_idx
    pop = model.population
    min_walk = model.candidates.min_walk(model.supply)
    cached = getattr(model, "_coverage_cache", None)
    if cached is not None and cached[0] is min_walk and cached[1] is pop.reach_m \
            and np.array_equal(cached[2], idx):
        return cached[3]
    cov = min_walk[pop.home[idx]] <= pop.reach_m[idx, None]
    cov.flags.writeable = False
    model._coverage_cache = (min_walk, pop.reach_m, idx.copy(), cov)
    return cov


def compute_metrics(model) -> dict[str, float]:
    """All daily metrics as a dict of floats."""
    pop, cats, sup, day = model.population, model.categories, model.supply, model.today
    idx = model.present_idx
    sat = model.satisfaction[idx]
    satisfied = sat >= model.params.satisfied_threshold
    kind = pop.kind[idx]
    elderly = np.isin(pop.group[idx], (ELDERLY, ELDERLY80))
    everyone = np.ones(len(idx), dtype=bool)
    groups = dict(zip(SUBGROUPS, (kind == OLD, kind == NEW, elderly, ~elderly), strict=True))
    m: dict[str, float] = {
        "satisfaction_mean": float(sat.mean()) if len(sat) else float("nan"),
        "share_satisfied": _share(satisfied, everyone),
    }
    for g, mask in groups.items():
        m[f"share_satisfied_{g}"] = _share(satisfied, mask)
    cov = coverage_matrix(model)
    for k, name in enumerate(cats.names):
        m[f"coverage_{name}"] = float(cov[:, k].mean()) if len(idx) else float("nan")
    basic_all = cov[:, cats.basic].all(axis=1)
    m["coverage_basic_all"] = _share(basic_all, everyone)
    for g, mask in groups.items():
        m[f"coverage_basic_all_{g}"] = _share(basic_all, mask)
    n_needs = len(day.chosen)
    met = day.chosen >= 0
    m["unmet_rate"] = float((~met).mean()) if n_needs else 0.0
    walked = met & (day.walk_min > 0)
    m["mean_walk_min"] = float(day.walk_min[walked].mean()) if walked.any() else 0.0
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
    m["gini_satisfaction"] = gini(sat)
    m["gini_access"] = gini(cov.mean(axis=1))
    m["entrant_closed_2y"] = entrant_closed_share(shops, model.day, 730)
    new_cap = pop.capacity_by_community[model.city.community_kind == NEW].sum()
    m["occupancy_new"] = float((pop.present & (pop.kind == NEW)).sum() / new_cap) if new_cap else 0.0
    return m
