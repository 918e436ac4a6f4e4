"""The ``lifecircle`` command line: run, validate, experiment, compare, import, viz.

Exit codes: 0 success; 1 failed runs or an interrupted batch; 2 invalid input (nothing is
written); 130 interrupted run (no file that looks complete is left).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

EXIT_INVALID = 2
EXIT_INTERRUPTED = 130
HEADLINE = ("share_satisfied", "share_satisfied_old", "share_satisfied_new",
            "share_satisfied_elderly", "coverage_basic_all", "coverage_basic_all_old",
            "coverage_basic_all_new", "coverage_fresh_food", "unmet_rate", "mean_walk_min",
            "chain_rate", "outlets_open", "residents_per_outlet", "public_spend")


def parse_sets(items: list[str]) -> dict[str, Any]:
    """Parse ``--set key=value`` items; values are TOML literals, else strings."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected key=value")
        key, raw = item.split("=", 1)
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def _err(msg: str) -> None:
    print(f"error: {msg}", file=sys.stderr)


def cmd_validate(args: argparse.Namespace) -> int:
    """Check scenario files without running them."""
    from model import ScenarioError, load_scenario

    bad = 0
    for f in args.files:
        try:
            sc = load_scenario(f)
        except ScenarioError as e:
            _err(str(e))
            bad += 1
            continue
        print(f"ok: {f} ({sc.name}; {len(sc.policies)} policies; hash {sc.config_hash()})")
    return EXIT_INVALID if bad else 0


def summarize_run(daily, warmup: int) -> dict[str, float]:
    """Post-warm-up means of every metric, plus end-of-run values of stocks."""
    measured = daily[daily["day"] > warmup] if (daily["day"] > warmup).any() else daily
    row: dict[str, float] = {f"{c}": float(measured[c].mean()) for c in daily.columns if c != "day"}
    for c in ("public_spend", "outlets_open", "chain_rate", "residents"):
        row[f"{c}_final"] = float(daily[c].iloc[-1])
    return row


def cmd_run(args: argparse.Namespace) -> int:
    """Run one scenario end to end and write daily metrics, summary and configuration."""
    import pandas as pd
    from tqdm import tqdm

    from experiments.storage import code_version
    from model import CommerceModel, ScenarioError, load_scenario

    try:
        overrides = parse_sets(args.set or [])
        scenario = load_scenario(args.scenario, overrides or None)
    except (ScenarioError, ValueError) as e:
        _err(str(e))
        return EXIT_INVALID
    if args.days < 1:
        _err(f"--days {args.days}: must be >= 1")
        return EXIT_INVALID
    out = Path(args.out) if args.out else Path("results") / f"run_{scenario.name}_seed{args.seed}"
    if out.exists() and any(out.iterdir()) and not args.force:
        _err(f"{out} exists and is not empty; choose --out or pass --force to replace it")
        return EXIT_INVALID
    out.parent.mkdir(parents=True, exist_ok=True)
    # everything is written into a hidden folder and moved into place at the end, so an
    # interrupted run leaves no folder that looks complete
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        started = time.time()
        model = CommerceModel(scenario=scenario, rng=args.seed)
        for _ in tqdm(range(args.days), desc=f"{scenario.name} seed {args.seed}", unit="day",
                      disable=args.no_progress or not sys.stderr.isatty(), file=sys.stderr):
            model.step()
        daily = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        daily.insert(0, "day", range(1, len(daily) + 1))
        warmup = min(args.warmup, args.days - 1)
        summary = {"scenario": scenario.name, "seed": args.seed, "days": args.days,
                   "warmup": warmup, **summarize_run(daily, warmup),
                   **{f"spend_{k}": v for k, v in model.ledger.items()}}
        daily.to_parquet(tmp / "daily.parquet", index=False)
        pd.DataFrame([summary]).to_parquet(tmp / "summary.parquet", index=False)
        config = {"scenario": scenario.to_dict(), "config_hash": scenario.config_hash(),
                  "seed": args.seed, "days": args.days, "warmup": warmup,
                  "overrides": overrides, "code_version": code_version(),
                  "policies": [repr(p) for p in model.policies],
                  "runtime_s": round(time.time() - started, 2)}
        (tmp / "config.json").write_text(json.dumps(config, indent=2, default=str))
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except KeyboardInterrupt:
        shutil.rmtree(tmp, ignore_errors=True)
        _err("interrupted; nothing written")
        return EXIT_INTERRUPTED
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    last = daily.iloc[-1]
    print(f"{scenario.name}, seed {args.seed}, day {args.days} "
          f"({len(model.present_idx):,} residents, {config['runtime_s']} s):")
    for name in HEADLINE:
        v = float(last[name])
        shown = f"{v:,.0f} yuan" if name == "public_spend" else (
            f"{v:.1%}" if name.startswith(("share", "coverage", "unmet", "chain")) else f"{v:,.1f}")
        print(f"  {name:<28} {shown}")
    print(f"written: {out}/daily.parquet, summary.parquet, config.json")
    return 0


def cmd_viz(args: argparse.Namespace) -> int:
    """Serve the browser visualization on 127.0.0.1."""
    from viz.server import serve

    return serve(host=args.host, port=args.port, open_browser=args.open)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``lifecircle``."""
    parser = argparse.ArgumentParser(prog="lifecircle", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run one scenario end to end")
    r.add_argument("scenario", help="scenario name in scenarios/ or a path to a TOML file")
    r.add_argument("--days", type=int, default=365)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--warmup", type=int, default=0, help="days left out of the summary means")
    r.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default results/run_<scenario>_seed<seed>)")
    r.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a parameter (repeatable): share_old=0.3, "
                        "categories.fresh_food.spend=30, policy.rent_subsidy.share=0.5")
    r.add_argument("--force", action="store_true", help="replace an existing output folder")
    r.add_argument("--no-progress", action="store_true")
    r.set_defaults(func=cmd_run)
    v = sub.add_parser("validate", help="check scenario files without running them")
    v.add_argument("files", nargs="+")
    v.set_defaults(func=cmd_validate)
    z = sub.add_parser("viz", help="serve the browser visualization on 127.0.0.1")
    z.add_argument("--host", default="127.0.0.1")
    z.add_argument("--port", type=int, default=8765)
    z.add_argument("--open", action="store_true", help="open a browser tab")
    z.set_defaults(func=cmd_viz)
    from mapdata.cli import add_arguments as add_import_arguments
    from mapdata.cli import cmd_import

    m = sub.add_parser("import", help="a neighbourhood from OSM extracts and POI tables")
    add_import_arguments(m)
    m.set_defaults(func=cmd_import)
    from experiments.batch_cli import add_subcommands

    add_subcommands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``lifecircle``."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
