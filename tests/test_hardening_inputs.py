"""Everything is checked before anything runs: policy inputs, arguments, sizes.

Each bad input is one ``error:`` line naming the file or argument and the key, exit status 2,
and nothing written. (Issue 10: ``validate`` passed mobile-vendor goods and centre categories
that do not exist and routes files that are not routes files, which ``run`` then died on;
``--seed -1``, a 26-digit seed and ``--days 1000000000`` gave tracebacks or ran until killed;
a city inside the allowed ranges exhausted memory.)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lifecircle.cli import main
from model import ScenarioError, load_scenario
from model.footprint import MEMORY_ENV, estimate

SMALL = ["--set", "communities_x=2", "--set", "communities_y=2"]


def _scenario(folder: Path, policy: str, name: str = "s") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(f'extends = "baseline"\n[[policy]]\n{policy}\n')
    return path


@pytest.mark.parametrize(("policy", "key", "words"), [
    ('kind = "mobile_vendors"\ngoods = "fresh_food,caviar"', "policy.mobile_vendors.goods",
     "give known categories, each once"),
    ('kind = "mobile_vendors"\ngoods = " , "', "policy.mobile_vendors.goods",
     "give known categories, each once"),
    ('kind = "mobile_vendors"\ngoods = "fresh_food,fresh_food"', "policy.mobile_vendors.goods",
     "give known categories, each once"),
    ('kind = "neighborhood_center"\ncategories = "convenience,frsh_food"',
     "policy.neighborhood_center.categories", "give known categories, each once"),
    ('kind = "neighborhood_center"\ncategories = ""', "policy.neighborhood_center.categories",
     "give known categories, each once"),
    ('kind = "mobile_vendors"\ncapacity_per_day = inf', "policy.mobile_vendors.capacity_per_day",
     "not a finite number"),
    ('kind = "rent_subsidy"\nbudget_per_year = nan', "policy.rent_subsidy.budget_per_year",
     "not a finite number"),
])
def test_policy_inputs_are_checked_by_validate_and_run(tmp_path, capsys, policy, key, words):
    path = _scenario(tmp_path, policy)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.key == key and words in str(err.value) and str(path) in str(err.value)
    assert main(["validate", str(path)]) == 2
    out = tmp_path / "out"
    assert main(["run", str(path), "--days", "3", "--out", str(out), *SMALL]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all(ln.startswith("error: ") and key in ln for ln in lines)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


@pytest.mark.parametrize(("routes", "key", "words"), [
    ('name = "not routes"\n', "bus", "expected [[bus]] tables"),
    ("[[bus]]\nstops = []\n", "bus: bus[0].stops", "non-empty list of [x, y]"),
    ("[[bus]]\nstops = [[1, 2], [3]]\n", "bus: bus[0].stops", "non-empty list of [x, y]"),
    ("[[bus]]\nstops = [[1, -2]]\n", "bus: bus[0].stops", "non-empty list of [x, y]"),
    ("[[bus]]\nstop = [[1, 2]]\n", "bus: bus[0].stops", "non-empty list of [x, y]"),
    ("[[bus]\n", "(syntax)", "not a routes file"),
])
def test_a_routes_file_must_be_a_routes_file(tmp_path, routes, key, words):
    (tmp_path / "routes.toml").write_text(routes)
    path = _scenario(tmp_path, 'kind = "mobile_vendors"\nroutes_file = "routes.toml"')
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.where == str(tmp_path / "routes.toml")
    assert err.value.key == key and words in err.value.problem


def test_a_routes_file_is_found_beside_its_scenario_and_its_contents_are_hashed(tmp_path,
                                                                              monkeypatch):
    folder = tmp_path / "scen"
    folder.mkdir()
    (folder / "routes.toml").write_text("[[bus]]\nstops = [[1, 1], [5, 1]]\n")
    path = _scenario(folder, 'kind = "mobile_vendors"\nroutes_file = "routes.toml"')
    monkeypatch.chdir(tmp_path)  # the scenario's folder, not the working folder, resolves it
    first = load_scenario(path)
    params = first.policies[0]["params"]
    assert [[list(xy) for xy in r] for r in params["route_stops"]] == [[[1, 1], [5, 1]]]
    (folder / "routes.toml").write_text("[[bus]]\nstops = [[1, 1], [7, 1]]\n")
    second = load_scenario(path)
    assert second.config_hash() != first.config_hash()  # same path, other contents


@pytest.mark.parametrize(("args", "words"), [
    (["--seed", "-1"], "argument --seed: -1 is out of range"),
    (["--seed", "12345678901234567890123456"], "argument --seed: 12345678901234567890123456 is "
                                                "out of range"),
    (["--seed", "one"], "argument --seed: 'one' is not an integer"),
    (["--days", "1000000000"], "argument --days: 1000000000 is out of range; allowed 1..36,500"),
    (["--days", "0"], "argument --days: 0 is out of range"),
    (["--set", "share_old=inf"], "share_old: inf is not a finite number"),
    (["--set", "walk_cutoff_m=1e400"], "walk_cutoff_m: inf is not a finite number"),
    (["--set", "nonsense"], "--set: nonsense: expected key=value"),
])
def test_bad_arguments_are_one_line_errors_before_anything_runs(tmp_path, capsys, args, words):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) if args[0] in ("--seed", "--days") else _no_raise():
        code = main(["run", "baseline", "--out", str(out), *args])
        assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and words in err, err
    assert not out.exists() and list(tmp_path.iterdir()) == []


class _no_raise:  # noqa: N801 - a context manager used like pytest.raises
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_city_too_big_for_this_machine_is_refused_with_the_figure_and_the_override(
        tmp_path, capsys, monkeypatch):
    big = tmp_path / "big.toml"
    big.write_text('extends = "baseline"\ncommunities_x = 400\ncommunities_y = 400\n')
    fp = estimate(load_scenario(big).params)
    assert fp.residents > 300_000_000 and fp.memory_bytes > 100e9
    out = tmp_path / "out"
    assert main(["run", str(big), "--days", "2", "--out", str(out)]) == 2
    assert main(["validate", str(big)]) == 2
    exp = tmp_path / "exp.toml"  # in an experiment: the experiment and the scenario named
    exp.write_text(f'scenarios = ["baseline", "{big.as_posix()}"]\nreplicates = 1\ndays = 2\n')
    assert main(["experiment", str(exp), "--out", str(out), "--workers", "1"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and lines[2].startswith(f"error: {exp}: key 'settings': ")
    for line in lines:
        assert str(big) in line and "GB" in line and MEMORY_ENV in line
    assert not out.exists()
    monkeypatch.setenv(MEMORY_ENV, "100000")
    assert main(["validate", str(big)]) == 0
    monkeypatch.setenv(MEMORY_ENV, "lots")
    assert main(["validate", str(big)]) == 2
    assert f"{MEMORY_ENV}: 'lots' is not a positive number" in capsys.readouterr().err


def test_the_footprint_estimate_follows_the_city_it_describes():
    from model import CommerceModel

    m = CommerceModel(rng=1, communities_x=3, communities_y=2)
    fp = estimate(m.params)
    assert fp.cells == m.city.width * m.city.height
    assert fp.home_cells == len(m.city.home_xy)
    assert fp.residents == int(m.city.home_capacity.sum())
    assert fp.storefronts == len(m.city.storefront_xy)


def test_a_batch_that_would_take_too_long_is_refused_in_a_dry_run(tmp_path, capsys,
                                                                 monkeypatch):
    monkeypatch.setenv("LIFECIRCLE_MAX_HOURS", "0.001")
    exp = Path(__file__).resolve().parent.parent / "experiments" / "policy_comparison.toml"
    out = tmp_path / "out"
    assert main(["experiment", str(exp), "--out", str(out), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert str(exp) in err and "hours" in err and "LIFECIRCLE_MAX_HOURS" in err
    assert not out.exists()
    monkeypatch.delenv("LIFECIRCLE_MAX_HOURS")
    assert main(["experiment", str(exp), "--out", str(out), "--dry-run"]) == 0
    assert "estimate: largest run:" in capsys.readouterr().out


def test_a_walkable_cell_check_names_the_routes_file_when_the_city_is_built(tmp_path, capsys):
    import numpy as np

    from model import CommerceModel
    from model.city import WALL

    city = CommerceModel(rng=1, communities_x=2, communities_y=2).city
    x, y = (int(v) for v in np.argwhere(city.cell_type == WALL)[0])
    (tmp_path / "routes.toml").write_text(f"[[bus]]\nstops = [[{x}, {y}]]\n")
    path = _scenario(tmp_path, 'kind = "mobile_vendors"\nroutes_file = "routes.toml"')
    assert main(["run", str(path), "--days", "3", "--out", str(tmp_path / "out"), *SMALL]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'routes.toml'}: bus[0].stops" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
    assert not [p for p in os.listdir(tmp_path) if "partial" in p]
    # given in the scenario file itself: the scenario file and the key are named
    path = _scenario(tmp_path, f'kind = "mobile_vendors"\nroute_stops = [[[{x}, {y}]]]', "inline")
    assert main(["run", str(path), "--days", "3", "--out", str(tmp_path / "out"), *SMALL]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: policy.mobile_vendors.route_stops: bus[0].stops")
    assert err.count("\n") == 1 and not (tmp_path / "out").exists()


def test_a_city_too_crowded_to_lay_out_names_the_file_and_the_key(tmp_path, capsys):
    """More storefronts per hectare than a block has places facing a street: every command
    names the scenario file (not "params") and the key, before anything runs."""
    path = tmp_path / "crowded.toml"
    path.write_text('extends = "baseline"\nstorefronts_per_ha_new = 2.0\n')
    key = "storefronts_per_ha_new"
    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {path}: {key}: ")
    assert main(["run", str(path), "--days", "3", "--out", str(tmp_path / "out"), *SMALL]) == 2
    assert capsys.readouterr().err.startswith(f"error: {path}: {key}: ")
    exp = tmp_path / "exp.toml"
    exp.write_text(f'scenarios = ["baseline", "{path.as_posix()}"]\nreplicates = 1\ndays = 2\n'
                   "[settings]\ncommunities_x = 2\ncommunities_y = 2\n")
    assert main(["experiment", str(exp), "--out", str(tmp_path / "res"), "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {exp}: key 'scenarios': {path}: {key}: "), err
    assert err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crowded.toml", "exp.toml"]
