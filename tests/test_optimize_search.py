"""`lifecircle optimize` end to end on tiny cities: a known answer, a valid front, resume, executors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.execute import simulate_run
from experiments.executors import ExecutorSpec
from experiments.optimize.levers import apply_mix
from experiments.optimize.problem import load_problem
from experiments.optimize.runner import run_optimize
from experiments.optimize.tables import non_dominated, stat_col
from experiments.summary import summarize_run
from lifecircle.cli import main

ROOT = Path(__file__).resolve().parent.parent

ONE_LEVER = """
name = "one_lever"
scenario = "baseline"
replicates = 2
days = 40
warmup = 10
evaluations = 12
population = 4
holdout_replicates = 2

[settings]
communities_x = 2
communities_y = 2

[levers."policy.mobile_vendors.n_buses"]
type = "integer"
low = 0
high = 4

[objectives.surplus_yuan]
sense = "max"

[objectives.public_spend_per_year]
sense = "min"

[constraints]
budget_per_year = 800000.0
"""

MIX = """
name = "mix"
scenario = "baseline"
replicates = 2
days = 30
warmup = 5
evaluations = 12
population = 4
holdout_replicates = 2
seed = 3

[settings]
communities_x = 2
communities_y = 2

[levers."policy.mobile_vendors.n_buses"]
type = "integer"
low = 0
high = 2

[levers."policy.elderly_canteen"]
type = "switch"

[levers."policy.rent_subsidy.budget_per_year"]
type = "real"
low = 0.0
high = 400000.0
step = 100000.0

[objectives.surplus_yuan]
sense = "max"

[objectives.coverage_basic_all]
sense = "max"
stat = "percentile"
percentile = 25

[objectives.public_spend_per_year]
sense = "min"

[constraints]
budget_per_year = 900000.0

[[constraints.bounds]]
metric = "coverage_basic_all_elderly"
min = "baseline"
"""


def _file(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    f = folder / "problem.toml"
    f.write_text(text)
    return f


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(out / f"{name}.parquet")
            for name in ("evaluations", "pareto", "holdout")}


def _records(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "runs").glob("*.json"))]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, Path]:
    """The MIX search, uninterrupted, on a process pool of two workers (through the CLI)."""
    folder = tmp_path_factory.mktemp("reference")
    problem = _file(folder, MIX)
    out = folder / "out"
    assert main(["optimize", str(problem), "--out", str(out), "--workers", "2",
                 "--no-progress"]) == 0
    return problem, out


def test_one_monotone_lever_with_a_rising_cost_gives_its_feasible_range_as_the_front(tmp_path):
    problem = load_problem(_file(tmp_path, ONE_LEVER))
    outcome = run_optimize(problem, tmp_path / "out", ExecutorSpec(workers=0), log=lambda m: None)
    ev = outcome.evaluations[outcome.evaluations["role"] == "search"]
    lever = "policy.mobile_vendors.n_buses"
    by_n = ev.set_index(lever).sort_index()
    # the search tried every number of buses
    assert list(by_n.index) == [0, 1, 2, 3, 4]
    # the premise of the known answer: more buses, more surplus and more cost, on every seed
    for col in ("surplus_yuan__r0", "surplus_yuan__r1", "public_spend_per_year__mean"):
        assert by_n[col].is_monotonic_increasing and by_n[col].is_unique, col
    # so every mix within the budget is on the front, and nothing else
    feasible = sorted(by_n.index[by_n["public_spend_per_year__mean"] <= 800000.0])
    assert feasible == [0, 1, 2]
    assert sorted(outcome.pareto[lever]) == feasible
    # the stored numbers are the simulation's: one mix re-simulated directly
    mix = apply_mix(problem.base, problem.levers, {lever: 2})
    _, daily = simulate_run(mix, problem.seeds[1], problem.days)
    direct = summarize_run(daily, problem.warmup)
    assert by_n.loc[2, "surplus_yuan__r1"] == direct["surplus_yuan"]
    # the best mix within the whole budget is the largest feasible one, checked out of sample
    best = outcome.holdout[(outcome.holdout["budget_level"] == 800000.0)
                           & (outcome.holdout["metric"] == "surplus_yuan")]
    assert "n_buses=2" in best["mix"].iloc[0]
    assert best["n_out"].iloc[0] == 2 and best["out_gain"].iloc[0] > 0


def test_front_members_meet_every_constraint_and_none_is_dominated(reference):
    _, out = reference
    problem = load_problem(out / "problem.toml")
    ev, front = _tables(out)["evaluations"], _tables(out)["pareto"]
    assert not front.empty
    assert front["feasible"].all()
    for b in problem.bounds:
        assert (front[f"g_{b.name}"] <= 0).all()
    assert (front["cost_per_year"] <= problem.budget).all()
    base_cov = ev.loc[ev["role"] == "baseline", "coverage_basic_all_elderly__mean"].iloc[0]
    assert (front["coverage_basic_all_elderly__mean"] >= base_cov).all()
    feasible = ev[(ev["role"] == "search") & ev["feasible"]]
    f_all = np.column_stack([(-1 if o.sense == "max" else 1) * feasible[stat_col(o.metric, o.stat)]
                             for o in problem.objectives])
    on_front = feasible["candidate"].isin(front["candidate"]).to_numpy()
    assert (non_dominated(f_all) == on_front).all()
    # every file the report promises is there
    for name in ("report.md", "report.html", "fig_front.png", "manifest.json"):
        assert (out / name).is_file()
    assert "out of sample" in (out / "report.md").read_text()


def test_the_same_search_on_a_dask_local_cluster_gives_the_same_evaluations(reference, tmp_path):
    problem_file, out = reference
    dask_out = tmp_path / "dask"
    outcome = run_optimize(load_problem(problem_file), dask_out,
                           ExecutorSpec(workers=2, local_cluster=True), log=lambda m: None)
    assert outcome.executed
    for name, table in _tables(dask_out).items():
        pd.testing.assert_frame_equal(table, _tables(out)[name], check_exact=True, obj=name)


def test_a_killed_search_resumes_without_repeating_or_losing_runs(reference, tmp_path):
    problem_file, ref_out = reference
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "lifecircle", "optimize", str(problem_file),
                             "--out", str(out), "--workers", "0", "--no-progress"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list((out / "runs").glob("*.json"))) >= 7:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the search ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {r["run_id"] for r in _records(out)}
    assert 7 <= len(before) < len(_records(ref_out))
    assert not (out / "pareto.parquet").exists()
    outcome = run_optimize(load_problem(problem_file), out, ExecutorSpec(workers=0),
                           log=lambda m: None)
    assert not before & set(outcome.executed), "a finished run was simulated again"
    records = _records(out)
    assert {r["run_id"] for r in records} == {r["run_id"] for r in _records(ref_out)}
    assert all(r["attempt"] == 1 and r["status"] == "ok" for r in records)
    assert len(before) + len(outcome.executed) == len(records)
    for name, table in _tables(out).items():
        pd.testing.assert_frame_equal(table, _tables(ref_out)[name], check_exact=True, obj=name)


def test_rerunning_a_finished_search_simulates_nothing(reference, tmp_path):
    problem_file, out = reference
    before = _tables(out)
    outcome = run_optimize(load_problem(problem_file), out, ExecutorSpec(workers=0),
                           log=lambda m: None)
    assert outcome.executed == []
    for name, table in _tables(out).items():
        pd.testing.assert_frame_equal(table, before[name], obj=name)


def test_a_folder_holding_another_search_is_refused(reference, tmp_path, capsys):
    _, out = reference
    other = _file(tmp_path, MIX.replace("seed = 3", "seed = 4"))
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    assert main(["optimize", str(other), "--out", str(out), "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert "another search" in err and "seed" in err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == mtimes


def test_the_viewer_offers_no_search_folder_for_replay(reference):
    from viz.replay import experiment_folders

    _, out = reference
    assert (out / "manifest.json").is_file()
    assert out.name not in experiment_folders(out.parent)


def test_the_first_generation_opens_with_doing_nothing_and_each_lever_alone(reference):
    _, out = reference
    ev = pd.read_parquet(out / "evaluations.parquet")
    first = ev[(ev["role"] == "search") & (ev["generation"] == 0)]
    levers = ["policy.mobile_vendors.n_buses", "policy.elderly_canteen",
              "policy.rent_subsidy.budget_per_year"]
    asked = {tuple(None if pd.isna(v) else v for v in row)
             for row in first[levers].itertuples(index=False)}
    assert (0, False, 0.0) in asked  # doing nothing: the base scenario
    assert {(2, False, 0.0), (0, True, 0.0), (0, False, 400000.0)} <= asked
    nothing = first[(first[levers[0]] == 0) & (~first[levers[1]].astype(bool))
                    & (first[levers[2]] == 0.0)]
    base = ev[ev["role"] == "baseline"]
    for col in ("surplus_yuan__mean", "public_spend_per_year__mean"):
        assert nothing[col].iloc[0] == base[col].iloc[0]  # the same runs, so the same numbers
    assert nothing["public_spend_per_year__mean"].iloc[0] == 0.0


def test_a_random_first_generation_is_another_search(tmp_path):
    problem = load_problem(_file(tmp_path, MIX.replace("seed = 3",
                                                       'seed = 3\nfirst_generation = "random"')))
    assert problem.first_generation == "random"
    assert problem.identity_hash() != load_problem(_file(tmp_path / "b", MIX)).identity_hash()
