"""The ``experiment`` and ``compare`` subcommands of ``lifecircle``.

``experiments/cli.py`` calls :func:`add_subcommands` on its argparse subparsers. Each handler
returns the exit code: 0 on success, 1 when runs failed (named on stderr) or the batch was
interrupted, 2 for an invalid experiment or a results folder holding another experiment
(nothing is written then).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILED_RUNS = 1
EXIT_INVALID = 2
EXIT_INTERRUPTED = 130


def add_subcommands(subparsers: Any) -> None:
    """Register ``experiment`` and ``compare`` on an argparse subparsers object.

    Args:
        subparsers: The object returned by ``ArgumentParser.add_subparsers()``.

    """
    p = subparsers.add_parser(
        "experiment", help="run a batch of scenarios x seeds x parameter points",
        description="Run (or resume) every (scenario, point, replicate) of an experiment "
                    "file. Finished runs are kept; rerunning the same command does only the "
                    "missing or failed runs.")
    p.add_argument("file", type=Path, help="experiment file (TOML), e.g. "
                                           "experiments/policy_comparison.toml")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: all CPUs; 0 = run in this process)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="address of a running Dask scheduler, e.g. tcp://10.0.0.1:8786")
    p.add_argument("--local-cluster", action="store_true",
                   help="start a Dask LocalCluster (--workers processes) for this batch")
    p.add_argument("--dry-run", action="store_true",
                   help="validate and print the plan; run and write nothing")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="results folder (default: results/<experiment name>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_experiment)

    c = subparsers.add_parser(
        "compare", help="write report.md / report.html comparing scenarios of a results folder",
        description="Compare every scenario of an experiment's results with the baseline: "
                    "paired differences, bootstrap intervals, effect sizes, Holm-adjusted "
                    "p-values, cost-effectiveness, figures.")
    c.add_argument("results_dir", type=Path, metavar="RESULTS_DIR")
    c.add_argument("--baseline", default=None, metavar="NAME",
                   help="scenario to compare with (default: the experiment's baseline)")
    c.add_argument("--test", choices=("t", "permutation"), default="t",
                   help="p-values from the paired t-test (default) or a sign-flip "
                        "permutation test")
    c.set_defaults(func=cmd_compare)


def _err(msg: str) -> None:
    print(f"error: {msg}", file=sys.stderr)


def cmd_experiment(args: argparse.Namespace) -> int:
    """Handle ``lifecircle experiment``."""
    from experiments.definition import ExperimentError, load_experiment
    from experiments.executors import ExecutorSpec
    from experiments.runner import plan, run_batch
    from experiments.storage import ResultsMismatchError

    if args.scheduler and args.local_cluster:
        _err("--scheduler and --local-cluster exclude each other")
        return EXIT_INVALID
    if args.workers is not None and args.workers < 0:
        _err(f"--workers {args.workers}: expected an integer >= 0")
        return EXIT_INVALID
    try:
        exp = load_experiment(args.file)
    except ExperimentError as exc:
        _err(str(exc))
        return EXIT_INVALID
    out = args.out if args.out is not None else Path("results") / exp.name
    spec = ExecutorSpec(workers=args.workers, scheduler=args.scheduler,
                        local_cluster=args.local_cluster)
    try:
        runs, done = plan(exp, out)
    except ResultsMismatchError as exc:
        _err(str(exc))
        return EXIT_INVALID
    if args.dry_run:
        n_points = len({(r.scenario, r.point) for r in runs})
        print(f"experiment {exp.name} (config hash {exp.config_hash()}), valid")
        print(f"  scenarios: {', '.join(exp.scenarios)} (baseline {exp.baseline})")
        print(f"  design: {exp.method}; {len(exp.points)} points; "
              f"{n_points} (scenario, point) pairs; {exp.replicates} replicates")
        print(f"  days: {exp.days} (warm-up {exp.warmup}); root seed {exp.root_seed}; "
              f"seeds {exp.seeds[:4]}{' ...' if len(exp.seeds) > 4 else ''}")
        print(f"  runs: {len(runs)} planned, {len(done)} already finished in {out}, "
              f"{len(runs) - len(done)} to do on {spec.describe()}")
        print("  (dry run: nothing was run or written)")
        return EXIT_OK
    print(f"experiment {exp.name}: {len(runs)} runs into {out} on {spec.describe()}",
          file=sys.stderr)
    try:
        outcome = run_batch(exp, out, spec, progress=not args.no_progress,
                            log=lambda m: print(m, file=sys.stderr))
    except ResultsMismatchError as exc:
        _err(str(exc))
        return EXIT_INVALID
    from experiments.runner import iter_failures

    failures = list(iter_failures(out))
    if outcome.interrupted:
        _err(f"interrupted; {outcome.skipped + len(outcome.executed)} of {outcome.planned} "
             f"runs recorded in {out}. Run the same command again to resume.")
        return EXIT_INTERRUPTED
    if failures:
        _err(f"{len(failures)} of {outcome.planned} runs failed (tracebacks in "
             f"{out}/runs/<run_id>.json and the runs table):")
        for rid, error in failures:
            last = [ln for ln in error.strip().splitlines() if ln.strip()]
            print(f"  {rid}: {last[-1] if last else 'failed'}", file=sys.stderr)
        return EXIT_FAILED_RUNS
    print(f"done: {outcome.planned} runs in {out} ({len(outcome.executed)} run now, "
          f"{outcome.skipped} resumed). Next: lifecircle compare {out}", file=sys.stderr)
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    """Handle ``lifecircle compare``."""
    from experiments.report import write_report

    try:
        path = write_report(args.results_dir, baseline=args.baseline, test=args.test)
    except (FileNotFoundError, ValueError) as exc:
        _err(str(exc))
        return EXIT_INVALID
    print(f"wrote {path} and {path.with_suffix('.html')}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (``python -m experiments.batch_cli``) for the two commands."""
    parser = argparse.ArgumentParser(prog="lifecircle")
    sub = parser.add_subparsers(dest="command", required=True)
    add_subcommands(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
