"""docs/ODD.md stays in step with the code: generated tables, parameter sources, phase order."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path

import model.model as model_module
from model.params import Params

ROOT = Path(__file__).resolve().parent.parent
ODD = ROOT / "docs" / "ODD.md"
FIX = "run: python docs/gen_param_table.py --write"


def _generator():
    spec = importlib.util.spec_from_file_location("gen_param_table", ROOT / "docs" / "gen_param_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_tables_are_up_to_date():
    gen = _generator()
    text = ODD.read_text(encoding="utf-8")
    assert gen.BEGIN in text and gen.END in text, "ODD.md lost its params markers"
    assert gen.current_section(text) == gen.generate(), f"docs/ODD.md tables are out of date; {FIX}"


def test_generated_tables_list_every_parameter_and_category():
    gen = _generator()
    body = gen.generate()
    for f in dataclasses.fields(Params):
        assert f"| `{f.name}` |" in body
    for name in ("convenience", "fresh_food", "canteen"):
        assert f"| `{name}` |" in body


def test_every_parameter_has_a_source():
    missing = [f.name for f in dataclasses.fields(Params)
               if not str(f.metadata.get("source", "")).strip()]
    assert not missing, f"parameters without a source: {missing}"


def test_every_parameter_has_doc_and_range_metadata():
    for f in dataclasses.fields(Params):
        assert str(f.metadata.get("doc", "")).strip(), f.name
        assert {"min", "max"} <= set(f.metadata), f.name


def test_phase_order_matches_model_docstring():
    phases = re.findall(r"^\d+\. \*\*(.+?)\*\*", model_module.__doc__, flags=re.M)
    assert len(phases) >= 5
    text = ODD.read_text(encoding="utf-8")
    section = text[text.index("## 3 Process overview"):text.index("## 4 Design concepts")]
    listed = re.findall(r"^\d+\. \*\*(.+?)\*\*", section, flags=re.M)
    assert listed == phases, "ODD.md section 3 no longer lists model.py's phases in order"
