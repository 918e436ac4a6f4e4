"""``lifecircle validation`` regenerates the report from tiny designs, through the batch runner.

The real designs take hours (docs/VALIDATION.md); here every experiment is a few short runs
on a 2 x 2-community city, enough to exercise each analysis end to end: patterns, calibration
distance, Morris, a Sobol design run by the pipeline, the ranking check, the report.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lifecircle.cli import main

SMALL = "[settings]\ncommunities_x = 2\ncommunities_y = 2\n"
VALIDATION = """
name = "validation"
scenarios = ["baseline"]
replicates = 2
days = 40
root_seed = 5
metrics = ["chain_rate", "residents_per_outlet", "share_satisfied"]
""" + SMALL
SENSITIVITY = """
name = "sensitivity"
scenarios = ["baseline", "combined"]
baseline = "baseline"
replicates = 1
days = 35
warmup = 5
root_seed = 6
metrics = ["share_satisfied", "coverage_basic_all", "chain_rate", "public_spend"]
[design]
method = "morris"
trajectories = 2
levels = 4
[uncertainties.speed_elderly_mps]
low = 0.85
high = 1.05
[uncertainties.beta_walk_per_min]
low = 0.08
high = 0.25
[uncertainties.satisfied_threshold]
low = 0.6
high = 0.8
""" + SMALL


def _experiment(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    out = tmp_path / "results" / name
    assert main(["experiment", str(path), "--out", str(out), "--workers", "0",
                 "--no-progress"]) == 0
    return out


@pytest.mark.slow
def test_validation_regenerates_the_report_from_tiny_designs(tmp_path):
    val = _experiment(tmp_path, "validation", VALIDATION)
    sens = _experiment(tmp_path, "sensitivity", SENSITIVITY)
    doc, figs = tmp_path / "VALIDATION.md", tmp_path / "figs"
    code = main(["validation", str(val), "--sensitivity", str(sens), "--sobol-n", "2",
                 "--sobol-factors", "2", "--sobol-days", "35", "--robust-replicates", "2",
                 "--robust-days", "32", "--robust-scenarios", "baseline,rent_subsidy,combined",
                 "--workers", "0", "--doc", str(doc), "--fig-dir", str(figs), "--set",
                 "communities_x=2", "--set", "communities_y=2"])
    assert code == 0
    text = doc.read_text()
    for heading in ("## Summary", "## Pattern-oriented validation", "### Morris screening",
                    "### Sobol indices of the most influential factors",
                    "### Does the policy ranking hold?", "## Limits"):
        assert heading in text, heading
    assert "lifecircle validation" in text
    assert {p.name for p in figs.iterdir()} == {
        "patterns_baseline.png", "morris.png", "sobol.png", "robustness.png"}
    # the Sobol design ran through the batch runner into a verified results folder
    sobol = tmp_path / "results" / "sensitivity_sobol"
    runs = pd.read_parquet(sobol / "runs.parquet")
    assert len(runs) == 2 * (2 + 2) and set(runs["status"]) == {"ok"}
    assert (sobol / ".lifecircle-output").is_file() and (sobol / "manifest.json").is_file()
    # a second call resumes: nothing is run again
    before = {p.name: p.stat().st_mtime_ns for p in (sobol / "runs").iterdir()}
    assert main(["validation", str(val), "--sensitivity", str(sens), "--sobol-n", "2",
                 "--sobol-factors", "2", "--sobol-days", "35", "--robust-replicates", "2",
                 "--robust-days", "32", "--robust-scenarios", "baseline,rent_subsidy,combined",
                 "--workers", "0", "--doc", str(doc), "--fig-dir", str(figs), "--set",
                 "communities_x=2", "--set", "communities_y=2"]) == 0
    assert before == {p.name: p.stat().st_mtime_ns for p in (sobol / "runs").iterdir()}


def test_validation_of_a_folder_without_results_is_a_clean_error(tmp_path, capsys):
    assert main(["validation", str(tmp_path / "nothing"), "--doc", str(tmp_path / "V.md"),
                 "--fig-dir", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nothing" in err and err.count("\n") == 1
    assert not (tmp_path / "V.md").exists()
