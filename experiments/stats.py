"""Statistics for comparing scenarios: paired differences, CIs, effect sizes, Holm.

All comparisons are **paired**: every scenario ran with the same replicate seeds as the
baseline (common random numbers), so the unit of analysis is the per-replicate difference
``d_r = scenario_r - baseline_r`` of a run summary (the post-warm-up mean of a metric).
For each scenario and metric:

- the mean difference with a percentile bootstrap confidence interval (resampling
  replicates);
- Cohen's ``d_z = mean(d) / sd(d)`` (effect size of paired differences, ``ddof=1``);
- a two-sided p-value from the paired t-test (``t = mean(d) / (sd(d)/sqrt(n))``, ``n-1``
  degrees of freedom), or optionally an exact / Monte Carlo sign-flip permutation test;
- p-values adjusted with Holm's step-down method over the family of comparisons in a table.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from experiments.plan import REFERENCE_POINT


#: Metrics expressed as shares (0..1); reported in percentage points.
def holm(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm step-down adjustment of p-values (NaNs are left out and stay NaN).

    Args:
        pvalues: Unadjusted p-values of one family of comparisons.

    Returns:
        Adjusted p-values in the input order: with ``p_(1) <= ... <= p_(m)``,
        ``adj_(i) = max_{j<=i} min(1, (m - j + 1) p_(j))``.

    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def cohens_dz(d: Sequence[float] | np.ndarray) -> float:
    """Cohen's d_z for paired differences: ``mean(d) / sd(d, ddof=1)``.

    Returns NaN for fewer than two values or when all differences are 0, and +/-inf when the
    differences are constant but non-zero.
    """
    d = np.asarray(d, dtype=float)
    if len(d) < 2:
        return float("nan")
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0.0:
        return float("nan") if mean == 0.0 else math.copysign(math.inf, mean)
    return mean / sd


def paired_t_test(d: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Two-sided one-sample t-test of paired differences against 0.

    Returns:
        ``(t, p)``; NaN for fewer than two values; ``p = 0`` for constant non-zero
        differences and ``p = 1`` for all-zero differences.

    """
    from scipy import stats as sps

    d = np.asarray(d, dtype=float)
    n = len(d)
    if n < 2:
        return float("nan"), float("nan")
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0.0:
        return (float("nan"), 1.0) if mean == 0.0 else (math.copysign(math.inf, mean), 0.0)
    t = mean / (sd / math.sqrt(n))
    return t, float(2.0 * sps.t.sf(abs(t), df=n - 1))


def sign_flip_pvalue(d: Sequence[float] | np.ndarray, *, n_perm: int = 20_000,
                     rng: np.random.Generator | None = None) -> float:
    """Two-sided sign-flip permutation p-value for paired differences (H0: symmetric at 0).

    Exact (all ``2**n`` sign patterns) for ``n <= 16``, otherwise Monte Carlo with
    ``n_perm`` patterns, counting the observed one (``(k + 1) / (n_perm + 1)``).
    """
    d = np.asarray(d, dtype=float)
    n = len(d)
    if n == 0:
        return float("nan")
    obs = abs(d.mean())
    tol = 1e-12 * max(1.0, obs)
    if n <= 16:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
        stats = np.abs(signs @ d / n)
        return float(np.mean(stats >= obs - tol))
    rng = rng if rng is not None else np.random.default_rng(0)
    signs = rng.choice((1.0, -1.0), size=(n_perm, n))
    stats = np.abs(signs @ d / n)
    return float((np.sum(stats >= obs - tol) + 1) / (n_perm + 1))


def bootstrap_ci(d: Sequence[float] | np.ndarray, *, n_boot: int = 10_000,
                 level: float = 0.95, rng: np.random.Generator | None = None
                 ) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean.

    Args:
        d: Values (paired differences).
        n_boot: Bootstrap resamples (replicates drawn with replacement).
        level: Confidence level.
        rng: Random generator (default: seeded with 0, so reports are reproducible).

    Returns:
        ``(low, high)``; NaNs for an empty input.

    """
    d = np.asarray(d, dtype=float)
    if len(d) == 0:
        return float("nan"), float("nan")
    rng = rng if rng is not None else np.random.default_rng(0)
    idx = rng.integers(0, len(d), size=(n_boot, len(d)))
    means = d[idx].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def baseline_point(baseline_points: set[int], point: int) -> int | None:
    """Return the baseline point a scenario point is paired with.

    The same point if the baseline ran there, else the baseline's reference point, else its
    only point; ``None`` when ambiguous.
    """
    if point in baseline_points:
        return point
    if REFERENCE_POINT in baseline_points:
        return REFERENCE_POINT
    if len(baseline_points) == 1:
        return next(iter(baseline_points))
    return None


def paired_frame(summary: pd.DataFrame, metric: str, baseline: str, scenario: str,
                 point: int) -> pd.DataFrame:
    """Return replicate-aligned ``base`` and ``scen`` values of one metric.

    Args:
        summary: Per-run summaries (columns scenario, point, replicate, metrics...).
        metric: Metric column.
        baseline: Baseline scenario.
        scenario: Compared scenario.
        point: The scenario's design point.

    Returns:
        Columns ``replicate``, ``base``, ``scen`` (only replicates finished in both).

    """
    bpts = set(summary.loc[summary["scenario"] == baseline, "point"].unique())
    bp = baseline_point(bpts, point)
    if bp is None:
        return pd.DataFrame(columns=["replicate", "base", "scen"])
    b = summary[(summary["scenario"] == baseline) & (summary["point"] == bp)]
    s = summary[(summary["scenario"] == scenario) & (summary["point"] == point)]
    merged = b[["replicate", metric]].merge(s[["replicate", metric]], on="replicate",
                                            suffixes=("_b", "_s"))
    merged = merged.rename(columns={f"{metric}_b": "base", f"{metric}_s": "scen"})
    return merged.dropna().sort_values("replicate").reset_index(drop=True)


def compare_pair(base: np.ndarray, scen: np.ndarray, *, n_boot: int = 10_000,
                 level: float = 0.95, test: str = "t",
                 rng: np.random.Generator | None = None) -> dict[str, float]:
    """Statistics of one paired comparison.

    Args:
        base: Baseline values per replicate.
        scen: Scenario values per replicate (same order).
        n_boot: Bootstrap resamples.
        level: Confidence level.
        test: ``"t"`` (paired t-test) or ``"permutation"`` (sign-flip).
        rng: Random generator for the bootstrap (and Monte Carlo permutations).

    Returns:
        n, baseline_mean, scenario_mean, diff, diff_sd, ci_low, ci_high, d_z, t, p_value.

    """
    base = np.asarray(base, dtype=float)
    scen = np.asarray(scen, dtype=float)
    d = scen - base
    n = len(d)
    lo, hi = bootstrap_ci(d, n_boot=n_boot, level=level, rng=rng)
    t, p = paired_t_test(d)
    if test == "permutation":
        p = sign_flip_pvalue(d, rng=rng)
    elif test != "t":
        raise ValueError(f"unknown test {test!r}; use 't' or 'permutation'")
    return {
        "n": n,
        "baseline_mean": float(base.mean()) if n else float("nan"),
        "scenario_mean": float(scen.mean()) if n else float("nan"),
        "diff": float(d.mean()) if n else float("nan"),
        "diff_sd": float(d.std(ddof=1)) if n > 1 else float("nan"),
        "ci_low": lo, "ci_high": hi,
        "d_z": cohens_dz(d), "t": t, "p_value": p,
    }


def paired_differences(summary: pd.DataFrame, metrics: Sequence[str], baseline: str, *,
                       scenarios: Sequence[str] | None = None, n_boot: int = 10_000,
                       level: float = 0.95, test: str = "t", seed: int = 0,
                       alpha: float = 0.05) -> pd.DataFrame:
    """Paired differences from the baseline for every scenario, point and metric.

    Holm's adjustment is applied over all rows of the returned table (one family).

    Args:
        summary: Per-run summaries.
        metrics: Metrics to compare (missing columns are skipped).
        baseline: Baseline scenario.
        scenarios: Scenarios to compare (default: all others, in table order).
        n_boot: Bootstrap resamples.
        level: Confidence level.
        test: ``"t"`` or ``"permutation"``.
        seed: Seed of the bootstrap generator.
        alpha: Significance level for ``separated``.

    Returns:
        One row per (scenario, point, metric) with the :func:`compare_pair` columns plus
        ``p_holm``, ``separated`` (the CI excludes 0 *and* the Holm-adjusted p < alpha; with
        few replicates the percentile bootstrap alone is too optimistic) and
        ``replicates_needed`` (rough number of replicates for the CI half-width to fall below
        the observed difference).

    """
    rng = np.random.default_rng(seed)
    if scenarios is None:
        scenarios = [s for s in dict.fromkeys(summary["scenario"]) if s != baseline]
    rows: list[dict[str, Any]] = []
    for scen in scenarios:
        points = sorted(summary.loc[summary["scenario"] == scen, "point"].unique())
        for point in points:
            for metric in metrics:
                if metric not in summary.columns:
                    continue
                pf = paired_frame(summary, metric, baseline, scen, int(point))
                if pf.empty:
                    continue
                res = compare_pair(pf["base"].to_numpy(), pf["scen"].to_numpy(),
                                   n_boot=n_boot, level=level, test=test, rng=rng)
                rows.append({"scenario": scen, "point": int(point), "metric": metric, **res})
    cols = ["scenario", "point", "metric", "n", "baseline_mean", "scenario_mean", "diff",
            "diff_sd", "ci_low", "ci_high", "d_z", "t", "p_value", "p_holm", "separated",
            "replicates_needed"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows)
    df["p_holm"] = holm(df["p_value"].to_numpy())
    df["separated"] = ((df["ci_low"] > 0) | (df["ci_high"] < 0)) & (df["p_holm"] < alpha)
    df["replicates_needed"] = [_needed(r) for r in df.itertuples()]
    return df[cols]


def _needed(row: Any) -> float:
    half = (row.ci_high - row.ci_low) / 2.0
    if not np.isfinite(half) or row.diff == 0 or row.n < 2:
        return float("nan")
    return float(max(row.n, math.ceil(row.n * (half / abs(row.diff)) ** 2)))


def pairwise_separation(summary: pd.DataFrame, metric: str, scenarios: Sequence[str], *,
                        point: int = 0, n_boot: int = 5_000, level: float = 0.95,
                        seed: int = 0) -> pd.DataFrame:
    """Paired bootstrap CIs between every two scenarios (flags pairs not told apart).

    Returns:
        Rows ``a``, ``b``, ``diff`` (b - a), ``ci_low``, ``ci_high``, ``separated``.

    """
    rng = np.random.default_rng(seed)
    rows = []
    for a, b in itertools.combinations(scenarios, 2):
        pf = paired_frame(summary[summary["point"].isin([point, REFERENCE_POINT])], metric,
                          a, b, point if point in set(
                              summary.loc[summary["scenario"] == b, "point"]) else
                          REFERENCE_POINT)
        if len(pf) < 2:
            continue
        d = pf["scen"].to_numpy() - pf["base"].to_numpy()
        lo, hi = bootstrap_ci(d, n_boot=n_boot, level=level, rng=rng)
        rows.append({"a": a, "b": b, "metric": metric, "diff": float(d.mean()), "ci_low": lo,
                     "ci_high": hi, "separated": bool(lo > 0 or hi < 0)})
    return pd.DataFrame(rows, columns=["a", "b", "metric", "diff", "ci_low", "ci_high",
                                       "separated"])
