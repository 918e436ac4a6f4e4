"""The report's words come from its own numbers: benefit-cost ratios by hand, the summary names
what the tables show, and a verdict that changes with the satisfaction line is flagged."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from experiments.costs import cost_effectiveness
from experiments.report_brief import effective_shares, in_brief, threshold_lines
from experiments.stats import paired_differences
from model.outcomes import describe_metric, is_share, metric_label


def summary_table() -> pd.DataFrame:
    """Four replicates of a baseline and three scenarios with known differences."""
    rows = []
    rng = np.random.default_rng(0)
    base_sat = np.array([0.50, 0.60, 0.55, 0.65])
    for scen, d_surplus, d_sat, low_d, high_d, cost in (
            ("baseline", 0.0, 0.0, 0.0, 0.0, 0.0),
            ("cheap_good", 2000.0, 0.02, 0.02, 0.02, 200_000.0),   # 2000 yuan/day for 200k/yr
            ("dear_weak", 100.0, 0.00, 0.00, 0.00, 1_000_000.0),   # ratio 0.0365
            ("on_the_line", 500.0, 0.001, 0.03, -0.03, 100_000.0)):
        for r in range(4):
            jitter = rng.normal(0, 1e-4)
            rows.append({
                "scenario": scen, "point": 0, "replicate": r, "seed": r,
                "surplus_yuan_total": 20_000.0 + 10 * r + d_surplus + jitter * 1e3,
                "surplus_yuan": 1.0 + r / 10 + d_surplus / 20_000 + jitter,
                "share_satisfied": base_sat[r] + d_sat + jitter,
                "share_satisfied_low_line": base_sat[r] + 0.1 + low_d + jitter,
                "share_satisfied_high_line": base_sat[r] - 0.1 + high_d + jitter,
                "coverage_basic_all": 0.5 + jitter, "residents": 20_000.0,
                "public_cost_per_year": cost,
                "rent_subsidy_share": 0.07 + r / 100 if scen == "dear_weak" else math.nan})
    return pd.DataFrame(rows)


def test_benefit_per_yuan_is_surplus_gained_a_year_over_extra_cost():
    ce = cost_effectiveness(summary_table(), "baseline", n_boot=2000).set_index("scenario")
    good = ce.loc["cheap_good"]
    assert good["surplus_gain_per_year"] == pytest.approx(2000.0 * 365, rel=1e-3)
    assert good["benefit_per_yuan"] == pytest.approx(2000.0 * 365 / 200_000.0, rel=1e-3)
    assert good["benefit_per_yuan_low"] <= good["benefit_per_yuan"] <= good["benefit_per_yuan_high"]
    assert ce.loc["dear_weak", "benefit_per_yuan"] == pytest.approx(100 * 365 / 1e6, rel=1e-2)


def test_the_summary_names_what_the_tables_show():
    s = summary_table()
    others = ["cheap_good", "dear_weak", "on_the_line"]
    diffs = paired_differences(s, ["surplus_yuan", "share_satisfied", "coverage_basic_all"],
                               "baseline", scenarios=others, n_boot=2000)
    ce = cost_effectiveness(s, "baseline", n_boot=2000)
    lines = threshold_lines(s, "baseline", others, n_boot=2000, level=0.95, test="t", seed=1)
    text = " ".join(in_brief(diffs, ce, "baseline", others, 4, lines))
    assert "Most welfare per yuan: cheap_good" in text
    assert f"{2000 * 365 / 200_000:.2f} yuan of consumer surplus" in text
    assert "less welfare than they cost" in text and "dear_weak" in text
    assert "depends on where the line is drawn for: on_the_line" in text
    assert "Only 4 replicates" in text


def test_a_verdict_that_changes_with_the_line_is_flagged():
    s = summary_table()
    tab = threshold_lines(s, "baseline", ["cheap_good", "on_the_line"], n_boot=2000,
                          level=0.95, test="t", seed=1).set_index("scenario")
    assert tab.loc["on_the_line", "rests on the line"] == "yes"
    assert tab.loc["cheap_good", "rests on the line"] == "no"
    assert tab.loc["cheap_good", "default line"].startswith("+2.0")


def test_effective_shares_of_budgeted_rent_subsidies_are_reported():
    tab = effective_shares(summary_table(), ["baseline", "dear_weak"]).set_index("scenario")
    assert list(tab.index) == ["dear_weak"]
    assert tab.loc["dear_weak", "effective share of rent paid (%)"] == pytest.approx(8.5)


@pytest.mark.parametrize(("name", "words", "share"), [
    ("share_satisfied", "residents satisfied", True),
    ("share_satisfied_elderly", "residents satisfied, aged 60+", True),
    ("coverage_fresh_food", "residents reaching fresh food within its standard walk", True),
    ("surplus_yuan_new", "consumer surplus per resident a day, in new communities", False),
    ("spend_rent_subsidy", "public money spent on rent subsidy to date", False),
    ("mean_walk_min", "walk to the shop chosen", False)])
def test_metrics_have_words_beside_their_code_names(name, words, share):
    assert describe_metric(name)[0] == words
    assert is_share(name) is share
    assert f"`{name}`" in metric_label(name) and words in metric_label(name)


def test_every_metric_the_model_reports_has_words():
    from model import METRIC_NAMES

    missing = [m for m in METRIC_NAMES if describe_metric(m)[0] == m]
    assert missing == []
