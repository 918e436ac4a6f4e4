"""Results-folder mechanics on synthetic runs (the real-model batches are in
test_experiments_batch.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from experiments.storage import ResultStore, atomic_write_json, frames_equal_ignoring_volatile


def fake_daily(level: float, days: int = 4) -> pd.DataFrame:
    return pd.DataFrame({"day": range(1, days + 1),
                         "share_satisfied": [level] * days,
                         "public_spend": [10.0 * d for d in range(1, days + 1)]})


def record(rid: str, scen: str, rep: int, status: str = "ok") -> dict:
    return {"run_id": rid, "scenario": scen, "point": 0, "replicate": rep, "seed": 7 + rep,
            "status": status, "error": "" if status == "ok" else "Traceback...\nBoom",
            "runtime": 0.5}


def test_write_run_records_and_attempts(tmp_path):
    store = ResultStore(tmp_path)
    store.write_run(record("b__r0", "b", 0, "failed"), None)
    assert store.records()["b__r0"]["attempt"] == 1 and store.done_ids() == set()
    store.write_run(record("b__r0", "b", 0), fake_daily(0.5))
    assert store.records()["b__r0"]["attempt"] == 2 and store.done_ids() == {"b__r0"}
    assert not list(tmp_path.rglob("*.tmp"))
    frame = pd.read_parquet(tmp_path / "runs" / "b__r0.parquet")
    assert list(frame.columns[:5]) == ["scenario", "point", "replicate", "seed", "day"]


def test_record_without_its_parquet_counts_as_not_done(tmp_path):
    store = ResultStore(tmp_path)
    store.runs_dir.mkdir(parents=True)
    atomic_write_json(store.runs_dir / "x.json", record("x", "b", 0))
    assert store.done_ids() == set()


def test_assemble_builds_sorted_tidy_tables(tmp_path):
    store = ResultStore(tmp_path)
    for scen, rep, level in (("s", 1, 0.4), ("b", 1, 0.3), ("s", 0, 0.6), ("b", 0, 0.5)):
        store.write_run(record(f"{scen}__r{rep}", scen, rep), fake_daily(level))
    store.write_run(record("s__r2", "s", 2, "failed"), None)
    tables = store.assemble()
    runs, daily, summary = tables["runs"], tables["daily"], tables["summary"]
    assert list(zip(runs["scenario"], runs["replicate"], strict=True)) == [
        ("b", 0), ("b", 1), ("s", 0), ("s", 1), ("s", 2)]
    assert list(runs["status"]) == ["ok"] * 4 + ["failed"]
    assert len(daily) == 16 and len(summary) == 4
    assert summary.loc[(summary["scenario"] == "s") & (summary["replicate"] == 0),
                       "share_satisfied"].item() == pytest.approx(0.6)
    assert summary["public_spend"].tolist() == [40.0] * 4
    for name in ("runs", "daily", "summary", "points"):
        assert frames_equal_ignoring_volatile(pd.read_parquet(tmp_path / f"{name}.parquet"),
                                              tables[name])


def test_foreign_folder_is_refused(tmp_path):
    from experiments.storage import ResultsMismatchError

    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ResultsMismatchError, match="not empty"):
        ResultStore(tmp_path).check(None)  # type: ignore[arg-type]
