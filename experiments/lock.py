"""One writer at a time per results folder: a lock file naming its holder's pid and host.

The lock is an advisory ``flock`` on ``<folder>/.lifecircle.lock``, whose content names the
holder (host, pid, the process's start time, the command, since when). The kernel drops the
``flock`` when the holder dies (even by ``kill -9``), so a lock file left by a dead process is
recognised as stale and taken over; a live holder is named in the refusal. The holder's
identity also lets other code tell whether a temporary file belongs to a live process.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from pathlib import Path
from typing import Any

from model.errors import ResultsError

LOCK_FILE = ".lifecircle.lock"


def process_start(pid: int) -> str:
    """The start time of process ``pid`` (clock ticks since boot; ``""`` if unknown)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


def process_alive(pid: int, start: str = "") -> bool:
    """Whether process ``pid`` of this host is alive (and, given ``start``, the same one)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by someone else
    return not start or process_start(pid) in ("", start)


class FolderLock:
    """The lock of one results folder; a context manager.

    Args:
        folder: The results folder (must exist).
        command: What holds it, for the message another process sees.

    Attributes:
        stale: The content of a dead holder's lock file that was taken over, or ``None``.
    """

    def __init__(self, folder: str | Path, command: str) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self.command = command
        self.stale: dict[str, Any] | None = None
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        """Take the lock, or raise :class:`ResultsError` naming the live holder."""
        for _ in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read(fd)
                os.close(fd)
                raise ResultsError(self.folder, "lock", "in use by another batch "
                                   f"({describe(holder)}); wait for it to finish") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:  # the holder removed the file between our open and our lock
                os.close(fd)
                continue
            previous = _read(fd)
            if previous:
                self.stale = previous
            me = {"host": socket.gethostname(), "pid": os.getpid(),
                  "pid_start": process_start(os.getpid()), "command": self.command}
            from experiments.provenance import now

            me["since"] = now()
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(me).encode(), 0)
            self._fd = fd
            return self
        raise ResultsError(self.folder, "lock", "could not be taken (the lock file keeps "
                           "changing); try again")

    def release(self) -> None:
        """Remove the lock file and drop the lock."""
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(folder: str | Path) -> dict[str, Any] | None:
    """Who holds ``folder``'s lock now (``None`` if nobody alive does)."""
    path = Path(folder) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(fd) or {"pid": "?", "host": "?"}
        return None
    finally:
        os.close(fd)


def describe(info: dict[str, Any] | None) -> str:
    """``"pid 123 on host h, lifecircle experiment, since ..."``."""
    if not info:
        return "holder unknown"
    parts = [f"pid {info.get('pid', '?')} on host {info.get('host', '?')}"]
    if info.get("command"):
        parts.append(str(info["command"]))
    if info.get("since"):
        parts.append(f"since {info['since']}")
    return ", ".join(parts)


def _read(fd: int) -> dict[str, Any] | None:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"null")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
