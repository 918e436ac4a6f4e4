"""The page's text: the scenario's own description, and the circle grades' rule and shares.

Every scenario's ``description`` (its file's text) is quoted on the page; the rule of the
grades is written from ``model.grades``'s own function and the model's parameters, so it
changes with them.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from model import load_scenario
from model.scenario import scenario_names
from viz.levers import Settings
from viz.run import Run
from viz.story import grade_line, grade_rule, quality_formats_needed, summary_markdown

from .conftest import SMALL


def small_run(name: str, **overrides) -> Run:
    """A run of scenario ``name`` on a small city (the page's Settings, seed 2)."""
    return Run.build(Settings(scenario=name, seed=2,
                              scenario_obj=load_scenario(name, {**SMALL, **overrides})))


@pytest.mark.parametrize("name", ["baseline", "fill_gaps", "mobile_vendors", "rent_subsidy"])
def test_the_scenarios_description_is_shown(name):
    description = load_scenario(name).description
    assert description  # every scenario file describes itself
    text = summary_markdown(small_run(name))
    assert f"\n> {' '.join(description.split())}\n" in text


def test_every_scenario_file_has_a_description_to_show():
    assert all(load_scenario(name).description.strip() for name in scenario_names())


def test_a_description_is_quoted_on_one_line_and_none_is_not_quoted():
    run = small_run("baseline")
    config = run.model.config
    run.model.config = dataclasses.replace(config, description="Two lines\n  of  text.")
    assert "\n> Two lines of text.\n" in summary_markdown(run)
    run.model.config = dataclasses.replace(config, description="")
    assert "\n> " not in summary_markdown(run)


def test_the_grade_rule_is_in_the_text_with_the_models_thresholds():
    run = small_run("baseline")
    text = summary_markdown(run)
    assert f"**Circle grades:** {grade_rule(run.model)}" in text
    rule = grade_rule(run.model)
    assert "at least 80% of its residents" in rule
    assert "Basic: all 8 basic formats (convenience, fresh food, breakfast" in rule
    assert "Upgraded: basic and at least 4 of the 5 quality formats (canteen" in rule
    assert "Quality: basic and all 5." in rule
    other = small_run("baseline", grade_reach_share=0.6, grade_upgraded_share=0.4,
                      grade_quality_share=0.6).model
    rule = grade_rule(other)
    assert "at least 60% of its residents" in rule
    assert "at least 2 of the 5 quality formats" in rule
    assert "Quality: basic and at least 3 of the 5." in rule


@pytest.mark.parametrize("up, top", [(0.8, 1.0), (0.4, 0.6), (0.2, 0.2), (0.0, 0.5)])
def test_formats_needed_follow_the_documented_ceiling(up, top):
    model = small_run("baseline", grade_upgraded_share=up, grade_quality_share=top).model
    # model/grades.py: upgraded needs ceil(share x Q) of the Q quality formats, as quality does
    assert quality_formats_needed(model) == (5, math.ceil(up * 5 - 1e-9),
                                             math.ceil(top * 5 - 1e-9))


def test_the_text_gives_the_share_of_residents_in_each_grade():
    run = small_run("neighborhood_center")
    run.step(1)
    m = run.model.metrics()
    line = grade_line(m)
    assert line in summary_markdown(run)
    for name in ("quality", "upgraded", "basic"):
        assert f"{name} {100 * m[f'grade_share_{name}']:.0f}%" in line
    assert f"below basic {100 * m['grade_share_none']:.0f}%" in line
    assert m["grade_share_upgraded"] > 0 and m["grade_share_none"] < 1
