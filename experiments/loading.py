"""Read an experiment file and check every key before anything runs.

The first problem raises :class:`~model.errors.ExperimentError` naming the file, the key, the
value and what is allowed. The file's own keys are declared in :mod:`experiments.keys`;
scenario names and override keys are checked by the model's own ``load_scenario``, so an
experiment accepts exactly what scenario files accept; metric names are the model's
(``model.METRIC_NAMES``). The design's size is checked before any point is made.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from experiments.definition import Experiment, scenario_fingerprint
from experiments.design import MAX_POINTS, Factor, design_points, design_size
from experiments.keys import (
    DESIGN_DEFAULTS,
    DESIGN_USES,
    DesignKeys,
    ExperimentKeys,
    FactorKeys,
    check_table,
)
from model.errors import ExperimentError, suggest

DEFAULT_METRICS: tuple[str, ...] = (
    "share_satisfied", "satisfaction_mean", "coverage_basic_all", "unmet_rate",
    "mean_walk_min", "chain_rate", "gini_access",
)
"""Metrics compared when an experiment names none."""


def load_experiment(path: str | Path, *, resolver: Callable[..., Any] | None = None
                    ) -> Experiment:
    """Read and validate an experiment file.

    Args:
        path: The TOML file.
        resolver: ``load_scenario``-like callable used to check scenarios and overrides
            (default: ``model.load_scenario``).

    Raises:
        ExperimentError: On the first problem, naming file, key and what is allowed.
    """
    path = Path(path)
    data = read_toml_file(path, "an experiment file")
    return experiment_from_dict(data, file=str(path), base_dir=path.parent,
                                default_name=path.stem, resolver=resolver)


def read_toml_file(path: Path, what: str) -> dict[str, Any]:
    """The table of a TOML file (an experiment or problem file).

    Raises:
        ExperimentError: Missing, unreadable, not UTF-8, not TOML or nested too deeply,
            naming the file.
    """
    file = str(path)
    if not path.is_file():
        raise ExperimentError(file, "", f"no such file (expected {what})")
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentError(file, "", f"not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ExperimentError(file, "", f"not UTF-8 text: {exc}") from None
    except RecursionError:
        raise ExperimentError(file, "", f"nested too deeply to be {what}") from None
    except OSError as exc:
        raise ExperimentError(file, "", f"cannot be read: {exc.strerror or exc}") from None


def experiment_from_dict(data: dict[str, Any], *, file: str = "<experiment>",
                         base_dir: Path | None = None, default_name: str = "experiment",
                         resolver: Callable[..., Any] | None = None) -> Experiment:
    """Validate an experiment given as a dict (the parsed TOML).

    Args:
        data: The parsed experiment table.
        file: Name used in error messages.
        base_dir: Directory against which relative scenario paths are resolved.
        default_name: Name when the table has none.
        resolver: ``load_scenario``-like callable (default: ``model.load_scenario``).

    Raises:
        ExperimentError: On the first problem.
    """
    import model

    top = check_table(file, ExperimentKeys, data)
    name = top.get("name") or default_name
    if not all(c.isascii() and (c.isalnum() or c in "_-") for c in name) or len(name) > 64:
        raise ExperimentError(file, "name", f"{name!r}: use up to 64 letters, digits, '_' "
                              "and '-'")
    if "scenarios" not in top:
        raise ExperimentError(file, "scenarios", "missing; list the scenarios to compare")
    scen_sources = _str_list(file, "scenarios", top["scenarios"])
    replicates = top.get("replicates", 10)
    days = top.get("days", 365)
    warmup = top.get("warmup", 0)
    if warmup >= days:
        raise ExperimentError(file, "warmup", f"{warmup} must be smaller than days ({days})")
    root_seed = top.get("root_seed", 0)
    metrics = _str_list(file, "metrics", top.get("metrics", list(DEFAULT_METRICS)))
    for m in metrics:
        if m not in model.METRIC_NAMES:
            raise ExperimentError(file, "metrics", f"unknown metric {m!r}"
                                  f"{suggest(m, model.METRIC_NAMES)}; the model reports: "
                                  f"{', '.join(model.METRIC_NAMES)}")
    settings = top.get("settings", {})
    if not isinstance(settings, dict):
        raise ExperimentError(file, "settings", "must be a table of overrides")
    settings = _flatten(settings)
    method, design = _parse_design(file, top.get("design"), root_seed)
    factors = _parse_factors(file, top, method)
    if factors and method == "none":
        raise ExperimentError(file, "design.method",
                              "factors are given but no design method; use grid, lhs, morris "
                              "or sobol")
    if method != "none" and not factors:
        raise ExperimentError(file, "design.method",
                              f"method {method!r} needs [levers.*] or [uncertainties.*] factors")
    size = design_size(method, factors, design)
    if size > MAX_POINTS:
        raise ExperimentError(file, "design", f"{method} design of {size:,} points; at most "
                              f"{MAX_POINTS:,} (fewer values, steps or samples)")
    points = design_points(method, factors, design)

    load = resolver if resolver is not None else model.load_scenario
    labels: list[str] = []
    sources: dict[str, str] = {}
    configs: dict[str, dict[str, Any]] = {}
    hashes: dict[str, str] = {}
    kinds: dict[str, set[str]] = {}
    params: dict[str, Any] = {}
    for i, src in enumerate(scen_sources):
        key = f"scenarios[{i}]"
        source = _resolve_source(src, base_dir)
        scen = _load(load, file, key, source, src)
        if settings:
            try:
                scen = load(source, settings)
            except ValueError as exc:
                raise _override_error(file, src, settings, exc) from None
        label = scen.name
        if label in sources:
            raise ExperimentError(file, key, f"scenario name {label!r} appears twice")
        labels.append(label)
        sources[label] = source
        cfg = scen.to_dict()
        configs[label] = cfg
        hashes[label] = scenario_fingerprint(scen)
        kinds[label] = {p.get("kind") for p in cfg.get("policies", []) if isinstance(p, dict)}
        params[label] = scen.params

    baseline = top.get("baseline") or labels[0]
    if baseline not in labels:
        raise ExperimentError(file, "baseline", f"{baseline!r} is not one of the scenarios"
                              f"{suggest(baseline, labels)}; scenarios: {', '.join(labels)}")
    compare_with = _compare_with(file, top.get("compare_with") or {}, labels, baseline)
    applicable = {label: [f.name for f in factors
                          if f.policy_kind is None or f.policy_kind in kinds[label]]
                  for label in labels}
    sizes: dict[str, list[Any]] = {label: [params[label]] for label in labels}
    for f in factors:
        users = [s for s in labels if f.name in applicable[s]]
        if not users:
            raise ExperimentError(file, f"{f.table}.{f.name}", "applies to none of the "
                                  f"scenarios: none has a {f.policy_kind!r} policy")
        for value in f.probe_values():
            for s in users:
                try:
                    sizes[s].append(load(sources[s], {**settings, f.name: value}).params)
                except ValueError as exc:
                    problem = getattr(exc, "problem", str(exc))
                    raise ExperimentError(file, f"{f.table}.{f.name}", f"value {value!r} "
                                          f"rejected for scenario {s!r}: {problem}") from None
    return Experiment(
        name=name, file=file, description=top.get("description", ""), scenarios=labels,
        sources=sources, baseline=baseline, replicates=replicates, days=days, warmup=warmup,
        root_seed=root_seed, metrics=metrics, settings=settings, method=method, design=design,
        factors=factors, points=points, scenario_configs=configs, scenario_hashes=hashes,
        applicable=applicable, sizes=sizes, compare_with=compare_with)


def _compare_with(file: str, table: Any, labels: list[str], baseline: str) -> dict[str, str]:
    """Check ``[compare_with]``: scenario -> another scenario of the experiment (not itself)."""
    if not isinstance(table, dict):
        raise ExperimentError(file, "compare_with", "must be a table: scenario = \"reference\"")
    out: dict[str, str] = {}
    for scen, ref in table.items():
        key = f"compare_with.{scen}"
        if scen not in labels or scen == baseline:
            raise ExperimentError(file, key, f"{scen!r} is not one of the scenarios compared "
                                  f"with the baseline{suggest(scen, labels)}")
        if not isinstance(ref, str) or ref not in labels or ref == scen:
            raise ExperimentError(file, key, f"{ref!r} must be another scenario of the "
                                  f"experiment{suggest(str(ref), labels)}")
        out[scen] = ref
    return out


def _str_list(file: str, key: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ExperimentError(file, key, f"{value!r} is not a list of strings")
    if not value:
        raise ExperimentError(file, key, "the list is empty; name at least one")
    dup = [v for v in value if value.count(v) > 1]
    if dup:
        raise ExperimentError(file, key, f"{dup[0]!r} is listed twice")
    return list(value)


def _resolve_source(src: str, base_dir: Path | None) -> str:
    if src.endswith(".toml") or "/" in src or "\\" in src:
        p = Path(src)
        if not p.is_absolute():
            for cand in ([base_dir / p] if base_dir else []) + [Path.cwd() / p]:
                if cand.is_file():
                    return str(cand.resolve())
        return str(p.resolve()) if p.is_file() else src
    return src


def _load(load: Callable[..., Any], file: str, key: str, source: str, written: str) -> Any:
    from model.scenario import scenario_names

    try:
        return load(source, {})
    except (ValueError, OSError) as exc:
        if getattr(exc, "key", None) == "scenario" or isinstance(exc, FileNotFoundError):
            names = scenario_names()
            raise ExperimentError(file, key, f"scenario {written!r} not found"
                                  f"{suggest(written, names)}; known scenarios: "
                                  f"{', '.join(names)}") from None
        raise ExperimentError(file, key, f"scenario {written!r} is invalid: {exc}") from None


def _override_error(file: str, scenario: str, settings: dict[str, Any],
                    exc: ValueError) -> ExperimentError:
    """A model error about an override, as an error naming the experiment's key."""
    key = getattr(exc, "key", "")
    problem = getattr(exc, "problem", str(exc))
    name = f"settings.{key}" if key in settings else "settings"
    return ExperimentError(file, name, f"{problem} (scenario {scenario!r})")


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in table.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _parse_design(file: str, table: Any, root_seed: int) -> tuple[str, dict[str, Any]]:
    if table is None:
        return "none", {}
    clean = check_table(file, DesignKeys, table, "design.")
    if "method" not in clean:
        raise ExperimentError(file, "design.method", "missing; one of "
                              + ", ".join(DESIGN_USES))
    method = clean["method"]
    for k in clean:
        if k not in DESIGN_USES[method]:
            users = [m for m, keys in DESIGN_USES.items() if k in keys]
            raise ExperimentError(file, f"design.{k}", f"only used with method = "
                                  f"{' or '.join(repr(u) for u in users)}")
    design = {**DESIGN_DEFAULTS[method], **{k: v for k, v in clean.items() if k != "method"}}
    if method == "morris" and design["levels"] % 2:
        raise ExperimentError(file, "design.levels", f"{design['levels']} must be even (SALib)")
    if method == "sobol" and design["samples"] & (design["samples"] - 1):
        raise ExperimentError(file, "design.samples", f"{design['samples']} must be a power "
                              "of 2 (Saltelli/Sobol sequence)")
    if method != "grid":
        design.setdefault("seed", root_seed)
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
            factors.append(_parse_factor(file, key, name, role, spec, method))
    return factors


def _factor_items(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted name, spec) of each factor, allowing unquoted dotted headers."""
    items: list[tuple[str, Any]] = []
    known = set(FactorKeys.__dataclass_fields__)
    for k, v in table.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict) and v and not (set(v) & known) \
                and all(isinstance(x, dict) for x in v.values()):
            items.extend(_factor_items(v, name + "."))
        else:
            items.append((name, v))
    return items


def _parse_factor(file: str, key: str, name: str, role: str, spec: dict[str, Any],
                  method: str) -> Factor:
    clean = check_table(file, FactorKeys, spec, key + ".")
    desc = clean.get("description", "")
    if "values" in clean:
        if method != "grid":
            raise ExperimentError(file, key + ".values", f"explicit values need method = "
                                  f"'grid' (method is {method!r}); give low and high instead")
        values = clean["values"]
        if not isinstance(values, list) or not values:
            raise ExperimentError(file, key + ".values", f"{values!r} is not a non-empty list")
        if len(values) > 1000:
            raise ExperimentError(file, key + ".values", f"{len(values)} values; at most 1000")
        if len(set(map(repr, values))) != len(values):
            raise ExperimentError(file, key + ".values", "values repeat")
        for k in ("low", "high", "steps"):
            if k in clean:
                raise ExperimentError(file, f"{key}.{k}", "give either values or low/high")
        return Factor(name, role, values=tuple(values), description=desc)
    if "low" not in clean or "high" not in clean:
        raise ExperimentError(file, key, "needs 'values' or both 'low' and 'high'")
    low, high = clean["low"], clean["high"]
    if not high > low:
        raise ExperimentError(file, key + ".high", f"{high!r} must be greater than low ({low!r})")
    integer = all(isinstance(spec[k], int) and not isinstance(spec[k], bool)
                  for k in ("low", "high"))
    if integer and method in ("morris", "sobol"):
        raise ExperimentError(file, key, f"{method} needs continuous factors; give low/high "
                                         "as decimals (e.g. 2.0)")
    if method == "grid":
        steps = clean.get("steps", 3)
        vals = np.linspace(low, high, steps)
        values = tuple(int(round(v)) for v in vals) if integer else tuple(float(v) for v in vals)
        if len(set(values)) != len(values):
            raise ExperimentError(file, key + ".steps", f"{steps} steps repeat integer values "
                                  f"between {int(low)} and {int(high)}")
        return Factor(name, role, values=values, low=low, high=high, integer=integer,
                      description=desc)
    if "steps" in clean:
        raise ExperimentError(file, key + ".steps", "only used with method = 'grid'")
    return Factor(name, role, low=low, high=high, integer=integer, description=desc)
