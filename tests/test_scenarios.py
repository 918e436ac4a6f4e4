"""Scenario files and overrides: valid ones load, bad ones fail clearly before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from model import CommerceModel, ScenarioError, load_scenario
from model.params import PARAM_FIELDS, Params


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_baseline_loads_with_defaults():
    sc = load_scenario("baseline")
    assert sc.name == "baseline"
    assert sc.params == Params()
    assert "fresh_food" in sc.category_table.names
    assert len(sc.config_hash()) == 16


def test_every_parameter_has_doc_source_and_range():
    for name, f in PARAM_FIELDS.items():
        assert f.metadata["doc"], name
        assert f.metadata["source"], name


def test_extends_and_overrides_merge(tmp_path):
    write(tmp_path, "parent", 'extends = "baseline"\nshare_old = 0.25\n[categories.repair]\nspend = 22.0\n')
    child = write(tmp_path, "child", 'extends = "parent"\nblock_cells = 10\n')
    sc = load_scenario(child, {"categories.repair.margin": 0.5, "new_gates": 3})
    assert sc.params.share_old == 0.25 and sc.params.block_cells == 10 and sc.params.new_gates == 3
    repair = sc.category_table.categories[sc.category_table.index["repair"]]
    assert repair.spend == 22.0 and repair.margin == 0.5
    assert sc.config_hash() != load_scenario("baseline").config_hash()


@pytest.mark.parametrize(("text", "key", "phrase"), [
    ("shar_old = 0.3", "shar_old", "did you mean 'share_old'"),
    ("share_old = 'many'", "share_old", "is not a number"),
    ("occupancy_old = 1.5", "occupancy_old", "out of range"),
    ("rent_old_yuan_m2_day = -1.0", "rent_old_yuan_m2_day", "out of range"),
    ("cell_size_m = 0.0", "cell_size_m", "out of range"),
    ("block_cells = 4", "block_cells", "out of range"),
    ("old_street_spacing = 9\nblock_cells = 10", "old_street_spacing", "must be < block_cells"),
    ("communities_x = 1\ncommunities_y = 1\nshare_old = 0.5", "communities_x", "at least 2"),
    ("[categories.frsh_food]\nspend = 3.0", "categories.frsh_food", "did you mean 'fresh_food'"),
    ("[categories.repair]\ntier = 'luxury'", "categories.repair.tier", "one of ['basic', 'quality']"),
    ("[categories.repair]\nmargin = 2.0", "categories.repair.margin", "out of range"),
    ("[[policy]]\nkind = 'teleport'", "policy.kind", "not a policy kind"),
    ('extends = "no_such_scenario"', "extends", "file not found"),
    ("share_old = ", "(syntax)", "not valid TOML"),
])
def test_bad_scenarios_name_file_key_and_rule(tmp_path, text, key, phrase):
    path = write(tmp_path, "bad", text + "\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.key == key
    assert phrase in str(err.value)
    assert str(path) in str(err.value) or "no_such_scenario" in str(err.value)


def test_extends_cycle_is_reported(tmp_path):
    write(tmp_path, "a", 'extends = "b"\n')
    b = write(tmp_path, "b", 'extends = "a"\n')
    with pytest.raises(ScenarioError, match="cycle: b.toml -> a.toml -> b.toml"):
        load_scenario(b)


def test_bad_override_fails_before_model_is_built():
    with pytest.raises(ScenarioError, match="occupancy_new_start.*out of range"):
        CommerceModel(rng=1, occupancy_new_start=2.0)
    with pytest.raises(ScenarioError, match="did you mean 'block_cells'"):
        CommerceModel(rng=1, block_cell=10)
    with pytest.raises(ScenarioError, match="is not an integer"):
        CommerceModel(rng=1, communities_x=2.5)
