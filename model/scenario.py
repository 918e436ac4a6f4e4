"""Scenario files: load, resolve ``extends``, apply overrides, validate before anything runs.

A scenario file is TOML::

    name = "rent_subsidy"
    description = "..."
    extends = "baseline"            # or a list; a name in scenarios/ or a relative path
    entrants_per_10k_month = 4.0    # any parameter of model.params.Params
    [categories.fresh_food]         # override single fields of the category table
    spend = 30.0
    [[policy]]                      # policies, appended to those of the parents
    kind = "rent_subsidy"
    share = 0.3

Overrides (from code or ``--set``) use ``key``, ``categories.<name>.<field>`` or
``policy.<kind>.<param>``.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .categories import (
    CATEGORY_FILE,
    SCENARIO_DIR,
    Category,
    CategoryTable,
    category_names,
    check_table,
    make_category,
    read_toml,
)
from .city_layer import check_params_layer, layer_digest

__all__ = ["CATEGORY_FILE", "SCENARIO_DIR", "Scenario", "category_names", "load_scenario",
           "scenario_names"]
from .errors import ScenarioError, suggest
from .params import PARAM_FIELDS, Params, make_params
from .policies import validate_policy_spec
from .schema import check_mapping

_META_KEYS = ("name", "description", "extends", "categories", "policy")
MAX_EXTENDS_DEPTH = 32  # files in one chain of ``extends``


def scenario_names() -> list[str]:
    """Names of the scenario files in ``SCENARIO_DIR`` (sorted)."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml") if p.stem != "categories")


@dataclass(frozen=True)
class Scenario:
    """A resolved, validated scenario: parameters, category table and policy specs."""

    name: str
    params: Params
    categories: tuple[Category, ...]
    policies: tuple[dict[str, Any], ...] = ()
    description: str = ""
    source: str = ""
    category_table: CategoryTable = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "category_table", CategoryTable(list(self.categories)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable resolved configuration (what a results folder records)."""
        return {
            "name": self.name,
            "description": self.description,
            "params": dataclasses.asdict(self.params),
            "categories": {c.name: {k: v for k, v in dataclasses.asdict(c).items() if k != "name"}
                           for c in self.categories},
            "policies": [copy.deepcopy(p) for p in self.policies],
            **({"city_layer_sha256": layer_digest(self.params.city_layer)}
               if self.params.city_layer else {}),
        }

    def config_hash(self) -> str:
        """Stable hash of the resolved configuration."""
        blob = json.dumps(self.to_dict(), sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def with_policy(self, kind: str, **params: Any) -> Scenario:
        """Return a copy with a policy of ``kind`` added, or its parameters updated if present.

        Raises:
            ScenarioError: unknown kind or invalid parameter.
        """
        raw = self.to_dict()
        same = [p for p in raw["policies"] if p["kind"] == kind]
        if len(same) > 1:
            raise ScenarioError(self.source or "scenario", f"policy.{kind}",
                                "the scenario has several policies of this kind")
        if same:
            same[0]["params"].update(params)
        else:
            raw["policies"].append({"kind": kind, "params": dict(params)})
        return build_scenario(raw, self.source or "scenario", name=self.name)

    def without_policy(self, kind: str) -> Scenario:
        """Return a copy without the policies of ``kind``."""
        raw = self.to_dict()
        raw["policies"] = [p for p in raw["policies"] if p["kind"] != kind]
        return build_scenario(raw, self.source or "scenario", name=self.name)

    def with_overrides(self, overrides: dict[str, Any] | None) -> Scenario:
        """Return a copy with ``overrides`` applied and validated."""
        if not overrides:
            return self
        raw = self.to_dict()
        apply_overrides(raw, overrides, "overrides")
        return build_scenario(raw, self.source or "overrides", name=self.name)


def resolve_path(source: str | os.PathLike, relative_to: Path | None = None,
                 referrer: Path | None = None) -> Path:
    """Find a scenario file from a name ("baseline") or a path.

    Args:
        source: a name or a path.
        relative_to: folder to look in first (that of the file that extends).
        referrer: the file whose ``extends`` names ``source``, for the error message.
    """
    text = str(source)
    candidates = []
    if text.endswith(".toml") or os.sep in text or "/" in text:
        p = Path(text)
        candidates.append(p if p.is_absolute() or relative_to is None else relative_to / p)
        candidates.append(p)
    else:
        if relative_to is not None:
            candidates.append(relative_to / f"{text}.toml")
        candidates.append(SCENARIO_DIR / f"{text}.toml")
    for c in candidates:
        if c.is_file():
            return c.resolve()
    known = scenario_names()
    raise ScenarioError(str(referrer or candidates[0]), "extends" if referrer else "scenario",
                        f"file not found: {candidates[0]}{suggest(text, known)}; "
                        f"known scenarios: {known}")


def _load_raw(path: Path, chain: tuple[Path, ...] = (),
              memo: dict[Path, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Read a file and merge it over its parents; returns the raw merged mapping.

    Each file is read and merged once per load (``memo``), so a diamond of ``extends`` costs
    linear time and a file reached along two paths contributes its policies once. A policy
    kind that two different parents bring (from different files) is refused: the child must
    extend one of them or declare the policies itself.
    """
    memo = {} if memo is None else memo
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise ScenarioError(str(path), "extends", f"cycle: {cycle}")
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(str(path), "extends",
                            f"more than {MAX_EXTENDS_DEPTH} files in one chain of extends")
    if path in memo:
        return memo[path]
    data = read_toml(path)
    for key in data:
        if key not in _META_KEYS and key not in PARAM_FIELDS:
            raise ScenarioError(str(path), key, "unknown key"
                                + suggest(key, list(PARAM_FIELDS) + list(_META_KEYS)))
    # each file's own values are checked where they are written (the merged result again)
    check_mapping(str(path), Params, {k: v for k, v in data.items() if k in PARAM_FIELDS})
    parents = data.get("extends", [])
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise ScenarioError(str(path), "extends", "must be a scenario name or a list of names")
    merged: dict[str, Any] = {"params": {}, "categories": {}, "policies": []}
    origin_of_kind: dict[str, str] = {}
    for parent in parents:
        base = _load_raw(resolve_path(parent, path.parent, path), (*chain, path), memo)
        merged["params"].update(base["params"])
        for cat, vals in base["categories"].items():
            merged["categories"].setdefault(cat, {}).update(vals)
        seen = {(q["where"], q["position"]) for q in merged["policies"]}
        for pol in base["policies"]:
            if (pol["where"], pol["position"]) in seen:
                continue  # the same declaration reached along two paths
            other = origin_of_kind.get(str(pol["kind"]))
            if other is not None and other != pol["where"]:
                raise ScenarioError(str(path), "extends",
                                    f"policy kind {pol['kind']!r} comes from two parents "
                                    f"({Path(other).name} and {Path(pol['where']).name}); "
                                    "extend one of them, or declare the policy in this file")
            origin_of_kind[str(pol["kind"])] = pol["where"]
            merged["policies"].append(pol)
    merged["params"].update({k: v for k, v in data.items() if k in PARAM_FIELDS})
    if isinstance(data.get("city_layer"), str) and data["city_layer"]:  # relative to this file
        merged["params"]["city_layer"] = str((path.parent / data["city_layer"]).resolve())
    cats = data.get("categories", {})
    if not isinstance(cats, dict):
        raise ScenarioError(str(path), "categories", "must be a table of category tables")
    for cat, vals in cats.items():
        if not isinstance(vals, dict):
            raise ScenarioError(str(path), f"categories.{cat}", "must be a table")
        _check_own_category(path, cat, vals)
        merged["categories"].setdefault(cat, {}).update(vals)
    policies = data.get("policy", [])
    if not isinstance(policies, list) or not all(isinstance(p, dict) for p in policies):
        raise ScenarioError(str(path), "policy", "must be an array of tables ([[policy]])")
    for i, p in enumerate(policies):
        merged["policies"].append({"kind": p.get("kind"),
                                   "params": {k: v for k, v in p.items() if k != "kind"},
                                   "where": str(path), "position": i})
    name = data.get("name", path.stem)
    description = data.get("description", "")
    for key, value in (("name", name), ("description", description)):
        if not isinstance(value, str):
            raise ScenarioError(str(path), key, f"{value!r} is not a string")
    merged["name"] = name
    merged["description"] = description
    memo[path] = merged
    return merged


def _check_own_category(path: Path, cat: str, vals: dict[str, Any]) -> None:
    """A file's override of one category: a known category, known fields, values in range."""
    known = category_names()
    if cat not in known:
        raise ScenarioError(str(path), f"categories.{cat}", "unknown category" + suggest(cat, known))
    check_mapping(str(path), Category, {k: v for k, v in vals.items() if k not in ("name", "sources")},
                  prefix=f"categories.{cat}.", what="category field")


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any], where: str) -> None:
    """Apply dotted overrides to a raw merged mapping in place."""
    for key, value in overrides.items():
        parts = key.split(".")
        if len(parts) == 1:
            if key not in PARAM_FIELDS:
                raise ScenarioError(where, key, "unknown parameter" + suggest(key, list(PARAM_FIELDS)))
            raw["params"][key] = value
        elif parts[0] == "categories" and len(parts) == 3:
            raw["categories"].setdefault(parts[1], {})[parts[2]] = value
        elif parts[0] == "policy" and len(parts) == 3:
            matches = [p for p in raw["policies"] if p["kind"] == parts[1]]
            if len(matches) != 1:
                kinds = [p["kind"] for p in raw["policies"]]
                raise ScenarioError(where, key, f"the scenario has {len(matches)} policies of kind "
                                    f"'{parts[1]}' (exactly one needed); its policies: {kinds}")
            matches[0]["params"][parts[2]] = value
        else:
            raise ScenarioError(where, key, "use 'param', 'categories.<name>.<field>' or "
                                "'policy.<kind>.<param>'")


def build_scenario(raw: dict[str, Any], where: str, name: str | None = None) -> Scenario:
    """Validate a raw merged mapping into a Scenario."""
    params = make_params(where, raw["params"])
    check_params_layer(where, params)
    table = read_toml(SCENARIO_DIR / CATEGORY_FILE)
    for cat in raw["categories"]:
        if cat not in table:
            raise ScenarioError(where, f"categories.{cat}",
                                "unknown category" + suggest(cat, list(table)))
    categories = []
    for cat, vals in table.items():
        merged = {**vals, **raw["categories"].get(cat, {})}
        categories.append(make_category(where, cat, merged))
    check_table(where, categories)
    policies = tuple(validate_policy_spec(p.get("where", where), p) for p in raw["policies"])
    return Scenario(name=name or raw.get("name", "scenario"), params=params,
                    categories=tuple(categories), policies=policies,
                    description=raw.get("description", ""), source=where)


def load_scenario(source: str | os.PathLike | Scenario = "baseline",
                  overrides: dict[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario by name, path or object, then apply overrides.

    Args:
        source: a name in ``scenarios/`` ("baseline"), a path to a TOML file, or a Scenario.
        overrides: ``{"param": v, "categories.<cat>.<field>": v, "policy.<kind>.<param>": v}``.

    Returns:
        The validated Scenario.

    Raises:
        ScenarioError: naming the file, the key and what is allowed.
    """
    if isinstance(source, Scenario):
        return source.with_overrides(overrides)
    path = resolve_path(source)
    raw = _load_raw(path)
    if overrides:
        apply_overrides(raw, overrides, f"{path} (overrides)")
    return build_scenario(raw, str(path), name=raw["name"])
