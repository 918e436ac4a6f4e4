"""The run plan of an experiment, computed once: every (scenario, point, replicate) as a run.

A run id is a readable label plus a short hash of the exact labels
(``mobile_vendors__p0003__r002__1a2b3c4d``), so two scenarios whose names differ only in
characters a file name cannot hold (``"x y"`` and ``"x_y"``) still get distinct ids; a plan
whose ids collide anyway is refused before any run (:class:`PlanError`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from experiments.definition import Experiment
from experiments.outputs import label_hash, safe_name
from model.errors import ExperimentError

REFERENCE_POINT = -1
"""Point index of runs made at a scenario's own configuration (no factor applies to it)."""

MAX_RUNS = 1_000_000
"""Largest number of runs one experiment may plan."""


def run_id(scenario: str, point: int, replicate: int) -> str:
    """The stable, unique identifier of a run (also its file name stem)."""
    p = "ref" if point == REFERENCE_POINT else f"{point:04d}"
    return (f"{safe_name(scenario, 48)}__p{p}__r{replicate:03d}__"
            f"{label_hash(scenario, point, replicate)}")


@dataclass(frozen=True)
class RunSpec:
    """One planned run: a scenario at a design point with one replicate seed.

    Attributes:
        run_id: Unique identifier, also the file name of the run's results.
        scenario: Scenario label (its ``Scenario.name``).
        source: What to pass to ``load_scenario`` (a name or an absolute path).
        point: Design point index, or :data:`REFERENCE_POINT`.
        replicate: Replicate index (0-based).
        seed: The replicate's seed (shared by all scenarios and points).
        overrides: Overrides for ``load_scenario`` (settings plus applicable factors).
    """

    run_id: str
    scenario: str
    source: str
    point: int
    replicate: int
    seed: int
    overrides: dict[str, Any]

    def keys(self) -> dict[str, Any]:
        """The run's key values (the store's key columns)."""
        return {"scenario": self.scenario, "point": self.point, "replicate": self.replicate,
                "seed": self.seed}


@dataclass
class Plan:
    """Every run of an experiment, in a stable order (scenario, point, replicate).

    Attributes:
        runs: The planned runs.
        by_id: Run id -> run.
    """

    runs: list[RunSpec]
    by_id: dict[str, RunSpec] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {r.run_id: r for r in self.runs}

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[RunSpec]:
        return iter(self.runs)

    def keys(self) -> dict[str, dict[str, Any]]:
        """Run id -> key values (what the store verifies records against)."""
        return {r.run_id: r.keys() for r in self.runs}

    def rows(self) -> list[list[Any]]:
        """``[run_id, scenario, point, replicate, seed]`` per run (for the manifest)."""
        return [[r.run_id, r.scenario, r.point, r.replicate, r.seed] for r in self.runs]


def plan_size(experiment: Experiment) -> int:
    """Number of runs the experiment plans, computed without making them."""
    n_points = len(experiment.points)
    total = 0
    for scen in experiment.scenarios:
        applies = bool(experiment.applicable.get(scen)) or not experiment.factors
        total += (n_points if applies else 1) * experiment.replicates
    return total


def make_plan(experiment: Experiment) -> Plan:
    """Plan every run of ``experiment``.

    Raises:
        ExperimentError: More than :data:`MAX_RUNS` runs, or two runs with the same id.
    """
    size = plan_size(experiment)
    file = experiment.file or "<experiment>"
    if size > MAX_RUNS:
        raise ExperimentError(file, "replicates", f"the experiment plans {size:,} runs; at "
                              f"most {MAX_RUNS:,} (fewer points, scenarios or replicates)")
    seeds = experiment.seeds
    runs: list[RunSpec] = []
    for scen in experiment.scenarios:
        names = experiment.applicable.get(scen, [])
        if experiment.factors and not names:
            items: list[tuple[int, dict[str, Any]]] = [(REFERENCE_POINT, {})]
        else:
            items = [(i, {k: p[k] for k in names}) for i, p in enumerate(experiment.points)]
        for point, values in items:
            overrides = {**experiment.settings, **values}
            for rep, seed in enumerate(seeds):
                runs.append(RunSpec(run_id=run_id(scen, point, rep), scenario=scen,
                                    source=experiment.sources[scen], point=point,
                                    replicate=rep, seed=seed, overrides=overrides))
    plan = Plan(runs)
    if len(plan.by_id) != len(runs):
        seen: dict[str, RunSpec] = {}
        for r in runs:
            if r.run_id in seen:
                a, b = seen[r.run_id], r
                raise ExperimentError(file, "scenarios", "two runs would share the id "
                                      f"{r.run_id!r}: {json.dumps(a.keys())} and "
                                      f"{json.dumps(b.keys())}; rename a scenario")
            seen[r.run_id] = r
    return plan
