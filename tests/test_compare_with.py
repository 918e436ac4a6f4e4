"""A scenario can be compared with another scenario than the baseline (compare_with): the
platform with the world it works in. The definition refuses what cannot be compared."""

from __future__ import annotations

import pandas as pd
import pytest

from experiments.loading import experiment_from_dict
from lifecircle.cli import main
from model.errors import ExperimentError

BASE = {"name": "cw", "scenarios": ["baseline", "partial_knowledge", "smart_platform"],
        "replicates": 2, "days": 20, "warmup": 5, "root_seed": 3,
        "metrics": ["surplus_yuan", "unmet_rate"],
        "settings": {"communities_x": 2, "communities_y": 2}}


@pytest.mark.parametrize(("table", "key"), [
    ({"smart_platfrom": "partial_knowledge"}, "compare_with.smart_platfrom"),
    ({"smart_platform": "smart_platform"}, "compare_with.smart_platform"),
    ({"smart_platform": "nowhere"}, "compare_with.smart_platform"),
    ({"baseline": "partial_knowledge"}, "compare_with.baseline"),
    ("partial_knowledge", "compare_with")])
def test_compare_with_is_checked_before_anything_runs(table, key):
    with pytest.raises(ExperimentError) as err:
        experiment_from_dict({**BASE, "compare_with": table})
    assert err.value.key == key


def test_the_report_compares_a_scenario_with_its_reference(tmp_path):
    path = tmp_path / "cw.toml"
    path.write_text(
        'name = "cw"\nscenarios = ["baseline", "partial_knowledge", "smart_platform"]\n'
        'compare_with = { smart_platform = "partial_knowledge" }\nreplicates = 2\ndays = 20\n'
        'warmup = 5\nroot_seed = 3\nmetrics = ["surplus_yuan", "unmet_rate"]\n'
        "[settings]\ncommunities_x = 2\ncommunities_y = 2\n")
    out = tmp_path / "results"
    assert main(["experiment", str(path), "--out", str(out), "--workers", "0",
                 "--no-progress"]) == 0
    assert main(["compare", str(out)]) == 0
    text = (out / "report.md").read_text()
    assert "**smart_platform** is compared with **partial_knowledge**" in text
    summary = pd.read_parquet(out / "summary.parquet")
    mean = summary.groupby("scenario")["surplus_yuan"].mean()
    expect = mean["smart_platform"] - mean["partial_knowledge"]
    rows = [line for line in text.splitlines()
            if line.startswith("| smart_platform | partial_knowledge | consumer surplus per")]
    assert rows, "the platform's row is not against partial_knowledge"
    difference = float(rows[0].split("|")[9])
    assert difference == pytest.approx(expect, abs=5e-4)
    wrong = mean["smart_platform"] - mean["baseline"]
    assert abs(difference - wrong) > 1e-3  # not against the baseline
