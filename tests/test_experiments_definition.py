"""Experiment files: validation (bad files rejected before anything runs) and run plans."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from experiments.batch_cli import main as batch_main
from experiments.definition import (
    REFERENCE_POINT,
    ExperimentError,
    load_experiment,
    replicate_seeds,
)

ROOT = Path(__file__).resolve().parent.parent

GOOD = """
name = "tiny"
scenarios = ["baseline"]
replicates = 2
days = 10
warmup = 2
root_seed = 5
metrics = ["share_satisfied"]
[settings]
communities_x = 2
communities_y = 2
"""


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_good_file_loads_and_plans(tmp_path):
    exp = load_experiment(write(tmp_path, GOOD))
    runs = exp.runs()
    assert [r.run_id for r in runs] == ["baseline__p0000__r000", "baseline__p0000__r001"]
    assert [r.seed for r in runs] == replicate_seeds(5, 2)
    assert runs[0].overrides == {"communities_x": 2, "communities_y": 2}
    assert exp.config_hash() == load_experiment(write(tmp_path, GOOD, "b.toml")).config_hash()


def test_grid_lhs_and_morris_designs(tmp_path):
    grid = GOOD + """
[design]
method = "grid"
[levers.storefront_occupancy_new]
values = [0.3, 0.6]
[uncertainties.rent_old_yuan_m2_day]
low = 3.0
high = 6.0
steps = 3
"""
    exp = load_experiment(write(tmp_path, grid))
    assert len(exp.points) == 6 and len(exp.runs()) == 12
    assert [f.role for f in exp.factors] == ["lever", "uncertainty"]
    assert exp.points[0] == {"storefront_occupancy_new": 0.3, "rent_old_yuan_m2_day": 3.0}
    lhs = GOOD + """
[design]
method = "lhs"
samples = 5
[uncertainties.rent_old_yuan_m2_day]
low = 3.0
high = 6.0
[uncertainties.new_gates]
low = 1
high = 4
"""
    exp = load_experiment(write(tmp_path, lhs))
    assert len(exp.points) == 5
    assert all(3.0 <= p["rent_old_yuan_m2_day"] <= 6.0 for p in exp.points)
    assert all(isinstance(p["new_gates"], int) for p in exp.points)
    morris = GOOD + """
[design]
method = "morris"
trajectories = 3
levels = 4
[uncertainties.rent_old_yuan_m2_day]
low = 3.0
high = 6.0
[uncertainties.speed_elderly_mps]
low = 0.8
high = 1.1
"""
    exp = load_experiment(write(tmp_path, morris))
    assert len(exp.points) == 3 * (2 + 1)


def test_scenario_without_applicable_factor_runs_at_reference_point(tmp_path):
    sc = tmp_path / "fake_policy.toml"
    sc.write_text('extends = "baseline"\nname = "other"\n')
    exp_text = GOOD.replace('scenarios = ["baseline"]',
                            'scenarios = ["baseline", "fake_policy.toml"]')
    exp = load_experiment(write(tmp_path, exp_text + """
[design]
method = "grid"
[uncertainties.rent_old_yuan_m2_day]
values = [4.0, 5.0]
"""))
    # a flat parameter applies to every scenario
    assert {r.point for r in exp.runs()} == {0, 1}
    assert exp.applicable == {"baseline": ["rent_old_yuan_m2_day"],
                              "other": ["rent_old_yuan_m2_day"]}
    assert REFERENCE_POINT == -1


BAD = [
    ("replicatez = 3\n", "replicatez", "did you mean 'replicates'"),
    ('replicates = "ten"\n', "replicates", "not an integer"),
    ("replicates = 0\n", "replicates", "out of range"),
    ("warmup = 10\n", "warmup", "smaller than days"),
    ('metrics = ["share_satisfyed"]\n', "metrics", "did you mean 'share_satisfied'"),
    ('scenarios = ["baseline", "mobile_vendorz"]\n', "scenarios[1]", "not found"),
    ('baseline = "nope"\n', "baseline", "not one of the scenarios"),
    ("[settings]\ncommunitiez_x = 2\n", "settings", "communitiez_x"),
    ("[settings]\nshare_old = 1.5\n", "settings", "out of range"),
    ('[design]\nmethod = "gird"\n', "design.method", "did you mean 'grid'"),
    ('[design]\nmethod = "grid"\n[levers.share_old]\nvalues = [0.5, 2.0]\n',
     "levers.share_old", "out of range"),
    ('[design]\nmethod = "lhs"\n[uncertainties.share_old]\nlow = 0.5\nhigh = 0.2\n',
     "uncertainties.share_old.high", "greater than low"),
    ('[design]\nmethod = "grid"\n[levers.no_such_param]\nvalues = [1, 2]\n',
     "levers.no_such_param", "unknown parameter"),
    ('[design]\nmethod = "morris"\nlevels = 3\n', "design.levels", "even"),
    ("days = 3.5\n", "days", "not an integer"),
]


def _make_bad(tmp_path: Path, snippet: str) -> Path:
    lines = [ln for ln in textwrap.dedent(GOOD).splitlines()]
    key = snippet.split("=")[0].strip()
    top = [ln for ln in lines if not ln.startswith(key + " ")] if not snippet.startswith(
        "[") else lines
    # put top-level keys before the first table
    i = top.index("[settings]")
    if snippet.startswith("["):
        if snippet.startswith("[settings]"):
            text = "\n".join(top[:i]) + "\n" + snippet
        else:
            text = "\n".join(top) + "\n" + snippet
    else:
        text = "\n".join(top[:i] + [snippet.strip()] + top[i:]) + "\n"
    return write(tmp_path, text)


@pytest.mark.parametrize(("snippet", "key", "words"), BAD, ids=[b[1] for b in BAD])
def test_bad_files_rejected_with_file_and_key(tmp_path, snippet, key, words):
    path = _make_bad(tmp_path, snippet)
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    msg = str(info.value)
    assert str(path) in msg
    assert f"'{key}" in msg
    assert words in msg


def test_bad_file_via_cli_exits_nonzero_and_writes_nothing(tmp_path, capsys):
    path = _make_bad(tmp_path, "replicatez = 3\n")
    out = tmp_path / "results"
    code = batch_main(["experiment", str(path), "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "replicatez" in err and "did you mean 'replicates'" in err and str(path) in err
    assert not out.exists()
    missing = batch_main(["experiment", str(tmp_path / "nope.toml"), "--out", str(out)])
    assert missing == 2 and not out.exists()


def test_dry_run_writes_nothing(tmp_path, capsys):
    out = tmp_path / "results"
    code = batch_main(["experiment", str(write(tmp_path, GOOD)), "--out", str(out), "--dry-run"])
    assert code == 0
    assert "2 planned" in capsys.readouterr().out
    assert not out.exists()


@pytest.mark.parametrize("name", ["policy_comparison", "sweep_chain_subsidy",
                                  "morris_screening"])
def test_ready_made_experiments_are_valid(name):
    path = ROOT / "experiments" / f"{name}.toml"
    if not path.exists():
        pytest.fail(f"{path} is missing")
    exp = load_experiment(path)
    assert exp.runs()


def test_config_hash_ignores_location_but_not_content(tmp_path):
    text = GOOD.replace('scenarios = ["baseline"]', 'scenarios = ["baseline", "other.toml"]')
    hashes = []
    for sub, rent in (("a", 4.0), ("b", 4.0), ("c", 4.5)):
        d = tmp_path / sub
        d.mkdir()
        (d / "other.toml").write_text(
            f'extends = "baseline"\nname = "other"\nrent_old_yuan_m2_day = {rent}\n')
        hashes.append(load_experiment(write(d, text)).config_hash())
    assert hashes[0] == hashes[1] != hashes[2]


def test_policy_lever_applies_only_to_scenarios_with_that_policy(tmp_path):
    (tmp_path / "subsidy.toml").write_text(
        'extends = "baseline"\nname = "subsidy"\n[[policy]]\nkind = "rent_subsidy"\n'
        "share = 0.3\n")
    text = GOOD.replace('scenarios = ["baseline"]', 'scenarios = ["baseline", "subsidy.toml"]')
    exp = load_experiment(write(tmp_path, text + """
[design]
method = "grid"
[levers."policy.rent_subsidy.share"]
values = [0.2, 0.4]
"""))
    assert exp.applicable == {"baseline": [], "subsidy": ["policy.rent_subsidy.share"]}
    plan = {(r.scenario, r.point) for r in exp.runs()}
    assert plan == {("baseline", REFERENCE_POINT), ("subsidy", 0), ("subsidy", 1)}
    sub = [r for r in exp.runs() if r.scenario == "subsidy" and r.point == 1][0]
    assert sub.overrides["policy.rent_subsidy.share"] == 0.4
    bad = text + '[design]\nmethod = "grid"\n[levers."policy.rent_subsidy.share"]\nvalues = [1.5]\n'
    with pytest.raises(ExperimentError, match="levers.policy.rent_subsidy.share"):
        load_experiment(write(tmp_path, bad, "bad.toml"))
    none = GOOD + '[design]\nmethod = "grid"\n[levers."policy.rent_subsidy.share"]\nvalues = [0.2]\n'
    with pytest.raises(ExperimentError, match="applies to none of the scenarios"):
        load_experiment(write(tmp_path, none, "none.toml"))
