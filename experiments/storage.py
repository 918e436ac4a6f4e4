"""Results folder of an experiment: one file per finished run, tables assembled from them.

Layout of ``results/<experiment>/``::

    manifest.json          resolved configuration + hash, code version, seeds, run status
    experiment.toml        copy of the experiment file (when it came from a file)
    runs/<run_id>.parquet  daily series of one finished run (written first)
    runs/<run_id>.json     the run's record: status, error, runtime (written last = commit)
    runs.parquet           runs table: scenario, point, replicate, seed, status, error, runtime
    daily.parquet          daily series of every finished run (tidy: one row per run-day)
    summary.parquet        one row per finished run: post-warm-up means of every metric
    points.parquet         design points: point -> factor values

Every file is written to a temporary name in the same folder and moved into place with
``os.replace``, so a reader (or a killed batch) never sees half a file. A run counts as done
only once its JSON record exists; its Parquet file is written before it. Killing the batch at
any moment therefore loses no recorded run, and the next start redoes only runs without a
record or with a failed one.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.definition import REFERENCE_POINT, Experiment, _json_default

MANIFEST = "manifest.json"
KEY_COLUMNS = ["scenario", "point", "replicate", "seed"]
#: Columns of the runs table that vary between identical runs (timing, host).
VOLATILE_COLUMNS = ["runtime", "started_at", "finished_at", "worker", "attempt"]


class ResultsMismatchError(RuntimeError):
    """The results folder holds a different experiment (or is not a results folder)."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder + replace)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON atomically."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=_json_default)
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_parquet(path: Path, df: pd.DataFrame) -> None:
    """Write a DataFrame as Parquet atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    df.to_parquet(tmp, index=False)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def code_version() -> str:
    """Return the code version: ``git describe`` of the source tree, else the package version.

    Returns:
        E.g. ``"lifecircle 0.1.0, git v0.1-3-gabc1234-dirty"`` or ``"lifecircle 0.1.0"``.

    """
    pkg = "unknown"
    try:
        from importlib.metadata import version

        pkg = version("lifecircle")
    except Exception:  # noqa: BLE001 - not installed: read pyproject
        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        if pyproject.is_file():
            import tomllib

            pkg = tomllib.loads(pyproject.read_text()).get("project", {}).get("version", pkg)
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"], cwd=root,
            capture_output=True, text=True, timeout=10, check=False,
        )
        if out.returncode == 0 and out.stdout.strip():
            return f"lifecircle {pkg}, git {out.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    return f"lifecircle {pkg} (no git commit)"


def _environment() -> dict[str, str]:
    env = {"python": sys.version.split()[0], "platform": platform.platform()}
    for mod in ("mesa", "numpy", "pandas", "pyarrow"):
        try:
            env[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            env[mod] = "missing"
    return env


def summarize_run(daily: pd.DataFrame, warmup: int) -> dict[str, float]:
    """Summarize one run's daily series over the measured days (after the warm-up).

    Every metric becomes its mean over days ``warmup+1 .. days``, except the cumulative
    ``public_spend`` which is its final value. Added: ``public_cost`` (all public spending of
    the run, warm-up included, so one-off set-up costs count), ``public_cost_per_year`` (that,
    per 365 days of the run) and ``days_measured``.

    Args:
        daily: One run's daily frame (column ``day`` plus metric columns).
        warmup: Days discarded.

    Returns:
        Metric name -> value.

    """
    measured = daily[daily["day"] > warmup]
    metrics = [c for c in daily.columns if c not in ("day", *KEY_COLUMNS)]
    out = {m: float(measured[m].mean()) for m in metrics}
    n = len(measured)
    if "public_spend" in daily.columns:
        ordered = daily.sort_values("day")
        end = float(ordered["public_spend"].iloc[-1]) if len(ordered) else 0.0
        days = int(ordered["day"].iloc[-1]) if len(ordered) else 0
        out["public_spend"] = end
        out["public_cost"] = end
        out["public_cost_per_year"] = end / days * 365.0 if days else float("nan")
    out["days_measured"] = float(n)
    return out


class ResultStore:
    """The results folder of one experiment.

    Args:
        root: The folder (created on :meth:`prepare`).

    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / "runs"

    # ------------------------------------------------------------------ set-up and checks

    def read_manifest(self) -> dict[str, Any] | None:
        """Return the manifest, or ``None`` when there is none."""
        path = self.root / MANIFEST
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def check(self, experiment: Experiment) -> dict[str, Any] | None:
        """Check that the folder is empty, absent, or holds this same experiment.

        Args:
            experiment: The experiment about to run.

        Returns:
            The existing manifest, or ``None`` for a new folder.

        Raises:
            ResultsMismatchError: When the folder holds another experiment or foreign files.

        """
        manifest = self.read_manifest()
        if manifest is None:
            if self.root.exists() and any(self.root.iterdir()):
                raise ResultsMismatchError(
                    f"{self.root} is not empty and has no {MANIFEST}; refusing to write "
                    "experiment results into it (choose another --out folder)")
            return None
        new_hash = experiment.config_hash()
        if manifest.get("config_hash") != new_hash:
            old_def = manifest.get("definition", {})
            new_def = json.loads(json.dumps(experiment.definition(), default=_json_default))
            changed = sorted(k for k in set(old_def) | set(new_def)
                             if old_def.get(k) != new_def.get(k))
            if changed == ["replicates"] and int(new_def["replicates"]) > int(
                    old_def.get("replicates", 0)):
                # more replicates only: the first seeds are the same (SeedSequence.spawn),
                # so the finished runs stay valid and the new ones are added
                manifest["extended_from_replicates"] = old_def.get("replicates")
                return manifest
            raise ResultsMismatchError(
                f"{self.root} holds results of a different experiment "
                f"(config hash {manifest.get('config_hash')} there, {new_hash} now; "
                f"changed: {', '.join(changed) or 'unknown'}). Refusing to mix results: "
                "run into another folder with --out, or delete the folder to start over "
                "(only raising 'replicates' may continue a folder).")
        return manifest

    def prepare(self, experiment: Experiment, version: str) -> dict[str, Any]:
        """Create the folder and manifest, or check an existing one (for resuming).

        Args:
            experiment: The experiment about to run.
            version: Code version string.

        Returns:
            The manifest.

        Raises:
            ResultsMismatchError: When the folder holds another experiment.

        """
        manifest = self.check(experiment)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        for tmp in list(self.root.glob(".*.tmp")) + list(self.runs_dir.glob(".*.tmp")):
            tmp.unlink(missing_ok=True)  # left by a killed batch; never a finished run
        if manifest is not None and "extended_from_replicates" in manifest:
            old = manifest.pop("extended_from_replicates")
            manifest.update({
                "config_hash": experiment.config_hash(),
                "definition": experiment.definition(),
                "config": experiment.resolved_config(),
                "seeds": experiment.seeds,
                "runs_planned": len(experiment.runs()),
                "plan": [[r.run_id, r.scenario, r.point, r.replicate, r.seed]
                         for r in experiment.runs()],
            })
            manifest.setdefault("history", []).append(
                f"{_now()}: replicates raised from {old} to {experiment.replicates}")
            atomic_write_json(self.root / MANIFEST, manifest)
            if experiment.file and Path(experiment.file).is_file():
                atomic_write_bytes(self.root / "experiment.toml",
                                   Path(experiment.file).read_bytes())
        if manifest is None:
            manifest = {
                "experiment": experiment.name,
                "config_hash": experiment.config_hash(),
                "definition": experiment.definition(),
                "config": experiment.resolved_config(),
                "code_version": version,
                "environment": _environment(),
                "root_seed": experiment.root_seed,
                "seeds": experiment.seeds,
                "created": _now(),
                "runs_planned": len(experiment.runs()),
                "plan": [[r.run_id, r.scenario, r.point, r.replicate, r.seed]
                         for r in experiment.runs()],
            }
            atomic_write_json(self.root / MANIFEST, manifest)
            if experiment.file and Path(experiment.file).is_file():
                atomic_write_bytes(self.root / "experiment.toml",
                                   Path(experiment.file).read_bytes())
        return manifest

    # ------------------------------------------------------------------ per-run files

    def records(self) -> dict[str, dict[str, Any]]:
        """Return run id -> record for every recorded run (finished or failed)."""
        out: dict[str, dict[str, Any]] = {}
        if not self.runs_dir.is_dir():
            return out
        for path in sorted(self.runs_dir.glob("*.json")):
            try:
                rec = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue  # cannot happen with atomic writes; treat as not done
            if rec.get("status") == "ok" and not (self.runs_dir / f"{path.stem}.parquet").is_file():
                continue
            out[path.stem] = rec
        return out

    def done_ids(self) -> set[str]:
        """Return the ids of runs that finished successfully."""
        return {k for k, r in self.records().items() if r.get("status") == "ok"}

    def write_run(self, record: dict[str, Any], daily: pd.DataFrame | None) -> None:
        """Record one run: its daily series (if any) first, then its record.

        Args:
            record: Keys ``run_id``, ``scenario``, ``point``, ``replicate``, ``seed``,
                ``status``, ``error``, ``runtime`` and any others.
            daily: The run's daily frame, ``None`` for a failed run.

        """
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        rid = record["run_id"]
        prev = self.runs_dir / f"{rid}.json"
        attempt = 1
        if prev.is_file():
            try:
                attempt = int(json.loads(prev.read_text()).get("attempt", 0)) + 1
            except (OSError, ValueError):
                pass
        record = {**record, "attempt": attempt}
        if daily is not None:
            frame = daily.copy()
            for i, col in enumerate(KEY_COLUMNS):
                frame.insert(i, col, record[col])
            atomic_write_parquet(self.runs_dir / f"{rid}.parquet", frame)
        else:
            (self.runs_dir / f"{rid}.parquet").unlink(missing_ok=True)
        atomic_write_json(prev, record)

    # ------------------------------------------------------------------ assembled tables

    def assemble(self, experiment: Experiment | None = None) -> dict[str, pd.DataFrame]:
        """Build the runs, daily, summary and points tables from the per-run files.

        Args:
            experiment: The experiment (to list planned but missing runs and the points);
                when ``None``, the manifest is used.

        Returns:
            Table name -> DataFrame (also written as ``<name>.parquet``).

        """
        manifest = self.read_manifest() or {}
        definition = experiment.definition() if experiment else manifest.get("definition", {})
        warmup = int(definition.get("warmup", 0))
        records = self.records()
        rows = []
        if experiment is not None:
            planned = [[r.run_id, r.scenario, r.point, r.replicate, r.seed]
                       for r in experiment.runs()]
        else:
            planned = manifest.get("plan", [])
        planned_ids = {p[0] for p in planned}
        for rid, scen, point, rep, seed in planned:
            rec = records.get(rid)
            rows.append(rec if rec else {
                "run_id": rid, "scenario": scen, "point": point, "replicate": rep,
                "seed": seed, "status": "missing", "error": "", "runtime": float("nan"),
            })
        rows.extend(r for k, r in records.items() if k not in planned_ids)
        runs = pd.DataFrame(rows, columns=_RUN_COLUMNS) if rows else pd.DataFrame(
            columns=_RUN_COLUMNS)
        runs = runs.astype({"point": "int64", "replicate": "int64", "seed": "int64",
                            "runtime": "float64"})
        runs = runs.sort_values(["scenario", "point", "replicate"]).reset_index(drop=True)

        dailies, summaries = [], []
        for rid in runs.loc[runs["status"] == "ok", "run_id"]:
            d = pd.read_parquet(self.runs_dir / f"{rid}.parquet")
            dailies.append(d)
            s = summarize_run(d.drop(columns=KEY_COLUMNS), warmup)
            summaries.append({**{k: d[k].iloc[0] for k in KEY_COLUMNS}, **s})
        daily = (pd.concat(dailies, ignore_index=True) if dailies else pd.DataFrame(
            columns=[*KEY_COLUMNS, "day"]))
        daily = daily.sort_values(["scenario", "point", "replicate", "day"]).reset_index(
            drop=True)
        summary = pd.DataFrame(summaries) if summaries else pd.DataFrame(columns=KEY_COLUMNS)
        summary = summary.sort_values(["scenario", "point", "replicate"]).reset_index(drop=True)
        points = _points_table(definition)

        tables = {"runs": runs, "daily": daily, "summary": summary, "points": points}
        for name, df in tables.items():
            atomic_write_parquet(self.root / f"{name}.parquet", df)
        if manifest:
            status = runs.set_index("run_id")["status"].to_dict()
            manifest["run_status"] = status
            manifest["counts"] = {k: int(v) for k, v in runs["status"].value_counts().items()}
            manifest["updated"] = _now()
            atomic_write_json(self.root / MANIFEST, manifest)
        return tables

    def load_tables(self, refresh: bool = False) -> dict[str, pd.DataFrame]:
        """Read the assembled tables.

        Args:
            refresh: Assemble them again from the per-run files first (e.g. after a batch
                was killed before it could assemble).

        Returns:
            Table name -> DataFrame.
        """
        names = ("runs", "daily", "summary", "points")
        if refresh or not all((self.root / f"{n}.parquet").is_file() for n in names):
            return self.assemble()
        return {n: pd.read_parquet(self.root / f"{n}.parquet") for n in names}


_RUN_COLUMNS = ["run_id", "scenario", "point", "replicate", "seed", "status", "error",
                "runtime", "started_at", "finished_at", "worker", "attempt", "code_version"]


def _points_table(definition: dict[str, Any]) -> pd.DataFrame:
    points = definition.get("points") or [{}]
    factors = definition.get("factors") or []
    rows = [{"point": i, **p} for i, p in enumerate(points)]
    if factors:
        rows.append({"point": REFERENCE_POINT})
    df = pd.DataFrame(rows)
    df["point"] = df["point"].astype("int64")
    return df


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def frames_equal_ignoring_volatile(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Return whether two tables are equal once timing/host columns are dropped."""
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


__all__ = [
    "KEY_COLUMNS", "MANIFEST", "VOLATILE_COLUMNS", "ResultStore", "ResultsMismatchError",
    "atomic_write_json", "atomic_write_parquet", "code_version", "frames_equal_ignoring_volatile",
    "summarize_run",
]
