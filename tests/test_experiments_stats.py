"""Comparison statistics against values computed by hand on small known tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from experiments.costs import cost_effectiveness
from experiments.definition import replicate_seeds
from experiments.design import Factor, design_points, design_size
from experiments.indices import morris_indices, sobol_indices
from experiments.stats import (
    bootstrap_ci,
    cohens_dz,
    holm,
    paired_differences,
    paired_t_test,
    sign_flip_pvalue,
)
from experiments.summary import summarize_run


def t3_two_sided_p(t: float) -> float:
    """Two-sided p of Student's t with 3 degrees of freedom (closed form)."""
    x = t / math.sqrt(3)
    cdf_part = (x / (1 + x * x) + math.atan(x)) / math.pi  # F(t) - 1/2
    return 1.0 - 2.0 * cdf_part


def test_holm_matches_hand_values():
    # sorted: 0.01*4=0.04, 0.03*3=0.09, 0.04*2=0.08 -> max(0.09), 0.2*1=0.2
    assert np.allclose(holm([0.01, 0.04, 0.03, 0.2]), [0.04, 0.09, 0.09, 0.2])
    assert np.allclose(holm([0.5, 0.6]), [1.0, 1.0])
    out = holm([0.02, np.nan, 0.01])
    assert np.isnan(out[1]) and np.allclose(out[[0, 2]], [0.02, 0.02])


def test_effect_size_and_t_test_by_hand():
    d = np.array([1.0, 2.0, 0.0, 2.0])
    sd = math.sqrt(((1 - 1.25) ** 2 + (2 - 1.25) ** 2 + 1.25**2 + (2 - 1.25) ** 2) / 3)
    assert cohens_dz(d) == pytest.approx(1.25 / sd)
    t, p = paired_t_test(d)
    assert t == pytest.approx(1.25 / (sd / 2))
    assert p == pytest.approx(t3_two_sided_p(t), rel=1e-9)
    assert math.isnan(cohens_dz([0.0, 0.0]))
    assert cohens_dz([1.0, 1.0]) == math.inf
    assert paired_t_test([1.0, 1.0])[1] == 0.0


def test_sign_flip_exact_by_hand():
    # sums of +-1 +-2 +-2 (the 0 has no effect): |sum| >= 5 in 2 of 8 patterns
    assert sign_flip_pvalue([1.0, 2.0, 0.0, 2.0]) == pytest.approx(0.25)
    assert sign_flip_pvalue([1.0, 1.0, 1.0]) == pytest.approx(2 / 8)


def test_bootstrap_ci_percentiles():
    assert bootstrap_ci([3.0, 3.0, 3.0]) == (3.0, 3.0)
    d = np.array([0.0, 1.0, 2.0, 5.0])
    lo, hi = bootstrap_ci(d, n_boot=2000, level=0.9, rng=np.random.default_rng(7))
    assert lo <= d.mean() <= hi
    # independent check: percentiles of resample means drawn the same way, one by one
    rng = np.random.default_rng(7)
    idx = rng.integers(0, 4, size=(2000, 4))
    means = np.array([d[row].mean() for row in idx])
    assert (lo, hi) == pytest.approx(tuple(np.quantile(means, [0.05, 0.95])))
    # large-sample sanity: close to the normal interval
    big = np.random.default_rng(1).normal(0.5, 1.0, 400)
    lo, hi = bootstrap_ci(big, n_boot=4000)
    half = 1.96 * big.std(ddof=1) / 20
    assert lo == pytest.approx(big.mean() - half, abs=0.02)
    assert hi == pytest.approx(big.mean() + half, abs=0.02)


def known_summary() -> pd.DataFrame:
    rows = []
    base = [0.50, 0.60, 0.55, 0.65]
    a = [0.51, 0.62, 0.55, 0.67]  # d = .01 .02 0 .02
    b = [0.50, 0.60, 0.55, 0.65]  # d = 0
    for scen, vals, cost in (("baseline", base, 0.0), ("a", a, 20_000.0), ("b", b, 0.0)):
        for r, v in enumerate(vals):
            rows.append({"scenario": scen, "point": 0, "replicate": r, "seed": 100 + r,
                         "share_satisfied": v, "coverage_basic_all": v / 2,
                         "satisfaction_mean": v, "residents": 1000.0,
                         "public_cost_per_year": cost})
    return pd.DataFrame(rows)


def test_paired_differences_on_known_table():
    df = paired_differences(known_summary(), ["share_satisfied", "coverage_basic_all"],
                            "baseline", n_boot=2000)
    assert list(df["scenario"]) == ["a", "a", "b", "b"]
    row = df[(df["scenario"] == "a") & (df["metric"] == "share_satisfied")].iloc[0]
    d = np.array([0.01, 0.02, 0.0, 0.02])
    assert row["n"] == 4
    assert row["diff"] == pytest.approx(0.0125)
    assert row["diff_sd"] == pytest.approx(d.std(ddof=1))
    assert row["d_z"] == pytest.approx(0.0125 / d.std(ddof=1))
    t = 0.0125 / (d.std(ddof=1) / 2)
    assert row["t"] == pytest.approx(t)
    assert row["p_value"] == pytest.approx(t3_two_sided_p(t), rel=1e-6)
    # Holm over the 4 rows: the two 'b' rows have p = 1, the two 'a' rows equal p
    p = row["p_value"]
    assert row["p_holm"] == pytest.approx(min(1.0, 4 * p))
    cov = df[(df["scenario"] == "a") & (df["metric"] == "coverage_basic_all")].iloc[0]
    assert cov["diff"] == pytest.approx(0.00625)
    brow = df[(df["scenario"] == "b") & (df["metric"] == "share_satisfied")].iloc[0]
    assert brow["diff"] == 0.0 and brow["p_value"] == 1.0 and not brow["separated"]
    assert brow["p_holm"] == 1.0


def test_paired_differences_pairs_by_replicate_and_skips_missing():
    s = known_summary()
    s = s[~((s["scenario"] == "a") & (s["replicate"] == 2))].sample(frac=1, random_state=3)
    df = paired_differences(s, ["share_satisfied"], "baseline", scenarios=["a"])
    assert df.iloc[0]["n"] == 3
    assert df.iloc[0]["diff"] == pytest.approx((0.01 + 0.02 + 0.02) / 3)


def test_cost_effectiveness_by_hand():
    ce = cost_effectiveness(known_summary(), "baseline", n_boot=500)
    a = ce[ce["scenario"] == "a"].iloc[0]
    assert a["extra_cost_per_year"] == pytest.approx(20_000.0)
    # 1.25 pp gained for 2 x 10,000 yuan a year -> 0.625 pp per 10,000 yuan
    assert a["share_satisfied_per_10k"] == pytest.approx(0.625)
    assert a["coverage_basic_all_per_10k"] == pytest.approx(0.3125)
    # 12.5 extra satisfied residents (0.0125 x 1000) per 2 x 10,000 yuan
    assert a["satisfied_per_10k"] == pytest.approx(6.25)
    assert a["share_satisfied_per_10k_low"] <= 0.625 <= a["share_satisfied_per_10k_high"]
    b = ce[ce["scenario"] == "b"].iloc[0]
    assert math.isnan(b["share_satisfied_per_10k"])  # no extra cost: no ratio


def test_summarize_run_by_hand():
    daily = pd.DataFrame({"day": [1, 2, 3, 4], "share_satisfied": [0.0, 0.0, 0.5, 1.0],
                          "public_spend": [10.0, 20.0, 30.0, 50.0]})
    s = summarize_run(daily, warmup=2)
    assert s["share_satisfied"] == pytest.approx(0.75)
    assert s["public_spend"] == 50.0
    assert s["public_cost"] == 50.0  # warm-up spending (one-off set-up) counts
    assert s["public_cost_per_year"] == pytest.approx(50.0 / 4 * 365)
    assert s["public_spend_measured"] == 30.0  # spent on days 3 and 4
    assert s["days_measured"] == 2


def test_morris_ranks_a_known_linear_function():
    factors = [Factor("a", "uncertainty", low=0.0, high=1.0),
               Factor("b", "uncertainty", low=0.0, high=1.0),
               Factor("c", "lever", low=0.0, high=2.0)]
    pts = design_points("morris", factors, {"trajectories": 6, "levels": 4, "seed": 3})
    points = pd.DataFrame([{"point": i, **p} for i, p in enumerate(pts)])
    rows = []
    for i, p in enumerate(pts):
        for r in range(2):
            y = 3.0 * p["a"] + 0.0 * p["b"] + 0.5 * p["c"] + 0.01 * r
            rows.append({"scenario": "s", "point": i, "replicate": r, "y": y})
    mi = morris_indices(pd.DataFrame(rows), points, [f.to_dict() for f in factors], "y", "s",
                        levels=4)
    byf = mi.set_index("factor")
    # SALib scales effects by the factor range: a -> 3 x 1, c -> 0.5 x 2, b -> 0
    assert byf.loc["a", "mu_star"] == pytest.approx(3.0)
    assert byf.loc["c", "mu_star"] == pytest.approx(1.0)
    assert byf.loc["b", "mu_star"] == pytest.approx(0.0, abs=1e-12)
    assert list(mi["factor"][:2]) == ["a", "c"]
    assert byf.loc["a", "sigma"] == pytest.approx(0.0, abs=1e-9)


def test_replicate_seeds_spawned_from_root():
    seeds = replicate_seeds(123, 5)
    assert seeds == replicate_seeds(123, 5)
    assert seeds[:3] == replicate_seeds(123, 3)  # adding replicates keeps the first seeds
    assert len(set(seeds)) == 5 and all(0 <= s < 2**63 for s in seeds)
    kids = np.random.SeedSequence(123).spawn(2)
    assert seeds[0] == int(kids[0].generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def test_sobol_design_recovers_the_variance_shares_of_a_known_function():
    # y = 4a + 2b + 0c with a, b, c uniform on [0, 1]: Var = 16/12 + 4/12, so S_a = 0.8,
    # S_b = 0.2, S_c = 0 (no interactions: first-order = total)
    factors = [Factor(n, "uncertainty", low=0.0, high=1.0) for n in "abc"]
    design = {"samples": 256, "seed": 5, "second_order": False}
    pts = design_points("sobol", factors, design)
    assert len(pts) == design_size("sobol", factors, design) == 256 * (3 + 2)
    points = pd.DataFrame([{"point": i, **p} for i, p in enumerate(pts)])
    rows = [{"scenario": "s", "point": i, "replicate": 0, "y": 4 * p["a"] + 2 * p["b"]}
            for i, p in enumerate(pts)]
    si = sobol_indices(pd.DataFrame(rows), points, [f.to_dict() for f in factors], "y", "s",
                       seed=1).set_index("factor")
    assert si.loc["a", "S1"] == pytest.approx(0.8, abs=0.05)
    assert si.loc["b", "S1"] == pytest.approx(0.2, abs=0.05)
    assert si.loc["c", "ST"] == pytest.approx(0.0, abs=0.01)
    assert si.loc["a", "ST"] == pytest.approx(si.loc["a", "S1"], abs=0.05)


def test_design_size_is_known_before_the_points_are_made():
    grid = [Factor(f"f{i}", "lever", values=tuple(range(1000))) for i in range(4)]
    assert design_size("grid", grid, {}) == 1000 ** 4
    with pytest.raises(ValueError, match="at most"):
        design_points("grid", grid, {})  # refused without expanding 10^12 points
