"""Stable patterns of the baseline (docs/VALIDATION.md), with tolerances in standard errors.

Fixture ``baseline_years``: the default living circle, seeds 11, 12, 13, one year. For a
level pattern the mean over the seeds must lie in the source band widened by 2 standard
errors of that mean (SE = SD over seeds / sqrt(n)); for a contrast (new vs old, elderly vs
others) the mean difference must be on the right side of zero by more than 2 SE. The
full-length validation (10 seeds, three years, incl. closures within two years, which need
day >= 730) is ``validation/validation.toml`` + ``lifecircle validation``.
Not asserted: the chain rate in the first months (it dips to ~0.22 after the first chain
review at day 90 and recovers to ~0.25 by day 365; documented in docs/VALIDATION.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from validation.patterns import PATTERNS

K_SE = 2.0  # tolerance in standard errors of the mean over seeds


def _mean_se(values) -> tuple[float, float]:
    a = np.asarray(list(values), dtype=float)
    return float(a.mean()), float(a.std(ddof=1) / np.sqrt(len(a)))


def _band(key: str) -> tuple[float, float]:
    p = next(p for p in PATTERNS if p.key == key)
    return p.lo, p.hi


@pytest.mark.parametrize("metric", ["chain_rate", "residents_per_outlet"])
def test_level_pattern_in_band_at_one_year(baseline_years, metric):
    # chain rate: pilot average 32%, band 25-40%; residents per outlet: ~93, band 70-120
    lo, hi = _band(metric)
    m, se = _mean_se(df.loc[df["day"] == 365, metric].iloc[0] for df in baseline_years.values())
    assert lo - K_SE * se <= m <= hi + K_SE * se, (metric, m, se, (lo, hi))


def test_new_communities_below_old_in_year_one(baseline_years):
    diffs = [(df["coverage_basic_all_new"] - df["coverage_basic_all_old"]).mean()
             for df in baseline_years.values()]
    m, se = _mean_se(diffs)
    assert m + K_SE * se < 0, (m, se)


def test_new_communities_coverage_rises_as_they_fill(baseline_years):
    rise = [df["coverage_basic_all_new"].iloc[-30:].mean()
            - df["coverage_basic_all_new"].iloc[:30].mean() for df in baseline_years.values()]
    m, se = _mean_se(rise)
    # One year is short for this pattern (seeds differ in when the first gaps in new
    # communities fill: year-one rises of 0.07-0.70 over 10 seeds), so 1 SE here; over three
    # years (docs/VALIDATION.md) the rise is > 5 SE from zero.
    assert min(rise) > 0 and m - 1.0 * se > 0, (rise, m, se)
    fill = [df["occupancy_new"].iloc[-1] - df["occupancy_new"].iloc[0]
            for df in baseline_years.values()]
    assert min(fill) > 0


def test_elderly_coverage_below_others(baseline_years):
    diffs = [(df["coverage_basic_all_elderly"] - df["coverage_basic_all_nonelderly"]).mean()
             for df in baseline_years.values()]
    m, se = _mean_se(diffs)
    assert m + K_SE * se < 0, (m, se)


def test_elderly_gain_less_consumer_surplus(baseline_years):
    """Slower walkers reach less: the threshold-free welfare measure shows it (the share
    satisfied depends on where its line is drawn, see VALIDATION.md)."""
    diffs = [(df["surplus_yuan_elderly"] - df["surplus_yuan_nonelderly"]).iloc[-90:].mean()
             for df in baseline_years.values()]
    m, se = _mean_se(diffs)
    assert m + K_SE * se < 0, (m, se)


def test_share_satisfied_is_a_level_not_nan(baseline_years):
    # A target (>= 90%), not a pattern: only require a finite share, reported in VALIDATION.md.
    for df in baseline_years.values():
        s = df["share_satisfied"].iloc[-90:]
        assert s.notna().all() and ((s >= 0) & (s <= 1)).all()
