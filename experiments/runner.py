"""Run an experiment batch: every (scenario, point, replicate) once, resumably.

The batch flows one way::

    experiment (validated) -> plan (computed once) -> claim the folder, lock it,
    prepare the manifest -> scan what is there (verified) -> executor -> store.commit per
    run, as it finishes -> assemble the tables

Nothing is written for an invalid experiment, a folder that is not lifecircle's, a folder
holding another experiment or one that another batch is writing. Finished runs are skipped;
invalid ones (a tampered or truncated file) are reported and run again; a run that raises is
recorded as failed with its traceback and the others go on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.budget import check_budget, estimate_batch
from experiments.definition import Experiment, scenario_fingerprint
from experiments.dispatch import BatchInterruptedError, ProgressBar, run_all
from experiments.execute import RunTask, execute_run
from experiments.executors import ExecutorSpec
from experiments.lock import LOCK_FILE, FolderLock
from experiments.manifest import check_manifest, prepare_manifest
from experiments.outputs import check_output_dir, claim_output_dir
from experiments.plan import Plan, RunSpec, make_plan
from experiments.provenance import code_version
from experiments.store import ResultStore, ScanReport
from experiments.tables import assemble
from model.errors import OutputError

WRITER = "lifecircle experiment"
RESULT_PATTERNS = ("manifest.json", "experiment.toml", "*.parquet", ".lifecircle.lock",
                   ".*.tmp", "runs", "runs/*.json", "runs/*.parquet", "runs/.*.tmp",
                   "report.md", "report.html", "fig_*.png")
"""Files a results folder may hold (anything else is foreign: never deleted, ignored)."""


@dataclass
class BatchOutcome:
    """What a batch did.

    Attributes:
        planned: Runs in the experiment.
        skipped: Runs already finished before this call (not redone).
        executed: Run ids executed in this call, in completion order.
        failed: Run id -> last line of its error, for runs that failed in this call.
        interrupted: Whether the batch was stopped by a signal.
        out_dir: The results folder.
        problems: Invalid or foreign files found in the folder (reported, not used).
    """

    planned: int
    skipped: int
    executed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    out_dir: Path = Path()
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every run finished successfully."""
        return not self.failed and not self.interrupted


def check_batch(experiment: Experiment, out_dir: str | Path, *, force: bool = False,
                executor: ExecutorSpec | Executor | None = None) -> tuple[Plan, ScanReport]:
    """Plan the experiment and check its budget and results folder, writing nothing.

    Returns:
        The plan and what the folder already holds.

    Raises:
        ExperimentError, OutputError, ResultsError: The plan, its memory or time estimate,
            the folder or its manifest is refused.
    """
    plan = make_plan(experiment)
    check_budget(experiment, plan, executor if isinstance(executor, ExecutorSpec) else None)
    out = Path(out_dir)
    existing = check_output_dir(out, force=force, writer=WRITER, patterns=RESULT_PATTERNS,
                                reuse=True)
    store = ResultStore(out)
    if not existing or force:
        return plan, ScanReport()
    check_manifest(store, experiment)
    return plan, store.scan(plan.keys())


def estimate_text(experiment: Experiment, plan: Plan, executor: ExecutorSpec) -> str:
    """The batch's memory and time estimate, in one line."""
    return estimate_batch(experiment, plan, executor).describe()


def expected_hashes(runs: list[RunSpec]) -> dict[str, str]:
    """Run id -> the scenario fingerprint this process resolves its scenario to."""
    from model import load_scenario

    cache: dict[str, str] = {}
    out: dict[str, str] = {}
    for r in runs:
        key = json.dumps([r.source, r.overrides], sort_keys=True, default=str)
        if key not in cache:
            cache[key] = scenario_fingerprint(load_scenario(r.source, dict(r.overrides)))
        out[r.run_id] = cache[key]
    return out


def run_batch(experiment: Experiment, out_dir: str | Path,
              executor: ExecutorSpec | Executor | None = None, *, force: bool = False,
              progress: bool = True, log: Callable[[str], None] = print) -> BatchOutcome:
    """Run (or resume) an experiment into ``out_dir``.

    Args:
        experiment: A validated experiment.
        out_dir: Results folder (created; an existing one must be lifecircle's and hold the
            same experiment, unless ``force`` starts it over).
        executor: An :class:`ExecutorSpec` (opened and closed here), an already open
            ``concurrent.futures.Executor`` (left open), or ``None`` for the default
            process pool.
        force: Replace the folder's contents (only a lifecircle folder with nothing foreign).
        progress: Show a progress bar (runs done / failed / remaining, time left).
        log: Where messages go.

    Returns:
        What was done. Failed runs are recorded, not raised.

    Raises:
        ExperimentError, OutputError, ResultsError: Refused before anything runs.
    """
    plan, _ = check_batch(experiment, out_dir, force=force, executor=executor)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    store = ResultStore(out)
    with FolderLock(out, f"{WRITER} {experiment.name}") as lock:
        # claimed under the lock: --force never empties a folder another batch is writing
        claim_output_dir(out, force, WRITER, RESULT_PATTERNS, reuse=True, keep=(LOCK_FILE,))
        if lock.stale:
            log(f"note: took over the lock of a batch that is gone (pid "
                f"{lock.stale.get('pid')} on {lock.stale.get('host')})")
        for name in store.clean_temporary():
            log(f"note: removed {name}, left by a batch that is gone")
        manifest = prepare_manifest(store, experiment, plan)
        version = code_version()
        if manifest.get("code_version") != version:
            log(f"note: {out} was started with code {manifest.get('code_version')!r}; now "
                f"{version!r}. Each run records the code version it ran with.")
        scan = store.scan(plan.keys())
        todo = [r for r in plan if r.run_id not in scan.done]
        outcome = BatchOutcome(planned=len(plan), skipped=len(plan) - len(todo), out_dir=out,
                               problems=scan.problems())
        for line in outcome.problems:
            log(f"warning: {out}/{line}")
        if outcome.skipped:
            log(f"resuming {experiment.name}: {outcome.skipped} of {len(plan)} runs already "
                f"finished, {len(todo)} to do")
        failure: OSError | None = None
        try:
            if todo:
                _run(experiment, store, todo, executor, outcome, progress, version)
        except BatchInterruptedError:
            outcome.interrupted = True
            log(f"\ninterrupted: {len(outcome.executed)} runs recorded in this session; "
                "run the same command again to resume")
        except OSError as exc:  # a full disk, a folder gone: what was committed is kept
            failure = exc
        finally:
            try:
                assemble(store, manifest)
            except OSError as exc:
                failure = failure or exc
        if failure is not None:
            raise OutputError(out, "", f"could not write {failure.filename or 'a file'}: "
                              f"{failure.strerror or failure}; the {len(outcome.executed)} runs "
                              "recorded before are kept: fix that and run the same command "
                              "again to resume") from None
    return outcome


def _run(experiment: Experiment, store: ResultStore, todo: list[RunSpec],
         executor: ExecutorSpec | Executor | None, outcome: BatchOutcome, progress: bool,
         version: str) -> None:
    hashes = expected_hashes(todo)
    tasks = [RunTask(r, experiment.days, hashes[r.run_id]) for r in todo]
    bar = ProgressBar(outcome.planned, outcome.skipped, experiment.name, progress)

    def record(task: RunTask, result: dict[str, Any]) -> None:
        spec = task.spec
        rec = {"run_id": spec.run_id, **spec.keys(), "status": result["status"],
               "error": result["error"], "runtime": result["runtime"],
               "started_at": result["started_at"], "finished_at": result["finished_at"],
               "worker": result["worker"], "code_version": version,
               "scenario_hash": result.get("scenario_hash", ""), "overrides": spec.overrides}
        store.commit(rec, result["daily"])
        outcome.executed.append(spec.run_id)
        if result["status"] != "ok":
            lines = [ln for ln in result["error"].strip().splitlines() if ln.strip()]
            outcome.failed[spec.run_id] = lines[-1] if lines else "failed"
        bar.update(result["status"] == "ok")

    try:
        run_all(execute_run, tasks, executor, record)
    finally:
        bar.close()


def failures(out_dir: str | Path) -> list[tuple[str, str]]:
    """(run id, error text) of every failed run in the folder's runs table."""
    import pandas as pd

    path = Path(out_dir) / "runs.parquet"
    if not path.is_file():
        return []
    runs = pd.read_parquet(path)
    bad = runs[runs["status"] == "failed"]
    return sorted(zip(bad["run_id"], bad["error"], strict=True))
