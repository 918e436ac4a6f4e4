"""The house's structure: no import cycles, errors in a leaf module, one way to declare a field."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("model", "experiments", "validation", "viz", "lifecircle", "mapdata")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Project modules imported anywhere in a file (module level or inside functions)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        out.update(t for t in targets if t.split(".")[0] in PACKAGES)
    return out


def _graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES if (ROOT / pkg).is_dir() for p in (ROOT / pkg).rglob("*.py")]
    modules = {_module_name(p): p for p in files}
    graph: dict[str, set[str]] = {}
    for mod, path in modules.items():
        deps = set()
        for target in _imports(path):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != mod:
                deps.add(target)
        graph[mod] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def _strip_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Drop edges into a package's ``__init__`` from its own modules (re-exports, not cycles)."""
    return {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in graph.items()}


def test_no_import_cycles_anywhere_in_the_project():
    assert _cycles(_strip_packages(_graph())) == []


def test_errors_module_is_a_leaf():
    assert _graph()["model.errors"] == set()


def test_the_model_does_not_import_experiments_or_viz():
    graph = _graph()
    for mod, deps in graph.items():
        if mod.startswith("model"):
            assert not {d for d in deps if d.split(".")[0] in ("experiments", "viz", "validation",
                                                               "lifecircle", "mapdata")}, mod


def test_experiments_and_validation_never_import_viz_or_the_command_line():
    graph = _graph()
    for mod, deps in graph.items():
        if mod.split(".")[0] in ("experiments", "validation") and mod != "validation.__main__":
            assert not {d for d in deps if d.split(".")[0] in ("viz", "lifecircle")}, mod
        if mod.split(".")[0] == "experiments":
            assert not {d for d in deps if d.split(".")[0] == "validation"}, mod


def test_one_module_owns_the_command_line():
    """argparse and sys.exit appear only in lifecircle/ (and the viewer's own server)."""
    for pkg in ("model", "experiments", "validation"):
        for path in (ROOT / pkg).rglob("*.py"):
            if path.name == "__main__.py":
                continue
            text = path.read_text(encoding="utf-8")
            assert "import argparse" not in text, path
            assert "SystemExit" not in text and "sys.exit(" not in text, path


def test_every_declared_field_has_doc_source_and_range_keys():
    from model.categories import Category
    from model.params import Params
    from model.policies import POLICY_KINDS

    for cls in (Params, Category, *POLICY_KINDS.values()):
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            assert str(f.metadata.get("doc", "")).strip(), f"{cls.__name__}.{f.name} has no doc"
            assert str(f.metadata.get("source", "")).strip(), f"{cls.__name__}.{f.name} has no source"
            assert {"min", "max", "choices"} <= set(f.metadata), f"{cls.__name__}.{f.name}"


def _headline_literals(source: str) -> list[int]:
    """Lines of tuple/list/set literals that spell out headline metric names.

    A literal is a copy when its strings are two or more names of ``HEADLINE_METRICS`` and
    nothing else, or when it holds every name of ``LEAD_METRICS``.
    """
    from model.outcomes import HEADLINE_METRICS, LEAD_METRICS

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            words = [e.value for e in node.elts
                     if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            pure = len(words) >= 2 and set(words) <= set(HEADLINE_METRICS)
            if pure or set(LEAD_METRICS) <= set(words):
                lines.append(node.lineno)
    return lines


def test_headline_metric_lists_are_spelled_out_only_in_model_outcomes():
    from model.outcomes import HEADLINE_METRICS, LEAD_METRICS, SERIES_METRICS

    assert set(LEAD_METRICS) <= set(HEADLINE_METRICS)
    assert set(SERIES_METRICS) <= set(HEADLINE_METRICS)
    # the check itself bites: a copied pair, the lead triple among other names
    assert _headline_literals('X = ("surplus_yuan", "share_satisfied")\n') == [1]
    assert _headline_literals('f(["gini_access", "surplus_yuan", "share_satisfied",\n'
                              '   "coverage_basic_all"])\n') == [1]
    assert _headline_literals('X = ("share_satisfied", "gini_access")\n') == []
    found = {}
    for pkg in (*PACKAGES, "benchmarks"):
        for path in (ROOT / pkg).rglob("*.py"):
            if path == ROOT / "model" / "outcomes.py":
                continue
            lines = _headline_literals(path.read_text(encoding="utf-8"))
            if lines:
                found[str(path.relative_to(ROOT))] = lines
    assert found == {}, ("import HEADLINE_METRICS (or a part named in model/outcomes.py) "
                         f"instead of spelling the names out: {found}")


LAYOUT_PACKAGES = ("model", "experiments", "validation", "lifecircle", "viz", "mapdata")


def _layout_rows() -> dict[str, str]:
    """The README layout table's row text per path (``model/`` -> its role)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells[1]
    return rows


def _named_in_row(row: str) -> dict[str, set[str]]:
    """Files a row names, by folder: ``""`` for the package itself, ``"policies"`` for the
    part of the row from the backticked ``policies/`` on (up to the next folder)."""
    out: dict[str, set[str]] = {"": set()}
    folder = ""
    for token in re.findall(r"`([^`]+)`", row):
        if token.endswith("/") and "/" not in token[:-1]:
            folder = token[:-1]
            out.setdefault(folder, set())
        elif token.endswith((".py", ".vue")) and token.split("/")[0] in LAYOUT_PACKAGES:
            out.setdefault("(elsewhere)", set()).add(token)  # a file of another package
        elif token.endswith((".py", ".vue")):
            out[folder].add(token)
    return out


def _layout_gaps() -> tuple[list[str], list[str]]:
    from model.policies import POLICY_KINDS

    rows = _layout_rows()
    missing, stale = [], []
    for pkg in LAYOUT_PACKAGES:
        named = _named_in_row(rows.get(f"{pkg}/", ""))
        files = {p for ext in ("py", "vue") for p in (ROOT / pkg).rglob(f"*.{ext}")
                 if "__pycache__" not in p.parts and p.name != "__init__.py"}
        for path in sorted(files):
            rel = path.relative_to(ROOT / pkg)
            folder = "/".join(rel.parts[:-1])
            if folder == "policies" and path.stem in POLICY_KINDS and "one file per policy" \
                    in rows.get(f"{pkg}/", ""):
                continue  # "one file per policy", named after its kind
            if path.name not in named.get(folder, set()):
                missing.append(str(path.relative_to(ROOT)))
        for folder, names in named.items():
            for name in names:
                where = ROOT / name if folder == "(elsewhere)" else ROOT / pkg / folder / name
                if not where.is_file():
                    stale.append(str(where.relative_to(ROOT)))
    return missing, stale


def test_the_readme_layout_table_names_every_module_of_the_tree():
    missing, stale = _layout_gaps()
    assert missing == [], f"README.md's layout table does not name: {missing}"
    assert stale == [], f"README.md's layout table names files that do not exist: {stale}"


def test_modules_stay_small_in_every_package():
    """~400 lines at most (420 allowed), model/ and mapdata/ included."""
    for pkg in LAYOUT_PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            n = len(path.read_text(encoding="utf-8").splitlines())
            assert n <= 420, f"{path.relative_to(ROOT)} has {n} lines"
