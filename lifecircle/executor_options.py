"""The executor options of every batch command: ``--workers``, ``--scheduler``, ``--local-cluster``.

``lifecircle experiment``, ``lifecircle optimize`` and ``lifecircle validation`` declare them
with :func:`add_executor_options` and turn them into one
:class:`experiments.executors.ExecutorSpec` with :func:`executor_spec`, so each runs on a
process pool, a Dask ``LocalCluster`` or a running Dask scheduler in the same way.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from experiments.executors import ExecutorSpec


def add_executor_options(p: argparse.ArgumentParser, workers_type: Callable[[str], int], *,
                         default_workers: int | None, what: str) -> None:
    """Declare ``--workers``, ``--scheduler`` and ``--local-cluster`` on a subcommand.

    Args:
        p: The subcommand's parser.
        workers_type: Parser of the ``--workers`` value (a bounded integer).
        default_workers: ``--workers`` when not given (``None``: all CPUs).
        what: What runs, for the help text ("batch", "search", ...).
    """
    default = "all CPUs" if default_workers is None else str(default_workers)
    p.add_argument("--workers", type=workers_type, default=default_workers,
                   help=f"worker processes (default: {default}; 0 = run in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="address of a running Dask scheduler, e.g. tcp://10.0.0.1:8786")
    p.add_argument("--local-cluster", action="store_true",
                   help=f"start a Dask LocalCluster (--workers processes) for this {what}")


def executor_spec(args: argparse.Namespace) -> ExecutorSpec:
    """The executor the options ask for.

    Raises:
        LifecircleError: ``--scheduler`` with ``--local-cluster``, or ``--workers 0`` (in this
            process) with either.
    """
    from experiments.executors import ExecutorSpec
    from model.errors import LifecircleError

    if args.scheduler and args.local_cluster:
        raise LifecircleError("--local-cluster", "", "cannot be combined with --scheduler "
                              "(give one executor)")
    if args.workers == 0 and (args.scheduler or args.local_cluster):
        option = "--scheduler" if args.scheduler else "--local-cluster"
        raise LifecircleError("--workers", "", f"0 runs in this process, which {option} "
                              "contradicts; give 1 or more workers, or leave out " + option)
    return ExecutorSpec(workers=args.workers, scheduler=args.scheduler,
                        local_cluster=args.local_cluster)
