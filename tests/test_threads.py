"""The day's thread helpers: every task runs once, errors reach the caller, several callers at once
finish, and a forked child (a process pool's worker) gets helpers of its own."""

from __future__ import annotations

import itertools
import multiprocessing
import threading

import numpy as np
import pytest

from model.threads import chunk_bounds, run_tasks


@pytest.mark.parametrize("threads", [1, 2, 4])
@pytest.mark.parametrize("n_tasks", [0, 1, 7, 100])
def test_every_task_runs_exactly_once(threads, n_tasks):
    ran = np.zeros(n_tasks, dtype=np.int64)

    def task(i: int) -> None:
        ran[i] += 1

    run_tasks(n_tasks, task, threads)
    assert (ran == 1).all()


def test_chunk_bounds_cover_every_item_once():
    for n in (0, 1, 5, 1000):
        for n_chunks in (1, 2, 3, 8, 2000):
            b = chunk_bounds(n, n_chunks)
            assert b[0] == 0 and b[-1] == n and all(x <= y for x, y in itertools.pairwise(b))
            assert len(b) - 1 == (max(1, min(n_chunks, n)) if n else 1)


def test_a_task_error_reaches_the_caller_after_the_others_ran():
    ran = []

    def task(i: int) -> None:
        if i == 3:
            raise KeyError("task 3")
        ran.append(i)

    with pytest.raises(KeyError, match="task 3"):
        run_tasks(10, task, 2)
    assert sorted(ran) == [i for i in range(10) if i != 3]


def test_callers_on_several_threads_at_once_all_finish():
    """Several models stepping at once (a classroom on one server) share the helpers; each
    caller also works through its own tasks, so none waits on another's."""
    results = {}

    def caller(name: int) -> None:
        out = np.zeros(50)
        run_tasks(50, lambda i: out.__setitem__(i, name * 100 + i), 2)
        results[name] = out

    callers = [threading.Thread(target=caller, args=(c,)) for c in range(6)]
    for t in callers:
        t.start()
    for t in callers:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in callers)
    for c in range(6):
        assert np.array_equal(results[c], c * 100 + np.arange(50))


def _in_child(conn) -> None:
    import model.threads as threads

    inherited = len(threads._pool_helpers)  # the parent's helpers do not exist here
    out = np.zeros(20)
    run_tasks(20, lambda i: out.__setitem__(i, i), 2)
    alive = [t.is_alive() for t in threads._pool_helpers]
    conn.send((inherited, alive, out.tolist()))


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_starts_helpers_of_its_own():
    """A process pool's forked worker must not queue work for the parent's helpers (they do
    not exist in the child; the queued jobs would never run and would keep their arrays)."""
    import model.threads as threads

    run_tasks(4, lambda i: None, 2)
    assert threads._pool_helpers and all(t.is_alive() for t in threads._pool_helpers)
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_in_child, args=(child,))
    proc.start()
    assert parent.poll(60), "the child did not answer"
    inherited, alive, out = parent.recv()
    proc.join(10)
    assert proc.exitcode == 0
    assert inherited == 0  # forgotten at the fork
    assert alive == [True]  # one helper of its own, running
    assert out == list(range(20))
