"""An experiment's manifest: which experiment a results folder holds, and refuse-on-change.

The manifest (``manifest.json``) records the resolved configuration and its hash, every
scenario's resolved configuration, the code version and environment, the seeds and the plan.
A folder holding another experiment is refused (:class:`~model.errors.ResultsError`); the one
change allowed is raising ``replicates``: replicate seeds are spawned from the root seed, so
the first seeds stay the same and the finished runs stay valid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from experiments.definition import Experiment
from experiments.plan import Plan
from experiments.provenance import code_version, environment, now
from experiments.store import ResultStore, atomic_write_bytes, json_default
from model.errors import ResultsError


def check_manifest(store: ResultStore, experiment: Experiment) -> dict[str, Any] | None:
    """Check that the folder holds this experiment (or none yet); write nothing.

    Returns:
        The existing manifest (with ``extended_from_replicates`` set when only the number of
        replicates grew), or ``None`` for a folder without one.

    Raises:
        ResultsError: The folder holds another experiment, or an unreadable manifest.
    """
    manifest = store.read_manifest()
    if manifest is None:
        return None
    new_hash = experiment.config_hash()
    if manifest.get("config_hash") == new_hash:
        return manifest
    old_def = manifest.get("definition")
    old_def = old_def if isinstance(old_def, dict) else {}
    new_def = json.loads(json.dumps(experiment.definition(), default=json_default))
    changed = sorted(k for k in set(old_def) | set(new_def) if old_def.get(k) != new_def.get(k))
    old_reps = old_def.get("replicates")
    if changed == ["replicates"] and isinstance(old_reps, int) \
            and new_def["replicates"] > old_reps:
        return {**manifest, "extended_from_replicates": old_reps}
    raise ResultsError(store.root, "", "holds results of a different experiment (config hash "
                       f"{manifest.get('config_hash')} there, {new_hash} now; changed: "
                       f"{', '.join(changed) or 'unknown'}). Refusing to mix results: run "
                       "into another folder with --out, or pass --force to start over (only "
                       "raising 'replicates' may continue a folder)")


def prepare_manifest(store: ResultStore, experiment: Experiment, plan: Plan) -> dict[str, Any]:
    """Write the manifest of a new folder, or update it when replicates were raised.

    The caller holds the folder's lock.

    Returns:
        The manifest as it is now on disk.
    """
    manifest = check_manifest(store, experiment)
    if manifest is not None and "extended_from_replicates" not in manifest:
        return manifest
    fresh = {"config_hash": experiment.config_hash(), "definition": experiment.definition(),
             "config": experiment.resolved_config(), "seeds": experiment.seeds,
             "runs_planned": len(plan), "plan": plan.rows()}
    if manifest is None:
        manifest = {"experiment": experiment.name, "code_version": code_version(),
                    "environment": environment(), "root_seed": experiment.root_seed,
                    "created": now(), **fresh}
    else:
        old = manifest.pop("extended_from_replicates")
        manifest.update(fresh)
        history = manifest.get("history") if isinstance(manifest.get("history"), list) else []
        manifest["history"] = [*history, f"{now()}: replicates raised from {old} to "
                                         f"{experiment.replicates}"]
    store.write_manifest(manifest)
    if experiment.file and Path(experiment.file).is_file():
        atomic_write_bytes(store.root / "experiment.toml", Path(experiment.file).read_bytes())
    return manifest


def planned_rows(manifest: dict[str, Any], file: Path) -> list[list[Any]]:
    """The manifest's plan rows ``[run_id, scenario, point, replicate, seed]``, checked.

    Raises:
        ResultsError: The plan is missing or malformed.
    """
    rows = manifest.get("plan")
    ok = isinstance(rows, list) and all(
        isinstance(r, list) and len(r) == 5 and isinstance(r[0], str) and isinstance(r[1], str)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in r[2:]) for r in rows)
    if not ok:
        raise ResultsError(file, "plan", "missing or malformed (expected a list of "
                           "[run_id, scenario, point, replicate, seed])")
    return rows  # type: ignore[return-value]
