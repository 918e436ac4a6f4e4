"""``lifecircle optimize FILE``: its arguments and what it does (registered in cli.py).

The search itself is ``experiments.optimize`` (docs/OPTIMIZE.md); this module only reads the
arguments, prints, and returns an exit code (:mod:`lifecircle.exits`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lifecircle import exits
from lifecircle.executor_options import add_executor_options, executor_spec


def add_arguments(p: argparse.ArgumentParser, int_in: Any, max_workers: int) -> None:
    """Declare the arguments of ``lifecircle optimize``."""
    p.add_argument("file", type=Path, help="problem file (TOML), e.g. "
                                           "experiments/optimize_budget.toml")
    add_executor_options(p, int_in(0, max_workers), default_workers=None, what="search")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="results folder (default: results/<problem name>)")
    p.add_argument("--dry-run", action="store_true",
                   help="validate and print the search's size; run and write nothing")
    p.add_argument("--force", action="store_true",
                   help="start the folder over (only one lifecircle wrote)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def cmd_optimize(args: argparse.Namespace) -> int:
    """Search for the best policy mixes of a problem file (or check it with --dry-run)."""
    from experiments.optimize.problem import load_problem
    from experiments.optimize.runner import (
        check_folder,
        estimate_seconds,
        planned_runs,
        run_optimize,
    )
    from model.footprint import check_time

    spec = executor_spec(args)
    problem = load_problem(args.file)
    out = args.out if args.out is not None else Path("results") / problem.name
    existing = check_folder(problem, out, args.force)
    local = 1 if spec.workers == 0 else spec.n_workers
    seconds, city = estimate_seconds(problem, local)
    if not spec.scheduler:
        check_time(seconds, str(args.file), "evaluations",
                   f"{planned_runs(problem):,} runs of {problem.days} days")
    if args.dry_run:
        stored = len(list((out / "runs").glob("*.json"))) if existing and not args.force else 0
        print(f"problem {problem.name} (identity {problem.identity_hash()}), valid")
        print(f"  base scenario: {problem.base.name}; levers: "
              f"{', '.join(lv.name for lv in problem.levers)}")
        print("  objectives: " + "; ".join(o.label for o in problem.objectives))
        print("  constraints: " + ("; ".join(b.describe() for b in problem.bounds) or "none"))
        print(f"  {problem.evaluations} evaluations in generations of {problem.population}; "
              f"{problem.replicates} seeds per mix ({problem.days} days, warm-up "
              f"{problem.warmup}); {problem.holdout_replicates} fresh seeds for the chosen mixes")
        print(f"  runs: at most {planned_runs(problem):,}; {stored} already stored in {out}")
        print(f"  estimate: ~{seconds / 60:,.1f} min on {spec.describe()} (largest mix: {city})")
        print("  (dry run: nothing was run or written)")
        return exits.OK
    print(f"optimize {problem.name}: up to {planned_runs(problem):,} runs into {out} on "
          f"{spec.describe()}", file=sys.stderr)
    outcome = run_optimize(problem, out, spec, force=args.force,
                           progress=not args.no_progress,
                           log=lambda m: print(m, file=sys.stderr))
    if outcome.interrupted:
        exits.error(f"interrupted; {len(outcome.executed)} runs recorded in {out} in this "
                    "session. Run the same command again to resume.")
        return exits.FAILED
    print(f"done: {len(outcome.evaluations) - 1} mixes in {outcome.generations} generations "
          f"({len(outcome.executed)} runs now), {len(outcome.pareto)} on the front; wrote "
          f"{out}/evaluations.parquet, pareto.parquet, holdout.parquet, report.md, report.html")
    if outcome.crashed:
        exits.error(f"{len(outcome.crashed)} runs crashed (tracebacks in {out}/runs/"
                    "<run_id>.json); their mixes count as infeasible. Rerun to retry them.")
        return exits.FAILED
    return exits.OK
