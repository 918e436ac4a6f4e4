"""Property: any scenario or experiment file runs, or is one clean error naming the file and key.

Hypothesis generates scenario files and experiment files of two kinds, each in tests of its
own (every kind of fault is its own parametrized test, so each is exercised on every run):

* valid by construction: values in range, rules across keys kept (low + high income shares,
  known shares, grade shares), parents that exist (a chain, a diamond, a repeated parent), odd
  but legal names, policies, category overrides, every design method. Each must exit 0, write
  its outputs, and show in them what the file asked for (the values in ``config.json``, the
  number of runs, days and design points);
* with exactly one fault: a wrong type, a value out of range or not finite, an unknown key,
  category, field or policy, a bad ``extends`` graph (missing, cyclic, mistyped, a policy kind
  from two parents, a broken parent), odd bytes, a rule across keys broken, a city too big for
  the memory limit or too crowded to lay out, a routes file that is not one or leaves the
  streets. Each must exit 2 with one ``error:`` line naming the file at fault (the file itself,
  its parent, its routes file, or the experiment's member scenario) and the key, and nothing
  written. An error that names ``--set``, the overrides or the memory variable instead of the
  file is a failure: no ``--set`` is given, the file's path must be in the line.

Every command runs through the real entry point (``lifecircle.cli.main``) in a child process
forked from a warm helper (tests/cli_child.py), killed after ``LIMIT`` seconds: a hang fails the
example instead of stalling the suite. A handful also run as ``python -m lifecircle``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import model
from model.categories import Category
from model.params import PARAM_FIELDS
from model.policies import POLICY_KINDS
from model.scenario import CATEGORY_FILE, SCENARIO_DIR, read_toml
from tests.cli_child import CliServer, HangError

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 90.0
"""Seconds an example may take (a valid one takes well under 5 on a loaded 2-core machine)."""
CATEGORY_TABLE = read_toml(SCENARIO_DIR / CATEGORY_FILE)
CATEGORIES = tuple(model.category_names())
CATEGORY_FIELDS = {f.name: f for f in dataclasses.fields(Category) if f.name != "name"}
SCENARIO_FAULTS = ["key", "param", "extends", "parent", "category", "policy", "bytes", "rule",
                   "size"]
GRAPHS = ["baseline", "rent_subsidy", "chain", "diamond", "twice"]
METHODS = ["none", "grid", "lhs", "morris", "sobol"]
NAMES = ["plain", "x y", "a/b", "../../up", "..", "subsidy 30/50", "caf\u00e9", ""]
CROSS_KEYS = {"share_low_income", "share_high_income", "know_new_shop", "know_settled_shop",
              "grade_upgraded_share", "grade_quality_share"}
# kept at their defaults in valid files: the city's size and layout (what makes a run fast and
# its storefronts fit), and the keys of the rules across keys (drawn in valid pairs instead)
FIXED_KEYS = {"cell_size_m", "block_cells", "communities_x", "communities_y", "city_layer",
              "residents_per_cell_old", "residents_per_cell_new", "walk_cutoff_m",
              "old_street_spacing", "new_gates", "storefronts_per_ha_old",
              "storefronts_per_ha_new", *CROSS_KEYS}
FREE_KEYS = sorted(set(PARAM_FIELDS) - FIXED_KEYS)
STREET_ROUTE = [[[0, 3], [0, 9]]]  # x = 0 is a street in every generated city
OFF_STREET_ROUTE = [[[1, 1], [5, 1]]]
# policy parameters drawn with values of their own below (strings naming categories, routes),
# or left at their defaults in valid files (the day a policy ends, the hours, the placement)
POLICY_SPECIAL = {"end_day", "open_hour", "close_hour", "routes_file", "route_stops", "goods",
                  "categories", "services", "hosts", "placement"}
VALID_STRINGS = {("mobile_vendors", "goods"): ["fresh_food", "convenience,fresh_food"],
                 ("neighborhood_center", "categories"): ["convenience,fresh_food"],
                 ("smart_platform", "categories"): ["", "repair,parcel"]}


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) \
            else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(v)


def good_value(f: dataclasses.Field, base: Any = None) -> st.SearchStrategy[Any]:
    """A value in range near ``base`` (the default unless given)."""
    meta = f.metadata
    base = f.default if base is None else base
    lo, hi, lo_open = meta.get("min"), meta.get("max"), meta.get("min_open", False)
    if f.type == "bool":
        return st.booleans()
    if f.type == "str":
        return st.sampled_from(meta["choices"]) if meta.get("choices") else st.just(base)
    if f.type == "int":
        a = max(base - 1, lo) if lo is not None else base - 1
        a += 1 if lo_open and a == lo else 0
        return st.integers(a, min(base + 1, hi) if hi is not None else base + 1)
    a = max(base * 0.5, lo) if lo is not None and base > 0 else (lo if lo is not None
                                                                 else base - 1.0)
    b = min(base * 1.5 + 0.1, hi) if hi is not None else base * 1.5 + 0.1
    return st.floats(a, max(a, b), exclude_min=bool(lo_open and a == lo and b > a))


def bad_value(f: dataclasses.Field) -> st.SearchStrategy[Any]:
    """A value of the wrong type, out of range or not finite."""
    meta = f.metadata
    lo, hi = meta.get("min"), meta.get("max")
    if f.type in ("str", "list | None"):
        return st.sampled_from([3, True] if f.type == "str" else [3, "text"])
    bad: list[Any] = ["text"]
    if f.type == "bool":
        return st.sampled_from(["text", 3])
    step = 1 if f.type == "int" else 0.5
    if lo is not None:
        bad.append(lo if meta.get("min_open") else type(f.default)(lo - step))
    if hi is not None and not math.isinf(hi):
        bad.append(type(f.default)(hi + step))
    if f.type == "float":
        bad += [float("nan"), float("inf"), float("-inf")]
    else:
        bad += [1.5]
    return st.sampled_from(bad)


@dataclasses.dataclass
class Case:
    """A generated file: where it is, the fault it carries (file, key) and what it sets."""

    path: Path
    fault: tuple[Path, str] | None = None
    what: str = "valid"
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    categories: dict[tuple[str, str], Any] = dataclasses.field(default_factory=dict)
    policies: list[tuple[str, dict[str, Any]]] = dataclasses.field(default_factory=list)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


POLICY_FAULTS: list[tuple[str, str, str | None, str | None]] = [
    # (kind, body, routes file text (the fault is then in that file), key; None: a bad value
    # of one of the kind's parameters, drawn)
    ("teleport", "", None, "policy.kind"),
    ("", "[[policy]]\nshare = 0.2", None, "policy.kind"),
    ("", "policy = 3", None, "policy"),
    ("rent_subsidy", "bogus_param = 1", None, "policy.rent_subsidy.bogus_param"),
    ("rent_subsidy", "", None, None),
    ("home_care", "", None, None),
    ("mobile_vendors", "", None, None),
    ("smart_platform", "", None, None),
    ("chain_penetration", "start_day = 10\nend_day = 5", None, "policy.chain_penetration.end_day"),
    ("mobile_vendors", "open_hour = 20.0\nclose_hour = 8.0", None,
     "policy.mobile_vendors.close_hour"),
    ("mobile_vendors", 'goods = "fresh_food,caviar"', None, "policy.mobile_vendors.goods"),
    ("neighborhood_center", 'categories = "a,b"', None, "policy.neighborhood_center.categories"),
    ("mobile_vendors", 'routes_file = "nope.toml"', None, "policy.mobile_vendors.routes_file"),
    ("mobile_vendors", "route_stops = [[[-1]]]", None, "policy.mobile_vendors.route_stops"),
    ("mobile_vendors", "", "bus = 3\n", "bus"),
    ("mobile_vendors", "", "[[bus]]\nstops = [[-1]]\n", "bus[0].stops"),
]
OFF_STREET_FAULTS: list[tuple[str, str, str | None, str | None]] = [
    # stops off the streets: which cells are streets depends on the run's seed (storefronts are
    # drawn), so only the run finds them -- `run` exits 2 naming the file; in an experiment the
    # runs fail (exit 1), so these are left out of the experiments' member scenarios
    ("mobile_vendors", f"route_stops = {toml_value(OFF_STREET_ROUTE)}", None,
     "policy.mobile_vendors.route_stops"),
    ("mobile_vendors", "", f"[[bus]]\nstops = {toml_value(OFF_STREET_ROUTE[0])}\n", "bus[0].stops"),
]


@st.composite
def scenario_file(draw: st.DrawFn, folder: Path, tag: str, fault: str | None,
                  off_street: bool = True, graph: str | None = None) -> Case:
    """A scenario file (and the parents and routes file it needs): valid by construction
    (``fault`` None), or with one fault of the kind named (one of ``SCENARIO_FAULTS``, or
    ``"any"``); ``off_street``: the policy faults include stops off the streets; ``graph``:
    its valid ``extends`` graph (one of ``GRAPHS``; drawn if None)."""
    fault = draw(st.sampled_from(SCENARIO_FAULTS)) if fault == "any" else fault
    path = folder / f"{tag}.toml"
    case = Case(path, what=fault or "valid")
    head: list[str] = []
    if draw(st.booleans()):
        head.append(f"name = {toml_value(draw(st.sampled_from(NAMES)))}")
    # --- extends: valid graphs, or one broken
    graph = graph or draw(st.sampled_from(GRAPHS))
    if fault == "extends":
        graph = draw(st.sampled_from(["missing", "cycle", "self", "mistyped", "two_kinds"]))
        case.fault = (path, "extends")
    if fault == "parent":
        graph = "broken_parent"
    if graph in ("chain", "broken_parent"):
        _write(folder / f"{tag}_p1.toml", f'extends = "{tag}_p2"\n')
        p2 = _write(folder / f"{tag}_p2.toml", 'extends = "baseline"\nshare_old = 0.4\n'
                    if graph == "chain" else draw(st.sampled_from(
                        ['extends = "no_such_scenario"\n', 'extends = "baseline"\nshare_old = 3\n',
                         'extends = "baseline"\nshar_old = 0.4\n'])))
        if graph == "broken_parent":
            text = p2.read_text()
            case.fault = (p2, "extends" if "no_such" in text else
                          "shar_old" if "shar_old" in text else "share_old")
        case.params["share_old"] = 0.4
        head.append(f'extends = "{tag}_p1"')
    elif graph == "diamond":  # two parents of one grandparent, which has a policy
        _write(folder / f"{tag}_g.toml", 'extends = "baseline"\n[[policy]]\n'
               'kind = "rent_subsidy"\nshare = 0.1\n')
        _write(folder / f"{tag}_l.toml", f'extends = "{tag}_g"\nshare_old = 0.3\n')
        _write(folder / f"{tag}_r.toml", f'extends = "{tag}_g"\nspeed_elderly_mps = 0.9\n')
        head.append(f'extends = ["{tag}_l", "{tag}_r"]')
        case.params.update(share_old=0.3, speed_elderly_mps=0.9)
        case.policies.append(("rent_subsidy", {"share": 0.1}))
    elif graph == "twice":
        head.append('extends = ["baseline", "baseline"]')
    elif graph == "cycle":
        _write(folder / f"{tag}_loop.toml", f'extends = "{tag}"\n')
        head.append(f'extends = "{tag}_loop"')
    elif graph == "two_kinds":
        _write(folder / f"{tag}_rs.toml", 'extends = "baseline"\n[[policy]]\n'
               'kind = "rent_subsidy"\n')
        head.append(f'extends = ["rent_subsidy", "{tag}_rs"]')
    else:
        head.append({"missing": 'extends = "no_such_scenario"', "self": f'extends = "{tag}"',
                     "mistyped": "extends = 3"}.get(graph, f'extends = "{graph}"'))
    # --- parameters: free keys near their defaults, the rules across keys kept
    values: dict[str, Any] = {"communities_x": 2, "communities_y": 2}
    for key in draw(st.lists(st.sampled_from(FREE_KEYS), max_size=4, unique=True)):
        values[key] = draw(good_value(PARAM_FIELDS[key]))
    for a, b in draw(st.lists(st.sampled_from([("share_low_income", "share_high_income"),
                                               ("know_new_shop", "know_settled_shop"),
                                               ("grade_upgraded_share", "grade_quality_share")]),
                              max_size=1)):
        x = draw(st.floats(0.0, 0.5))
        values[a], values[b] = x, draw(st.floats(x, 1.0 - x if "income" in a else 1.0))
    extra: list[str] = []
    if fault == "key":
        key = draw(st.sampled_from(["shar_old", "Days", "seed", "policy_x"]))
        extra.append(f"{key} = 1")
        case.fault = (path, key)
    elif fault == "param":
        key = draw(st.sampled_from(sorted(PARAM_FIELDS)))
        values[key] = draw(bad_value(PARAM_FIELDS[key]))
        case.fault = (path, key)
    elif fault in ("rule", "size"):
        key, setting = draw(st.sampled_from([
            ("share_high_income", {"share_low_income": 0.7, "share_high_income": 0.6}),
            ("know_settled_shop", {"know_new_shop": 0.8, "know_settled_shop": 0.3}),
            ("grade_quality_share", {"grade_upgraded_share": 0.9, "grade_quality_share": 0.5}),
            ("old_street_spacing", {"block_cells": 10, "old_street_spacing": 9}),
            ("storefronts_per_ha_new", {"storefronts_per_ha_new": 2.0, "share_old": 0.5}),
            ("storefronts_per_ha_old", {"storefronts_per_ha_old": 5.0, "share_old": 0.5}),
        ] if fault == "rule" else [
            ("communities_x", {"residents_per_cell_new": 2000.0, "block_cells": 60}),
            ("communities_x", {"residents_per_cell_old": 2000.0, "block_cells": 60,
                               "share_old": 1.0})]))
        values.update(setting)
        case.fault = (path, key)
    case.params.update(values)
    lines = head + [f"{k} = {toml_value(v)}" for k, v in values.items()] + extra
    # --- categories: overrides near the table's values, or one fault
    cat_faults = ["unknown", "field", "value", "table"] if fault == "category" else []
    for cat in draw(st.lists(st.sampled_from(CATEGORIES), max_size=2, unique=True)):
        name = draw(st.sampled_from(sorted(CATEGORY_FIELDS)))
        value = draw(good_value(CATEGORY_FIELDS[name], CATEGORY_TABLE[cat].get(name)))
        lines.append(f"[categories.{cat}]\n{name} = {toml_value(value)}")
        case.categories[(cat, name)] = value
    if cat_faults:
        kind = draw(st.sampled_from(cat_faults))
        cat = draw(st.sampled_from([c for c in CATEGORIES
                                    if c not in {k[0] for k in case.categories}]))
        name = draw(st.sampled_from(sorted(CATEGORY_FIELDS)))
        lines.append({"unknown": "[categories.caviar]\nspend = 1.0",
                      "field": f"[categories.{cat}]\nspnd = 1.0",
                      "value": f"[categories.{cat}]\n{name} = "
                               f"{toml_value(draw(bad_value(CATEGORY_FIELDS[name])))}",
                      "table": f"[categories]\n{cat} = 3"}[kind])
        case.fault = (path, {"unknown": "categories.caviar", "field": f"categories.{cat}.spnd",
                             "value": f"categories.{cat}.{name}",
                             "table": f"categories.{cat}"}[kind])
        if kind == "table":  # a bare [categories] table must come before the others
            lines = [ln for ln in lines if not ln.startswith("[categories.")]
            case.categories = {}
    # --- policies: valid parameters, or one fault
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(sorted(POLICY_KINDS)))
        fields = {f.name: f for f in dataclasses.fields(POLICY_KINDS[kind]) if f.init}
        chosen: dict[str, Any] = {}
        for p in draw(st.lists(st.sampled_from(sorted(fields)), max_size=3, unique=True)):
            if (kind, p) in VALID_STRINGS:
                chosen[p] = draw(st.sampled_from(VALID_STRINGS[(kind, p)]))
            elif p not in POLICY_SPECIAL:
                chosen[p] = draw(good_value(fields[p]))
        body = [f'kind = "{kind}"'] + [f"{p} = {toml_value(v)}" for p, v in chosen.items()]
        if kind == "mobile_vendors" and draw(st.booleans()):
            if draw(st.booleans()):
                _write(folder / "routes.toml", f"[[bus]]\nstops = {toml_value(STREET_ROUTE[0])}\n")
                body.append('routes_file = "routes.toml"')
            else:
                body.append(f"route_stops = {toml_value(STREET_ROUTE)}")
        lines.append("[[policy]]\n" + "\n".join(body))
        case.policies.append((kind, chosen))
    if fault == "policy":
        kind, body, routes, key = draw(st.sampled_from(
            POLICY_FAULTS + (OFF_STREET_FAULTS if off_street else [])))
        where = path
        if kind in POLICY_KINDS and key is None:  # a bad value of one of its parameters
            fields = {f.name: f for f in dataclasses.fields(POLICY_KINDS[kind])
                      if f.init and f.name not in POLICY_SPECIAL}
            p = draw(st.sampled_from(sorted(fields)))
            body, key = f"{p} = {toml_value(draw(bad_value(fields[p])))}", f"policy.{kind}.{p}"
        if routes is not None:  # the fault is in the routes file the policy names
            where = _write(folder / "bad_routes.toml", routes)
            body = 'routes_file = "bad_routes.toml"'
        if body.startswith("policy ="):  # a top-level key: before the tables, and no others
            lines = [ln for ln in lines if not ln.startswith("[[policy]]")]
            lines.insert(len(head), body)
        else:
            lines.append(f"[[policy]]\nkind = \"{kind}\"\n{body}" if kind else body)
        case.fault = (where, key)
    text = "\n".join(lines) + "\n"
    if fault == "bytes":
        odd, key = draw(st.sampled_from([
            ("# caf\u00e9\n".encode("latin-1"), "(encoding)"),
            (b"\xff" + draw(st.binary(max_size=6)), "(encoding)"),
            (b"broken = [\n", "(syntax)"), (b"\x00\n", "(syntax)"),
            (b"deep = " + b"[" * 5000 + b"]" * 5000 + b"\n", "(syntax)")]))
        path.write_bytes(text.encode("utf-8") + odd)
        case.fault = (path, key)
    else:
        path.write_text(text, encoding="utf-8")
    return case


def files_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def check_error(code: Any, err: str, case: Case, written_before: set[Path], folder: Path,
                also: Path | None = None) -> None:
    """Exit 2, one line naming the file at fault and the key, nothing written."""
    assert case.fault is not None
    file, key = case.fault
    assert code == 2, (case.what, code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), (case.what, err)
    assert str(file) in lines[0], (case.what, f"names not {file}", lines[0])
    assert key in lines[0], (case.what, f"names not {key!r}", lines[0])
    if also is not None:
        assert str(also) in lines[0], (case.what, f"names not {also}", lines[0])
    assert files_under(folder) == written_before, "an invalid input wrote something"


def check_config(config: dict[str, Any], case: Case) -> None:
    """The resolved configuration shows what the file (and its parents) set."""
    sc = config["scenario"]
    for key, value in case.params.items():
        assert sc["params"][key] == value, (key, sc["params"][key], value)
    for (cat, name), value in case.categories.items():
        assert sc["categories"][cat][name] == value, (cat, name)
    for kind, params in case.policies:
        assert any(p["kind"] == kind and all(p["params"][k] == v for k, v in params.items())
                   for p in sc["policies"]), (kind, params, sc["policies"])


SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def cli() -> Iterator[CliServer]:
    server = CliServer()
    yield server
    server.close()


def _env() -> dict[str, str]:
    return {**os.environ, "LIFECIRCLE_MAX_MEMORY_GB": "0.45"}


def _run_scenario(cli: CliServer, data: st.DataObject, fault: str | None,
                  graph: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        case = data.draw(scenario_file(folder, "scen", fault, graph=graph))
        out = folder / "out"
        before = files_under(folder)
        code, err = cli.run(["run", str(case.path), "--days", "3", "--out", str(out),
                             "--no-progress"], env=_env(), cwd=folder, limit=LIMIT)
        event(f"{case.what}: {case.fault[1] if case.fault else ''}: exit {code}")
        if case.fault is not None:
            check_error(code, err, case, before, folder)
            return
        assert code == 0, (err, case.path.read_text())
        daily = pd.read_parquet(out / "daily.parquet")
        assert list(daily["day"]) == [1, 2, 3]
        assert len(pd.read_parquet(out / "summary.parquet")) == 1
        config = json.loads((out / "config.json").read_text())
        assert config["days"] == 3
        check_config(config, case)
        assert not [p for p in folder.iterdir() if ".partial-" in p.name]


@pytest.mark.parametrize("graph", GRAPHS)
@settings(max_examples=5, **SETTINGS)
@given(data=st.data())
def test_a_valid_scenario_file_runs_and_shows_what_it_set(cli, graph, data):
    _run_scenario(cli, data, None, graph)


@pytest.mark.parametrize("fault", SCENARIO_FAULTS)
@settings(max_examples=15, **SETTINGS)
@given(data=st.data())
def test_a_scenario_file_with_one_fault_is_one_error_naming_the_file_and_key(cli, fault, data):
    _run_scenario(cli, data, fault)


@dataclasses.dataclass
class Experiment:
    """A generated experiment file, its member scenario, its fault and the expected runs."""

    case: Case
    member: Case | None = None
    runs: int = 0
    days: int = 0
    factor: str | None = None
    values: list[float] = dataclasses.field(default_factory=list)


EXPERIMENT_FAULTS: list[tuple[str, Any, str]] = [
    # (key, value, the key the error names)
    ("replicates", 0, "replicates"), ("replicates", 2.5, "replicates"),
    ("replicates", "two", "replicates"), ("replicates", 10**9, "replicates"),
    ("days", 0, "days"), ("days", 10**8, "days"), ("days", float("inf"), "days"),
    ("warmup", 3, "warmup"), ("warmup", -1, "warmup"),
    ("root_seed", -1, "root_seed"), ("root_seed", 2**64, "root_seed"),
    ("root_seed", 1.5, "root_seed"), ("root_seed", 10**30, "root_seed"),
    ("metrics", ["share_satisfyed"], "metrics"), ("metrics", [], "metrics"),
    ("metrics", "share_satisfied", "metrics"),
    ("name", "x y", "name"), ("name", "a/b", "name"), ("name", "../up", "name"),
    ("scenarios", ["baseline", "mobile_vendorz"], "scenarios"),
    ("scenarios", ["baseline", "baseline"], "scenarios"), ("scenarios", [], "scenarios"),
    ("scenarios", "baseline", "scenarios"),
    ("replicatez", 1, "replicatez"), ("seed", 1, "seed"), ("Days", 1, "Days"),
]
DESIGN_FAULTS: list[tuple[str, str]] = [
    # (the [design] and [uncertainties] tables, the key the error names)
    ('[design]\nmethod = "gird"\n[uncertainties.speed_elderly_mps]\nlow = 0.9\nhigh = 1.0',
     "design.method"),
    ('[design]\nmethod = "sobol"\nsamples = 3\n[uncertainties.speed_elderly_mps]\nlow = 0.9\n'
     'high = 1.0', "design.samples"),
    ('[design]\nmethod = "morris"\ntrajectories = 2\nlevels = 3\n'
     '[uncertainties.speed_elderly_mps]\nlow = 0.9\nhigh = 1.0', "design.levels"),
    ('[design]\nmethod = "grid"', "design.method"),
    ('[design]\nmethod = "lhs"\nsamples = 2\n[uncertainties.no_such_param]\nlow = 0.9\n'
     'high = 1.0', "uncertainties.no_such_param"),
    ('[design]\nmethod = "lhs"\nsamples = 2\n[uncertainties.speed_elderly_mps]\nlow = 1.0\n'
     'high = 0.9', "uncertainties.speed_elderly_mps.high"),
    ('[design]\nmethod = "lhs"\nsamples = 2\n[uncertainties.speed_elderly_mps]\nlow = 0.9\n'
     'high = inf', "uncertainties.speed_elderly_mps.high"),
    ('[design]\nmethod = "grid"\n[uncertainties.speed_elderly_mps]\nvalues = []',
     "uncertainties.speed_elderly_mps.values"),
    ('[design]\nmethod = "grid"\n[uncertainties.speed_elderly_mps]\nvalues = [0.9, 7.0]',
     "uncertainties.speed_elderly_mps"),
    ('[uncertainties.speed_elderly_mps]\nvalues = [0.9, 1.0]',
     "uncertainties.speed_elderly_mps.values"),
    ('[design]\nmethod = "lhs"\nsamples = 2\n[uncertainties."policy.rent_subsidy.share"]\n'
     'low = 0.1\nhigh = 0.2', "uncertainties.policy.rent_subsidy.share"),
    ("[settings]\nshare_old = 3", "settings.share_old"),
]


@st.composite
def experiment_file(draw: st.DrawFn, folder: Path, fault: str | None,
                    method: str | None = None) -> Experiment:
    """An experiment file: valid by construction (``fault`` None), or with one fault of the
    kind named: in its own keys, in its design, or in its member scenario. ``method``: its
    design (one of ``METHODS``; drawn if None)."""
    path = folder / "exp.toml"
    exp = Experiment(Case(path, what=f"experiment {fault or 'valid'}"))
    scenarios = draw(st.sampled_from([["baseline"], ["baseline", "member.toml"],
                                      ["baseline", "rent_subsidy"]]))
    if fault == "member":
        scenarios = ["baseline", "member.toml"]
    if "member.toml" in scenarios:
        exp.member = draw(scenario_file(folder, "member", "any" if fault == "member" else None,
                                        off_street=False))
        if fault == "member":
            exp.case.fault = exp.member.fault
            exp.case.what = f"experiment member {exp.member.what}"
    table: dict[str, Any] = {"scenarios": scenarios, "replicates": draw(st.integers(1, 2)),
                             "days": draw(st.integers(2, 3))}
    table["warmup"] = draw(st.integers(0, table["days"] - 1))
    table["root_seed"] = draw(st.sampled_from([0, 7, 2**63 - 1]))
    table["metrics"] = draw(st.lists(st.sampled_from(model.METRIC_NAMES), min_size=1,
                                     max_size=2, unique=True))
    if draw(st.booleans()):
        table["name"] = draw(st.sampled_from(["ok", "run-1", "A_b", ""]))
    design = ""
    method = method or draw(st.sampled_from(METHODS))
    method = None if method == "none" else method
    factor, lo, hi = draw(st.sampled_from(
        [("speed_elderly_mps", 0.9, 1.0), ("categories.repair.spend", 5.0, 6.0)]
        + ([("policy.rent_subsidy.share", 0.1, 0.2)] if "rent_subsidy" in scenarios else [])))
    points = 1
    if method == "grid":
        exp.values = sorted(set(draw(st.lists(st.floats(lo, hi), min_size=2, max_size=3))))
        design = f'[design]\nmethod = "grid"\n[uncertainties."{factor}"]\nvalues = ' \
                 f"{toml_value(exp.values)}"
        points = len(exp.values)
    elif method is not None:
        sizes = {"lhs": "samples = 2", "morris": "trajectories = 2\nlevels = 4",
                 "sobol": "samples = 2"}
        points = {"lhs": 2, "morris": 2 * 2, "sobol": 2 * 3}[method]
        design = f'[design]\nmethod = "{method}"\n{sizes[method]}\n[uncertainties."{factor}"]\n' \
                 f"low = {lo}\nhigh = {hi}"
    if method is not None:
        exp.factor = factor
    if fault is None:
        exp.case.what = f"experiment valid, {len(scenarios)} scenarios, design {method}"
    if fault == "key":
        key, value, named = draw(st.sampled_from(EXPERIMENT_FAULTS))
        table[key] = value
        exp.case.fault = (path, named)
    elif fault == "design":
        design, named = draw(st.sampled_from(DESIGN_FAULTS))
        exp.case.fault = (path, named)
    lines = [f"{k} = {toml_value(v)}" for k, v in table.items()]
    if design.startswith("[settings]"):
        lines.append(design.replace("[settings]", "[settings]\ncommunities_x = 2\n"
                                    "communities_y = 2"))
    else:
        lines.append("[settings]\ncommunities_x = 2\ncommunities_y = 2")
        lines.append(design)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # a policy's factor applies only to the scenarios with that policy; the others run once,
    # at the reference point
    runs_per = [points if method is None or not factor.startswith("policy.")
                or s == "rent_subsidy" else 1 for s in scenarios]
    exp.runs = sum(runs_per) * table["replicates"]
    exp.days = table["days"]
    return exp


def _run_experiment(cli: CliServer, data: st.DataObject, fault: str | None,
                    method: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        exp = data.draw(experiment_file(folder, fault, method))
        out = folder / "results"
        before = files_under(folder)
        code, err = cli.run(["experiment", str(exp.case.path), "--out", str(out),
                             "--workers", "0", "--no-progress"], env=_env(), cwd=folder,
                            limit=LIMIT)
        event(f"{exp.case.what}: {exp.case.fault[1] if exp.case.fault else ''}: exit {code}")
        if exp.case.fault is not None:
            check_error(code, err, exp.case, before, folder,
                        also=exp.case.path if exp.member and exp.member.fault else None)
            return
        assert code == 0, (err, exp.case.path.read_text())
        runs = pd.read_parquet(out / "runs.parquet")
        assert len(runs) == exp.runs and set(runs["status"]) == {"ok"}
        assert len(pd.read_parquet(out / "daily.parquet")) == exp.runs * exp.days
        assert len(pd.read_parquet(out / "summary.parquet")) == exp.runs
        assert (out / "manifest.json").is_file()
        if exp.values:  # a grid runs exactly the values given
            points = pd.read_parquet(out / "points.parquet")
            assert sorted(points.loc[points["point"] >= 0, exp.factor]) == exp.values
        if exp.member is not None:  # the member file's values reached its runs
            configs = json.loads((out / "manifest.json").read_text())["config"]
            label, = (k for k in configs["scenario_configs"] if k != "baseline")
            check_config({"scenario": configs["scenario_configs"][label]}, exp.member)


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=2, **SETTINGS)
@given(data=st.data())
def test_a_valid_experiment_file_runs_every_run_it_plans(cli, method, data):
    _run_experiment(cli, data, None, method)


@pytest.mark.parametrize("fault", ["key", "design", "member"])
@settings(max_examples=10, **SETTINGS)
@given(data=st.data())
def test_an_experiment_file_with_one_fault_is_one_error_naming_the_file_and_key(cli, fault,
                                                                                 data):
    _run_experiment(cli, data, fault)


def test_a_command_over_its_time_limit_is_killed_and_fails_its_example(cli, tmp_path):
    """The time limit itself: a run of 100 years is killed at 3 s, and the next one runs."""
    path = _write(tmp_path / "s.toml", 'extends = "baseline"\ncommunities_x = 2\n'
                  "communities_y = 2\n")
    with pytest.raises(HangError, match="ran for more than 3 s"):
        cli.run(["run", str(path), "--days", "36500", "--out", str(tmp_path / "long"),
                 "--no-progress"], env=_env(), cwd=tmp_path, limit=3)
    code, err = cli.run(["run", str(path), "--days", "3", "--out", str(tmp_path / "short"),
                         "--no-progress"], env=_env(), cwd=tmp_path, limit=LIMIT)
    assert code == 0, err
    assert (tmp_path / "short" / "daily.parquet").is_file()


ODD_FILES = {
    "binary.toml": b"\xff\xfe\x00binary\x00",
    "latin 1.toml": 'name = "caf\u00e9"\nextends = "baseline"\n'.encode("latin-1"),
    "nan.toml": b'extends = "baseline"\nshare_old = nan\n',
    "twice missing.toml": b'extends = ["x", "x"]\n',
}


def test_a_handful_through_the_real_command_line(tmp_path):
    for name, content in ODD_FILES.items():
        (tmp_path / name).write_bytes(content)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lifecircle", *args], capture_output=True,
                              text=True, cwd=tmp_path, env=env, timeout=120)

    proc = cli("validate", *ODD_FILES)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == len(ODD_FILES), proc.stderr
    for name, line in zip(ODD_FILES, lines, strict=True):
        assert line.startswith("error: ") and name in line, line
    proc = cli("run", "latin 1.toml", "--days", "3", "--out", "out", "--set",
               "communities_x=2", "--set", "communities_y=2")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("error: ") and "latin 1.toml" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(ODD_FILES)
