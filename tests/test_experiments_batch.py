"""Batches with the real model on a small city: executors, kill + resume, failures, report.

One uninterrupted process-pool run is the reference; a Dask LocalCluster run and a batch
killed with SIGKILL and resumed must give the same tables.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from experiments.executors import ExecutorSpec
from experiments.loading import load_experiment
from experiments.plan import make_plan, run_id
from experiments.runner import run_batch
from experiments.store import ResultStore
from experiments.tables import VOLATILE_COLUMNS, read_tables
from lifecircle.cli import main as batch_main

ROOT = Path(__file__).resolve().parent.parent

EXPERIMENT = """
name = "small"
scenarios = ["baseline", "cheap_rent.toml"]
baseline = "baseline"
replicates = 3
days = 16
warmup = 4
root_seed = 11
metrics = ["share_satisfied", "coverage_basic_all", "mean_walk_min"]

[settings]
communities_x = 2
communities_y = 2

[design]
method = "grid"

[uncertainties.speed_elderly_mps]
values = [0.9, 1.0]
"""

CHEAP_RENT = """
extends = "baseline"
name = "cheap_rent"
description = "test scenario: lower rents everywhere"
rent_old_yuan_m2_day = 2.0
rent_new_yuan_m2_day = 1.0
"""


def make_experiment(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cheap_rent.toml").write_text(CHEAP_RENT)
    path = folder / "small.toml"
    path.write_text(EXPERIMENT)
    return path


def comparable(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    out = {}
    for name, df in tables.items():
        out[name] = df.drop(columns=[c for c in VOLATILE_COLUMNS if c in df.columns])
    return out


def assert_same_tables(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    ca, cb = comparable(a), comparable(b)
    assert set(ca) == set(cb)
    for name in ca:
        pd.testing.assert_frame_equal(ca[name], cb[name], check_exact=True, obj=name)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run on the local process pool (2 workers)."""
    base = tmp_path_factory.mktemp("reference")
    exp = load_experiment(make_experiment(base))
    out = base / "results"
    outcome = run_batch(exp, out, ExecutorSpec(workers=2), progress=False, log=lambda m: None)
    assert outcome.ok and outcome.planned == 12 and len(outcome.executed) == 12
    tables = read_tables(out)
    return exp, out, tables


def test_reference_tables_are_complete_and_tidy(reference):
    exp, out, tables = reference
    runs, daily, summary = tables["runs"], tables["daily"], tables["summary"]
    assert len(runs) == 12 and set(runs["status"]) == {"ok"}
    assert not runs.duplicated(["scenario", "point", "replicate"]).any()
    assert (runs["runtime"] > 0).all()
    assert len(daily) == 12 * 16 and not daily.duplicated(
        ["scenario", "point", "replicate", "day"]).any()
    assert len(summary) == 12
    # common random numbers: both scenarios use the same replicate seeds
    seeds = runs.groupby("scenario")["seed"].apply(lambda s: sorted(set(s)))
    assert seeds["baseline"] == seeds["cheap_rent"] == sorted(exp.seeds)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config_hash"] == exp.config_hash()
    assert manifest["seeds"] == exp.seeds and manifest["code_version"]
    assert manifest["counts"] == {"ok": 12}
    # summaries are post-warm-up means of the daily series
    one = daily[(daily["scenario"] == "baseline") & (daily["point"] == 0)
                & (daily["replicate"] == 0)]
    s = summary[(summary["scenario"] == "baseline") & (summary["point"] == 0)
                & (summary["replicate"] == 0)].iloc[0]
    assert s["share_satisfied"] == pytest.approx(one.loc[one["day"] > 4,
                                                         "share_satisfied"].mean())


def test_dask_local_cluster_gives_the_same_tables(reference, tmp_path):
    exp, _, ref_tables = reference
    out = tmp_path / "dask"
    outcome = run_batch(exp, out, ExecutorSpec(workers=2, local_cluster=True, processes=True),
                        progress=False, log=lambda m: None)
    assert outcome.ok and len(outcome.executed) == 12
    assert_same_tables(read_tables(out), ref_tables)
    workers = set(pd.read_parquet(out / "runs.parquet")["worker"])
    assert all(str(os.getpid()) not in w for w in workers)  # ran in worker processes


def test_any_executor_instance_gives_the_same_tables(reference, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    exp, _, ref_tables = reference
    with ThreadPoolExecutor(max_workers=2) as ex:
        outcome = run_batch(exp, tmp_path / "threads", ex, progress=False, log=lambda m: None)
    assert outcome.ok
    assert_same_tables(read_tables(tmp_path / "threads"), ref_tables)


def test_dask_scheduler_address_gives_the_same_tables(reference, tmp_path):
    from distributed import LocalCluster

    exp, _, ref_tables = reference
    out = tmp_path / "sched"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        outcome = run_batch(exp, out, ExecutorSpec(scheduler=cluster.scheduler_address),
                            progress=False, log=lambda m: None)
    assert outcome.ok and len(outcome.executed) == 12
    assert_same_tables(read_tables(out), ref_tables)


def test_sigterm_stops_cleanly_and_keeps_finished_runs(tmp_path):
    path = make_experiment(tmp_path / "exp")
    out = tmp_path / "termed"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lifecircle", "experiment", str(path), "--out",
         str(out), "--workers", "1", "--no-progress"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (
            (out / "runs").is_dir() and len(list((out / "runs").glob("*.json"))) >= 2):
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err  # an interrupted batch
    assert "interrupted" in err and "resume" in err
    runs = pd.read_parquet(out / "runs.parquet")
    done = runs[runs["status"] == "ok"]
    assert len(runs) == 12 and 2 <= len(done) < 12
    assert set(runs["status"]) <= {"ok", "missing"}


def test_killed_batch_resumes_without_redoing_or_losing_runs(reference, tmp_path):
    exp_dir = tmp_path / "exp"
    path = make_experiment(exp_dir)
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lifecircle", "experiment", str(path), "--out",
         str(out), "--workers", "1", "--no-progress"],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    runs_dir = out / "runs"
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            if runs_dir.is_dir() and len(list(runs_dir.glob("*.json"))) >= 3:
                break
            if proc.poll() is not None:
                pytest.fail(f"batch ended before it could be killed: {proc.stderr.read()}")
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)  # the batch and its worker processes
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes())
              for p in runs_dir.iterdir() if p.suffix in (".json", ".parquet")}
    finished = {n[:-5] for n in before if n.endswith(".json")}
    assert 3 <= len(finished) < 12, "the kill must come mid-way"

    exp = load_experiment(path)
    outcome = run_batch(exp, out, ExecutorSpec(workers=2), progress=False, log=lambda m: None)
    assert outcome.ok
    assert outcome.skipped == len(finished)
    assert set(outcome.executed).isdisjoint(finished)  # no finished run redone
    assert len(outcome.executed) + len(finished) == 12  # none lost
    for name, (mtime, data) in before.items():
        p = runs_dir / name
        assert p.stat().st_mtime_ns == mtime and p.read_bytes() == data, name
    records = ResultStore(out).scan(make_plan(exp).keys()).done
    assert len(records) == 12 and all(r["attempt"] == 1 for r in records.values())
    assert not list(out.rglob("*.tmp"))
    assert_same_tables(read_tables(out), reference[2])

    # a third start finds nothing to do and changes nothing
    again = run_batch(exp, out, ExecutorSpec(workers=2), progress=False, log=lambda m: None)
    assert again.executed == [] and again.skipped == 12


def test_failing_run_is_recorded_and_others_complete(tmp_path, capsys):
    # a valid scenario file whose model raises at run time: the bus route file it names is
    # well formed but puts a stop outside the city, which only building the city finds out
    routes = tmp_path / "routes.toml"
    routes.write_text("[[bus]]\nstops = [[999, 999]]\n")
    (tmp_path / "no_shops.toml").write_text(
        'extends = "baseline"\nname = "no_shops"\n'
        f'[[policy]]\nkind = "mobile_vendors"\nroutes_file = "{routes}"\n')
    path = tmp_path / "fail.toml"
    path.write_text(
        'name = "fail"\nscenarios = ["baseline", "no_shops.toml"]\nreplicates = 2\n'
        'days = 6\nwarmup = 1\nroot_seed = 3\nmetrics = ["share_satisfied"]\n'
        "[settings]\ncommunities_x = 2\ncommunities_y = 2\n")
    out = tmp_path / "results"
    code = batch_main(["experiment", str(path), "--out", str(out), "--workers", "2",
                       "--no-progress"])
    assert code == 1
    err = capsys.readouterr().err
    assert "2 of 4 runs failed" in err
    assert run_id("no_shops", 0, 0) in err and run_id("no_shops", 0, 1) in err
    runs = pd.read_parquet(out / "runs.parquet").set_index("run_id")
    assert list(runs["status"]) == ["ok", "ok", "failed", "failed"]
    assert all("Traceback" in e for e in runs.loc[runs["status"] == "failed", "error"])
    assert len(pd.read_parquet(out / "summary.parquet")) == 2

    # rerun: only the failed runs are tried again
    ok_before = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("baseline*")}
    assert batch_main(["experiment", str(path), "--out", str(out), "--workers", "0",
                       "--no-progress"]) == 1
    assert ok_before == {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("baseline*")}
    scan = ResultStore(out).scan(make_plan(load_experiment(path)).keys())
    assert scan.failed[run_id("no_shops", 0, 0)]["attempt"] == 2
    assert scan.done[run_id("baseline", 0, 0)]["attempt"] == 1

    # the report still works and lists the failed runs
    assert batch_main(["compare", str(out)]) == 0
    md = (out / "report.md").read_text()
    assert "Failed runs" in md and run_id("no_shops", 0, 1) in md


def test_changed_experiment_into_same_folder_is_refused(reference, tmp_path, capsys):
    exp, out, _ = reference
    path = Path(exp.file)
    changed = path.with_name("changed.toml")
    changed.write_text(path.read_text().replace("days = 16", "days = 17"))
    files_before = sorted(p.name for p in out.rglob("*"))
    manifest_before = (out / "manifest.json").read_bytes()
    code = batch_main(["experiment", str(changed), "--out", str(out), "--workers", "0"])
    assert code == 2
    err = capsys.readouterr().err
    assert "different experiment" in err and "changed: days" in err
    assert sorted(p.name for p in out.rglob("*")) == files_before
    assert (out / "manifest.json").read_bytes() == manifest_before


def test_raising_replicates_extends_the_folder(reference, tmp_path):
    import shutil

    exp, out, _ = reference
    copy = tmp_path / "extended"
    shutil.copytree(out, copy)
    before = {p.name: p.stat().st_mtime_ns for p in (copy / "runs").iterdir()}
    more = Path(exp.file).with_name("more.toml")
    more.write_text(Path(exp.file).read_text().replace("replicates = 3", "replicates = 4"))
    exp4 = load_experiment(more)
    assert exp4.seeds[:3] == exp.seeds
    outcome = run_batch(exp4, copy, ExecutorSpec(workers=2), progress=False, log=lambda m: None)
    assert outcome.ok and outcome.skipped == 12 and len(outcome.executed) == 4
    assert all("__r003__" in r for r in outcome.executed)
    assert before == {p.name: p.stat().st_mtime_ns for p in (copy / "runs").iterdir()
                      if p.name in before}
    manifest = json.loads((copy / "manifest.json").read_text())
    assert manifest["config_hash"] == exp4.config_hash() and len(manifest["seeds"]) == 4
    assert "replicates raised from 3 to 4" in manifest["history"][0]


def test_compare_writes_report_with_figures(reference, tmp_path):
    _, out, _ = reference
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    assert batch_main(["compare", str(copy)]) == 0
    md = (copy / "report.md").read_text()
    html = (copy / "report.html").read_text()
    for text in ("Replicates: 3", "Seeds:", "days measured: 5–16", "Code version",
                 "Differences from the baseline", "cheap_rent", "Holm",
                 "old / new communities", "cost-effectiveness", "Response surfaces",
                 "Graded circles", "grade_share_at_least_basic_new"):
        assert text in md, text
    assert "<table>" in html and "fig_differences.png" in html
    for png in ("fig_differences.png", "fig_timeseries.png", "fig_coverage.png",
                "fig_subgroups.png", "fig_grades.png"):
        assert (copy / png).stat().st_size > 1000, png
    assert batch_main(["compare", str(copy), "--baseline", "nope"]) == 2


def test_morris_screening_end_to_end(tmp_path):
    folder = tmp_path / "m"
    make_experiment(folder)
    path = folder / "morris.toml"
    path.write_text(
        'name = "m"\nscenarios = ["baseline", "cheap_rent.toml"]\nreplicates = 1\n'
        'days = 8\nwarmup = 2\nroot_seed = 2\n'
        'metrics = ["share_satisfied", "coverage_basic_all"]\n'
        "[settings]\ncommunities_x = 2\ncommunities_y = 2\n"
        '[design]\nmethod = "morris"\ntrajectories = 2\nlevels = 4\n'
        "[uncertainties.speed_elderly_mps]\nlow = 0.8\nhigh = 1.1\n"
        "[uncertainties.satisfied_threshold]\nlow = 0.6\nhigh = 0.8\n")
    out = tmp_path / "results"
    assert batch_main(["experiment", str(path), "--out", str(out), "--workers", "2",
                       "--no-progress"]) == 0
    assert len(pd.read_parquet(out / "runs.parquet")) == 2 * 2 * 3
    assert batch_main(["compare", str(out)]) == 0
    md = (out / "report.md").read_text()
    assert "Morris" in md and "mu_star" in md and "effect of cheap_rent vs baseline" in md
    assert (out / "fig_morris_baseline_share_satisfied.png").is_file()
