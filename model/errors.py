"""The project's exceptions, and the "did you mean" hint they carry.

A leaf module: it imports nothing of the project, so any module may raise these without an
import cycle. Every error names *where* (a file, an argument, a folder), the *key* at fault
and the *problem* with what is allowed; the command line prints it as one line and exits 2.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class LifecircleError(ValueError):
    """Bad input, named: where it is (file or argument), the key, and what is allowed.

    Attributes:
        where: the file, folder or argument at fault.
        key: the (dotted) key at fault, or ``""`` for the whole file.
        problem: what is wrong and what is allowed.
    """

    def __init__(self, where: object, key: str, problem: str):
        self.where, self.key, self.problem = str(where), key, problem
        super().__init__(f"{self.where}: {key}: {problem}" if key else f"{self.where}: {problem}")


class ScenarioError(LifecircleError):
    """A scenario file, a category table or an override is invalid."""


class ExperimentError(LifecircleError):
    """An experiment (or optimisation problem) file is invalid."""

    def __init__(self, file: object, key: str, message: str):
        self.file, self.message = str(file), message
        super().__init__(file, key, message)
        where = f"{self.file}: key '{key}'" if key else self.file
        self.args = (f"{where}: {message}",)

    def __str__(self) -> str:
        return self.args[0]


class ResultsError(LifecircleError):
    """A results folder cannot be used as asked (another experiment's, locked, tampered)."""


class MapDataError(LifecircleError):
    """Map data cannot be imported (an extract, a POI table, a mapping table or the box)."""


class OutputError(LifecircleError):
    """An output location is refused (not written by lifecircle, outside the output folder)."""


def suggest(word: str, known: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest known word, or ``""``."""
    close = difflib.get_close_matches(str(word), list(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
