"""Run an experiment batch: every (scenario, point, replicate) once, resumably.

The batch validates first (nothing is written for an invalid experiment), checks the results
folder (a different experiment there is refused), skips runs already recorded as finished,
submits the rest to an executor and records each run the moment it finishes. A run that
raises is recorded as failed with its traceback and the others go on. At the end (or on
interruption) the tables are assembled from the per-run files.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.definition import Experiment, RunSpec, scenario_fingerprint
from experiments.executors import ExecutorSpec, open_executor
from experiments.storage import ResultStore, code_version


@dataclass(frozen=True)
class RunTask:
    """What a worker needs for one run (picklable).

    Attributes:
        spec: The planned run.
        days: Days to simulate.
        expected_hash: Config hash the batch validated for this scenario and overrides
            (``""`` to skip the check).

    """

    spec: RunSpec
    days: int
    expected_hash: str = ""


def execute_run(task: RunTask) -> dict[str, Any]:
    """Run one simulation and never raise (top-level, so any executor can pickle it).

    Args:
        task: The run.

    Returns:
        Keys ``status`` (``"ok"`` or ``"failed"``), ``error`` (traceback text or ``""``),
        ``runtime`` (seconds), ``started_at``, ``finished_at``, ``worker``, ``daily``
        (DataFrame or ``None``) and ``scenario_hash``.

    """
    started = _now()
    t0 = time.perf_counter()
    out: dict[str, Any] = {"status": "ok", "error": "", "daily": None, "scenario_hash": "",
                           "worker": f"{socket.gethostname()}:{os.getpid()}"}
    try:
        from model import load_scenario, simulate

        spec = task.spec
        scenario = load_scenario(spec.source, dict(spec.overrides))
        out["scenario_hash"] = scenario_fingerprint(scenario)
        if task.expected_hash and out["scenario_hash"] != task.expected_hash:
            raise RuntimeError(
                f"scenario {spec.scenario!r} resolves to config hash {out['scenario_hash']} "
                f"on this worker but {task.expected_hash} where the batch was validated: "
                "workers must use the same scenario files and code")
        daily = simulate(scenario, spec.seed, task.days)
        out["daily"] = pd.DataFrame(daily).reset_index(drop=True)
    except Exception:  # noqa: BLE001 - recorded, the batch goes on
        out["status"] = "failed"
        out["error"] = traceback.format_exc()
    out["runtime"] = time.perf_counter() - t0
    out["started_at"] = started
    out["finished_at"] = _now()
    return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


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

    """

    planned: int
    skipped: int
    executed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False
    out_dir: Path = Path()

    @property
    def ok(self) -> bool:
        """Whether every run finished successfully."""
        return not self.failed and not self.interrupted


def plan(experiment: Experiment, out_dir: str | Path) -> tuple[list[RunSpec], set[str]]:
    """Return all planned runs and the ids of those already finished in ``out_dir``.

    Raises:
        ResultsMismatchError: When ``out_dir`` holds another experiment.

    """
    store = ResultStore(out_dir)
    store.check(experiment)
    runs = experiment.runs()
    done = store.done_ids() & {r.run_id for r in runs}
    return runs, done


class _InterruptedError(Exception):
    pass


def _expected_hashes(runs: list[RunSpec]) -> dict[str, str]:
    from model import load_scenario

    cache: dict[str, str] = {}
    out: dict[str, str] = {}
    for r in runs:
        key = json.dumps([r.source, r.overrides], sort_keys=True, default=str)
        if key not in cache:
            cache[key] = scenario_fingerprint(load_scenario(r.source, dict(r.overrides)))
        out[r.run_id] = cache[key]
    return out


def run_batch(
    experiment: Experiment,
    out_dir: str | Path,
    executor: ExecutorSpec | Executor | None = None,
    *,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> BatchOutcome:
    """Run (or resume) an experiment into ``out_dir``.

    Args:
        experiment: A validated experiment.
        out_dir: Results folder (created; an existing one must hold the same experiment).
        executor: An :class:`ExecutorSpec` (opened and closed here), an already open
            ``concurrent.futures.Executor`` (left open), or ``None`` for the default
            process pool.
        progress: Show a progress bar (runs done / failed / remaining, time left).
        log: Where messages go.

    Returns:
        What was done. Failed runs are recorded, not raised.

    Raises:
        ResultsMismatchError: When ``out_dir`` holds another experiment.

    """
    store = ResultStore(out_dir)
    version = code_version()
    manifest = store.prepare(experiment, version)
    if manifest.get("code_version") != version:
        log(f"note: {store.root} was started with code {manifest.get('code_version')!r}; "
            f"now {version!r}. Each run records the code version it ran with.")
    runs = experiment.runs()
    done = store.done_ids()
    todo = [r for r in runs if r.run_id not in done]
    outcome = BatchOutcome(planned=len(runs), skipped=len(runs) - len(todo),
                           out_dir=store.root)
    if outcome.skipped:
        log(f"resuming {experiment.name}: {outcome.skipped} of {len(runs)} runs already "
            f"finished, {len(todo)} to do")
    if not todo:
        store.assemble(experiment)
        return outcome
    hashes = _expected_hashes(todo)
    tasks = [RunTask(r, experiment.days, hashes[r.run_id]) for r in todo]

    bar = _progress_bar(len(runs), outcome.skipped, experiment.name, progress)

    def record(task: RunTask, result: dict[str, Any]) -> None:
        spec = task.spec
        rec = {
            "run_id": spec.run_id, "scenario": spec.scenario, "point": spec.point,
            "replicate": spec.replicate, "seed": spec.seed, "status": result["status"],
            "error": result["error"], "runtime": result["runtime"],
            "started_at": result["started_at"], "finished_at": result["finished_at"],
            "worker": result["worker"], "code_version": version,
            "scenario_hash": result.get("scenario_hash", ""),
            "overrides": spec.overrides,
        }
        with guard.critical():
            store.write_run(rec, result["daily"])
            outcome.executed.append(spec.run_id)
        if result["status"] != "ok":
            lines = [ln for ln in result["error"].strip().splitlines() if ln.strip()]
            outcome.failed[spec.run_id] = lines[-1] if lines else "failed"
        bar.update(len(outcome.executed) - len(outcome.failed), len(outcome.failed))

    guard = _StopGuard()
    guard.install()
    try:
        if isinstance(executor, Executor):
            _drain(executor, tasks, record)
        else:
            spec = executor if isinstance(executor, ExecutorSpec) else ExecutorSpec()
            with open_executor(spec) as ex:
                if ex is None:
                    for t in tasks:
                        record(t, execute_run(t))
                else:
                    _drain(ex, tasks, record)
    except (KeyboardInterrupt, _InterruptedError):
        outcome.interrupted = True
        log(f"\ninterrupted: {len(outcome.executed)} runs recorded in this session; "
            "run the same command again to resume")
    finally:
        guard.restore()
        bar.close()
        store.assemble(experiment)
    return outcome


def _drain(ex: Executor, tasks: list[RunTask],
           record: Callable[[RunTask, dict[str, Any]], None]) -> None:
    futures: dict[Future[Any], RunTask] = {}
    try:
        for t in tasks:
            futures[ex.submit(execute_run, t)] = t
        for fut in as_completed(futures):
            task = futures.pop(fut)
            try:
                result = fut.result()
            except BaseException as exc:  # noqa: BLE001 - a worker died: record it
                if isinstance(exc, KeyboardInterrupt):
                    raise
                result = {
                    "status": "failed", "runtime": float("nan"), "daily": None,
                    "error": "".join(traceback.format_exception(exc)),
                    "started_at": "", "finished_at": _now(), "worker": "",
                }
            record(task, result)
    finally:
        for fut in futures:
            fut.cancel()


class _StopGuard:
    """Turns SIGINT/SIGTERM into an interruption, but never in the middle of recording a run.

    A signal arriving while a run is being written is held until the write is complete, so
    a finished run is never thrown away by a Ctrl-C.
    """

    def __init__(self) -> None:
        self.pending: int | None = None
        self.depth = 0
        self.previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            current = signal.getsignal(sig)
            if current is signal.SIG_IGN:
                continue  # e.g. a background job: respect it
            self.previous[sig] = signal.signal(sig, self._handler)

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        self.previous.clear()

    def _handler(self, signum: int, frame: Any) -> None:
        if self.depth:
            self.pending = signum
            return
        raise _InterruptedError(f"signal {signum}")

    @contextlib.contextmanager
    def critical(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        if not self.depth and self.pending is not None:
            raise _InterruptedError(f"signal {self.pending}")


class _Bar:
    """Progress bar showing runs done / failed / remaining and time left."""

    def __init__(self, total: int, initial: int, name: str, enabled: bool) -> None:
        self.total, self.initial = total, initial
        self._bar = None
        if enabled:
            import sys

            from tqdm import tqdm

            tty = sys.stderr.isatty()
            self._bar = tqdm(total=total, initial=initial, desc=name, unit="run",
                             dynamic_ncols=True, smoothing=0.1, file=sys.stderr,
                             mininterval=0.5 if tty else 15.0)
            self._bar.set_postfix(done=initial, failed=0, remaining=total - initial)

    def update(self, ok: int, failed: int) -> None:
        if self._bar is None:
            return
        self._bar.set_postfix(done=self.initial + ok, failed=failed,
                              remaining=self.total - self.initial - ok - failed, refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _progress_bar(total: int, initial: int, name: str, enabled: bool) -> _Bar:
    return _Bar(total, initial, name, enabled)


def iter_failures(out_dir: str | Path) -> Iterator[tuple[str, str]]:
    """Yield (run id, error text) for every failed run recorded in ``out_dir``."""
    for rid, rec in sorted(ResultStore(out_dir).records().items()):
        if rec.get("status") != "ok":
            yield rid, rec.get("error", "")
