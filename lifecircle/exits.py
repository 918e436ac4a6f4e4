"""Exit codes of every ``lifecircle`` command, and the one way to print an error.

Commands added by other modules (``optimize``, ``import``) return these codes and print
errors with :func:`error`.
"""

from __future__ import annotations

import sys

OK = 0
"""Everything asked for was done."""
FAILED = 1
"""Some runs failed (named on stderr, tracebacks in the results) or a batch was interrupted."""
INVALID = 2
"""Invalid input or a refused output: nothing was run, nothing was written."""
INTERRUPTED = 130
"""A single run was interrupted (Ctrl-C): no output folder that looks complete was left."""


def error(message: str) -> None:
    """Print ``error: <message>`` as one line on stderr."""
    print("error: " + " ".join(str(message).split()), file=sys.stderr)
