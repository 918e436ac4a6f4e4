"""Running a day's compiled kernels on several threads, with results that do not depend on them.

The day's kernels are numba functions compiled with ``nogil=True``: they release Python's
global interpreter lock, so plain Python threads run them in parallel. Work is cut into
chunks of consecutive items; threads take chunks from a shared counter (a thread slowed by
other load does less) and every chunk writes only its own outputs, so what is computed never
depends on the number of threads or on which thread ran which chunk. Helper threads are
started once per process and wait on a queue (no spinning); a forked child (a process pool's
worker) starts its own.

The number of threads is ``numba.get_num_threads()`` (``NUMBA_NUM_THREADS``), one setting
for the choice kernel and every other parallel phase.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from collections.abc import Callable

import numba
import numpy as np

CHUNKS_PER_THREAD = 4  # chunks per thread: load balance against per-chunk overhead
PARALLEL_MIN_ITEMS = 20_000  # a phase over fewer needs (or residents) runs on one thread


def thread_count() -> int:
    """Threads the day's parallel phases use (``numba.get_num_threads()``)."""
    return max(1, numba.get_num_threads())


def chunk_bounds(n: int, n_chunks: int) -> list[int]:
    """``n_chunks + 1`` increasing bounds cutting ``range(n)`` into near-equal chunks."""
    n_chunks = max(1, min(n_chunks, n)) if n > 0 else 1
    return np.linspace(0, n, n_chunks + 1).astype(np.int64).tolist()


_pool_lock = threading.Lock()
_pool_queue: queue.SimpleQueue = queue.SimpleQueue()
_pool_helpers: list[threading.Thread] = []


def _forget_pool() -> None:
    """In a forked child the parent's helper threads do not exist: start afresh."""
    global _pool_lock, _pool_queue, _pool_helpers
    _pool_lock = threading.Lock()
    _pool_queue = queue.SimpleQueue()
    _pool_helpers = []


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _serve(jobs: queue.SimpleQueue) -> None:
    while True:
        jobs.get()()


def _helper_queue(n: int) -> queue.SimpleQueue:
    """The queue of the process's helper threads, with at least ``n`` helpers serving it."""
    with _pool_lock:
        while len(_pool_helpers) < n:
            t = threading.Thread(target=_serve, args=(_pool_queue,), daemon=True,
                                 name=f"lifecircle-helper-{len(_pool_helpers)}")
            t.start()
            _pool_helpers.append(t)
        return _pool_queue


def run_tasks(n_tasks: int, task: Callable[[int], None], threads: int | None = None) -> None:
    """Run ``task(0)`` ... ``task(n_tasks - 1)`` on ``threads`` threads (the caller's among them).

    The helpers are the process's long-lived helper threads (started on first use, started
    afresh in a forked child); the caller works through the tasks too, so it finishes even
    when every helper is busy with another caller's tasks (several models stepping at once).

    Args:
        n_tasks: number of tasks.
        task: called once per task index; it must release the GIL to gain anything (a
            ``nogil`` kernel or a numpy fill) and must write only its own outputs.
        threads: threads to use (default ``thread_count()``); one thread runs the tasks in
            order on the calling thread.

    Raises:
        The first exception a task raised, once every task has run.
    """
    threads = thread_count() if threads is None else threads
    threads = min(threads, n_tasks)
    if threads <= 1:
        for i in range(n_tasks):
            task(i)
        return
    counter = itertools.count()
    finished = itertools.count(1)
    errors: list[BaseException] = []
    all_done = threading.Event()

    def work() -> None:
        while (i := next(counter)) < n_tasks:
            try:
                task(i)
            except BaseException as exc:  # noqa: BLE001 - re-raised below, in the caller's thread
                errors.append(exc)
            if next(finished) == n_tasks:
                all_done.set()

    jobs = _helper_queue(threads - 1)
    for _ in range(threads - 1):
        jobs.put(work)
    work()
    all_done.wait()
    if errors:
        raise errors[0]
