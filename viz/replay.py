"""Open a run of a finished experiment in the page, exactly as the batch ran it.

An experiment's results folder (``experiments.store.ResultStore``) keeps, in its manifest,
every scenario's resolved configuration (settings applied) and its plan, and per finished run
a record with the run's seed, its overrides (settings plus the design point's factor values)
and the fingerprint of the configuration it ran (``scenario_hash``). Only runs the store
verifies (record, Parquet size, checksum and rows; ``ResultStore.scan``) are offered.
:func:`replay_settings` rebuilds that configuration from the manifest, applies the run's
overrides, and refuses to go on unless its fingerprint is the recorded one; the page then
builds the model with the run's seed.
After replaying to the run's last day, :func:`compare_with_record` holds the page's daily
series against the run's recorded Parquet file, metric by metric.

The folders offered are those under :data:`RESULTS_ROOT` (``LIFECIRCLE_VIZ_RESULTS``, else
``results/`` of the server's working directory) that hold a manifest: a page can open nothing
else on the server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.definition import scenario_fingerprint
from experiments.manifest import planned_rows
from experiments.outputs import read_marker
from experiments.runner import WRITER as EXPERIMENT_WRITER
from experiments.store import KEY_COLUMNS, MANIFEST, ResultStore
from model import METRIC_NAMES, Scenario
from model.errors import ResultsError, ScenarioError
from model.scenario import build_scenario

from .levers import Settings

RESULTS_ROOT = Path(os.environ.get("LIFECIRCLE_VIZ_RESULTS") or Path.cwd() / "results")


@dataclass(frozen=True)
class RunRef:
    """A finished run of an experiment, as the page lists it."""

    run_id: str
    scenario: str
    point: int
    replicate: int
    seed: int

    @property
    def label(self) -> str:
        """What the picker shows."""
        point = "reference" if self.point < 0 else f"point {self.point}"
        return f"{self.scenario} · {point} · replicate {self.replicate} (seed {self.seed})"


def experiment_folders(root: Path | None = None) -> list[str]:
    """Experiment folders under ``root`` (names relative to it).

    Those with a manifest that ``lifecircle experiment`` wrote (its marker says so): a policy
    search's folder has a manifest too, but no plan of runs to replay.
    """
    root = RESULTS_ROOT if root is None else root
    if not root.is_dir():
        return []
    found = [p.parent for p in root.glob(f"*/{MANIFEST}")
             if (read_marker(p.parent) or {}).get("writer") == EXPERIMENT_WRITER]
    return sorted(str(p.relative_to(root)) for p in found)


def _folder(name: str, root: Path | None) -> Path:
    root = (RESULTS_ROOT if root is None else root).resolve()
    folder = (root / name).resolve()
    if folder.parent != root or not (folder / MANIFEST).is_file():
        raise ResultsError(folder, MANIFEST, f"not an experiment folder under {root}")
    return folder


def _verified(folder: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The folder's manifest and its verified finished runs (run id -> record)."""
    store = ResultStore(folder)
    manifest = store.read_manifest()
    if manifest is None:
        raise ResultsError(folder, MANIFEST, "missing")
    rows = planned_rows(manifest, folder / MANIFEST)
    scan = store.scan({r[0]: dict(zip(KEY_COLUMNS, r[1:], strict=True)) for r in rows})
    return manifest, scan.done


def finished_runs(name: str, root: Path | None = None) -> list[RunRef]:
    """The verified finished runs of experiment folder ``name``, in a stable order."""
    _manifest, done = _verified(_folder(name, root))
    runs = [RunRef(rid, str(r["scenario"]), int(r["point"]), int(r["replicate"]), int(r["seed"]))
            for rid, r in done.items()]
    return sorted(runs, key=lambda r: (r.scenario, r.point, r.replicate))


@dataclass(frozen=True)
class Replay:
    """What the page needs to rebuild and check a run.

    Attributes:
        settings: scenario (the run's configuration) and seed for the page.
        origin: the run in words, for the page's text.
        folder: the experiment folder; run_id: the run.
        days: days the batch simulated.
    """

    settings: Settings
    origin: str
    folder: Path
    run_id: str
    days: int


def replay_settings(name: str, run_id: str, root: Path | None = None) -> Replay:
    """Rebuild the configuration of run ``run_id`` of experiment folder ``name``.

    Raises:
        ResultsError: the folder or run is unknown, or the configuration the current code
            rebuilds is not the one the run recorded (its fingerprint differs).
    """
    folder = _folder(name, root)
    manifest, done = _verified(folder)
    record = done.get(run_id)
    if record is None:
        raise ResultsError(folder, run_id, "no finished (and verified) run with this id")
    configs = manifest["config"]["scenario_configs"]
    label = str(record["scenario"])
    try:
        base = build_scenario(configs[label], f"{folder / MANIFEST} ({label})", name=label)
        scenario: Scenario = base.with_overrides(dict(record.get("overrides") or {}))
    except (KeyError, ScenarioError) as err:
        raise ResultsError(folder, run_id, f"its configuration cannot be rebuilt: {err}") \
            from err
    recorded = record.get("scenario_hash", "")
    rebuilt = scenario_fingerprint(scenario)
    if recorded and rebuilt != recorded:
        raise ResultsError(folder, run_id, f"the current code rebuilds its configuration "
                           f"differently (fingerprint {rebuilt}, recorded {recorded})")
    days = int(manifest["definition"]["days"])
    settings = Settings(scenario=label, seed=int(record["seed"]), scenario_obj=scenario)
    origin = f"run {run_id} of experiment {manifest.get('experiment', name)}"
    return Replay(settings=settings, origin=origin, folder=folder, run_id=run_id, days=days)


def recorded_daily(replay: Replay) -> pd.DataFrame:
    """The run's daily series as the batch recorded it (days 1..days), verified again."""
    _manifest, done = _verified(replay.folder)
    if replay.run_id not in done:
        raise ResultsError(replay.folder, replay.run_id, "its recorded files no longer verify")
    return ResultStore(replay.folder).read_frame(replay.run_id)


def compare_with_record(frame: pd.DataFrame, replay: Replay) -> list[str]:
    """Metrics whose replayed daily values differ from the recorded ones (empty: identical).

    Args:
        frame: the page's daily series from day 0 (``viz.run.metrics_frame``).
        replay: the run replayed.
    """
    recorded = recorded_daily(replay).sort_values("day").reset_index(drop=True)
    mine = frame[frame["day"] >= 1].reset_index(drop=True)
    if len(mine) != len(recorded) or not np.array_equal(mine["day"], recorded["day"]):
        return [f"days: replayed {len(mine)}, recorded {len(recorded)}"]
    out = []
    for name in METRIC_NAMES:
        if name not in recorded:
            out.append(f"{name} (not recorded)")
            continue
        a, b = mine[name].to_numpy(dtype=float), recorded[name].to_numpy(dtype=float)
        if not np.array_equal(a, b, equal_nan=True):
            out.append(name)
    return out

