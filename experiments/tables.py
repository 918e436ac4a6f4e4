"""An experiment's tidy tables, assembled from the verified per-run files.

* ``runs.parquet``: one row per planned run: run_id, scenario, point, replicate, seed,
  status (``ok``, ``failed``, ``missing``), error, runtime, timing, worker, attempt, code
  version;
* ``daily.parquet``: the daily series of every finished run (one row per run-day);
* ``summary.parquet``: one row per finished run (:func:`experiments.summary.summarize_run`);
* ``points.parquet``: design points (point -> factor values; ``-1`` is the reference point).

Only runs that pass verification (:meth:`ResultStore.scan`) are read; invalid and foreign
files are left out and reported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.manifest import planned_rows
from experiments.plan import REFERENCE_POINT
from experiments.provenance import now
from experiments.store import KEY_COLUMNS, ResultStore, ScanReport, atomic_write_parquet
from experiments.summary import summarize_run

TABLES = ("runs", "daily", "summary", "points")
RUN_COLUMNS = ["run_id", "scenario", "point", "replicate", "seed", "status", "error",
               "runtime", "started_at", "finished_at", "worker", "attempt", "code_version"]
VOLATILE_COLUMNS = ["runtime", "started_at", "finished_at", "worker", "attempt"]
"""Columns of the runs table that vary between identical runs (timing, host)."""


def assemble(store: ResultStore, manifest: dict[str, Any],
             log: Callable[[str], None] | None = None) -> dict[str, pd.DataFrame]:
    """Build and write the four tables from the per-run files the manifest plans.

    The caller holds the folder's lock. The manifest is updated with each run's status.

    Returns:
        Table name -> DataFrame (also written as ``<name>.parquet``).
    """
    rows = planned_rows(manifest, store.root / "manifest.json")
    definition = manifest.get("definition") if isinstance(manifest.get("definition"), dict) \
        else {}
    warmup = int(definition.get("warmup", 0))
    scan = store.scan({r[0]: dict(zip(KEY_COLUMNS, r[1:], strict=True)) for r in rows})
    if log is not None:
        for line in scan.problems():
            log(f"warning: {store.root}/{line}")
    runs = _runs_table(rows, scan)
    dailies, summaries = [], []
    for rid in runs.loc[runs["status"] == "ok", "run_id"]:
        d = store.read_frame(rid)
        dailies.append(d)
        s = summarize_run(d.drop(columns=list(KEY_COLUMNS)), warmup)
        summaries.append({**{k: d[k].iloc[0] for k in KEY_COLUMNS}, **s})
    daily = pd.concat(dailies, ignore_index=True) if dailies else pd.DataFrame(
        columns=[*KEY_COLUMNS, "day"])
    daily = daily.sort_values(["scenario", "point", "replicate", "day"]).reset_index(drop=True)
    summary = pd.DataFrame(summaries) if summaries else pd.DataFrame(columns=list(KEY_COLUMNS))
    summary = summary.sort_values(["scenario", "point", "replicate"]).reset_index(drop=True)
    tables = {"runs": runs, "daily": daily, "summary": summary,
              "points": points_table(definition)}
    for name, df in tables.items():
        atomic_write_parquet(store.root / f"{name}.parquet", df)
    manifest["run_status"] = runs.set_index("run_id")["status"].to_dict()
    manifest["counts"] = {str(k): int(v) for k, v in runs["status"].value_counts().items()}
    manifest["updated"] = now()
    store.write_manifest(manifest)
    return tables


def _runs_table(rows: list[list[Any]], scan: ScanReport) -> pd.DataFrame:
    out = []
    for rid, scen, point, rep, seed in rows:
        rec = scan.done.get(rid) or scan.failed.get(rid)
        base = {"run_id": rid, "scenario": scen, "point": point, "replicate": rep,
                "seed": seed}
        if rec is None:
            out.append({**base, "status": "missing", "error": scan.invalid.get(rid, ""),
                        "runtime": float("nan")})
        else:
            out.append({**{k: rec.get(k) for k in RUN_COLUMNS}, **base,
                        "status": "ok" if rid in scan.done else "failed"})
    runs = pd.DataFrame(out, columns=RUN_COLUMNS)
    runs = runs.astype({"point": "int64", "replicate": "int64", "seed": "int64",
                        "runtime": "float64"})
    runs["error"] = runs["error"].fillna("").astype(str)
    return runs.sort_values(["scenario", "point", "replicate"]).reset_index(drop=True)


def points_table(definition: dict[str, Any]) -> pd.DataFrame:
    """Design points: ``point`` plus one column per factor (and the reference point)."""
    points = definition.get("points") or [{}]
    factors = definition.get("factors") or []
    rows = [{"point": i, **p} for i, p in enumerate(points)]
    if factors:
        rows.append({"point": REFERENCE_POINT})
    df = pd.DataFrame(rows)
    df["point"] = df["point"].astype("int64")
    return df


def read_tables(root: str | Path) -> dict[str, pd.DataFrame]:
    """The assembled tables of a results folder, as last written."""
    root = Path(root)
    return {n: pd.read_parquet(root / f"{n}.parquet") for n in TABLES}


def frames_equal_ignoring_volatile(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two tables are equal once timing/host columns are dropped."""
    cols_a = [c for c in a.columns if c not in VOLATILE_COLUMNS]
    cols_b = [c for c in b.columns if c not in VOLATILE_COLUMNS]
    if cols_a != cols_b or len(a) != len(b):
        return False
    try:
        pd.testing.assert_frame_equal(a[cols_a].reset_index(drop=True),
                                      b[cols_b].reset_index(drop=True))
    except AssertionError:
        return False
    return True
