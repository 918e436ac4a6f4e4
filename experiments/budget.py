"""Will a batch fit this machine? Memory per run times concurrent runs, and total time.

Each scenario's footprint (``model.footprint.estimate``) is taken at its largest
configuration (its own and each factor's extreme values). Memory: the largest run times the
number of runs that run at once on this machine (the local workers; a Dask scheduler's
workers are elsewhere, so one run must fit here). Time: every planned run's estimate, divided
among the local workers. A batch over either limit is refused before anything runs, with the
figure and the override (``LIFECIRCLE_MAX_MEMORY_GB``, ``LIFECIRCLE_MAX_HOURS``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from experiments.definition import Experiment
from experiments.executors import ExecutorSpec
from experiments.plan import Plan
from model.errors import ExperimentError, ScenarioError
from model.footprint import Footprint, estimate, memory_limit, time_limit


@dataclass(frozen=True)
class Budget:
    """A batch's estimate.

    Attributes:
        largest: The footprint of the largest run.
        processes: Runs at once on this machine.
        memory_bytes: Peak memory of the batch on this machine.
        run_seconds: Sum of the runs' estimated times.
        wall_seconds: Estimated wall time (``None`` on a Dask scheduler: unknown workers).
        largest_scenario: The label of the scenario of the largest run.
    """

    largest: Footprint
    processes: int
    memory_bytes: float
    run_seconds: float
    wall_seconds: float | None
    largest_scenario: str = ""

    def describe(self) -> str:
        """One line for people."""
        wall = (f"~{self.wall_seconds / 3600:,.2f} h wall on {self.processes} process(es)"
                if self.wall_seconds is not None else "wall time depends on the cluster")
        return (f"largest run: {self.largest.describe()}; ~{self.memory_bytes / 1e9:.1f} GB "
                f"peak here; ~{self.run_seconds / 3600:,.2f} h of runs, {wall}")


def estimate_batch(experiment: Experiment, plan: Plan,
                   executor: ExecutorSpec | None = None) -> Budget:
    """The memory and time estimate of a planned batch."""
    worst: dict[str, Footprint] = {}
    for label, sizes in experiment.sizes.items():
        fps = [_estimate(experiment, label, i, p) for i, p in enumerate(sizes)]
        worst[label] = max(fps, key=lambda f: (f.memory_bytes, f.seconds_per_day))
        slowest = max(f.run_seconds(experiment.days) for f in fps)
        worst[label] = Footprint(**{**worst[label].__dict__,
                                    "seconds_per_day": slowest / max(1, experiment.days),
                                    "setup_seconds": 0.0})
    counts = Counter(r.scenario for r in plan)
    largest_scenario = max(worst, key=lambda s: worst[s].memory_bytes)
    largest = worst[largest_scenario]
    run_seconds = sum(worst[s].run_seconds(experiment.days) * n for s, n in counts.items()
                      if s in worst)
    spec = executor or ExecutorSpec()
    remote = bool(spec.scheduler)
    processes = 1 if remote or spec.workers == 0 else max(1, min(spec.n_workers, len(plan)))
    return Budget(largest=largest, processes=processes,
                  memory_bytes=largest.memory_bytes * processes, run_seconds=run_seconds,
                  wall_seconds=None if remote else run_seconds / processes,
                  largest_scenario=largest_scenario)


def _estimate(experiment: Experiment, label: str, i: int, params: Any) -> Footprint:
    """``estimate`` of one scenario's size (``i``: 0 its own, then each factor's extremes).

    A city that cannot be laid out (too many storefronts for a block) is an error naming the
    experiment file, the scenario and the key.
    """
    try:
        return estimate(params)
    except ScenarioError as err:
        if err.where != "params":
            raise
        if i == 0:
            raise ExperimentError(experiment.file or "<experiment>", "scenarios",
                                  f"{experiment.sources.get(label, label)}: {err.key}: "
                                  f"{err.problem} (with the experiment's settings)") from None
        raise ExperimentError(experiment.file or "<experiment>", err.key,
                              f"{err.problem} (scenario {label} at a factor's extreme value)"
                              ) from None


def check_budget(experiment: Experiment, plan: Plan,
                 executor: ExecutorSpec | None = None) -> Budget:
    """Refuse a batch that will not fit this machine (see the module docstring).

    Raises:
        ExperimentError: naming the experiment file, the figure and how to override it.
    """
    file = experiment.file or "<experiment>"
    try:
        b = estimate_batch(experiment, plan, executor)
        mem, hours = memory_limit(), time_limit()
    except ScenarioError as err:
        raise ExperimentError(file, err.where, err.problem) from None
    if b.memory_bytes > mem:
        label = b.largest_scenario
        source = experiment.sources.get(label, label)
        raise ExperimentError(file, "settings", f"{b.processes} run(s) at once of a city of "
                              f"{b.largest.describe()} (scenario {label!r}, {source}) need "
                              f"~{b.memory_bytes / 1e9:.1f} GB; this machine allows "
                              f"{mem / 1e9:.1f} GB. Use a smaller city (communities_x/y, "
                              "block_cells, residents per cell) or fewer --workers, or set "
                              "LIFECIRCLE_MAX_MEMORY_GB to override")
    if b.wall_seconds is not None and b.wall_seconds > hours:
        raise ExperimentError(file, "replicates", f"{len(plan):,} runs of {experiment.days:,} "
                              f"days are estimated to take ~{b.wall_seconds / 3600:,.1f} hours "
                              f"on {b.processes} process(es); the limit is {hours / 3600:,.3g} "
                              "hours. Plan fewer runs or days, add --workers or a Dask "
                              "cluster, or set LIFECIRCLE_MAX_HOURS to override")
    return b
