"""Run tasks on any executor and hand each result over the moment it arrives.

:func:`run_all` is the loop every batch uses (experiments, validation, a policy search):
submit every task to an executor (an :class:`~experiments.executors.ExecutorSpec`, any open
``concurrent.futures.Executor``, or in-process), and call ``on_result(task, result)`` as each
finishes -- typically ``ResultStore.commit``. SIGINT/SIGTERM stop the loop, but never while a
result is being recorded: a signal that arrives then is held until the record is complete,
so a finished run is never thrown away. A worker that dies is reported as a failed result.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, as_completed
from typing import Any

from experiments.execute import failed_result
from experiments.executors import ExecutorSpec, open_executor


class BatchInterruptedError(Exception):
    """A batch was stopped by SIGINT or SIGTERM (finished results are all recorded)."""


def run_all[T](fn: Callable[[T], dict[str, Any]], tasks: Sequence[T],
            executor: ExecutorSpec | Executor | None,
            on_result: Callable[[T, dict[str, Any]], None]) -> None:
    """Run ``fn(task)`` for every task and pass each result to ``on_result`` as it arrives.

    Args:
        fn: A top-level (picklable) function returning a result dict; it should not raise
            (a raising worker is turned into :func:`~experiments.execute.failed_result`).
        tasks: The tasks (picklable).
        executor: An :class:`ExecutorSpec` (opened and closed here; ``workers=0`` runs in
            this process), an open ``Executor`` (left open), or ``None`` for the default
            process pool.
        on_result: Called in this process, in completion order; signals wait until it
            returns.

    Raises:
        BatchInterruptedError: SIGINT or SIGTERM arrived; every result handed over so far is recorded.
    """
    guard = _StopGuard()
    guard.install()

    def deliver(task: T, result: dict[str, Any]) -> None:
        with guard.critical():
            on_result(task, result)

    try:
        if isinstance(executor, Executor):
            _drain(executor, fn, tasks, deliver)
        else:
            spec = executor if isinstance(executor, ExecutorSpec) else ExecutorSpec()
            with open_executor(spec) as ex:
                if ex is None:
                    for t in tasks:
                        deliver(t, fn(t))
                else:
                    _drain(ex, fn, tasks, deliver)
    except KeyboardInterrupt:
        raise BatchInterruptedError("interrupted") from None
    finally:
        guard.restore()


def _drain[T](ex: Executor, fn: Callable[[T], dict[str, Any]], tasks: Sequence[T],
           deliver: Callable[[T, dict[str, Any]], None]) -> None:
    futures: dict[Future[Any], T] = {}
    try:
        for t in tasks:
            futures[ex.submit(fn, t)] = t
        for fut in as_completed(futures):
            task = futures.pop(fut)
            try:
                result = fut.result()
            except (KeyboardInterrupt, BatchInterruptedError):
                raise
            except BaseException as exc:  # noqa: BLE001 - a worker died: record it
                result = failed_result(exc)
            deliver(task, result)
    finally:
        for fut in futures:
            fut.cancel()


class _StopGuard:
    """Turns SIGINT/SIGTERM into :class:`BatchInterruptedError`, never in the middle of a record."""

    def __init__(self) -> None:
        self.pending: int | None = None
        self.depth = 0
        self.previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(sig) is signal.SIG_IGN:
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
        raise BatchInterruptedError(f"signal {signum}")

    @contextlib.contextmanager
    def critical(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        if not self.depth and self.pending is not None:
            raise BatchInterruptedError(f"signal {self.pending}")


class ProgressBar:
    """Runs done / failed / remaining and time left, on stderr (nothing when disabled)."""

    def __init__(self, total: int, initial: int, name: str, enabled: bool) -> None:
        self.total, self.initial = total, initial
        self.ok = self.failed = 0
        self._bar = None
        if enabled:
            from tqdm import tqdm

            tty = sys.stderr.isatty()
            self._bar = tqdm(total=total, initial=initial, desc=name, unit="run",
                             dynamic_ncols=True, smoothing=0.1, file=sys.stderr,
                             mininterval=0.5 if tty else 15.0)
            self._bar.set_postfix(done=initial, failed=0, remaining=total - initial)

    def update(self, ok: bool) -> None:
        """Count one finished (``ok``) or failed run."""
        if ok:
            self.ok += 1
        else:
            self.failed += 1
        if self._bar is None:
            return
        self._bar.set_postfix(done=self.initial + self.ok, failed=self.failed,
                              remaining=self.total - self.initial - self.ok - self.failed,
                              refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        """Close the bar."""
        if self._bar is not None:
            self._bar.close()
