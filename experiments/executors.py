"""Executors for experiment batches, all as :class:`concurrent.futures.Executor`.

- a local process pool (default; ``workers`` processes);
- a Dask ``LocalCluster`` started for the batch (``local_cluster=True``);
- an existing Dask scheduler (``scheduler="tcp://host:8786"``), e.g. workers started by hand
  (``dask scheduler`` / ``dask worker tcp://host:8786``) or submitted by dask-jobqueue on
  SLURM/PBS.

Runs are pure functions of (scenario, overrides, seed), so the results do not depend on the
executor. Workers must be able to import ``model`` and ``experiments`` and read the scenario
files (a shared installation); each run checks the scenario's config hash against the one the
batch validated.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.context
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass


@dataclass(frozen=True)
class ExecutorSpec:
    """Which executor to use.

    Attributes:
        workers: Worker processes (process pool or LocalCluster); ``0`` runs in-process
            (no executor, for debugging).
        scheduler: Address of a running Dask scheduler.
        local_cluster: Start a Dask ``LocalCluster`` for the batch.
        processes: For the LocalCluster: worker processes (``True``) or threads.

    """

    workers: int | None = None
    scheduler: str | None = None
    local_cluster: bool = False
    processes: bool = True

    def describe(self) -> str:
        """Return a one-line description for logs and the manifest."""
        if self.scheduler:
            return f"Dask scheduler at {self.scheduler}"
        if self.local_cluster:
            kind = "processes" if self.processes else "threads"
            return f"Dask LocalCluster ({self.n_workers} worker {kind})"
        if self.workers == 0:
            return "in-process (serial)"
        return f"process pool ({self.n_workers} workers)"

    @property
    def n_workers(self) -> int:
        """Number of local workers (defaults to the number of CPUs)."""
        return self.workers if self.workers else (os.cpu_count() or 1)


@contextlib.contextmanager
def open_executor(spec: ExecutorSpec) -> Iterator[Executor | None]:
    """Open the executor described by ``spec`` and shut it down afterwards.

    Args:
        spec: The executor choice.

    Yields:
        An executor, or ``None`` for in-process runs (``workers=0``).

    """
    if spec.scheduler or spec.local_cluster:
        with _dask_executor(spec) as ex:
            yield ex
        return
    if spec.workers == 0:
        yield None
        return
    ex = ProcessPoolExecutor(max_workers=spec.n_workers, mp_context=_mp_context())
    try:
        yield ex
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


def _mp_context() -> multiprocessing.context.BaseContext:
    """Forkserver (with the model preloaded) where available: safe with threads, fast start."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["model", "experiments.execute"])
        return ctx
    return multiprocessing.get_context("spawn")


@contextlib.contextmanager
def _dask_executor(spec: ExecutorSpec) -> Iterator[Executor]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise RuntimeError("Dask distributed is not installed: pip install 'dask[distributed]'"
                           ) from exc
    cluster = None
    if spec.scheduler:
        client = Client(spec.scheduler)
    else:
        cluster = LocalCluster(n_workers=spec.n_workers, threads_per_worker=1,
                               processes=spec.processes, dashboard_address=None)
        client = Client(cluster)
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
