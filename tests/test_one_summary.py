"""One summary rule: ``lifecircle run`` and ``lifecircle experiment`` summarize a run alike."""

from __future__ import annotations

import pandas as pd
import pytest

from experiments.definition import replicate_seeds
from experiments.summary import summarize_run
from lifecircle.cli import main
from model import CUMULATIVE_METRICS

EXPERIMENT = """
name = "one"
scenarios = ["rent_subsidy"]
replicates = 1
days = 9
warmup = 3
root_seed = 77
metrics = ["share_satisfied"]
[settings]
communities_x = 2
communities_y = 2
"""


def test_run_and_experiment_give_the_same_daily_series_and_summary(tmp_path):
    exp_file = tmp_path / "one.toml"
    exp_file.write_text(EXPERIMENT)
    assert main(["experiment", str(exp_file), "--out", str(tmp_path / "exp"), "--workers", "0",
                 "--no-progress"]) == 0
    seed = replicate_seeds(77, 1)[0]
    assert main(["run", "rent_subsidy", "--seed", str(seed), "--days", "9", "--warmup", "3",
                 "--set", "communities_x=2", "--set", "communities_y=2", "--out",
                 str(tmp_path / "run"), "--no-progress"]) == 0
    e_daily = pd.read_parquet(tmp_path / "exp" / "daily.parquet")
    r_daily = pd.read_parquet(tmp_path / "run" / "daily.parquet")
    pd.testing.assert_frame_equal(e_daily.drop(columns=["scenario", "point", "replicate", "seed"]),
                                  r_daily, check_exact=True)
    e_sum = pd.read_parquet(tmp_path / "exp" / "summary.parquet").iloc[0]
    r_sum = pd.read_parquet(tmp_path / "run" / "summary.parquet").iloc[0]
    rule = summarize_run(r_daily, 3)
    assert set(rule) <= set(e_sum.index) and set(rule) <= set(r_sum.index)
    for key, value in rule.items():
        assert e_sum[key] == pytest.approx(value, nan_ok=True, rel=0, abs=0), key
        assert r_sum[key] == pytest.approx(value, nan_ok=True, rel=0, abs=0), key
    # the cumulative public spend is its final value, in both
    assert "public_spend" in CUMULATIVE_METRICS
    assert r_sum["public_spend"] == e_sum["public_spend"] == r_daily["public_spend"].iloc[-1] > 0
    assert r_sum["share_satisfied"] == pytest.approx(
        r_daily.loc[r_daily["day"] > 3, "share_satisfied"].mean())
