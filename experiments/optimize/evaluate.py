"""One simulation of one mix on one seed, run on any executor; and the ids that name it.

A mix is identified by its scenario's fingerprint (``candidate``): two mixes that resolve to
the same scenario are the same candidate and share their runs. A run is (candidate, seed,
days); its id is ``<candidate>_r<replicate>_<hash>`` (a plain file name), and the store keys
are ``candidate``, ``replicate`` and ``seed``.

:func:`evaluate_run` is a top-level function (any executor pickles it) that never raises: a
mix the model refuses when the city is built (more canteens than storefronts) is recorded as
failed with ``error_kind = "scenario"`` -- an infeasible mix, not a broken search -- and any
other exception with ``error_kind = "crash"``.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from dataclasses import dataclass
from typing import Any

from experiments.execute import simulate_run
from experiments.outputs import label_hash
from experiments.provenance import now

KEY_COLUMNS: tuple[str, ...] = ("candidate", "replicate", "seed")
"""The store's key columns of a search's runs."""


def run_id(candidate: str, replicate: int, seed: int, days: int) -> str:
    """The id (and file name stem) of one run of a candidate."""
    return f"{candidate}_r{replicate:03d}_{label_hash(candidate, seed, days)}"


@dataclass(frozen=True)
class EvalTask:
    """What a worker needs for one run (picklable).

    Attributes:
        run_id: The run's id.
        candidate: The mix's scenario fingerprint.
        replicate: Replicate index (search seeds first, then the out-of-sample seeds).
        seed: The model's seed.
        days: Days to simulate.
        scenario: The mix's resolved ``model.Scenario``.
    """

    run_id: str
    candidate: str
    replicate: int
    seed: int
    days: int
    scenario: Any

    def keys(self) -> dict[str, Any]:
        """The run's key values (the store's key columns)."""
        return {"candidate": self.candidate, "replicate": self.replicate, "seed": self.seed}


def evaluate_run(task: EvalTask) -> dict[str, Any]:
    """Simulate one mix on one seed; never raise.

    Returns:
        ``status`` (``"ok"`` or ``"failed"``), ``error`` (traceback text), ``error_kind``
        (``""``, ``"scenario"`` or ``"crash"``), ``daily`` (DataFrame or ``None``),
        ``runtime``, ``started_at``, ``finished_at``, ``worker``.
    """
    from experiments.definition import scenario_fingerprint
    from model.errors import LifecircleError

    started = now()
    t0 = time.perf_counter()
    out: dict[str, Any] = {"status": "ok", "error": "", "error_kind": "", "daily": None,
                           "worker": f"{socket.gethostname()}:{os.getpid()}"}
    try:
        got = scenario_fingerprint(task.scenario)
        if got != task.candidate:
            raise RuntimeError(f"the mix's scenario arrived with fingerprint {got}, expected "
                               f"{task.candidate}: workers must run the same code")
        _, out["daily"] = simulate_run(task.scenario, task.seed, task.days)
    except LifecircleError:
        out.update(status="failed", error=traceback.format_exc(), error_kind="scenario")
    except Exception:  # noqa: BLE001 - recorded; the search goes on
        out.update(status="failed", error=traceback.format_exc(), error_kind="crash")
    out["runtime"] = time.perf_counter() - t0
    out["started_at"] = started
    out["finished_at"] = now()
    return out
