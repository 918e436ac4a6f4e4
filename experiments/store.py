"""A results folder that verifies what it reads: one JSON record + one Parquet file per run.

Layout (the experiment's tables are assembled by :mod:`experiments.tables`)::

    .lifecircle-output     marker: lifecircle wrote this folder (experiments.outputs)
    .lifecircle.lock       while a batch writes (experiments.lock)
    manifest.json          what the folder holds (a JSON object; its ``config_hash`` is checked)
    runs/<run_id>.parquet  one run's daily series, key columns first (written first)
    runs/<run_id>.json     the run's record (written last = the commit): status, error,
                           runtime, ..., and ``file``, ``rows``, ``sha256`` of its Parquet file

Every file is written under a temporary name carrying this host and process id and moved into
place with ``os.replace``, so no reader (and no killed batch) sees half a file, and a later
process removes only the temporary files of dead processes of its own host.

Reading is verified (:meth:`ResultStore.scan`): a record must be a JSON object naming its own
run id, that id must be planned (else the files are *foreign*: reported and ignored), the
record's keys must be the plan's, and a finished run's Parquet file must exist with the
recorded size, SHA-256 and row count and carry the same keys. A run that fails any of this is
*invalid*: reported and treated as not done, so a resume runs it again.

The store is generic: a run is anything with an id, key values (``key_columns``), a record of
what happened and an optional table of daily values -- an experiment's (scenario, point,
replicate) runs, or a policy search's evaluations.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from model.errors import ResultsError

MANIFEST = "manifest.json"
RUNS_DIR = "runs"
KEY_COLUMNS: tuple[str, ...] = ("scenario", "point", "replicate", "seed")
TMP_SUFFIX = ".tmp"


def json_default(obj: Any) -> Any:
    """JSON for numpy scalars and paths (``json.dumps(default=...)``)."""
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON-serializable: {type(obj).__name__}")


def _tmp_name(path: Path) -> Path:
    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:40]
    return path.with_name(f".{path.name}.{host}.{os.getpid()}{TMP_SUFFIX}")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder + replace).

    On any error (a full disk, a folder gone) the temporary file is removed and the error
    re-raised; ``path`` keeps its old content.
    """
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    _replace_atomically(path, write)


def _replace_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """``write`` a temporary file beside ``path``, then move it into place.

    On any error the temporary file is removed and the error re-raised (an ``OSError`` naming
    ``path``); ``path`` keeps its old content.
    """
    tmp = _tmp_name(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _named(exc, path) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _named(exc: OSError, path: Path) -> OSError:
    """The same error, naming the file lifecircle was writing."""
    text = exc.strerror or str(exc)
    if "No space left" in text or exc.errno == 28:
        text = "no space left on device"
    return OSError(exc.errno, text, str(path))


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON atomically."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=json_default, allow_nan=True)
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_parquet(path: Path, df: pd.DataFrame) -> None:
    """Write a DataFrame as Parquet atomically."""
    def write(tmp: Path) -> None:
        df.to_parquet(tmp, index=False)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())

    _replace_atomically(path, write)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class ScanReport:
    """What a results folder holds, verified against a plan.

    Attributes:
        done: Run id -> record of every verified finished run.
        failed: Run id -> record of runs recorded as failed (run again on resume).
        invalid: Run id or file -> why it failed verification (run again on resume).
        foreign: Files that belong to no planned run (ignored).
    """

    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, dict[str, Any]] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)
    foreign: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """One line per invalid run or foreign file, for the user."""
        lines = [f"runs/{k}: {why}; it will be run again" for k, why in sorted(self.invalid.items())]
        lines += [f"{name}: not part of this experiment; ignored" for name in self.foreign]
        return lines


class ResultStore:
    """The per-run files of one results folder (see the module docstring).

    Args:
        root: The folder.
        key_columns: The columns that identify a run's rows (put first in its Parquet file).
    """

    def __init__(self, root: str | Path, key_columns: Sequence[str] = KEY_COLUMNS) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / RUNS_DIR
        self.key_columns = tuple(key_columns)
        self._verified: dict[str, tuple[tuple[Any, ...], str]] = {}

    # ------------------------------------------------------------------ manifest

    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest, ``None`` when there is none.

        Raises:
            ResultsError: The manifest is not valid JSON or not a JSON object.
        """
        path = self.root / MANIFEST
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ResultsError(path, "", f"not a readable JSON manifest: {exc}") from None
        if not isinstance(data, dict):
            raise ResultsError(path, "", f"is JSON but not an object ({type(data).__name__})")
        return data

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        """Write the manifest atomically."""
        atomic_write_json(self.root / MANIFEST, dict(manifest))

    # ------------------------------------------------------------------ writing

    def commit(self, record: Mapping[str, Any], frame: pd.DataFrame | None) -> dict[str, Any]:
        """Record one run: its Parquet file first (if any), then its JSON record.

        Args:
            record: ``run_id``, the key columns' values, ``status`` and anything else.
            frame: The run's table (key columns are inserted first), ``None`` for a run that
                failed.

        Returns:
            The record as written (with ``attempt``, ``file``, ``rows``, ``sha256``).
        """
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        rid = str(record["run_id"])
        if Path(rid).name != rid or rid.startswith("."):
            raise ResultsError(self.root, "run_id", f"{rid!r} is not a plain file name")
        json_path = self.runs_dir / f"{rid}.json"
        data_path = self.runs_dir / f"{rid}.parquet"
        previous = _load_json(json_path)
        attempt = int(previous.get("attempt", 0)) + 1 if isinstance(previous, dict) else 1
        rec: dict[str, Any] = {**record, "attempt": attempt, "file": None, "rows": 0,
                               "sha256": None}
        if frame is not None:
            table = frame.copy()
            for i, col in enumerate(self.key_columns):
                if col in table.columns:
                    table = table.drop(columns=col)
                table.insert(i, col, record[col])
            atomic_write_parquet(data_path, table)
            rec.update(file=data_path.name, rows=len(table), sha256=file_sha256(data_path),
                       bytes=data_path.stat().st_size)
        else:
            data_path.unlink(missing_ok=True)
        atomic_write_json(json_path, rec)
        self._verified.pop(rid, None)
        return rec

    def clean_temporary(self) -> list[str]:
        """Remove temporary files of dead processes of this host; return their names.

        Temporary files of live processes, or of other hosts, are left alone.
        """
        from experiments.lock import process_alive

        host = "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:40]
        removed = []
        for folder in (self.root, self.runs_dir):
            if not folder.is_dir():
                continue
            for tmp in folder.glob(f".*{TMP_SUFFIX}"):
                stem = tmp.name[: -len(TMP_SUFFIX)]
                owner_host, _, pid = stem.rpartition(".")
                if not owner_host.endswith("." + host) or not pid.isdigit():
                    continue
                if not process_alive(int(pid)):
                    tmp.unlink(missing_ok=True)
                    removed.append(tmp.name)
        return removed

    # ------------------------------------------------------------------ reading, verified

    def scan(self, plan: Mapping[str, Mapping[str, Any]]) -> ScanReport:
        """Verify every run file against ``plan`` (run id -> key values).

        Returns:
            Finished, failed, invalid and foreign runs (see :class:`ScanReport`).
        """
        report = ScanReport()
        if not self.runs_dir.is_dir():
            return report
        seen: set[str] = set()
        for path in sorted(self.runs_dir.iterdir()):
            name = path.name
            if name.endswith(TMP_SUFFIX) and name.startswith("."):
                continue
            stem, suffix = os.path.splitext(name)
            if suffix not in (".json", ".parquet") or stem not in plan or path.is_symlink():
                report.foreign.append(f"{RUNS_DIR}/{name}")
                continue
            if suffix == ".parquet":
                continue
            seen.add(stem)
            status, detail = self._verify(stem, path, plan[stem])
            if status == "ok":
                report.done[stem] = detail  # type: ignore[assignment]
            elif status == "failed":
                report.failed[stem] = detail  # type: ignore[assignment]
            else:
                report.invalid[stem] = str(detail)
        return report

    def _verify(self, rid: str, json_path: Path, keys: Mapping[str, Any]
                ) -> tuple[str, dict[str, Any] | str]:
        data_path = self.runs_dir / f"{rid}.parquet"
        stamp = (_stamp(json_path), _stamp(data_path), json.dumps(dict(keys), sort_keys=True,
                                                                  default=json_default))
        cached = self._verified.get(rid)
        rec = _load_json(json_path)
        if not isinstance(rec, dict):
            return "invalid", ("record is not a JSON object" if rec is not _BAD else
                               "record is not readable JSON")
        if cached is not None and cached[0] == stamp:
            return cached[1], rec
        status, detail = self._check(rid, rec, data_path, keys)
        if status != "invalid":
            self._verified[rid] = (stamp, status)
        return status, detail

    def _check(self, rid: str, rec: dict[str, Any], data_path: Path,
               keys: Mapping[str, Any]) -> tuple[str, dict[str, Any] | str]:
        if rec.get("run_id") != rid:
            return "invalid", f"record names run {rec.get('run_id')!r}"
        wrong = [k for k in self.key_columns if k in keys and rec.get(k) != keys[k]]
        if wrong:
            return "invalid", f"record's {', '.join(wrong)} disagree with the plan"
        if rec.get("status") != "ok":
            return "failed", rec
        if rec.get("file") != data_path.name or not data_path.is_file():
            return "invalid", "finished, but its Parquet file is missing"
        if data_path.stat().st_size != rec.get("bytes", data_path.stat().st_size):
            return "invalid", "Parquet file has the wrong size (truncated or changed)"
        if file_sha256(data_path) != rec.get("sha256"):
            return "invalid", "Parquet file's checksum differs from the record's"
        try:
            pf = pq.ParquetFile(data_path)
            rows = pf.metadata.num_rows
            cols = [c for c in self.key_columns if c in pf.schema_arrow.names]
            key_table = pf.read(columns=cols).to_pandas()
        except Exception as exc:  # noqa: BLE001 - any unreadable file is invalid
            return "invalid", f"Parquet file is unreadable ({type(exc).__name__})"
        if rows != rec.get("rows"):
            return "invalid", f"Parquet file has {rows} rows, the record says {rec.get('rows')}"
        if cols != list(self.key_columns):
            return "invalid", "Parquet file lacks the key columns"
        for col in cols:
            if key_table[col].nunique() > 1 or (rows and key_table[col].iloc[0] != rec.get(col)):
                return "invalid", f"Parquet file's {col} disagrees with the record"
        return "ok", rec

    def read_frame(self, run_id: str) -> pd.DataFrame:
        """The Parquet table of a (verified) finished run."""
        return pd.read_parquet(self.runs_dir / f"{run_id}.parquet")


_BAD = object()


def _load_json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return _BAD


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (-1, -1)
    return (st.st_mtime_ns, st.st_size)
