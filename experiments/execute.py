"""One simulation run: a scenario, a seed, a number of days -> its daily series.

:func:`simulate_run` is the one way lifecircle runs a scenario (``lifecircle run``, every
experiment run, the validation); :func:`execute_run` wraps it for executors: it is a top-level
function (any executor can pickle it), never raises, and checks that the worker resolves the
scenario to the configuration the batch validated.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from experiments.plan import RunSpec
from experiments.provenance import now


def simulate_run(scenario: Any, seed: int, days: int,
                 on_day: Callable[[int], None] | None = None) -> tuple[Any, pd.DataFrame]:
    """Build the model, run ``days`` days and return it with its daily metrics.

    Args:
        scenario: A scenario name, path or ``Scenario``.
        seed: The model's seed.
        days: Days to simulate.
        on_day: Called after each day with the day number (e.g. a progress bar).

    Returns:
        The model after the last day, and its daily metrics (column ``day`` = 1..days first).
    """
    from model import CommerceModel

    model = CommerceModel(scenario=scenario, rng=seed)
    for day in range(1, days + 1):
        model.step()
        if on_day is not None:
            on_day(day)
    daily = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    daily.insert(0, "day", np.arange(1, len(daily) + 1))
    return model, pd.DataFrame(daily)


@dataclass(frozen=True)
class RunTask:
    """What a worker needs for one run (picklable).

    Attributes:
        spec: The planned run.
        days: Days to simulate.
        expected_hash: Scenario fingerprint the batch validated for this scenario and
            overrides (``""`` to skip the check).
    """

    spec: RunSpec
    days: int
    expected_hash: str = ""


def execute_run(task: RunTask) -> dict[str, Any]:
    """Run one simulation and never raise.

    Returns:
        ``status`` (``"ok"`` or ``"failed"``), ``error`` (traceback text or ``""``),
        ``runtime`` (seconds), ``started_at``, ``finished_at``, ``worker``, ``daily``
        (DataFrame or ``None``) and ``scenario_hash``.
    """
    from experiments.definition import scenario_fingerprint

    started = now()
    t0 = time.perf_counter()
    out: dict[str, Any] = {"status": "ok", "error": "", "daily": None, "scenario_hash": "",
                           "worker": f"{socket.gethostname()}:{os.getpid()}"}
    try:
        from model import load_scenario

        spec = task.spec
        scenario = load_scenario(spec.source, dict(spec.overrides))
        out["scenario_hash"] = scenario_fingerprint(scenario)
        if task.expected_hash and out["scenario_hash"] != task.expected_hash:
            raise RuntimeError(
                f"scenario {spec.scenario!r} resolves to config hash {out['scenario_hash']} "
                f"on this worker but {task.expected_hash} where the batch was validated: "
                "workers must use the same scenario files and code")
        _, out["daily"] = simulate_run(scenario, spec.seed, task.days)
    except Exception:  # noqa: BLE001 - recorded, the batch goes on
        out["status"] = "failed"
        out["error"] = traceback.format_exc()
    out["runtime"] = time.perf_counter() - t0
    out["started_at"] = started
    out["finished_at"] = now()
    return out


def failed_result(exc: BaseException) -> dict[str, Any]:
    """The result of a run whose worker died (the executor raised instead of returning)."""
    return {"status": "failed", "runtime": float("nan"), "daily": None, "scenario_hash": "",
            "error": "".join(traceback.format_exception(exc)), "started_at": "",
            "finished_at": now(), "worker": ""}
