"""A validated experiment: what to run, and the hash that identifies it.

An experiment file (TOML) names the scenarios to compare, how many replicates, how many days
and how many warm-up days, the metrics to compare and the root seed. Optional factors are
split into **levers** (what a policy maker controls) and **uncertainties** (what nobody
controls); a ``[design]`` table says how they are sampled. ``experiments/README.md`` shows a
file; :mod:`experiments.keys` declares every key; :mod:`experiments.loading` reads and checks
a file into an :class:`Experiment`; :mod:`experiments.plan` turns it into runs.

Factor keys of the form ``policy.<kind>.<param>`` apply only to scenarios that have a policy
of that kind; every other key applies to every scenario. A scenario to which no factor applies
is run once per replicate at the reference point ``-1`` (its own configuration), and serves as
the comparison for every design point.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from experiments.design import Factor
from experiments.store import json_default


def replicate_seeds(root_seed: int, replicates: int) -> list[int]:
    """One seed per replicate spawned from the root seed (numpy ``SeedSequence.spawn``).

    Returns:
        Non-negative integers below 2**63, the same for every scenario and point (common
        random numbers); the first ``k`` seeds do not depend on ``replicates``.
    """
    children = np.random.SeedSequence(root_seed).spawn(replicates)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


#: Keys of a scenario's resolved configuration that say where files live, not what they hold.
LOCATION_KEYS = frozenset({"where", "source", "path", "file", "routes_file"})


@dataclass
class Experiment:
    """A validated experiment.

    Attributes:
        name: Experiment name (results go to ``results/<name>``).
        file: The file it was read from (``None`` when built in code).
        description: Free text.
        scenarios: Scenario labels, in file order.
        sources: Scenario label -> source passed to ``load_scenario``.
        baseline: Label of the comparison scenario.
        compare_with: Label -> the scenario its report compares it with, where that is not
            the baseline.
        replicates: Number of replicates per (scenario, point).
        days: Days simulated per run.
        warmup: Days discarded before measuring.
        root_seed: Root of the replicate seeds.
        metrics: Metrics compared in the report.
        settings: Fixed overrides for every run.
        method: Design method (``"none"``, ``"grid"``, ``"lhs"``, ``"morris"``, ``"sobol"``).
        design: Design parameters (samples, trajectories, levels, second_order, seed).
        factors: Levers first, then uncertainties.
        points: Design points, each a dict factor name -> value.
        scenario_configs: Label -> ``Scenario.to_dict()`` with the settings applied.
        scenario_hashes: Label -> scenario fingerprint (settings applied, locations dropped).
        applicable: Label -> names of the factors that apply to that scenario.
        sizes: Label -> the parameters (``model.params.Params``) of the scenario at its own
            configuration and at each factor's extreme values (for the footprint estimate).
    """

    name: str
    file: str | None
    description: str
    scenarios: list[str]
    sources: dict[str, str]
    baseline: str
    replicates: int
    days: int
    warmup: int
    root_seed: int
    metrics: list[str]
    settings: dict[str, Any]
    method: str
    design: dict[str, Any]
    factors: list[Factor]
    points: list[dict[str, Any]]
    scenario_configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    scenario_hashes: dict[str, str] = field(default_factory=dict)
    applicable: dict[str, list[str]] = field(default_factory=dict)
    sizes: dict[str, list[Any]] = field(default_factory=dict, repr=False)
    compare_with: dict[str, str] = field(default_factory=dict)

    @property
    def seeds(self) -> list[int]:
        """Replicate seeds spawned from the root seed (shared by every scenario)."""
        return replicate_seeds(self.root_seed, self.replicates)

    @property
    def levers(self) -> list[Factor]:
        """The factors a policy controls."""
        return [f for f in self.factors if f.role == "lever"]

    @property
    def uncertainties(self) -> list[Factor]:
        """The factors nobody controls."""
        return [f for f in self.factors if f.role == "uncertainty"]

    def definition(self) -> dict[str, Any]:
        """The resolved definition (what the config hash covers)."""
        return {
            "name": self.name,
            "scenarios": [[s, self.sources_for_hash()[s]] for s in self.scenarios],
            "baseline": self.baseline,
            "replicates": self.replicates,
            "days": self.days,
            "warmup": self.warmup,
            "root_seed": self.root_seed,
            "metrics": list(self.metrics),
            "settings": dict(sorted(self.settings.items())),
            "method": self.method,
            "design": dict(sorted(self.design.items())),
            "factors": [f.to_dict() for f in self.factors],
            "points": self.points,
            "scenario_hashes": dict(sorted(self.scenario_hashes.items())),
            **({"compare_with": dict(sorted(self.compare_with.items()))}
               if self.compare_with else {}),
        }

    def sources_for_hash(self) -> dict[str, str]:
        """Scenario sources as written (paths reduced to file names, so moving is harmless)."""
        return {s: (Path(v).name if v.endswith(".toml") else v) for s, v in self.sources.items()}

    def resolved_config(self) -> dict[str, Any]:
        """The definition plus every scenario's resolved configuration."""
        out = self.definition()
        out["description"] = self.description
        out["scenario_configs"] = self.scenario_configs
        return out

    def config_hash(self) -> str:
        """A hex hash of the resolved definition and the scenarios' config hashes."""
        text = json.dumps(self.definition(), sort_keys=True, default=json_default)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _strip_locations(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_locations(v) for k, v in obj.items() if k not in LOCATION_KEYS}
    if isinstance(obj, list | tuple):
        return [_strip_locations(v) for v in obj]
    return obj


def scenario_fingerprint(scenario: Any) -> str:
    """Hash of a scenario's resolved configuration, ignoring where its files live.

    ``Scenario.to_dict()`` records file locations (the file a policy came from, a routes
    file's path); they are dropped -- what those files hold is part of the configuration
    -- so that a results folder can be resumed from a moved checkout and cluster workers with
    other mount points agree.

    Args:
        scenario: A ``model.Scenario``.

    Returns:
        A 16-digit hex string.
    """
    blob = json.dumps(_strip_locations(scenario.to_dict()), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
