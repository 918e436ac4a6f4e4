"""The results store on synthetic runs: commits, verification, temporary files, the lock.

(Batches with the real model, kill + resume and tampering of a real results folder are in
test_experiments_batch.py and test_hardening_results.py.)
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pandas as pd
import pytest

from experiments.lock import LOCK_FILE, FolderLock, holder
from experiments.store import ResultStore, atomic_write_json
from experiments.tables import assemble, frames_equal_ignoring_volatile
from model.errors import ResultsError

PLAN = {f"{s}__r{r}": {"scenario": s, "point": 0, "replicate": r, "seed": 7 + r}
        for s in ("b", "s") for r in range(3)}


def fake_daily(level: float, days: int = 4) -> pd.DataFrame:
    return pd.DataFrame({"day": range(1, days + 1),
                         "share_satisfied": [level] * days,
                         "public_spend": [10.0 * d for d in range(1, days + 1)]})


def record(rid: str, status: str = "ok") -> dict:
    return {"run_id": rid, **PLAN[rid], "status": status,
            "error": "" if status == "ok" else "Traceback...\nBoom", "runtime": 0.5}


def manifest() -> dict:
    return {"definition": {"warmup": 1},
            "plan": [[rid, k["scenario"], k["point"], k["replicate"], k["seed"]]
                     for rid, k in PLAN.items()]}


def test_commit_writes_parquet_then_record_with_checksum_and_counts_attempts(tmp_path):
    store = ResultStore(tmp_path)
    store.commit(record("b__r0", "failed"), None)
    scan = store.scan(PLAN)
    assert scan.failed["b__r0"]["attempt"] == 1 and not scan.done
    rec = store.commit(record("b__r0"), fake_daily(0.5))
    assert rec["attempt"] == 2 and rec["rows"] == 4 and len(rec["sha256"]) == 64
    assert rec["file"] == "b__r0.parquet"
    assert set(store.scan(PLAN).done) == {"b__r0"}
    assert not list(tmp_path.rglob("*.tmp"))
    frame = pd.read_parquet(tmp_path / "runs" / "b__r0.parquet")
    assert list(frame.columns[:5]) == ["scenario", "point", "replicate", "seed", "day"]


@pytest.mark.parametrize(("damage", "why"), [
    ("truncate", "wrong size"),
    ("flip_byte", "checksum"),
    ("delete_parquet", "missing"),
    ("not_object", "not a JSON object"),
    ("not_json", "not readable JSON"),
    ("wrong_keys", "disagree with the plan"),
    ("other_run", "names run"),
])
def test_a_damaged_run_is_reported_and_counts_as_not_done(tmp_path, damage, why):
    store = ResultStore(tmp_path)
    store.commit(record("b__r0"), fake_daily(0.5))
    store.commit(record("b__r1"), fake_daily(0.6))
    pq_path, js_path = tmp_path / "runs" / "b__r0.parquet", tmp_path / "runs" / "b__r0.json"
    data = pq_path.read_bytes()
    rec = json.loads(js_path.read_text())
    if damage == "truncate":
        pq_path.write_bytes(data[: len(data) // 2])
    elif damage == "flip_byte":
        pq_path.write_bytes(data[:100] + bytes([data[100] ^ 1]) + data[101:])
    elif damage == "delete_parquet":
        pq_path.unlink()
    elif damage == "not_object":
        js_path.write_text("[1, 2, 3]")
    elif damage == "not_json":
        js_path.write_text("{not json")
    elif damage == "wrong_keys":
        js_path.write_text(json.dumps({**rec, "scenario": "s"}))
    elif damage == "other_run":
        js_path.write_text(json.dumps({**rec, "run_id": "b__r1"}))
    scan = ResultStore(tmp_path).scan(PLAN)
    assert set(scan.done) == {"b__r1"}
    assert why in scan.invalid["b__r0"]
    assert any(line.startswith("runs/b__r0:") for line in scan.problems())


def test_a_parquet_whose_keys_disagree_with_its_record_is_invalid(tmp_path):
    # a consistent record (checksum and row count recomputed) over another run's table
    store = ResultStore(tmp_path)
    store.commit(record("b__r0"), fake_daily(0.5))
    store.commit(record("s__r0"), fake_daily(0.9))
    src = tmp_path / "runs" / "s__r0.parquet"
    dst = tmp_path / "runs" / "b__r0.parquet"
    dst.write_bytes(src.read_bytes())
    rec = json.loads((tmp_path / "runs" / "b__r0.json").read_text())
    rec.update(sha256=json.loads((tmp_path / "runs" / "s__r0.json").read_text())["sha256"],
               bytes=dst.stat().st_size)
    (tmp_path / "runs" / "b__r0.json").write_text(json.dumps(rec))
    scan = ResultStore(tmp_path).scan(PLAN)
    assert "scenario disagrees with the record" in scan.invalid["b__r0"]
    assert set(scan.done) == {"s__r0"}


def test_foreign_files_are_reported_and_ignored(tmp_path):
    store = ResultStore(tmp_path)
    store.commit(record("b__r0"), fake_daily(0.5))
    foreign = {"x__r9": {"scenario": "x", "point": 0, "replicate": 9, "seed": 1}}
    ResultStore(tmp_path).commit({"run_id": "x__r9", **foreign["x__r9"], "status": "ok"},
                                 fake_daily(0.1))
    (tmp_path / "runs" / "notes.txt").write_text("mine")
    scan = store.scan(PLAN)
    assert set(scan.done) == {"b__r0"}
    assert sorted(scan.foreign) == ["runs/notes.txt", "runs/x__r9.json", "runs/x__r9.parquet"]


def test_assemble_builds_sorted_tidy_tables_from_verified_runs(tmp_path):
    store = ResultStore(tmp_path)
    for rid, level in (("s__r1", 0.4), ("b__r1", 0.3), ("s__r0", 0.6), ("b__r0", 0.5)):
        store.commit(record(rid), fake_daily(level))
    store.commit(record("s__r2", "failed"), None)
    tables = assemble(store, manifest())
    runs, daily, summary = tables["runs"], tables["daily"], tables["summary"]
    assert list(zip(runs["scenario"], runs["replicate"], runs["status"], strict=True)) == [
        ("b", 0, "ok"), ("b", 1, "ok"), ("b", 2, "missing"), ("s", 0, "ok"), ("s", 1, "ok"),
        ("s", 2, "failed")]
    assert len(daily) == 16 and len(summary) == 4
    assert summary.loc[(summary["scenario"] == "s") & (summary["replicate"] == 0),
                       "share_satisfied"].item() == pytest.approx(0.6)
    assert summary["public_spend"].tolist() == [40.0] * 4  # final value, not the mean
    for name in ("runs", "daily", "summary", "points"):
        assert frames_equal_ignoring_volatile(pd.read_parquet(tmp_path / f"{name}.parquet"),
                                              tables[name])
    saved = json.loads((tmp_path / "manifest.json").read_text())
    assert saved["counts"] == {"ok": 4, "failed": 1, "missing": 1}


def test_a_manifest_that_is_not_an_object_is_a_clean_error(tmp_path):
    atomic_write_json(tmp_path / "manifest.json", ["not", "an", "object"])
    with pytest.raises(ResultsError, match="not an object"):
        ResultStore(tmp_path).read_manifest()
    (tmp_path / "manifest.json").write_text("{broken")
    with pytest.raises(ResultsError, match="not a readable JSON manifest"):
        ResultStore(tmp_path).read_manifest()
    (tmp_path / "manifest.json").write_text('{"plan": [["a", 1]]}')
    with pytest.raises(ResultsError, match="plan"):
        assemble(ResultStore(tmp_path), ResultStore(tmp_path).read_manifest())


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_only_temporary_files_of_dead_processes_of_this_host_are_removed(tmp_path):
    store = ResultStore(tmp_path)
    store.runs_dir.mkdir(parents=True)
    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:40]
    mine_dead = store.runs_dir / f".a.parquet.{host}.{_dead_pid()}.tmp"
    alive = store.runs_dir / f".b.parquet.{host}.{os.getppid()}.tmp"
    other_host = store.runs_dir / f".c.parquet.elsewhere.{_dead_pid()}.tmp"
    for p in (mine_dead, alive, other_host):
        p.write_text("partial")
    assert store.clean_temporary() == [mine_dead.name]
    assert not mine_dead.exists() and alive.exists() and other_host.exists()


def test_a_folder_is_locked_by_one_writer_and_a_dead_holder_is_recognised(tmp_path):
    with FolderLock(tmp_path, "first") as first:
        assert first.stale is None
        assert holder(tmp_path)["command"] == "first"
        with pytest.raises(ResultsError, match=f"in use by another batch \\(pid {os.getpid()}"):
            FolderLock(tmp_path, "second").acquire()
    assert not (tmp_path / LOCK_FILE).exists() and holder(tmp_path) is None
    # a lock file left by a process that died (kill -9 leaves it; its flock is gone)
    (tmp_path / LOCK_FILE).write_text(json.dumps({"pid": _dead_pid(), "host": "h"}))
    with FolderLock(tmp_path, "third") as third:
        assert third.stale is not None and third.stale["host"] == "h"
