"""Generate the parameter and category tables of docs/ODD.md from the code.

The parameter table is read from ``model.params.Params`` (``dataclasses.fields`` and their
``doc`` / ``min`` / ``max`` / ``min_open`` / ``source`` metadata); the category table from
``scenarios/categories.toml`` (values, and per category its ``[<name>.sources]`` table).

Usage::

    python docs/gen_param_table.py          # print the generated section
    python docs/gen_param_table.py --write  # rewrite it in docs/ODD.md, between the markers
    python docs/gen_param_table.py --check  # exit 1 if docs/ODD.md is out of date

``tests/test_odd_docs.py`` fails when ODD.md's section differs from what this prints.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import model.params as params_module  # noqa: E402
from model.params import Params  # noqa: E402

ODD_PATH = ROOT / "docs" / "ODD.md"
CATEGORY_PATH = ROOT / "scenarios" / "categories.toml"
BEGIN = "<!-- params:begin -->"
END = "<!-- params:end -->"

# columns of the category value table, in order (name -> header)
CATEGORY_COLUMNS = {
    "tier": "tier", "spend": "spend (yuan/visit)", "freq_worker": "freq worker",
    "freq_family": "freq family", "freq_elderly": "freq 60-79", "freq_80plus": "freq 80+",
    "deliverable": "deliverable", "margin": "margin", "floor_m2": "floor (m2)",
    "staff_yuan_day": "staff (yuan/day)", "capacity": "capacity (visits/day)",
    "outside_utility": "outside utility", "initial_share": "initial share",
    "chain_share": "chain share",
}


def _cell(text: Any) -> str:
    """A value as a Markdown table cell (pipes escaped, no line breaks)."""
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _fmt(value: Any) -> str:
    """A default value as written in a scenario file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _range(meta: dict[str, Any]) -> str:
    """Allowed range from the field metadata, e.g. ``[0, 1]`` or ``(0, inf)``."""
    lo, hi = meta.get("min"), meta.get("max")
    if lo is None and hi is None:
        return "any"
    left = "(" if meta.get("min_open") or lo is None else "["
    right = ")" if hi is None else "]"
    return f"{left}{'-inf' if lo is None else _fmt(lo)}, {'inf' if hi is None else _fmt(hi)}{right}"


def _sections() -> dict[str, str]:
    """Map parameter name -> section heading (the ``# --- name ---`` comments of params.py)."""
    out: dict[str, str] = {}
    section = ""
    for line in inspect.getsource(params_module.Params).splitlines():
        m = re.match(r"\s*# -+ (.+?) -+\s*$", line)
        if m:
            section = m.group(1).strip()
            continue
        m = re.match(r"\s{4}(\w+)\s*:\s*\w+\s*=", line)
        if m:
            out[m.group(1)] = section
    return out


def param_table() -> str:
    """The Markdown table of every field of ``Params``."""
    sections = _sections()
    lines = ["| parameter | default | meaning (unit) | allowed | source |",
             "|---|---|---|---|---|"]
    current = None
    for f in dataclasses.fields(Params):
        section = sections.get(f.name, "")
        if section and section != current:
            lines.append(f"| **{_cell(section)}** | | | | |")
            current = section
        meta = f.metadata
        lines.append(f"| `{f.name}` | {_cell(_fmt(f.default))} | {_cell(meta.get('doc', ''))} | "
                     f"{_cell(_range(meta))} | {_cell(meta.get('source', ''))} |")
    return "\n".join(lines)


def category_source(sources: dict[str, str], field: str) -> str:
    """Source of one category value: its own, ``freq`` for frequencies, ``all``, or "assumption"."""
    if field in sources:
        return sources[field]
    if field.startswith("freq_") and "freq" in sources:
        return sources["freq"]
    return sources.get("all", "assumption")


def category_tables(path: Path = CATEGORY_PATH) -> str:
    """The category value table and, per category, the source of each value."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    head = "| category | " + " | ".join(CATEGORY_COLUMNS.values()) + " |"
    lines = [head, "|---" * (len(CATEGORY_COLUMNS) + 1) + "|"]
    for name, row in data.items():
        cells = [_cell(_fmt(row[c]) if c != "tier" else row[c]) if c in row else "-"
                 for c in CATEGORY_COLUMNS]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines += ["", "Sources of the category values (a field's own source, else the category's `all` entry, "
              "else \"assumption\"):", "",
              "| category | source of each value |", "|---|---|"]
    for name, row in data.items():
        sources = row.get("sources", {})
        fallback = sources.get("all", "assumption")
        own: dict[str, list[str]] = {}
        for c in CATEGORY_COLUMNS:
            src = category_source(sources, c)
            if src == fallback:
                continue
            label = "freq_*" if c.startswith("freq_") and c not in sources else c
            if label not in own.setdefault(src, []):
                own[src].append(label)
        parts = [f"{', '.join(cols)}: {src}" for src, cols in own.items()]
        parts.append(f"{'other values' if parts else 'all values'}: {fallback}")
        lines.append(f"| `{name}` | " + _cell("; ".join(parts)) + " |")
    return "\n".join(lines)


def policy_tables() -> str:
    """One table per policy kind: its parameters with default, meaning, range and source."""
    from model.policies import POLICY_KINDS

    lines: list[str] = []
    for kind in sorted(POLICY_KINDS):
        cls = POLICY_KINDS[kind]
        lines += [f"`{kind}`", "", "| parameter | default | meaning | allowed | source |",
                  "|---|---|---|---|---|"]
        for f in dataclasses.fields(cls):
            meta = f.metadata
            allowed = _range(meta) if meta.get("choices") is None else ", ".join(meta["choices"])
            lines.append(f"| `{f.name}` | {_cell(_fmt(f.default))} | {_cell(meta.get('doc', ''))} | "
                         f"{_cell(allowed)} | {_cell(meta.get('source', 'assumption'))} |")
        lines.append("")
    return "\n".join(lines).rstrip()


def generate() -> str:
    """The whole generated section (without the markers)."""
    return "\n".join([
        "<!-- generated by docs/gen_param_table.py from model/params.py and "
        "scenarios/categories.toml; do not edit by hand -->",
        "",
        "#### Model parameters (`model.params.Params`)",
        "",
        "Ranges: `[a, b]` closed, `(a, ...` open at the lower end, `inf` unbounded. "
        "\"source: ...\" cites a fact, \"assumption\" marks a modelling choice, "
        "\"implementation\" a numerical setting with no effect on results.",
        "",
        param_table(),
        "",
        "#### Category table (`scenarios/categories.toml`)",
        "",
        "Frequencies: chance per resident and day of one need of the category, by group. "
        "`initial_share` is renormalised to sum to 1 (model/categories.py).",
        "",
        category_tables(),
        "",
        "#### Policy parameters (`model/policies/`)",
        "",
        policy_tables(),
    ])


def splice(text: str, body: str) -> str:
    """Replace what lies between the markers in ``text`` with ``body``."""
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < i:
        raise SystemExit(f"{ODD_PATH}: markers {BEGIN} ... {END} not found")
    return text[: i + len(BEGIN)] + "\n" + body + "\n" + text[j:]


def current_section(text: str) -> str:
    """What lies between the markers of ``text`` (stripped), or raise ValueError."""
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < i:
        raise ValueError(f"markers {BEGIN} ... {END} not found")
    return text[i + len(BEGIN): j].strip("\n")


def main(argv: list[str] | None = None) -> int:
    """Print, write or check the generated section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="rewrite the section in docs/ODD.md")
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/ODD.md is out of date")
    args = ap.parse_args(argv)
    body = generate()
    if args.write:
        text = ODD_PATH.read_text(encoding="utf-8")
        new = splice(text, body)
        if new != text:
            ODD_PATH.write_text(new, encoding="utf-8")
            print(f"updated {ODD_PATH.relative_to(ROOT)}")
        else:
            print(f"{ODD_PATH.relative_to(ROOT)} is up to date")
        return 0
    if args.check:
        ok = current_section(ODD_PATH.read_text(encoding="utf-8")) == body
        print("up to date" if ok else "out of date: run python docs/gen_param_table.py --write")
        return 0 if ok else 1
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
