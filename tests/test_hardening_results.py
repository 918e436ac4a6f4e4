"""A results folder that verifies itself, and one batch at a time per folder (real model).

(Issue 10: a foreign runs/*.json + .parquet pair was added to the tables; a Parquet file whose
keys disagreed with its record was filed under the wrong scenario; a truncated Parquet counted
as done so every resume crashed; a record or manifest that was JSON but not an object gave a
traceback; a second batch deleted the first one's temporary files.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from experiments.loading import load_experiment
from experiments.lock import LOCK_FILE
from experiments.plan import make_plan
from experiments.store import ResultStore
from experiments.tables import read_tables
from lifecircle.cli import main
from tests.test_experiments_batch import assert_same_tables, make_experiment

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def untouched(tmp_path_factory):
    """The small experiment (12 runs), run without interference."""
    base = tmp_path_factory.mktemp("untouched")
    path = make_experiment(base)
    out = base / "results"
    assert main(["experiment", str(path), "--out", str(out), "--workers", "0",
                 "--no-progress"]) == 0
    return path, out, read_tables(out)


def test_tampered_truncated_foreign_and_non_object_files_are_detected_and_rerun(
        untouched, tmp_path, capsys):
    path, ref_out, ref_tables = untouched
    out = tmp_path / "copy"
    shutil.copytree(ref_out, out)
    plan = make_plan(load_experiment(path))
    ids = [r.run_id for r in plan]
    runs = out / "runs"
    # truncated Parquet file
    data = (runs / f"{ids[0]}.parquet").read_bytes()
    (runs / f"{ids[0]}.parquet").write_bytes(data[: len(data) // 3])
    # a record that is JSON but not an object
    (runs / f"{ids[1]}.json").write_text('["ok"]')
    # a Parquet file whose keys are another run's, with a record recomputed to match it
    shutil.copy(runs / f"{ids[7]}.parquet", runs / f"{ids[2]}.parquet")
    rec = json.loads((runs / f"{ids[2]}.json").read_text())
    other = json.loads((runs / f"{ids[7]}.json").read_text())
    rec.update(sha256=other["sha256"], bytes=other["bytes"], rows=other["rows"])
    (runs / f"{ids[2]}.json").write_text(json.dumps(rec))
    # one byte changed inside a Parquet file
    data = bytearray((runs / f"{ids[3]}.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (runs / f"{ids[3]}.parquet").write_bytes(bytes(data))
    # a foreign run: a well-formed pair that is not in the plan
    shutil.copy(runs / f"{ids[4]}.parquet", runs / "intruder__p0000__r000__00000000.parquet")
    (runs / "intruder__p0000__r000__00000000.json").write_text(
        json.dumps({**json.loads((runs / f"{ids[4]}.json").read_text()),
                    "run_id": "intruder__p0000__r000__00000000", "scenario": "intruder"}))

    scan = ResultStore(out).scan(plan.keys())
    assert set(scan.invalid) == set(ids[:4])
    assert "Parquet file's scenario disagrees" in scan.invalid[ids[2]] \
        or "Parquet file's point disagrees" in scan.invalid[ids[2]] \
        or "Parquet file's replicate disagrees" in scan.invalid[ids[2]]
    assert len(scan.foreign) == 2 and len(scan.done) == 8

    # compare reports them and leaves them out (nothing filed under the wrong scenario)
    assert main(["compare", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count("it will be run again") == 4 and err.count("not part of this experiment") == 2
    tables = read_tables(out)
    assert set(tables["runs"]["status"]) == {"ok", "missing"}
    assert "intruder" not in set(tables["daily"]["scenario"])
    # a resume reruns exactly the invalid runs and recovers the untouched tables
    assert main(["experiment", str(path), "--out", str(out), "--workers", "0",
                 "--no-progress"]) == 0
    assert_same_tables(read_tables(out), ref_tables)
    assert (runs / "intruder__p0000__r000__00000000.json").exists()  # reported, never deleted


def test_an_invalid_manifest_is_a_clean_error_for_every_command(untouched, tmp_path, capsys):
    path, ref_out, _ = untouched
    for text in ('["a list"]', "{not json", '{"plan": "nonsense"}'):
        out = tmp_path / f"m{len(text)}"
        shutil.copytree(ref_out, out)
        (out / "manifest.json").write_text(text)
        assert main(["compare", str(out)]) == 2
        assert main(["experiment", str(path), "--out", str(out), "--workers", "0"]) in (2,)
        err = capsys.readouterr().err.strip().splitlines()
        assert all(ln.startswith("error: ") and "manifest.json" in ln or "different" in ln
                   for ln in err), err


def test_a_second_batch_on_the_same_folder_is_refused_while_the_first_runs(untouched, tmp_path,
                                                                          capsys):
    path, _, ref_tables = untouched
    out = tmp_path / "shared"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen(
        [sys.executable, "-m", "lifecircle", "experiment", str(path), "--out", str(out),
         "--workers", "1", "--no-progress"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (
                (out / LOCK_FILE).exists() and (out / "runs").is_dir()
                and len(list((out / "runs").glob("*.json"))) >= 1):
            assert first.poll() is None, first.stderr.read()
            time.sleep(0.02)
        assert main(["experiment", str(path), "--out", str(out), "--workers", "0"]) == 2
        assert main(["experiment", str(path), "--out", str(out), "--force", "--workers", "0"]) == 2
        assert main(["compare", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count(f"in use by another batch (pid {first.pid}") == 3, err
        _, first_err = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, first_err
    assert "warning" not in first_err  # nothing of the first batch was touched
    assert_same_tables(read_tables(out), ref_tables)
    assert not (out / LOCK_FILE).exists() and not list(out.rglob("*.tmp"))
