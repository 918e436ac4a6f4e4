"""Read a problem file and check everything before anything runs.

A problem file (keys in :mod:`experiments.optimize.keys`)::

    name = "budget_mix"
    scenario = "baseline"                 # the base scenario
    replicates = 3                        # seeds per mix (common random numbers)
    days = 365
    warmup = 60
    evaluations = 48
    population = 12

    [levers."policy.mobile_vendors.n_buses"]
    type = "integer"
    low = 0
    high = 2

    [levers."policy.elderly_canteen"]     # the whole policy, on or off
    type = "switch"

    [objectives.surplus_yuan]
    sense = "max"
    stat = "percentile"                   # cautious: the 10th percentile over seeds
    percentile = 10

    [objectives.public_spend_per_year]
    sense = "min"

    [constraints]
    budget_per_year = 1_000_000.0

    [[constraints.bounds]]
    metric = "coverage_basic_all_elderly"
    min = "baseline"

The first problem raises :class:`~model.errors.ExperimentError` naming the file, the key and
what is allowed: unknown keys ("did you mean"), values of the wrong type or out of range,
lever ranges outside what the policy or parameter allows, metrics the summary does not
report. The base scenario is loaded with its settings, every lever's lowest and highest
values are applied, and the city of the mix with every lever at its highest is built once,
so a lever range the city cannot hold (more canteens than storefronts) is refused before any
simulation runs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.definition import replicate_seeds, scenario_fingerprint
from experiments.keys import check_table
from experiments.loading import _flatten, _resolve_source, read_toml_file
from experiments.optimize.keys import ProblemKeys
from experiments.optimize.levers import Lever, apply_mix
from experiments.optimize.objectives import Bound, Objective
from experiments.optimize.parsing import (
    parse_constraints,
    parse_levels,
    parse_levers,
    parse_objectives,
)
from experiments.store import json_default
from model.errors import ExperimentError, LifecircleError, ScenarioError
from model.schema import declared_fields

IDENTITY_EXCLUDES = ("name", "description", "evaluations", "holdout_replicates",
                     "budget_levels")
"""Keys that do not change what the search asks or simulates: a folder may be resumed with
other values (more evaluations continue a finished search)."""


@dataclass
class Problem:
    """A validated problem (see the module docstring)."""

    name: str
    file: str
    description: str
    scenario: str
    settings: dict[str, Any]
    levers: tuple[Lever, ...]
    objectives: tuple[Objective, ...]
    bounds: tuple[Bound, ...]
    replicates: int
    days: int
    warmup: int
    root_seed: int
    seed: int
    evaluations: int
    population: int
    first_generation: str
    holdout_replicates: int
    budget_levels: tuple[float, ...]
    base_hash: str = ""
    base: Any = field(default=None, repr=False)

    @property
    def seeds(self) -> list[int]:
        """The seeds every mix is evaluated on."""
        return replicate_seeds(self.root_seed, self.replicates)

    @property
    def holdout_seeds(self) -> list[int]:
        """Fresh seeds for the out-of-sample check (spawned after the search's: never seen)."""
        return replicate_seeds(self.root_seed, self.replicates + self.holdout_replicates
                               )[self.replicates:]

    @property
    def budget(self) -> float | None:
        """The budget per year, if the problem has one."""
        for b in self.bounds:
            if b.name == "budget_per_year":
                return float(b.high)  # type: ignore[arg-type]
        return None

    def definition(self) -> dict[str, Any]:
        """The resolved problem, as saved in the manifest."""
        return {
            "name": self.name, "description": self.description,
            "scenario": Path(self.scenario).name if self.scenario.endswith(".toml")
            else self.scenario,
            "base_hash": self.base_hash, "settings": dict(sorted(self.settings.items())),
            "levers": [lv.to_dict() for lv in self.levers],
            "objectives": [o.to_dict() for o in self.objectives],
            "bounds": [b.to_dict() for b in self.bounds],
            "replicates": self.replicates, "days": self.days, "warmup": self.warmup,
            "root_seed": self.root_seed, "seed": self.seed, "evaluations": self.evaluations,
            "population": self.population, "first_generation": self.first_generation,
            "holdout_replicates": self.holdout_replicates,
            "budget_levels": list(self.budget_levels),
        }

    def identity_hash(self) -> str:
        """Hash of what determines the search's asks and runs (see :data:`IDENTITY_EXCLUDES`)."""
        d = {k: v for k, v in self.definition().items() if k not in IDENTITY_EXCLUDES}
        blob = json.dumps(d, sort_keys=True, default=json_default)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_problem(path: str | Path) -> Problem:
    """Read and validate a problem file (see the module docstring).

    Raises:
        ExperimentError: On the first problem, naming the file, the key and what is allowed.
    """
    path = Path(path)
    data = read_toml_file(path, "a problem file")
    return problem_from_dict(data, file=str(path), base_dir=path.parent, default_name=path.stem)


def problem_from_dict(data: dict[str, Any], *, file: str = "<problem>",
                      base_dir: Path | None = None, default_name: str = "problem",
                      build_check: bool = True) -> Problem:
    """Validate a problem given as a dict (the parsed TOML).

    Args:
        data: The parsed problem table.
        file: Name used in error messages.
        base_dir: Folder against which a relative scenario path is resolved.
        default_name: Name when the table has none.
        build_check: Build the city of the mix with every lever at its highest.

    Raises:
        ExperimentError: On the first problem.
    """
    from model import load_scenario

    given = check_table(file, ProblemKeys, data)
    # every key at its declared default unless the file gives it (defaults live in keys.py)
    top = {name: f.default for name, f in declared_fields(ProblemKeys).items()} | given
    name = top.get("name") or default_name
    if not all(c.isascii() and (c.isalnum() or c in "_-") for c in name) or len(name) > 64:
        raise ExperimentError(file, "name", f"{name!r}: use up to 64 letters, digits, '_' and '-'")
    for key in ("scenario", "levers", "objectives"):
        if not top.get(key):
            raise ExperimentError(file, key, "missing; see docs/OPTIMIZE.md for a problem file")
    days, warmup = top["days"], top["warmup"]
    if warmup >= days:
        raise ExperimentError(file, "warmup", f"{warmup} must be smaller than days ({days})")
    settings = top["settings"] or {}
    if not isinstance(settings, dict):
        raise ExperimentError(file, "settings", "must be a table of overrides")
    settings = _flatten(settings)
    source = _resolve_source(top["scenario"], base_dir)
    try:
        base = load_scenario(source, settings or None)
    except ScenarioError as err:
        key = "settings" if settings and "overrides" in err.where else "scenario"
        raise ExperimentError(file, key, str(err)) from None
    levers = parse_levers(file, top["levers"], base)
    objectives = parse_objectives(file, top["objectives"])
    bounds = parse_constraints(file, top["constraints"] or {})
    budget = next((float(b.high) for b in bounds if b.name == "budget_per_year"), None)
    levels = parse_levels(file, top.get("budget_levels"), budget)
    problem = Problem(
        name=name, file=file, description=top["description"], scenario=source,
        settings=settings, levers=levers, objectives=objectives, bounds=bounds,
        replicates=top["replicates"], days=days, warmup=warmup,
        root_seed=top["root_seed"], seed=top["seed"],
        evaluations=top["evaluations"], population=top["population"],
        first_generation=top["first_generation"],
        holdout_replicates=top["holdout_replicates"], budget_levels=levels,
        base_hash=scenario_fingerprint(base), base=base)
    _check_corners(problem, build_check)
    return problem


def _check_corners(problem: Problem, build_check: bool) -> None:
    """Apply the levers' lowest and highest values; build the highest mix's city once."""
    from model import CommerceModel
    from model.footprint import check_fits

    file = problem.file
    corners = [{lv.name: lv.corner(high) for lv in problem.levers} for high in (False, True)]
    scenarios = []
    for mix in corners:
        try:
            scenarios.append(apply_mix(problem.base, problem.levers, mix))
        except ScenarioError as err:
            raise ExperimentError(file, _lever_key(problem, err.key), str(err)) from None
    for sc in scenarios:
        try:
            check_fits(sc.params, file)
        except ScenarioError as err:
            raise ExperimentError(file, "settings", err.problem) from None
    if build_check:
        try:
            CommerceModel(scenarios[1], rng=problem.root_seed)
        except LifecircleError as err:
            raise ExperimentError(file, _lever_key(problem, getattr(err, "key", "")),
                                  f"the mix with every lever at its highest cannot be built: "
                                  f"{err}") from None


def _lever_key(problem: Problem, key: str) -> str:
    """The problem-file key of the lever a scenario error names (else ``levers``)."""
    for lv in sorted(problem.levers, key=lambda lv: -len(lv.name)):
        if key == lv.name or key.startswith(lv.name + "."):
            return f'levers."{lv.name}".high'
    return "levers"
