"""Property: any scenario or experiment file either runs, or is one clean error naming a file.

Hypothesis generates scenario files and experiment files, valid and invalid: wrong types,
out-of-range and non-finite values, unknown keys, bad ``extends`` graphs (missing parents,
cycles, repeated parents), odd bytes, names with ``/``, spaces and ``..``. Each goes through
the command line (in this process: ``lifecircle.cli.main``, the real entry point; a handful
also as a subprocess) and must either run 3 days on a small city and write its output folder,
or exit 2 with one ``error:`` line naming one of the files (or the argument) -- never a
traceback, never a hang, and nothing written then.
"""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import model
from lifecircle.cli import main
from model.categories import Category
from model.params import PARAM_FIELDS
from model.policies import POLICY_KINDS

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--set", "communities_x=2", "--set", "communities_y=2"]
CATEGORIES = tuple(model.category_names())
# sizes that keep a valid example fast: the size parameters stay near their defaults and the
# memory guard refuses anything bigger than a small city (an exit-2 outcome like any other)
SIZE_KEYS = {"block_cells", "communities_x", "communities_y", "residents_per_cell_old",
             "residents_per_cell_new", "cell_size_m", "walk_cutoff_m", "reach_minutes"}


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(v)


def field_value(f: dataclasses.Field, clean: bool = False) -> st.SearchStrategy[Any]:
    """Valid values near the default; unless ``clean``, sometimes out of range, non-finite or
    mistyped."""
    meta, default = f.metadata, f.default
    lo, hi = meta.get("min"), meta.get("max")
    bad = st.sampled_from(["text", True, [1, 2], float("inf"), float("nan"), -1e9, 1e12])
    if f.type == "bool":
        good = st.booleans()
    elif f.type == "str":
        good = (st.sampled_from(meta["choices"]) if meta.get("choices")
                else st.just(default) if isinstance(default, str) else st.text(max_size=8))
    elif f.type == "int":
        good = st.integers(max(lo if lo is not None else -10**6, default - 1),
                           min(hi if hi is not None else 10**6, default + 1))
    else:
        a = lo if lo is not None else default - 1
        b = hi if hi is not None else default * 1.5 + 1
        a, b = max(a, default * 0.5 if default > 0 else a), min(b, default * 1.5 + 1)
        good = st.floats(min(a, b), max(a, b), allow_nan=False, allow_infinity=False)
    return good if clean else st.one_of(good, good, good, bad)


@st.composite
def scenario_file(draw: st.DrawFn, folder: Path, tag: str) -> tuple[Path, list[Path]]:
    """A scenario file (and any parent files it extends); returns it and every file made.

    Half the files are drawn ``clean`` (only valid choices, so they mostly run); the others
    may carry any fault.
    """
    clean = draw(st.booleans())
    made: list[Path] = []
    lines: list[str] = []
    name = draw(st.sampled_from(["plain", "x y", "a/b", "../../up", "..", "subsidy 30/50",
                                 "caf\u00e9", ""]))
    if draw(st.booleans()):
        lines.append(f"name = {toml_value(name)}")
    extends = draw(st.sampled_from(["baseline", "rent_subsidy", "parent"] if clean else
                                   ["baseline", "rent_subsidy", "parent", "cycle", "missing",
                                    "twice", "mistyped"]))
    if extends == "parent":
        parent = folder / f"{tag}_parent.toml"
        parent.write_text('extends = "baseline"\nshare_old = 0.4\n')
        made.append(parent)
        lines.append(f'extends = "{tag}_parent"')
    elif extends == "cycle":
        (folder / f"{tag}_loop.toml").write_text(f'extends = "{tag}"\n')
        made.append(folder / f"{tag}_loop.toml")
        lines.append(f'extends = "{tag}_loop"')
    elif extends == "missing":
        lines.append('extends = "no_such_scenario"')
    elif extends == "twice":
        lines.append('extends = ["baseline", "baseline"]')
    elif extends == "mistyped":
        lines.append("extends = 3")
    else:
        lines.append(f'extends = "{extends}"')
    keys = draw(st.lists(st.sampled_from(sorted(PARAM_FIELDS)), max_size=4, unique=True))
    for key in keys:
        f = PARAM_FIELDS[key]
        value = (draw(st.sampled_from([f.default] if clean else [f.default, "big"]))
                 if key in SIZE_KEYS else draw(field_value(f, clean)))
        lines.append(f"{key} = {toml_value(value)}")
    if not clean and draw(st.integers(0, 5)) == 0:
        lines.append(f"{draw(st.sampled_from(['shar_old', 'Days', 'seed', 'policy_x']))} = 1")
    cat_fields = {f.name: f for f in dataclasses.fields(Category) if f.name != "name"}
    cats = [*CATEGORIES] if clean else [*CATEGORIES, "caviar"]
    for cat in draw(st.lists(st.sampled_from(cats), max_size=2, unique=True)):
        fname = draw(st.sampled_from(sorted(cat_fields)))
        lines.append(f"[categories.{cat}]\n{fname} = "
                     f"{toml_value(draw(field_value(cat_fields[fname], clean)))}")
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(sorted(POLICY_KINDS) if clean
                                    else [*sorted(POLICY_KINDS), "teleport"]))
        body = [f'kind = "{kind}"']
        if kind in POLICY_KINDS:
            pf = {f.name: f for f in dataclasses.fields(POLICY_KINDS[kind]) if f.init}
            for p in draw(st.lists(st.sampled_from(sorted(pf)), max_size=3, unique=True)):
                if p == "routes_file":
                    value = draw(st.sampled_from(["", "routes.toml"] if clean else
                                                 ["", "routes.toml", "nope.toml"]))
                    (folder / "routes.toml").write_text(draw(st.sampled_from(
                        ["[[bus]]\nstops = [[1, 1], [5, 1]]\n"] if clean else
                        ["[[bus]]\nstops = [[1, 1], [5, 1]]\n", "[[bus]]\nstops = [[-1]]\n",
                         "bus = 3\n"])))
                    made.append(folder / "routes.toml")
                elif p == "route_stops":  # given routes: lists of [x, y] street cells
                    value = draw(st.sampled_from([[[[1, 1], [5, 1]]]] if clean else
                                                 [[[[1, 1], [5, 1]]], [[[-1]]], [3]]))
                elif p in ("goods", "categories"):
                    value = draw(st.sampled_from(["fresh_food", "convenience,fresh_food"]
                                                 if clean else ["fresh_food", "", "a,b",
                                                                "fresh_food,caviar"]))
                else:
                    value = draw(field_value(pf[p], clean))
                body.append(f"{p} = {toml_value(value)}")
        lines.append("[[policy]]\n" + "\n".join(body))
    text = "\n".join(lines) + "\n"
    path = folder / f"{tag}.toml"
    odd = 9 if clean else draw(st.integers(0, 6))
    if odd == 0:
        path.write_bytes(text.encode("utf-8") + draw(st.binary(min_size=1, max_size=8)))
    elif odd == 1:
        path.write_bytes(text.encode("latin-1", errors="replace") + b"\xe9\xff")
    elif odd == 2:
        path.write_text(text + "broken = [\n")
    else:
        path.write_text(text)
    return path, [*made, path]


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def check_outcome(code: int, err: str, out: Path, inputs: list[Path], before: set[Path],
                  folder: Path, written: tuple[str, ...]) -> None:
    assert code in (0, 2), (code, err)
    if code == 0:
        assert all((out / name).is_file() for name in written), err
        return
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    names = [str(p) for p in inputs] + [p.name for p in inputs] + ["--set", "overrides",
                                                                  "LIFECIRCLE_MAX_MEMORY_GB"]
    assert any(n in lines[0] for n in names), lines[0]
    assert files_under(folder) == before, "an invalid input wrote something"


@settings(max_examples=50, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_scenario_file_runs_or_is_one_clean_error(data, capsys, monkeypatch):
    monkeypatch.setenv("LIFECIRCLE_MAX_MEMORY_GB", "0.45")
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        path, inputs = data.draw(scenario_file(folder, "scen"))
        out = folder / "out"
        before = files_under(folder)
        code = main(["run", str(path), "--days", "3", "--out", str(out), "--no-progress",
                     *SMALL])
        captured = capsys.readouterr()
        event(f"exit {code}")
        check_outcome(code, captured.err, out, inputs, before, folder,
                      ("daily.parquet", "summary.parquet", "config.json"))
        if code == 0:
            assert not [p for p in folder.iterdir() if ".partial-" in p.name]


@st.composite
def experiment_file(draw: st.DrawFn, folder: Path) -> tuple[Path, list[Path]]:
    """An experiment file (half of them with valid choices only) and the scenario it names."""
    clean = draw(st.booleans())

    def pick(good: list[Any], bad: list[Any]) -> Any:
        return draw(st.sampled_from(good if clean else good + bad))

    scen, made = draw(scenario_file(folder, "member"))
    table: dict[str, Any] = {}
    choice = pick(["baseline", "file"], ["bogus", "twice", "empty", "mistyped"])
    table["scenarios"] = {"baseline": ["baseline"], "file": ["baseline", scen.name],
                          "bogus": ["baseline", "mobile_vendorz"], "twice": ["baseline"] * 2,
                          "empty": [], "mistyped": "baseline"}[choice]
    table["replicates"] = pick([1, 2], [0, -1, 2.5, "two", 10**9])
    table["days"] = pick([2, 3], [0, 10**8, float("inf")])
    table["warmup"] = pick([0, 1], [5, -1])
    table["root_seed"] = pick([0, 7, 2**63 - 1], [-1, 2**64, 1.5, 10**30])
    table["metrics"] = pick([["share_satisfied"], ["independents_open"]],
                            [["share_satisfyed"], [], "share_satisfied"])
    if not clean and draw(st.booleans()):
        table[draw(st.sampled_from(["replicatez", "seed", "Days"]))] = 1
    name = pick(["ok", None], ["x y", "a/b", "../up"])
    if name is not None:
        table["name"] = name
    lines = [f"{k} = {toml_value(v)}" for k, v in table.items()]
    lines.append("[settings]\ncommunities_x = 2\ncommunities_y = 2")
    design = pick([None, "grid", "lhs"], ["morris", "sobol", "gird"])
    if design is not None:
        lines.append(f'[design]\nmethod = "{design}"')
        if design in ("lhs", "sobol"):
            lines.append(f"samples = {pick([2], [3, 4, 0])}")
        if design == "morris":
            lines.append(f"trajectories = 2\nlevels = {pick([4], [3])}")
        factor = pick(["speed_elderly_mps", "categories.repair.spend"],
                      ["policy.rent_subsidy.share", "no_such_param"])
        spec = ("values = [0.9, 1.0]" if design == "grid" and clean else
                "low = 0.9\nhigh = 1.0" if clean else
                draw(st.sampled_from(["values = [0.9, 1.0]", "low = 0.9\nhigh = 1.0",
                                      "low = 1.0\nhigh = 0.9", "values = []",
                                      "low = 0.9\nhigh = inf", "values = [0.9]\nsteps = 2"])))
        lines.append(f'[uncertainties."{factor}"]\n{spec}')
    path = folder / "exp.toml"
    path.write_text("\n".join(lines) + "\n")
    return path, [*made, path]


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_experiment_file_runs_or_is_one_clean_error(data, capsys, monkeypatch):
    monkeypatch.setenv("LIFECIRCLE_MAX_MEMORY_GB", "0.45")
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        path, inputs = data.draw(experiment_file(folder))
        out = folder / "results"
        before = files_under(folder)
        code = main(["experiment", str(path), "--out", str(out), "--workers", "0",
                     "--no-progress"])
        captured = capsys.readouterr()
        event(f"exit {code}")
        check_outcome(code, captured.err, out, inputs, before, folder,
                      ("manifest.json", "runs.parquet", "daily.parquet", "summary.parquet"))


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
    proc = cli("run", "latin 1.toml", "--days", "3", "--out", "out", *SMALL)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("error: ") and "latin 1.toml" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(ODD_FILES)
