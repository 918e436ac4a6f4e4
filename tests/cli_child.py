"""Run ``lifecircle.cli.main`` in child processes with a hard time limit (the property tests).

A :class:`CliServer` is one helper process, started once (``spawn``): it imports the command
line, the model and the batch machinery and runs one day of a tiny city, so the compiled kernels
are loaded. For each command it forks a fresh child (a fork of a warm, single-threaded process,
not an interpreter start) that runs ``main(argv)`` with the environment and working folder it is
given, and sends back the exit code and what it printed on stderr. A child still running at the
limit is killed and the call raises :class:`HangError`: a hang fails the example instead of stalling
the suite, even inside compiled code that a signal would not interrupt.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import traceback
from multiprocessing.connection import Connection
from typing import Any

Result = tuple[Any, str]
"""(exit code, or ``"traceback"`` / ``"died ..."``; stderr)."""


class HangError(AssertionError):
    """A command that did not finish within its time limit."""


def _child(argv: list[str], env: dict[str, str], cwd: str, conn: Connection) -> None:
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            from lifecircle.cli import main

            code: Any = main(argv)
        except SystemExit as stop:  # argparse's errors
            code = stop.code
        except BaseException:  # noqa: BLE001 - reported to the test, which fails on it
            traceback.print_exc(file=err)
            code = "traceback"
    conn.send((code, err.getvalue()))
    conn.close()


def _one(fork: Any, argv: list[str], env: dict[str, str], cwd: str,
         limit: float) -> tuple[str, Any]:
    here, there = fork.Pipe(duplex=False)
    proc = fork.Process(target=_child, args=(argv, env, cwd, there))
    proc.start()
    there.close()
    try:
        if not here.poll(limit):
            proc.kill()
            return "hang", f"lifecircle {' '.join(argv)} ran for more than {limit:.0f} s"
        try:
            return "done", here.recv()
        except EOFError:  # the child died before it could answer
            proc.join(limit)
            return "done", (f"died with exit code {proc.exitcode}", "")
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
        here.close()


def _serve(conn: Connection) -> None:
    import tests.cli_warmup  # noqa: F401 - imports and loads the compiled kernels

    fork = multiprocessing.get_context("fork")
    while True:
        try:
            request = conn.recv()
        except EOFError:  # the test process is gone
            return
        if request is None:
            return
        conn.send(_one(fork, *request))


class CliServer:
    """The helper process; :meth:`run` one command at a time, :meth:`close` at the end."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, theirs = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(theirs,))  # not a daemon: it forks
        self._proc.start()
        theirs.close()

    def run(self, argv: list[str], *, env: dict[str, str], cwd: str | os.PathLike,
            limit: float) -> Result:
        """``main(argv)`` in a fresh child; returns (exit code, stderr).

        Raises:
            HangError: the child was still running after ``limit`` seconds (it was killed).
        """
        self._conn.send((list(argv), dict(env), str(cwd), float(limit)))
        # the helper answers within the limit (plus its start-up, the first time)
        if not self._conn.poll(limit + 120):
            raise HangError(f"the helper process did not answer: lifecircle {' '.join(argv)}")
        kind, payload = self._conn.recv()
        if kind == "hang":
            raise HangError(payload)
        return payload

    def close(self) -> None:
        """Stop the helper process."""
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        self._conn.close()
