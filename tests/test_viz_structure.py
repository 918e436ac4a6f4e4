"""The viewer's house rules: small modules with one job each, the model's real types, one
scenario folder, Mesa's public API, and why it is not Mesa's SolaraViz frame."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VIZ = sorted((ROOT / "viz").glob("*.py"))
VIEWER_TESTS = sorted((ROOT / "tests").glob("test_viz_*.py")) + [ROOT / "tests" / "viz_support.py"]
#: Patterns that mean the viewer guesses its model, swallows errors, or uses private API.
FORBIDDEN = {
    r"except Exception": "a bare `except Exception`",
    r"getattr\(\s*(model|m|self\.model)\b": "duck typing on the model",
    r"agents_of\(": "agents looked up by class name",
    r"\.__name__ ==": "a type recognised by its name",
    r"LIFECIRCLE_SCENARIO_DIR": "a second scenario-folder setting",
    r"\._cells\b": "Mesa's private grid cells",
    r"model\.candidates\b": "the model's internal candidate index",
}


@pytest.mark.parametrize("path", VIZ, ids=lambda p: p.name)
def test_viewer_modules_are_small(path):
    assert len(path.read_text().splitlines()) <= 400


@pytest.mark.parametrize("path", VIZ + VIEWER_TESTS, ids=lambda p: p.name)
def test_viewer_code_does_not_guess_its_model(path):
    text = path.read_text()
    if path.name == "test_viz_structure.py":
        return
    found = [why for pattern, why in FORBIDDEN.items() if re.search(pattern, text)]
    assert not found, f"{path.name}: {found}"


def test_viewer_names_its_metrics_from_the_model():
    from model import METRIC_NAMES
    from viz.plots import PLOTS

    plotted = {c for _title, main, _share, twin in PLOTS for c in (*main, *twin)}
    assert plotted <= set(METRIC_NAMES)
    text = "\n".join(p.read_text() for p in VIZ)
    assert "METRIC_NAMES" in text  # the CSV and the replay check use the model's list


def test_mesa_solaraviz_reset_cannot_rebuild_a_lifecircle_model():
    """Why the page is not Mesa's SolaraViz frame (viz/page.py says it in words)."""
    from mesa.experimental.scenarios import Scenario as MesaScenario
    from mesa.visualization.solara_viz import _build_model_init_kwargs

    from model import CommerceModel, ScenarioError

    model = CommerceModel(scenario="mobile_vendors", rng=1)
    assert model.config.name == "mobile_vendors"  # lifecircle's scenario; Mesa's is its own
    kwargs = _build_model_init_kwargs(model, {"rng": 1}, add_scenario_when_empty=True,
                                      require_model_accepts_scenario=True)
    assert isinstance(kwargs["scenario"], MesaScenario)  # Reset replaces `scenario=`
    with pytest.raises(ScenarioError):
        type(model)(**kwargs)
