"""Parse the tables of a problem file: levers, objectives, constraints, budget levels.

Each function checks one table against its keys (:mod:`experiments.optimize.keys`, with
``model.schema``) and raises :class:`~model.errors.ExperimentError` naming the file and the
key: a lever must name a policy kind, a policy parameter or a scenario parameter, its type
must fit the parameter's (integer, real, switch for true/false or a whole policy, choice for
a string with choices), and its range must be inside the parameter's declared range;
objectives and bounds must name a metric the run summary reports.
"""

from __future__ import annotations

from typing import Any

from experiments.keys import check_table
from experiments.optimize.keys import (
    MAX_LEVERS,
    BoundKeys,
    ConstraintKeys,
    LeverKeys,
    ObjectiveKeys,
)
from experiments.optimize.levers import Lever
from experiments.optimize.objectives import (
    BASELINE,
    COST_METRIC,
    Bound,
    Objective,
    Statistic,
    summary_names,
)
from model.errors import ExperimentError, suggest


def parse_levers(file: str, table: Any, base: Any) -> tuple[Lever, ...]:
    """The ``[levers."<key>"]`` tables (quoted keys, or nested tables ending in ``type``)."""
    if not isinstance(table, dict):
        raise ExperimentError(file, "levers", "must be a table of [levers.\"<key>\"] tables")
    flat = _lever_tables(table)
    if len(flat) > MAX_LEVERS:
        raise ExperimentError(file, "levers", f"{len(flat)} levers; at most {MAX_LEVERS}")
    return tuple(_parse_lever(file, name, spec, base) for name, spec in flat.items())


def _lever_tables(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"policy": {"x": {"n": {type...}}}}`` -> ``{"policy.x.n": {type...}}``."""
    out: dict[str, Any] = {}
    for k, v in table.items():
        if isinstance(v, dict) and "type" not in v and v and all(isinstance(x, dict)
                                                                  for x in v.values()):
            out.update(_lever_tables(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _target_field(file: str, key: str, name: str) -> Any:
    """The declared field a lever sets, or ``None`` for a whole policy."""
    from model.params import PARAM_FIELDS
    from model.policies import POLICY_KINDS
    from model.schema import declared_fields

    parts = name.split(".")
    if parts[0] == "policy":
        if len(parts) not in (2, 3):
            raise ExperimentError(file, key, "use 'policy.<kind>' (on/off) or "
                                  "'policy.<kind>.<param>'")
        if parts[1] not in POLICY_KINDS:
            raise ExperimentError(file, key, f"unknown policy kind {parts[1]!r}"
                                  f"{suggest(parts[1], list(POLICY_KINDS))}; kinds: "
                                  f"{', '.join(sorted(POLICY_KINDS))}")
        if len(parts) == 2:
            return None
        fields = declared_fields(POLICY_KINDS[parts[1]])
        if parts[2] not in fields:
            raise ExperimentError(file, key, f"unknown parameter of {parts[1]}"
                                  f"{suggest(parts[2], list(fields))}; allowed: "
                                  f"{', '.join(fields)}")
        return fields[parts[2]]
    if len(parts) == 1 and name in PARAM_FIELDS:
        return PARAM_FIELDS[name]
    raise ExperimentError(file, key, "a lever is 'policy.<kind>', 'policy.<kind>.<param>' or "
                          f"a scenario parameter{suggest(name, list(PARAM_FIELDS))}")


def _parse_lever(file: str, name: str, spec: Any, base: Any) -> Lever:
    from model.schema import check_value, kind_of

    prefix = f'levers."{name}".'
    clean = check_table(file, LeverKeys, spec, prefix)
    kind = clean.get("type")
    if kind is None:
        raise ExperimentError(file, prefix + "type", "missing; one of integer, real, switch, "
                              "choice")
    f = _target_field(file, prefix.rstrip("."), name)
    ftype = None if f is None else kind_of(f)
    wanted = {None: ("switch",), bool: ("switch",), int: ("integer",),
              float: ("real", "integer"), str: ("choice",)}.get(ftype, ())
    if kind not in wanted:
        what = "a whole policy" if f is None else f"{name} ({ftype.__name__ if ftype else '?'})"
        raise ExperimentError(file, prefix + "type", f"{kind!r} does not fit {what}; use "
                              f"{' or '.join(repr(w) for w in wanted) or 'another lever'}")
    used = {"integer": {"low", "high"}, "real": {"low", "high", "step"},
            "switch": {"settings"}, "choice": {"values"}}[kind] | {"type", "description"}
    for k in clean:
        if k not in used:
            raise ExperimentError(file, prefix + k, f"not used by a {kind} lever")
    low = high = None
    values: tuple[Any, ...] = ()
    if kind in ("integer", "real"):
        for k in ("low", "high"):
            if k not in clean:
                raise ExperimentError(file, prefix + k, f"missing; a {kind} lever needs low "
                                      "and high")
            if kind == "integer" and not float(clean[k]).is_integer():
                raise ExperimentError(file, prefix + k, f"{clean[k]!r} is not an integer")
            check_value(file, prefix + k, int(clean[k]) if kind == "integer" else clean[k], f,
                        ExperimentError)
        low, high = clean["low"], clean["high"]
        if high <= low:
            raise ExperimentError(file, prefix + "high", f"{high} must be greater than low "
                                  f"({low})")
    if kind == "choice":
        raw = clean.get("values")
        if not isinstance(raw, list) or len(raw) < 2 or len(set(map(str, raw))) != len(raw):
            raise ExperimentError(file, prefix + "values", "give at least two distinct values")
        values = tuple(check_value(file, prefix + "values", v, f, ExperimentError) for v in raw)
    if f is None and len([p for p in base.policies if p["kind"] == name.split(".")[1]]) > 1:
        raise ExperimentError(file, prefix.rstrip("."), "the base scenario has several "
                              "policies of this kind; a lever needs exactly one")
    settings = _switch_settings(file, prefix, name, clean.get("settings"), base) \
        if "settings" in clean else ()
    return Lever(name=name, type=kind, low=low, high=high, step=clean.get("step", 0.0),
                 values=values, description=clean.get("description", ""), settings=settings)


def _switch_settings(file: str, prefix: str, name: str, table: Any, base: Any
                     ) -> tuple[tuple[str, Any], ...]:
    """A switch's ``settings``: the parameters of a policy it adds, checked now."""
    from model.errors import ScenarioError

    kind = name.split(".")[1]
    if not isinstance(table, dict) or not table:
        raise ExperimentError(file, prefix + "settings", "give a table of the policy's "
                              "parameters, e.g. { start_day = 61 }")
    if any(p["kind"] == kind for p in base.policies):
        raise ExperimentError(file, prefix + "settings", "the base scenario already has this "
                              "policy (switched on, it keeps the base's parameters): set them "
                              "there")
    for key in table:
        _target_field(file, prefix + f"settings.{key}", f"{name}.{key}")
    try:
        base.with_policy(kind, **table)
    except ScenarioError as exc:  # name the problem file's key, not the base scenario's
        param = exc.key.removeprefix(f"policy.{kind}.")
        key = f"settings.{param}" if param in table else "settings"
        raise ExperimentError(file, prefix + key, exc.problem) from None
    return tuple(sorted(table.items()))


def _stat(clean: dict[str, Any], name_key: str = "stat", q_key: str = "percentile",
          default_q: float = 10.0) -> Statistic:
    return Statistic(clean.get(name_key, "mean"), float(clean.get(q_key, default_q)))


def _check_metric(file: str, key: str, metric: str) -> None:
    names = summary_names()
    if metric not in names:
        raise ExperimentError(file, key, f"unknown metric {metric!r}{suggest(metric, names)}; "
                              f"the run summary reports e.g. surplus_yuan, "
                              f"coverage_basic_all_elderly, {COST_METRIC} (all: "
                              "model.METRIC_NAMES and experiments.summary)")


def parse_objectives(file: str, table: Any) -> tuple[Objective, ...]:
    """The ``[objectives.<metric>]`` tables (at least one)."""
    if not isinstance(table, dict) or not table:
        raise ExperimentError(file, "objectives", "give at least one [objectives.<metric>] table")
    out = []
    for metric, spec in table.items():
        prefix = f"objectives.{metric}."
        _check_metric(file, prefix.rstrip("."), metric)
        clean = check_table(file, ObjectiveKeys, spec, prefix)
        if "sense" not in clean:
            raise ExperimentError(file, prefix + "sense", "missing; \"max\" or \"min\"")
        out.append(Objective(metric, clean["sense"], _stat(clean), clean.get("description", "")))
    return tuple(out)


def _limit(file: str, key: str, value: Any) -> float | str | None:
    if value is None or value == BASELINE:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ExperimentError(file, key, f"{value!r}: give a number or \"{BASELINE}\"")
    from model.schema import check_range

    check_range(file, key, float(value), None, None, error=ExperimentError)
    return float(value)


def parse_constraints(file: str, table: Any) -> tuple[Bound, ...]:
    """The ``[constraints]`` table: the budget (first, named ``budget_per_year``), then bounds."""
    clean = check_table(file, ConstraintKeys, table, "constraints.")
    out: list[Bound] = []
    if "budget_per_year" in clean:
        out.append(Bound(COST_METRIC, _stat(clean, "budget_stat", "budget_percentile", 90.0),
                         high=float(clean["budget_per_year"]), name="budget_per_year"))
    bounds = clean.get("bounds", [])
    if not isinstance(bounds, list):
        raise ExperimentError(file, "constraints.bounds", "must be [[constraints.bounds]] tables")
    for i, spec in enumerate(bounds):
        prefix = f"constraints.bounds[{i}]."
        b = check_table(file, BoundKeys, spec, prefix)
        if "metric" not in b:
            raise ExperimentError(file, prefix + "metric", "missing")
        _check_metric(file, prefix + "metric", b["metric"])
        low, high = _limit(file, prefix + "min", b.get("min")), _limit(file, prefix + "max",
                                                                         b.get("max"))
        if low is None and high is None:
            raise ExperimentError(file, prefix + "min", "give min, max or both")
        if isinstance(low, float) and isinstance(high, float) and high < low:
            raise ExperimentError(file, prefix + "max", f"{high} is below min {low}")
        out.append(Bound(b["metric"], _stat(b), low, high, name=f"bound_{i}"))
    return tuple(out)


def parse_levels(file: str, value: Any, budget: float | None) -> tuple[float, ...]:
    """The budget levels of the report (default: a quarter, half and all of the budget)."""
    if value is None:
        return (budget / 4, budget / 2, budget) if budget else ()
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, int | float) and not isinstance(v, bool) and v > 0
                       for v in value)):
        raise ExperimentError(file, "budget_levels", f"{value!r}: give a list of positive "
                              "yuan amounts")
    return tuple(sorted(float(v) for v in set(value)))
