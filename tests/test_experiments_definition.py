"""Experiment files: validation (bad files rejected before anything runs) and run plans."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from experiments.definition import replicate_seeds
from experiments.loading import load_experiment
from experiments.plan import REFERENCE_POINT, make_plan, run_id
from lifecircle.cli import main as batch_main
from model.errors import ExperimentError

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
    runs = make_plan(exp).runs
    assert [r.run_id for r in runs] == [run_id("baseline", 0, 0), run_id("baseline", 0, 1)]
    assert runs[0].run_id.startswith("baseline__p0000__r000__")
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
    assert len(exp.points) == 6 and len(make_plan(exp).runs) == 12
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
    assert {r.point for r in make_plan(exp).runs} == {0, 1}
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


@pytest.mark.parametrize("name", ["experiments/policy_comparison", "experiments/sweep_chain_subsidy",
                                  "experiments/morris_screening", "validation/validation",
                                  "validation/calibration", "validation/sensitivity"])
def test_ready_made_experiments_are_valid(name):
    path = ROOT / f"{name}.toml"
    if not path.exists():
        pytest.fail(f"{path} is missing")
    exp = load_experiment(path)
    assert make_plan(exp).runs


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
    plan = {(r.scenario, r.point) for r in make_plan(exp).runs}
    assert plan == {("baseline", REFERENCE_POINT), ("subsidy", 0), ("subsidy", 1)}
    sub = [r for r in make_plan(exp).runs if r.scenario == "subsidy" and r.point == 1][0]
    assert sub.overrides["policy.rent_subsidy.share"] == 0.4
    bad = text + '[design]\nmethod = "grid"\n[levers."policy.rent_subsidy.share"]\nvalues = [1.5]\n'
    with pytest.raises(ExperimentError, match="levers.policy.rent_subsidy.share"):
        load_experiment(write(tmp_path, bad, "bad.toml"))
    none = GOOD + '[design]\nmethod = "grid"\n[levers."policy.rent_subsidy.share"]\nvalues = [0.2]\n'
    with pytest.raises(ExperimentError, match="applies to none of the scenarios"):
        load_experiment(write(tmp_path, none, "none.toml"))


def test_every_metric_the_model_reports_is_accepted(tmp_path):
    import model

    text = GOOD.replace('metrics = ["share_satisfied"]',
                        f"metrics = {list(model.METRIC_NAMES)!r}".replace("'", '"'))
    exp = load_experiment(write(tmp_path, text))
    assert "independents_open" in exp.metrics and exp.metrics == list(model.METRIC_NAMES)


def test_labels_that_differ_only_in_unsafe_characters_get_distinct_run_ids(tmp_path):
    for stem, name in (("a", "x y"), ("b", "x_y"), ("c", "x/y")):
        (tmp_path / f"{stem}.toml").write_text(f'extends = "baseline"\nname = "{name}"\n')
    text = GOOD.replace('scenarios = ["baseline"]', 'scenarios = ["a.toml", "b.toml", "c.toml"]')
    plan = make_plan(load_experiment(write(tmp_path, text)))
    ids = [r.run_id for r in plan]
    assert len(set(ids)) == len(ids) == 6
    assert all("/" not in i and " " not in i for i in ids)
    assert {r.scenario for r in plan} == {"x y", "x_y", "x/y"}


def test_a_plan_with_colliding_run_ids_is_refused_before_any_run(tmp_path, monkeypatch):
    # the old scheme (unsafe characters -> "_", no hash) made "x y" and "x_y" collide
    import experiments.plan as plan_mod

    for stem, name in (("a", "x y"), ("b", "x_y")):
        (tmp_path / f"{stem}.toml").write_text(f'extends = "baseline"\nname = "{name}"\n')
    text = GOOD.replace('scenarios = ["baseline"]', 'scenarios = ["a.toml", "b.toml"]')
    exp = load_experiment(write(tmp_path, text))
    monkeypatch.setattr(plan_mod, "run_id", lambda s, p, r: f"{s.replace(' ', '_')}__{p}__{r}")
    with pytest.raises(ExperimentError, match="two runs would share the id 'x_y__0__0'"):
        plan_mod.make_plan(exp)


def test_an_oversized_grid_is_refused_in_a_dry_run_before_it_is_expanded(tmp_path, capsys):
    factors = "".join(f"[uncertainties.{p}]\nlow = {lo}\nhigh = {hi}\nsteps = 1000\n"
                      for p, lo, hi in (("rent_old_yuan_m2_day", 3.0, 6.0),
                                        ("rent_new_yuan_m2_day", 2.0, 4.0),
                                        ("speed_elderly_mps", 0.8, 1.1),
                                        ("beta_quality", 1.0, 3.0)))
    path = write(tmp_path, GOOD + '[design]\nmethod = "grid"\n' + factors)
    out = tmp_path / "results"
    assert batch_main(["experiment", str(path), "--out", str(out), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "1,000,000,000,000 points" in err and "'design'" in err and str(path) in err
    assert not out.exists()


@pytest.mark.parametrize(("text", "key", "words"), [
    ("[design]\nmethod = \"sobol\"\nsamples = 6\n[uncertainties.share_old]\nlow = 0.2\n"
     "high = 0.6\n", "design.samples", "power of 2"),
    ("[design]\nmethod = \"sobol\"\n[uncertainties.new_gates]\nlow = 1\nhigh = 4\n",
     "uncertainties.new_gates", "continuous"),
    ("[design]\nmethod = \"grid\"\n[levers.share_old]\nlow = 0.1\nhigh = inf\n",
     "levers.share_old.high", "not a finite number"),
    ("[design]\nmethod = \"grid\"\nsamples = 4\n[levers.share_old]\nvalues = [0.1]\n",
     "design.samples", "only used with method = 'lhs' or 'sobol'"),
])
def test_design_keys_are_checked(tmp_path, text, key, words):
    path = write(tmp_path, GOOD + text)
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    assert f"'{key}'" in str(info.value) and words in str(info.value)


def test_sobol_design_plans_n_times_k_plus_2_points(tmp_path):
    text = GOOD + ('[design]\nmethod = "sobol"\nsamples = 4\n'
                   "[uncertainties.share_old]\nlow = 0.2\nhigh = 0.6\n"
                   "[uncertainties.speed_elderly_mps]\nlow = 0.8\nhigh = 1.1\n")
    exp = load_experiment(write(tmp_path, text))
    assert exp.method == "sobol" and len(exp.points) == 4 * (2 + 2)
    assert len(make_plan(exp)) == 16 * 2
