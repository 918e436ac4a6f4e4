"""Experiment files: schema, validation and the resolved plan of runs.

An experiment file (TOML) names the scenarios to compare, how many replicates, how many days
and how many warm-up days, the metrics to compare and the root seed. Optional factors are
split into **levers** (what a policy maker controls, e.g. a chain-rate target or a subsidy
share) and **uncertainties** (what nobody controls, e.g. rents or walking speeds); a
``[design]`` table says how the factors are sampled (grid, Latin hypercube or Morris
trajectories). Example::

    name = "sweep_chain_subsidy"
    scenarios = ["baseline", "combined"]
    baseline = "baseline"
    replicates = 5
    days = 240
    warmup = 60
    root_seed = 20240501
    metrics = ["share_satisfied", "coverage_basic_all"]

    [settings]                      # fixed overrides for every run
    communities_x = 3

    [design]
    method = "grid"                 # "grid", "lhs" or "morris"

    [levers."policy.chain_penetration.target_rate"]
    values = [0.3, 0.4, 0.5]

    [uncertainties.rent_level]
    low = 0.8
    high = 1.2

Every key is checked before anything runs; the first problem raises :class:`ExperimentError`
naming the file, the key, the value and what is allowed. Scenario names and override keys are
checked by the model's own ``load_scenario`` so the experiment accepts exactly what scenario
files accept.

Factor keys of the form ``policy.<kind>.<param>`` apply only to scenarios that have a policy
of that kind; every other key applies to every scenario. A scenario to which no factor applies
is run once per replicate at the reference point ``-1`` (its own configuration), and serves as
the comparison for every design point.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model.errors import ExperimentError

#: Point index of runs made at a scenario's own configuration (no factor applies to it).
REFERENCE_POINT = -1

#: Service categories of the model (``coverage_<category>`` metrics).
CATEGORIES: tuple[str, ...] = (
    "convenience", "fresh_food", "breakfast", "repair", "pharmacy", "parcel", "hair",
    "laundry", "canteen", "elderly_care", "childcare", "fitness", "dining",
)

#: Daily metric columns that ``model.simulate`` returns (besides ``day``).
KNOWN_METRICS: tuple[str, ...] = (
    "satisfaction_mean", "share_satisfied", "share_satisfied_old", "share_satisfied_new",
    "share_satisfied_elderly", "share_satisfied_nonelderly",
    *(f"coverage_{c}" for c in CATEGORIES),
    "coverage_basic_all", "coverage_basic_all_old", "coverage_basic_all_new",
    "coverage_basic_all_elderly", "coverage_basic_all_nonelderly",
    "unmet_rate", "mean_walk_min", "chain_rate", "outlets_open", "outlets_opened",
    "outlets_closed", "public_spend", "gini_satisfaction", "gini_access", "residents",
    "residents_per_outlet", "occupancy_new", "entrant_closed_2y",
)


def known_metrics() -> tuple[str, ...]:
    """Metric names runs report: ``model.METRIC_NAMES`` if the model exports it, else ours."""
    try:
        import model

        names = getattr(model, "METRIC_NAMES", None)
    except ImportError:  # pragma: no cover
        names = None
    return tuple(names) if names else KNOWN_METRICS

DEFAULT_METRICS: tuple[str, ...] = (
    "share_satisfied", "satisfaction_mean", "coverage_basic_all", "unmet_rate",
    "mean_walk_min", "chain_rate", "gini_access",
)

DESIGN_METHODS = ("grid", "lhs", "morris")

_TOP_KEYS = {
    "name": "a short name (letters, digits, '_' and '-'); default: the file name",
    "description": "free text",
    "scenarios": "a list of scenario names or scenario file paths",
    "baseline": "the scenario the others are compared with (default: the first)",
    "replicates": "an integer >= 1",
    "days": "an integer >= 1",
    "warmup": "an integer >= 0 and < days",
    "root_seed": "an integer >= 0",
    "metrics": "a list of metric names",
    "settings": "a table of fixed overrides applied to every run",
    "design": "a table: method, samples, trajectories, levels, seed",
    "levers": "a table of factors a policy controls",
    "uncertainties": "a table of factors nobody controls",
}
_DESIGN_KEYS = {
    "method": "one of " + ", ".join(DESIGN_METHODS),
    "samples": "lhs: number of points (integer >= 2)",
    "trajectories": "morris: number of trajectories (integer >= 2)",
    "levels": "morris: number of grid levels (even integer >= 2)",
    "seed": "seed of the design sampling (integer >= 0; default: root_seed)",
}
_FACTOR_KEYS = {
    "values": "grid: a list of values",
    "low": "lower bound (number)",
    "high": "upper bound (number, > low)",
    "steps": "grid with low/high: number of evenly spaced values (integer >= 2)",
    "description": "free text",
}


@dataclass(frozen=True)
class Factor:
    """One varied parameter of an experiment.

    Attributes:
        name: Override key (flat parameter, ``categories.<cat>.<field>`` or
            ``policy.<kind>.<param>``).
        role: ``"lever"`` or ``"uncertainty"``.
        values: Explicit grid values (or ``None`` when bounds are given).
        low: Lower bound for sampled designs.
        high: Upper bound for sampled designs.
        integer: Whether values are rounded to integers (both bounds given as integers).
        description: Free text.

    """

    name: str
    role: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    integer: bool = False
    description: str = ""

    @property
    def policy_kind(self) -> str | None:
        """The policy kind for ``policy.<kind>.<param>`` keys, else ``None``."""
        parts = self.name.split(".")
        return parts[1] if len(parts) == 3 and parts[0] == "policy" else None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serializable description."""
        return {
            "name": self.name, "role": self.role,
            "values": list(self.values) if self.values is not None else None,
            "low": self.low, "high": self.high, "integer": self.integer,
        }


@dataclass(frozen=True)
class RunSpec:
    """One planned run: a scenario at a design point with one replicate seed.

    Attributes:
        run_id: Stable identifier, also the file name of the run's results.
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
        replicates: Number of replicates per (scenario, point).
        days: Days simulated per run.
        warmup: Days discarded before measuring.
        root_seed: Root of the replicate seeds.
        metrics: Metrics compared in the report.
        settings: Fixed overrides for every run.
        method: Design method (``"none"``, ``"grid"``, ``"lhs"``, ``"morris"``).
        design: Design parameters (samples, trajectories, levels, seed).
        factors: Levers first, then uncertainties.
        points: Design points, each a dict factor name -> value.
        scenario_configs: Label -> ``Scenario.to_dict()`` with the settings applied.
        scenario_hashes: Label -> scenario fingerprint (settings applied, locations dropped).
        applicable: Label -> names of the factors that apply to that scenario.

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
        """Return the resolved definition (what the config hash covers)."""
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
        }

    def sources_for_hash(self) -> dict[str, str]:
        """Scenario sources as written (paths reduced to file names, so moving is harmless)."""
        return {s: (Path(v).name if v.endswith(".toml") else v) for s, v in self.sources.items()}

    def resolved_config(self) -> dict[str, Any]:
        """Return the definition plus every scenario's resolved configuration."""
        out = self.definition()
        out["description"] = self.description
        out["scenario_configs"] = self.scenario_configs
        return out

    def config_hash(self) -> str:
        """Return a hex hash of the resolved definition and the scenarios' config hashes."""
        text = json.dumps(self.definition(), sort_keys=True, default=_json_default)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def runs(self) -> list[RunSpec]:
        """Return every planned run, in a stable order (scenario, point, replicate)."""
        seeds = self.seeds
        out: list[RunSpec] = []
        for scen in self.scenarios:
            names = self.applicable.get(scen, [])
            if self.factors and not names:
                point_items: list[tuple[int, dict[str, Any]]] = [(REFERENCE_POINT, {})]
            else:
                point_items = [(i, {k: p[k] for k in names}) for i, p in enumerate(self.points)]
            for point, values in point_items:
                overrides = {**self.settings, **values}
                for rep, seed in enumerate(seeds):
                    out.append(RunSpec(
                        run_id=run_id(scen, point, rep), scenario=scen,
                        source=self.sources[scen], point=point, replicate=rep, seed=seed,
                        overrides=overrides,
                    ))
        return out


_LOCATION_KEYS = frozenset({"where", "source", "path", "file"})


def _strip_locations(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_locations(v) for k, v in obj.items() if k not in _LOCATION_KEYS}
    if isinstance(obj, list | tuple):
        return [_strip_locations(v) for v in obj]
    return obj


def scenario_fingerprint(scenario: Any) -> str:
    """Hash of a scenario's resolved configuration, ignoring where its files live.

    ``Scenario.to_dict()`` may record file locations (e.g. the file a policy came from);
    they are dropped so that a results folder can be resumed from a moved checkout and
    cluster workers with other mount points agree.

    Args:
        scenario: A ``model.Scenario``.

    Returns:
        A 16-digit hex string.
    """
    blob = json.dumps(_strip_locations(scenario.to_dict()), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON-serializable: {type(obj).__name__}")


def run_id(scenario: str, point: int, replicate: int) -> str:
    """Return the stable identifier of a run (also its file name stem)."""
    safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in scenario)
    p = "ref" if point == REFERENCE_POINT else f"{point:04d}"
    return f"{safe}__p{p}__r{replicate:03d}"


def replicate_seeds(root_seed: int, replicates: int) -> list[int]:
    """Spawn one seed per replicate from the root seed (numpy ``SeedSequence.spawn``).

    Args:
        root_seed: The experiment's root seed.
        replicates: How many seeds.

    Returns:
        Non-negative integers below 2**63, the same for every scenario and point.

    """
    children = np.random.SeedSequence(root_seed).spawn(replicates)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]


# ---------------------------------------------------------------------------------- loading


def _suggest(word: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _check_keys(file: str, prefix: str, table: dict[str, Any], allowed: dict[str, str]) -> None:
    for key in table:
        if key not in allowed:
            listing = ", ".join(sorted(allowed))
            raise ExperimentError(
                file, prefix + key,
                f"unknown key{_suggest(key, allowed)}; allowed keys: {listing}",
            )


def _int(file: str, key: str, value: Any, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ExperimentError(file, key, f"{value!r} is not an integer; expected {_rng(lo, hi)}")
    if value < lo or (hi is not None and value > hi):
        raise ExperimentError(file, key, f"{value!r} is out of range; expected {_rng(lo, hi)}")
    return value


def _rng(lo: int, hi: int | None) -> str:
    return f"an integer >= {lo}" if hi is None else f"an integer in [{lo}, {hi}]"


def _number(file: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ExperimentError(file, key, f"{value!r} is not a finite number")
    return value


def _str_list(file: str, key: str, value: Any, allow_empty: bool = False) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ExperimentError(file, key, f"{value!r} is not a list of strings")
    if not value and not allow_empty:
        raise ExperimentError(file, key, "the list is empty; name at least one")
    dup = [v for v in value if value.count(v) > 1]
    if dup:
        raise ExperimentError(file, key, f"{dup[0]!r} is listed twice")
    return list(value)


def load_experiment(
    path: str | Path,
    *,
    resolver: Callable[..., Any] | None = None,
) -> Experiment:
    """Read and validate an experiment file.

    Args:
        path: The TOML file.
        resolver: ``load_scenario``-like callable used to check scenarios and overrides
            (default: ``model.load_scenario``).

    Returns:
        The validated experiment, with its design points and the scenarios' resolved
        configurations.

    Raises:
        ExperimentError: On the first problem, naming file, key and what is allowed.

    """
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise ExperimentError(file, "", "no such experiment file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentError(file, "", f"not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ExperimentError(file, "", f"not UTF-8 text: {exc}") from exc
    return experiment_from_dict(data, file=file, base_dir=path.parent, default_name=path.stem,
                                resolver=resolver)


def experiment_from_dict(
    data: dict[str, Any],
    *,
    file: str = "<experiment>",
    base_dir: Path | None = None,
    default_name: str = "experiment",
    resolver: Callable[..., Any] | None = None,
) -> Experiment:
    """Validate an experiment given as a dict (the parsed TOML).

    Args:
        data: The parsed experiment table.
        file: Name used in error messages.
        base_dir: Directory against which relative scenario paths are resolved.
        default_name: Name when the table has none.
        resolver: ``load_scenario``-like callable (default: ``model.load_scenario``).

    Returns:
        The validated experiment.

    Raises:
        ExperimentError: On the first problem.

    """
    _check_keys(file, "", data, _TOP_KEYS)
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ExperimentError(file, "name", f"{name!r}: use letters, digits, '_' and '-'")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ExperimentError(file, "description", f"{description!r} is not a string")
    if "scenarios" not in data:
        raise ExperimentError(file, "scenarios", "missing; list the scenarios to compare")
    scen_sources = _str_list(file, "scenarios", data["scenarios"])
    replicates = _int(file, "replicates", data.get("replicates", 10), 1, 100_000)
    days = _int(file, "days", data.get("days", 365), 1, 36_500)
    warmup = _int(file, "warmup", data.get("warmup", 0), 0)
    if warmup >= days:
        raise ExperimentError(file, "warmup", f"{warmup} must be smaller than days ({days})")
    root_seed = _int(file, "root_seed", data.get("root_seed", 0), 0, 2**63 - 1)
    metrics = _str_list(file, "metrics", data.get("metrics", list(DEFAULT_METRICS)))
    known = known_metrics()
    for m in metrics:
        if m not in known:
            raise ExperimentError(
                file, "metrics", f"unknown metric {m!r}{_suggest(m, known)}; "
                f"known metrics: {', '.join(known)}")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise ExperimentError(file, "settings", "must be a table of overrides")
    settings = _flatten(settings)
    method, design = _parse_design(file, data.get("design"))
    factors = _parse_factors(file, data, method)
    if factors and method == "none":
        raise ExperimentError(file, "design.method",
                              "factors are given but no design method; use grid, lhs or morris")
    if method != "none" and not factors:
        raise ExperimentError(file, "design.method",
                              f"method {method!r} needs [levers.*] or [uncertainties.*] factors")
    if method in ("lhs", "morris"):
        design.setdefault("seed", root_seed)
    points = design_points(method, factors, design)

    load = resolver if resolver is not None else _default_resolver()
    labels: list[str] = []
    sources: dict[str, str] = {}
    configs: dict[str, dict[str, Any]] = {}
    hashes: dict[str, str] = {}
    kinds: dict[str, set[str]] = {}
    for i, src in enumerate(scen_sources):
        key = f"scenarios[{i}]"
        source = _resolve_source(src, base_dir)
        scen = _load(load, file, key, source, {}, scen_sources=src)
        try:
            scen = load(source, settings) if settings else scen
        except ValueError as exc:
            raise _override_error(file, "settings", src, settings, exc) from exc
        label = scen.name
        if label in sources:
            raise ExperimentError(file, key, f"scenario name {label!r} appears twice")
        labels.append(label)
        sources[label] = source
        cfg = scen.to_dict()
        configs[label] = cfg
        hashes[label] = scenario_fingerprint(scen)
        kinds[label] = {p.get("kind") for p in cfg.get("policies", []) if isinstance(p, dict)}

    baseline = data.get("baseline", labels[0])
    if not isinstance(baseline, str) or baseline not in labels:
        raise ExperimentError(
            file, "baseline",
            f"{baseline!r} is not one of the scenarios{_suggest(str(baseline), labels)}; "
            f"scenarios: {', '.join(labels)}")

    applicable: dict[str, list[str]] = {}
    for label in labels:
        applicable[label] = [f.name for f in factors
                             if f.policy_kind is None or f.policy_kind in kinds[label]]
    for f in factors:
        users = [s for s in labels if f.name in applicable[s]]
        if not users:
            raise ExperimentError(
                file, f"{'levers' if f.role == 'lever' else 'uncertainties'}.{f.name}",
                f"applies to none of the scenarios: none has a {f.policy_kind!r} policy")
        for value in _probe_values(f):
            for s in users:
                try:
                    load(sources[s], {**settings, f.name: value})
                except ValueError as exc:
                    problem = getattr(exc, "problem", str(exc))
                    raise ExperimentError(
                        file, f"{'levers' if f.role == 'lever' else 'uncertainties'}.{f.name}",
                        f"value {value!r} rejected for scenario {s!r}: {problem}") from exc

    return Experiment(
        name=name, file=file, description=description, scenarios=labels, sources=sources,
        baseline=baseline, replicates=replicates, days=days, warmup=warmup,
        root_seed=root_seed, metrics=metrics, settings=settings, method=method,
        design=design, factors=factors, points=points, scenario_configs=configs,
        scenario_hashes=hashes, applicable=applicable,
    )


def _default_resolver() -> Callable[..., Any]:
    from model import load_scenario

    return load_scenario


def _available_scenarios() -> list[str]:
    try:
        import model
    except ImportError:  # pragma: no cover - the model is part of the package
        return []
    for d in (Path(model.__file__).resolve().parent.parent / "scenarios", Path("scenarios")):
        if d.is_dir():
            return sorted(p.stem for p in d.glob("*.toml") if p.stem != "categories")
    return []


def _resolve_source(src: str, base_dir: Path | None) -> str:
    if src.endswith(".toml") or "/" in src or "\\" in src:
        p = Path(src)
        if not p.is_absolute():
            for cand in ([base_dir / p] if base_dir else []) + [Path.cwd() / p]:
                if cand.is_file():
                    return str(cand.resolve())
        return str(p.resolve()) if p.is_file() else src
    return src


def _load(load: Callable[..., Any], file: str, key: str, source: str,
          overrides: dict[str, Any], scen_sources: str) -> Any:
    try:
        return load(source, overrides)
    except (ValueError, OSError) as exc:
        names = _available_scenarios()
        if getattr(exc, "key", None) == "scenario" or isinstance(exc, FileNotFoundError):
            known = f"; known scenarios: {', '.join(names)}" if names else ""
            raise ExperimentError(
                file, key, f"scenario {scen_sources!r} not found"
                f"{_suggest(scen_sources, names)}{known}") from exc
        raise ExperimentError(file, key, f"scenario {scen_sources!r} is invalid: {exc}") from exc


def _override_error(file: str, prefix: str, scenario: str, overrides: dict[str, Any],
                    exc: ValueError) -> ExperimentError:
    """Turn a model error about an override into one naming the experiment's key."""
    key = getattr(exc, "key", "")
    problem = getattr(exc, "problem", str(exc))
    name = f"{prefix}.{key}" if key in overrides and prefix == "settings" else prefix
    return ExperimentError(file, name, f"{problem} (scenario {scenario!r})")


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in table.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _parse_design(file: str, table: Any) -> tuple[str, dict[str, Any]]:
    if table is None:
        return "none", {}
    if not isinstance(table, dict):
        raise ExperimentError(file, "design", "must be a table")
    _check_keys(file, "design.", table, _DESIGN_KEYS)
    method = table.get("method")
    if method not in DESIGN_METHODS:
        raise ExperimentError(file, "design.method",
                              f"{method!r}{_suggest(str(method), DESIGN_METHODS)}; "
                              f"allowed: {', '.join(DESIGN_METHODS)}")
    design: dict[str, Any] = {}
    if method == "lhs":
        design["samples"] = _int(file, "design.samples", table.get("samples", 10), 2, 100_000)
    elif "samples" in table:
        raise ExperimentError(file, "design.samples", "only used with method = 'lhs'")
    if method == "morris":
        design["trajectories"] = _int(file, "design.trajectories",
                                      table.get("trajectories", 10), 2, 10_000)
        levels = _int(file, "design.levels", table.get("levels", 4), 2, 100)
        if levels % 2:
            raise ExperimentError(file, "design.levels", f"{levels} must be even (SALib)")
        design["levels"] = levels
    else:
        for k in ("trajectories", "levels"):
            if k in table:
                raise ExperimentError(file, f"design.{k}", "only used with method = 'morris'")
    if "seed" in table:
        design["seed"] = _int(file, "design.seed", table["seed"], 0, 2**32 - 1)
    return method, design


def _parse_factors(file: str, data: dict[str, Any], method: str) -> list[Factor]:
    factors: list[Factor] = []
    seen: set[str] = set()
    for role_key, role in (("levers", "lever"), ("uncertainties", "uncertainty")):
        table = data.get(role_key, {})
        if not isinstance(table, dict):
            raise ExperimentError(file, role_key, "must be a table of factors")
        for name, spec in _factor_items(table):
            key = f"{role_key}.{name}"
            if name in seen:
                raise ExperimentError(file, key, "declared both as lever and as uncertainty")
            seen.add(name)
            if not isinstance(spec, dict):
                raise ExperimentError(file, key, "must be a table with values or low/high")
            _check_keys(file, key + ".", spec, _FACTOR_KEYS)
            factors.append(_parse_factor(file, key, name, role, spec, method))
    return factors


def _factor_items(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Yield (dotted name, spec) for factor tables, allowing unquoted dotted headers."""
    items: list[tuple[str, Any]] = []
    for k, v in table.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict) and v and not (set(v) & set(_FACTOR_KEYS)) \
                and all(isinstance(x, dict) for x in v.values()):
            items.extend(_factor_items(v, name + "."))
        else:
            items.append((name, v))
    return items


def _parse_factor(file: str, key: str, name: str, role: str, spec: dict[str, Any],
                  method: str) -> Factor:
    desc = spec.get("description", "")
    if "values" in spec:
        if method != "grid":
            raise ExperimentError(file, key + ".values",
                                  f"explicit values need method = 'grid' (method is {method!r});"
                                  " give low and high instead")
        values = spec["values"]
        if not isinstance(values, list) or not values:
            raise ExperimentError(file, key + ".values", f"{values!r} is not a non-empty list")
        if len(set(map(repr, values))) != len(values):
            raise ExperimentError(file, key + ".values", "values repeat")
        for k in ("low", "high", "steps"):
            if k in spec:
                raise ExperimentError(file, f"{key}.{k}", "give either values or low/high")
        return Factor(name, role, values=tuple(values), description=desc)
    if "low" not in spec or "high" not in spec:
        raise ExperimentError(file, key, "needs 'values' or both 'low' and 'high'")
    low = _number(file, key + ".low", spec["low"])
    high = _number(file, key + ".high", spec["high"])
    if not high > low:
        raise ExperimentError(file, key + ".high", f"{high!r} must be greater than low ({low!r})")
    integer = isinstance(spec["low"], int) and isinstance(spec["high"], int)
    if integer and method == "morris":
        raise ExperimentError(file, key, "Morris screening needs continuous factors; "
                                         "give low/high as decimals (e.g. 2.0)")
    if method == "grid":
        steps = _int(file, key + ".steps", spec.get("steps", 3), 2, 1000)
        vals = np.linspace(low, high, steps)
        values = tuple(int(round(v)) for v in vals) if integer else tuple(float(v) for v in vals)
        if len(set(values)) != len(values):
            raise ExperimentError(file, key + ".steps",
                                  f"{steps} steps repeat integer values between {low} and {high}")
        return Factor(name, role, values=values, low=low, high=high, integer=integer,
                      description=desc)
    if "steps" in spec:
        raise ExperimentError(file, key + ".steps", "only used with method = 'grid'")
    return Factor(name, role, low=float(low), high=float(high), integer=integer,
                  description=desc)


def _probe_values(f: Factor) -> list[Any]:
    if f.values is not None:
        return list(f.values)
    if f.integer:
        return [int(f.low), int(f.high)]  # type: ignore[arg-type]
    return [f.low, f.high]


def design_points(method: str, factors: Sequence[Factor], design: dict[str, Any]
                  ) -> list[dict[str, Any]]:
    """Return the design points (one dict factor name -> value per point).

    Args:
        method: ``"none"``, ``"grid"``, ``"lhs"`` or ``"morris"``.
        factors: The experiment's factors.
        design: Design parameters (``samples``, ``trajectories``, ``levels``, ``seed``).

    Returns:
        ``[{}]`` without factors; the full grid; a Latin hypercube sample; or the SALib
        Morris trajectories in SALib's row order.

    """
    if method == "none" or not factors:
        return [{}]
    names = [f.name for f in factors]
    if method == "grid":
        combos = itertools.product(*(f.values for f in factors))  # type: ignore[misc]
        return [dict(zip(names, c, strict=True)) for c in combos]
    if method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(factors), rng=np.random.default_rng(design["seed"]))
        sample = unit.random(design["samples"])
        rows = []
        for row in sample:
            point: dict[str, Any] = {}
            for f, u in zip(factors, row, strict=True):
                v = f.low + u * (f.high - f.low)  # type: ignore[operator]
                point[f.name] = int(round(v)) if f.integer else float(v)
            rows.append(point)
        return rows
    if method == "morris":
        from SALib.sample import morris as morris_sample

        X = morris_sample.sample(morris_problem(factors), N=design["trajectories"],
                                 num_levels=design["levels"], seed=design["seed"])
        return [{n: float(v) for n, v in zip(names, row, strict=True)} for row in X]
    raise ValueError(f"unknown design method {method!r}")


def morris_problem(factors: Sequence[Factor]) -> dict[str, Any]:
    """Return the SALib problem dict for the factors."""
    return {
        "num_vars": len(factors),
        "names": [f.name for f in factors],
        "bounds": [[f.low, f.high] for f in factors],
    }
