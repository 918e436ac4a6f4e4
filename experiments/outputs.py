"""Output folders: lifecircle deletes or replaces only what it wrote, and writes only inside.

Every folder lifecircle writes (a run, an experiment's results, a comparison, an optimisation)
carries a marker file, :data:`MARKER`, saying which command wrote it and when. Before writing,
a command *checks* its output folder (:func:`check_output_dir`, no side effects) and then
*claims* it (:func:`claim_output_dir`):

* a folder that does not exist, or an empty one, is claimed;
* a folder with the marker may be reused (an experiment resumes) or, with ``force``, replaced
  -- but only when everything in it matches the writer's own file patterns (nothing foreign);
* anything else is refused with an :class:`~model.errors.OutputError` naming the folder: a
  folder without the marker, a regular file, a symbolic link, a folder that cannot be written,
  and -- always -- the working folder, any of its ancestors, the home folder and a filesystem
  root (or mount point).

Names that come from labels (scenario names, metric names) become file names only through
:func:`safe_name`, and :func:`inside` refuses any path that would leave its folder.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
import socket
from collections.abc import Iterable
from pathlib import Path

from model.errors import OutputError

MARKER = ".lifecircle-output"
"""File name of the marker lifecircle writes into every output folder."""

PARTIAL = ".partial-"
"""Infix of the hidden folders a command writes into before moving them into place."""


def safe_name(label: str, max_len: int = 60) -> str:
    """A file-name-safe, readable rendering of ``label`` (letters, digits, ``_ - .``).

    Characters outside that set become ``_``; leading dots are dropped (no hidden or ``..``
    names); the result is cut to ``max_len`` and never empty. Distinct labels may give the
    same safe name: where names must be unique, add :func:`label_hash`.
    """
    text = "".join(c if (c.isascii() and c.isalnum()) or c in "_-." else "_" for c in label)
    text = text.lstrip(".")[:max_len].rstrip(".")
    return text or "_"


def label_hash(*parts: object, length: int = 8) -> str:
    """A short hex hash of the exact labels (distinct labels give distinct hashes)."""
    blob = json.dumps([str(p) for p in parts], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:length]


def inside(folder: Path, name: str) -> Path:
    """``folder / name``, refused unless it stays inside ``folder`` (no ``..``, no absolute)."""
    target = (folder / name).resolve()
    root = folder.resolve()
    if target != root and root not in target.parents:
        raise OutputError(folder, name, "would be written outside the output folder")
    return folder / name


def protected_reason(path: Path) -> str:
    """Why ``path`` may never be an output folder to replace, or ``""``."""
    resolved = path.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd:
        return "is the working folder"
    if resolved in cwd.parents:
        return "is an ancestor of the working folder"
    if resolved == Path.home().resolve():
        return "is the home folder"
    if resolved == Path(resolved.anchor) or os.path.ismount(resolved):
        return "is a filesystem root or mount point"
    return ""


def read_marker(folder: Path) -> dict | None:
    """The marker of ``folder`` (``None`` when absent or not a lifecircle marker)."""
    path = folder / MARKER
    if path.is_symlink() or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("writer"), str) else None


def write_marker(folder: Path, writer: str) -> None:
    """Write the marker into ``folder`` (which lifecircle has just created or claimed)."""
    from experiments.provenance import code_version, now

    text = json.dumps({"writer": writer, "created": now(), "code_version": code_version(),
                       "host": socket.gethostname(), "pid": os.getpid()}, indent=1)
    tmp = folder / f"{MARKER}.{os.getpid()}.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, folder / MARKER)


def foreign_entries(folder: Path, patterns: Iterable[str]) -> list[str]:
    """Relative paths in ``folder`` that match none of ``patterns`` (symbolic links always).

    Patterns are ``fnmatch`` patterns over relative POSIX paths (``"runs/*.json"``); a folder
    matching a pattern is walked into. The marker is always allowed.
    """
    allowed = (MARKER, *patterns)
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        base = Path(dirpath)
        for name in sorted(dirnames + filenames):
            rel = (base / name).relative_to(folder).as_posix()
            full = base / name
            if full.is_symlink() or not any(fnmatch.fnmatchcase(rel, p) for p in allowed):
                out.append(rel)
                if name in dirnames:
                    dirnames.remove(name)
    return out


def check_output_dir(path: str | Path, *, force: bool, writer: str,
                     patterns: Iterable[str] = (), reuse: bool = False,
                     ignore: Iterable[str] = ()) -> bool:
    """Check that ``path`` may be written by ``writer``; write nothing.

    Args:
        path: The output folder.
        force: Replace a folder lifecircle wrote.
        writer: The command (``"lifecircle run"``), recorded in the marker.
        patterns: The files ``writer`` puts in the folder (see :func:`foreign_entries`).
        reuse: A folder with the marker may be reused without ``force`` (a resume).
        ignore: Names that do not make a folder non-empty (the caller's lock file).

    Returns:
        Whether the folder exists with contents to be replaced (``force``) or reused.

    Raises:
        OutputError: naming the folder and why it is refused.
    """
    path = Path(path)
    if path.is_symlink():
        raise OutputError(path, "", "is a symbolic link; give the real folder")
    reason = protected_reason(path)
    if reason:
        raise OutputError(path, "", f"{reason}; refusing to write lifecircle output there")
    if path.exists() and not path.is_dir():
        raise OutputError(path, "", "is a file, not a folder")
    parent = _existing_ancestor(path)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(path, "", f"cannot write in {parent}: permission denied")
    ignore = set(ignore)
    if not path.exists() or not any(e.name not in ignore for e in path.iterdir()):
        return False
    if not os.access(path, os.W_OK | os.X_OK):
        raise OutputError(path, "", "permission denied")
    marker = read_marker(path)
    if marker is None:
        raise OutputError(path, "", "exists and was not written by lifecircle (no "
                          f"{MARKER} marker); refusing to touch it: choose another folder")
    if reuse and not force:
        return True
    if not force:
        raise OutputError(path, "", f"exists (written by {marker['writer']}); pass --force "
                          "to replace it, or choose another folder")
    foreign = foreign_entries(path, patterns)
    if foreign:
        shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise OutputError(path, "", f"holds files lifecircle did not write ({shown}); "
                          "refusing to replace it")
    return True


def claim_output_dir(path: str | Path, force: bool, writer: str,
                     patterns: Iterable[str] = (), reuse: bool = False,
                     keep: Iterable[str] = ()) -> Path:
    """Check ``path`` (:func:`check_output_dir`), then create it, or empty it when ``force``.

    With ``reuse`` and no ``force`` an existing lifecircle folder is kept as it is (resumed).
    Callers that must replace a folder atomically (``lifecircle run``) write into
    :func:`partial_dir` instead and :func:`move_into_place` at the end.

    Args:
        path, force, writer, patterns, reuse: As for :func:`check_output_dir`.
        keep: Names in the folder that are neither counted nor removed (the caller's own
            lock file, taken before the claim).

    Returns:
        The folder, existing, with the marker.
    """
    path = Path(path)
    patterns = tuple(patterns)
    keep = {MARKER, *keep}
    existing = check_output_dir(path, force=force, writer=writer, patterns=patterns,
                                reuse=reuse, ignore=keep)
    if existing and force:
        for entry in list(path.iterdir()):
            if entry.name in keep:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    path.mkdir(parents=True, exist_ok=True)
    if read_marker(path) is None:
        write_marker(path, writer)
    return path


def partial_dir(path: Path, writer: str) -> Path:
    """A new hidden folder beside ``path`` to write into; moved into place when complete.

    Its name carries the host and process id, so that :func:`clean_stale_partials` removes
    only the leftovers of dead processes of this host.
    """
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    tag = f".{safe_name(path.name, 40)}{PARTIAL}{safe_name(socket.gethostname(), 40)}-{os.getpid()}-"
    while True:
        tmp = path.parent / (tag + secrets.token_hex(4))
        try:
            tmp.mkdir()  # the usual permissions (umask), unlike mkdtemp's 0700
            break
        except FileExistsError:
            continue
    try:
        write_marker(tmp, writer)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def move_into_place(tmp: Path, path: Path, *, force: bool, writer: str,
                    patterns: Iterable[str] = ()) -> None:
    """Move a complete :func:`partial_dir` to ``path``, replacing a lifecircle folder there.

    The checks are made again (the folder may have changed while the command ran); on a
    refusal the partial folder is left in place and named in the error, so nothing is lost.
    """
    try:
        existing = check_output_dir(path, force=force, writer=writer, patterns=patterns)
    except OutputError as err:
        raise OutputError(path, "", f"{err.problem} (the finished output is kept in {tmp})"
                          ) from None
    if existing:
        old = path.with_name(f".{safe_name(path.name, 40)}.replaced-{os.getpid()}")
        os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        if path.exists():
            path.rmdir()  # empty
        os.replace(tmp, path)


def clean_stale_partials(parent: Path) -> list[Path]:
    """Remove hidden partial folders in ``parent`` left by dead processes of this host.

    Only folders named by :func:`partial_dir` that carry the marker are candidates; one whose
    process is alive, or that was made on another host, is left alone.

    Returns:
        The folders removed.
    """
    from experiments.lock import process_alive

    removed: list[Path] = []
    host = safe_name(socket.gethostname(), 40)
    if not parent.is_dir():
        return removed
    for entry in parent.iterdir():
        if not entry.name.startswith(".") or PARTIAL not in entry.name or entry.is_symlink():
            continue
        rest = entry.name.split(PARTIAL, 1)[1]
        if not rest.startswith(host + "-"):
            continue
        pid_text = rest[len(host) + 1:].split("-", 1)[0]
        if not pid_text.isdigit() or process_alive(int(pid_text)):
            continue
        if entry.is_dir() and read_marker(entry) is not None:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _existing_ancestor(path: Path) -> Path:
    p = path.resolve().parent if not path.exists() else path.resolve()
    while not p.exists():
        p = p.parent
    return p if p.is_dir() else p.parent
