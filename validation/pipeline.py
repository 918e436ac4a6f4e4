r"""Regenerate docs/VALIDATION.md: read the results, run the follow-ups, write the report.

``lifecircle validation RESULTS [--calibration ...] [--pre-calibration ...]
[--sensitivity ...]`` (or ``python -m validation ...``)::

    lifecircle experiment validation/validation.toml     # baseline, 10 seeds, 1,095 days
    lifecircle experiment validation/calibration.toml    # Latin hypercube (entry/exit)
    lifecircle experiment validation/sensitivity.toml    # Morris screening
    lifecircle validation results/validation \\
        --pre-calibration results/validation_precalibration \\
        --calibration results/calibration --sensitivity results/sensitivity

With ``--sensitivity`` the Sobol analysis of the top Morris factors and the policy-ranking
check are run (or resumed) through the batch runner into ``<sensitivity>_sobol/`` and
``<sensitivity>_robustness/``. Errors are raised as :class:`model.errors.LifecircleError`
(the command line turns them into one line and exit status 2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.executors import ExecutorSpec
from validation import calibration, figures, patterns, sensitivity
from validation.report import write_report
from validation.report_analyses import ReportInputs, summary_notes

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "VALIDATION.md"
FIG_DIR = ROOT / "docs" / "validation"


@dataclass(frozen=True)
class ValidationInputs:
    """What to read and run (the command line's arguments)."""

    results: Path
    calibration: Path | None = None
    pre_calibration: Path | None = None
    sensitivity: Path | None = None
    sobol_n: int = 32
    sobol_factors: int = 4
    sobol_days: int = 180
    robust_replicates: int = 6
    robust_days: int = 180
    executor: ExecutorSpec = ExecutorSpec(workers=2)
    """Where the runs made here go: a process pool, a Dask LocalCluster or a scheduler."""
    doc: Path = DOC
    fig_dir: Path = FIG_DIR
    settings: dict[str, Any] = field(default_factory=dict)
    """Overrides for the runs made here (pre-calibration, Sobol, ranking check)."""
    robust_scenarios: tuple[str, ...] = ()
    """Scenarios of the ranking check (default: those of the policy comparison)."""


def _minutes(sec: float) -> str:
    return f"{sec / 60:.1f} min" if math.isfinite(sec) else "n/a"


def _timing(bt: dict[str, float]) -> str:
    return (f"{int(bt['runs'])} runs, {_minutes(bt.get('wall_seconds', math.nan))} wall, "
            f"{bt['mean_run_seconds']:.0f} s per run on average")


def regenerate(a: ValidationInputs, log: Callable[[str], None] = print) -> tuple[Path, int]:
    """Run every analysis asked for and write the report.

    Returns:
        The report's path and the number of figures written.
    """
    from model.errors import ResultsError

    for label, folder in (("results", a.results), ("--calibration", a.calibration),
                          ("--sensitivity", a.sensitivity)):
        if folder is not None and not (folder / "daily.parquet").is_file():
            raise ResultsError(folder, label, "holds no assembled results (run the "
                               "experiment first: lifecircle experiment ...)")
    a.fig_dir.mkdir(parents=True, exist_ok=True)
    r = ReportInputs(val={}, figs={})
    daily = patterns.load_daily(a.results)
    r.val = patterns.validate_patterns(daily)
    if r.val["last_day"] >= 1095:
        base = daily[daily["scenario"] == r.val["scenarios"][0]]
        r.val["distance"] = calibration.calibration_distance(base).iloc[0].to_dict()
    if "combined" in r.val["scenarios"] and r.val["last_day"] >= calibration.THRESHOLD_WINDOW[0]:
        r.val["line"] = calibration.satisfied_line(daily)
    r.times["validation (`validation/validation.toml`)"] = _timing(patterns.batch_time(a.results))
    r.figs["val"] = figures.plot_patterns(daily, a.fig_dir, "baseline")
    if a.pre_calibration:
        calibration.run_precalibration(a.pre_calibration, a.executor, settings=a.settings,
                                       log=log)
        pdaily = patterns.load_daily(a.pre_calibration)
        r.pre = patterns.validate_patterns(pdaily)
        if r.pre["last_day"] >= 1095:
            pbase = pdaily[pdaily["scenario"] == r.pre["scenarios"][0]]
            r.pre["distance"] = calibration.calibration_distance(pbase).iloc[0].to_dict()
        r.figs["pre"] = figures.plot_patterns(pdaily, a.fig_dir, "before_calibration")
        r.times["validation before calibration"] = _timing(
            patterns.batch_time(a.pre_calibration))
    if a.calibration:
        r.cal = calibration.calibrate(a.calibration)
        r.figs["cal"] = [figures.plot_calibration(r.cal, a.fig_dir)]
        r.times["calibration (`validation/calibration.toml`)"] = _timing(r.cal["time"])
    if a.sensitivity:
        _sensitivity(a, r, log)
    r.notes = summary_notes(r.cal, r.mor, r.sob, r.rob)
    write_report(r, a.doc)
    return a.doc, len(sum(r.figs.values(), []))


def _sensitivity(a: ValidationInputs, r: ReportInputs, log: Callable[[str], None]) -> None:
    assert a.sensitivity is not None
    mor = sensitivity.morris(a.sensitivity)
    r.mor = mor
    r.times["Morris screening (`validation/sensitivity.toml`)"] = _timing(mor["time"])
    tabs = mor["tables"]
    mor["top"] = sensitivity.influence(tabs, [k for k in tabs if k[0] == "baseline"
                                              and k[1] != "public_spend"])
    eff = [k for k in tabs if " - " in k[0]]
    if eff:
        mor["top_effect"] = sensitivity.influence(tabs, eff)
    r.figs["mor"] = [figures.plot_morris(mor, a.fig_dir)]
    byname = {f["name"]: f for f in mor["factors"]}
    top = [byname[n] for n in sensitivity.sobol_choice(tabs, mor["top"], a.sobol_factors)]
    root_seed = int(mor["experiment"]["root_seed"])
    sob_dir = a.sensitivity.parent / f"{a.sensitivity.name}_sobol"
    r.sob = sensitivity.run_sobol(sob_dir, top, n_base=a.sobol_n, days=a.sobol_days,
                                  warmup=30, seed=root_seed, executor=a.executor,
                                  settings=a.settings, log=log)
    r.times["Sobol (a `sobol` design run by `lifecircle validation`)"] = (
        f"{r.sob['runs']} runs of {a.sobol_days} days, "
        f"{_minutes(r.sob['timing'].get('wall_seconds', math.nan))} wall")
    r.figs["sob"] = [figures.plot_sobol(r.sob, a.fig_dir)]
    rank_src = mor.get("top_effect", mor["top"])
    rfac = [byname[n] for n in rank_src.index[:2]]
    rdir = a.sensitivity.parent / f"{a.sensitivity.name}_robustness"
    r.rob = sensitivity.run_robustness(rdir, rfac, replicates=a.robust_replicates,
                                       days=a.robust_days, warmup=30, root_seed=root_seed + 1,
                                       executor=a.executor, settings=a.settings,
                                       scenarios=a.robust_scenarios or None, log=log)
    r.rob.update(replicates=a.robust_replicates, days=a.robust_days, warmup=30)
    rt = [patterns.batch_time(rdir / s) for s in ("reference", "corners")]
    run_s = sum(x["run_seconds"] for x in rt)
    spec = a.executor
    local = 1 if spec.workers == 0 else None if spec.scheduler else spec.n_workers
    r.times["policy-ranking check (run by `lifecircle validation`)"] = (
        f"{int(sum(x['runs'] for x in rt))} runs of {a.robust_days} days, {_minutes(run_s)} of "
        "run time " + (f"(~{_minutes(run_s / local)} wall on {local} workers)" if local
                       else f"on the {spec.describe()}"))
    r.figs["rob"] = [figures.plot_robustness(r.rob, a.fig_dir)]
