"""The ``lifecircle`` command line: run, validate, experiment, compare, validation, optimize, viz.

Every subcommand is declared and dispatched here; the work is done by the library
(``experiments``, ``validation``, ``viz``), imported only when its command runs. Exit codes
are in :mod:`lifecircle.exits`: 0 ok; 1 failed runs or an interrupted batch; 2 invalid input
or a refused output (one ``error:`` line naming the file or argument; nothing written); 130
an interrupted run. Any :class:`model.errors.LifecircleError` raised below becomes exit 2.

To add a subcommand (``optimize``, ``import``): write ``add_arguments(parser)`` and
``cmd_<name>(args) -> int`` in its package, and register them in :func:`build_parser`.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from lifecircle import exits
from lifecircle.executor_options import add_executor_options, executor_spec

MAX_SEED = 2**63 - 1
MAX_DAYS = 36_500
MAX_WORKERS = 4096


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one ``error:`` line and exit 2."""

    def error(self, message: str) -> NoReturn:
        exits.error(f"{self.prog}: {message} (see {self.prog} --help)")
        sys.exit(exits.INVALID)


def _int_in(lo: int, hi: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is out of range; allowed {lo}..{hi:,}")
        return value

    return parse


def _float_in(lo: float, hi: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not lo <= value <= hi:  # also refuses nan
            raise argparse.ArgumentTypeError(f"{value} is out of range; allowed {lo}..{hi:,}")
        return value

    return parse


def parse_sets(items: list[str]) -> dict[str, Any]:
    """Parse ``--set key=value`` items; values are TOML literals, else strings.

    Raises:
        ScenarioError: An item without ``=``.
    """
    from model.errors import ScenarioError

    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ScenarioError("--set", item, "expected key=value")
        key, raw = item.split("=", 1)
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except (tomllib.TOMLDecodeError, RecursionError):
            value = raw
        out[key.strip()] = value
    return out


# ------------------------------------------------------------------------------ commands


def cmd_validate(args: argparse.Namespace) -> int:
    """Check scenario files without running them."""
    from model import ScenarioError, load_scenario
    from model.footprint import check_fits

    bad = 0
    for f in args.files:
        try:
            sc = load_scenario(f)
            fp = check_fits(sc.params, f)
        except ScenarioError as e:
            exits.error(str(e))
            bad += 1
            continue
        print(f"ok: {f} ({sc.name}; {len(sc.policies)} policies; hash {sc.config_hash()}; "
              f"{fp.describe()})")
    return exits.INVALID if bad else exits.OK


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario end to end and write daily metrics, summary and configuration."""
    from tqdm import tqdm

    from experiments.single import default_out, run_single
    from model import HEADLINE_METRICS, load_scenario
    from model.footprint import check_fits, check_time

    overrides = parse_sets(args.set or [])
    scenario = load_scenario(args.scenario, overrides or None)
    fp = check_fits(scenario.params, str(args.scenario))
    check_time(fp.run_seconds(args.days), "--days", str(args.days),
               f"{args.days:,} days of a city of {fp.describe()}")
    out = Path(args.out) if args.out else default_out(scenario.name, args.seed)
    bar = tqdm(total=args.days, desc=f"{scenario.name} seed {args.seed}", unit="day",
               disable=args.no_progress or not sys.stderr.isatty(), file=sys.stderr)
    try:
        result = run_single(scenario, args.seed, args.days, args.warmup, out, force=args.force,
                            overrides=overrides, on_day=lambda _: bar.update(1))
    except KeyboardInterrupt:
        bar.close()
        exits.error("interrupted; nothing written")
        return exits.INTERRUPTED
    bar.close()
    last = result.daily.iloc[-1]
    print(f"{scenario.name}, seed {args.seed}, day {args.days} "
          f"({result.residents:,} residents, {result.runtime} s):")
    for name in HEADLINE_METRICS:
        v = float(last[name])
        shown = f"{v:,.0f} yuan" if name == "public_spend" else (
            f"{v:.1%}" if name.startswith(("share", "coverage", "unmet", "chain")) else f"{v:,.1f}")
        print(f"  {name:<28} {shown}")
    print(f"written: {out}/daily.parquet, summary.parquet, config.json")
    return exits.OK


def cmd_experiment(args: argparse.Namespace) -> int:
    """Run (or resume) an experiment batch."""
    from experiments.loading import load_experiment
    from experiments.runner import check_batch, estimate_text, failures, run_batch

    spec = executor_spec(args)
    exp = load_experiment(args.file)
    out = args.out if args.out is not None else Path("results") / exp.name
    plan, scan = check_batch(exp, out, force=args.force, executor=spec)
    if args.dry_run:
        n_points = len({(r.scenario, r.point) for r in plan})
        print(f"experiment {exp.name} (config hash {exp.config_hash()}), valid")
        print(f"  scenarios: {', '.join(exp.scenarios)} (baseline {exp.baseline})")
        print(f"  design: {exp.method}; {len(exp.points)} points; {n_points} (scenario, point) "
              f"pairs; {exp.replicates} replicates")
        print(f"  days: {exp.days} (warm-up {exp.warmup}); root seed {exp.root_seed}; "
              f"seeds {exp.seeds[:4]}{' ...' if len(exp.seeds) > 4 else ''}")
        for line in scan.problems():
            print(f"  warning: {out}/{line}")
        print(f"  runs: {len(plan)} planned, {len(scan.done)} already finished in {out}, "
              f"{len(plan) - len(scan.done)} to do on {spec.describe()}")
        print(f"  estimate: {estimate_text(exp, plan, spec)}")
        print("  (dry run: nothing was run or written)")
        return exits.OK
    print(f"experiment {exp.name}: {len(plan)} runs into {out} on {spec.describe()}",
          file=sys.stderr)
    outcome = run_batch(exp, out, spec, force=args.force, progress=not args.no_progress,
                        log=lambda m: print(m, file=sys.stderr))
    if outcome.interrupted:
        exits.error(f"interrupted; {outcome.skipped + len(outcome.executed)} of "
                    f"{outcome.planned} runs recorded in {out}. Run the same command again "
                    "to resume.")
        return exits.FAILED
    failed = failures(out)
    if failed:
        exits.error(f"{len(failed)} of {outcome.planned} runs failed (tracebacks in "
                    f"{out}/runs/<run_id>.json and the runs table):")
        for rid, text in failed:
            last = [ln for ln in text.strip().splitlines() if ln.strip()]
            print(f"  {rid}: {last[-1] if last else 'failed'}", file=sys.stderr)
        return exits.FAILED
    print(f"done: {outcome.planned} runs in {out} ({len(outcome.executed)} run now, "
          f"{outcome.skipped} resumed). Next: lifecircle compare {out}", file=sys.stderr)
    return exits.OK


def cmd_compare(args: argparse.Namespace) -> int:
    """Write the comparison report of a results folder."""
    from experiments.report import write_report

    path = write_report(args.results_dir, baseline=args.baseline, test=args.test, out=args.out,
                        force=args.force, log=lambda m: print(m, file=sys.stderr))
    print(f"wrote {path} and {path.with_suffix('.html')}")
    return exits.OK


def validation_inputs(args: argparse.Namespace) -> Any:
    """The :class:`validation.pipeline.ValidationInputs` of ``lifecircle validation``'s arguments."""
    from validation.pipeline import DOC, FIG_DIR, ValidationInputs

    args.doc = args.doc or DOC
    args.fig_dir = args.fig_dir or FIG_DIR
    return ValidationInputs(
        results=args.results, calibration=args.calibration, pre_calibration=args.pre_calibration,
        sensitivity=args.sensitivity, sobol_n=args.sobol_n, sobol_factors=args.sobol_factors,
        sobol_days=args.sobol_days, robust_replicates=args.robust_replicates,
        robust_days=args.robust_days, executor=executor_spec(args), doc=args.doc,
        fig_dir=args.fig_dir, settings=parse_sets(args.set or []),
        robust_scenarios=tuple(x.strip() for x in (args.robust_scenarios or "").split(",")
                               if x.strip()))


def cmd_validation(args: argparse.Namespace) -> int:
    """Regenerate docs/VALIDATION.md from the validation experiments' results."""
    from validation.pipeline import regenerate

    doc, n_figs = regenerate(validation_inputs(args), log=lambda m: print(m, file=sys.stderr))
    print(f"wrote {doc} and {n_figs} figures in {args.fig_dir}")
    return exits.OK


def cmd_optimize(args: argparse.Namespace) -> int:
    """Search for the best policy mix for a budget (lifecircle/optimize.py)."""
    from lifecircle.optimize import cmd_optimize as run

    return run(args)


def cmd_viz(args: argparse.Namespace) -> int:
    """Serve the browser visualization on 127.0.0.1."""
    from viz.server import serve

    return serve(host=args.host, port=args.port, open_browser=args.open,
                 idle_minutes=args.idle_minutes)


# ------------------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``lifecircle``."""
    parser = _Parser(prog="lifecircle", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_run(sub)
    v = sub.add_parser("validate", help="check scenario files without running them")
    v.add_argument("files", nargs="+")
    v.set_defaults(func=cmd_validate)
    _add_experiment(sub)
    _add_compare(sub)
    _add_validation(sub)
    _add_optimize(sub)
    _add_import(sub)
    z = sub.add_parser("viz", help="serve the browser visualization on 127.0.0.1")
    z.add_argument("--host", default="127.0.0.1")
    z.add_argument("--port", type=_int_in(1, 65535), default=8765)
    z.add_argument("--open", action="store_true", help="open a browser tab")
    z.add_argument("--idle-minutes", type=_float_in(1.0, 1440.0), default=None, metavar="MIN",
                   help="drop a session's model after this many idle minutes (default 20; "
                        "also LIFECIRCLE_VIZ_IDLE_MINUTES)")
    z.set_defaults(func=cmd_viz)
    return parser


def _add_import(sub: Any) -> None:
    from mapdata.cli import add_arguments, cmd_import

    m = sub.add_parser("import", help="a neighbourhood from OSM extracts and POI tables")
    add_arguments(m)
    m.set_defaults(func=cmd_import)


def _add_run(sub: Any) -> None:
    r = sub.add_parser("run", help="run one scenario end to end")
    r.add_argument("scenario", help="scenario name in scenarios/ or a path to a TOML file")
    r.add_argument("--days", type=_int_in(1, MAX_DAYS), default=365)
    r.add_argument("--seed", type=_int_in(0, MAX_SEED), default=1)
    r.add_argument("--warmup", type=_int_in(0, MAX_DAYS), default=0,
                   help="days left out of the summary means")
    r.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default results/run_<scenario>_seed<seed>)")
    r.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a parameter (repeatable): share_old=0.3, "
                        "categories.fresh_food.spend=30, policy.rent_subsidy.share=0.5")
    r.add_argument("--force", action="store_true",
                   help="replace an earlier run folder (only one lifecircle wrote)")
    r.add_argument("--no-progress", action="store_true")
    r.set_defaults(func=cmd_run)


def _add_experiment(sub: Any) -> None:
    p = sub.add_parser(
        "experiment", help="run a batch of scenarios x seeds x parameter points",
        description="Run (or resume) every (scenario, point, replicate) of an experiment "
                    "file. Finished runs are kept; rerunning the same command does only the "
                    "missing, failed or invalid runs.")
    p.add_argument("file", type=Path, help="experiment file (TOML), e.g. "
                                           "experiments/policy_comparison.toml")
    add_executor_options(p, _int_in(0, MAX_WORKERS), default_workers=None, what="batch")
    p.add_argument("--dry-run", action="store_true",
                   help="validate and print the plan; run and write nothing")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="results folder (default: results/<experiment name>)")
    p.add_argument("--force", action="store_true",
                   help="start the results folder over (only one lifecircle wrote)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_experiment)


def _add_compare(sub: Any) -> None:
    c = sub.add_parser(
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
    c.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="folder for the report (default: the results folder)")
    c.add_argument("--force", action="store_true",
                   help="replace an earlier report folder --out (only one lifecircle wrote)")
    c.set_defaults(func=cmd_compare)


def _add_validation(sub: Any) -> None:
    v = sub.add_parser(
        "validation", help="regenerate docs/VALIDATION.md (patterns, calibration, sensitivity)",
        description="Read the results of validation/validation.toml (and optionally "
                    "calibration.toml, sensitivity.toml), run the Sobol and policy-ranking "
                    "follow-ups through the batch runner (resumable), and write the report.")
    v.add_argument("results", type=Path, help="results folder of validation/validation.toml")
    v.add_argument("--calibration", type=Path, help="results of validation/calibration.toml")
    v.add_argument("--pre-calibration", type=Path,
                   help="validation results with the defaults before calibration (run here "
                        "if the folder holds no finished batch)")
    v.add_argument("--sensitivity", type=Path, help="results of validation/sensitivity.toml")
    v.add_argument("--sobol-n", type=_int_in(2, 65536), default=32,
                   help="Sobol base sample N (a power of 2)")
    v.add_argument("--sobol-factors", type=_int_in(1, 50), default=4,
                   help="how many top Morris factors")
    v.add_argument("--sobol-days", type=_int_in(31, MAX_DAYS), default=180)
    v.add_argument("--robust-replicates", type=_int_in(2, 1000), default=6)
    v.add_argument("--robust-days", type=_int_in(31, MAX_DAYS), default=180)
    v.add_argument("--robust-scenarios", default=None, metavar="NAME,...",
                   help="scenarios of the ranking check, baseline included (default: those of "
                        "experiments/policy_comparison.toml)")
    add_executor_options(v, _int_in(0, MAX_WORKERS), default_workers=2,
                         what="validation's runs")
    v.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a parameter in the runs made here (e.g. a small city for "
                        "a quick check: communities_x=2)")
    v.add_argument("--doc", type=Path, default=None, help="default: docs/VALIDATION.md")
    v.add_argument("--fig-dir", type=Path, default=None, help="default: docs/validation/")
    v.set_defaults(func=cmd_validation)


def _add_optimize(sub: Any) -> None:
    from lifecircle.optimize import add_arguments

    o = sub.add_parser(
        "optimize", help="search for the best policy mix for a budget (many objectives)",
        description="Search a problem file's levers for the mixes that trade cost against "
                    "gains best (the front), robust over seeds; re-simulate the chosen mixes "
                    "on fresh seeds; write evaluations.parquet, pareto.parquet and a report. "
                    "Finished runs are kept: rerunning the same command resumes.")
    add_arguments(o, _int_in, MAX_WORKERS)
    o.set_defaults(func=cmd_optimize)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``lifecircle``; returns the exit code."""
    from model.errors import LifecircleError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or exits.OK)
    except LifecircleError as err:
        exits.error(str(err))
        return exits.INVALID
    except OSError as err:  # e.g. a disk that filled up while writing
        exits.error(f"{err.filename or args.command}: {err.strerror or err}")
        return exits.INVALID
    except KeyboardInterrupt:
        exits.error("interrupted")
        return exits.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
