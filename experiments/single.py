"""``lifecircle run``: one scenario, one seed, written as a folder of three files.

``daily.parquet`` (the daily metrics), ``summary.parquet`` (one row:
:func:`experiments.summary.summarize_run`, the same as an experiment's) and
``config.json`` (resolved configuration and its hash, seed, days, overrides, code version,
policies, run time). Everything is checked before the simulation starts; the files are
written into a hidden partial folder beside the output and moved into place only when
complete, so an interrupted run leaves no folder that looks complete (and the partial
folders of dead processes are removed by the next run).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.execute import simulate_run
from experiments.outputs import (
    check_output_dir,
    clean_stale_partials,
    move_into_place,
    partial_dir,
    safe_name,
)
from experiments.provenance import code_version
from experiments.summary import summarize_run
from model.errors import OutputError

WRITER = "lifecircle run"
RUN_PATTERNS = ("daily.parquet", "summary.parquet", "config.json")


def default_out(scenario_name: str, seed: int) -> Path:
    """``results/run_<scenario>_seed<seed>`` (the name made safe for a file name)."""
    return Path("results") / f"run_{safe_name(scenario_name)}_seed{seed}"


@dataclass
class RunResult:
    """What ``lifecircle run`` made.

    Attributes:
        out: The output folder.
        daily: The daily metrics.
        summary: The summary row.
        residents: Residents present on the last day.
        runtime: Seconds.
    """

    out: Path
    daily: pd.DataFrame
    summary: dict[str, Any]
    residents: int
    runtime: float


def run_single(scenario: Any, seed: int, days: int, warmup: int, out: Path, *,
               force: bool = False, overrides: dict[str, Any] | None = None,
               on_day: Callable[[int], None] | None = None) -> RunResult:
    """Run a validated scenario and write its folder.

    Args:
        scenario: A validated ``model.Scenario``.
        seed: The model's seed.
        days: Days to simulate.
        warmup: Days left out of the summary's means.
        out: Output folder.
        force: Replace an earlier run folder there (only one lifecircle wrote).
        overrides: The overrides applied (recorded in ``config.json``).
        on_day: Called after each day (a progress bar).

    Raises:
        OutputError: ``out`` is refused (checked before the simulation), or a file cannot
            be written (a full disk); nothing is left half-written.
        KeyboardInterrupt: The partial folder is removed first.
    """
    check_output_dir(out, force=force, writer=WRITER, patterns=RUN_PATTERNS)
    clean_stale_partials(out.parent)
    started = time.time()
    try:
        tmp = partial_dir(out, WRITER)
    except OSError as exc:
        raise OutputError(out.parent, "", f"cannot write: {exc.strerror or exc}") from None
    try:
        model, daily = simulate_run(scenario, seed, days, on_day)
        warmup = min(warmup, days - 1)
        summary = {"scenario": scenario.name, "seed": seed, "days": days, "warmup": warmup,
                   **summarize_run(daily, warmup)}
        config = {"scenario": scenario.to_dict(), "config_hash": scenario.config_hash(),
                  "seed": seed, "days": days, "warmup": warmup, "overrides": overrides or {},
                  "code_version": code_version(),
                  "policies": [repr(p) for p in model.policies],
                  "runtime_s": round(time.time() - started, 2)}
        _write(tmp, daily, summary, config)
        move_into_place(tmp, out, force=force, writer=WRITER, patterns=RUN_PATTERNS)
    except OutputError:
        raise
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        where = exc.filename or tmp
        raise OutputError(out, "", f"could not write {where}: {exc.strerror or exc}; "
                          "nothing was written") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return RunResult(out=out, daily=daily, summary=summary,
                     residents=len(model.present_idx), runtime=config["runtime_s"])


def _write(folder: Path, daily: pd.DataFrame, summary: dict[str, Any],
           config: dict[str, Any]) -> None:
    daily.to_parquet(folder / "daily.parquet", index=False)
    pd.DataFrame([summary]).to_parquet(folder / "summary.parquet", index=False)
    (folder / "config.json").write_text(json.dumps(config, indent=2, default=str),
                                        encoding="utf-8")
