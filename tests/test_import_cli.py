"""`lifecircle import` end to end: files written, output rules, and the imported circle in use.

The imported scenario must work wherever a scenario does: `validate`, `run`, experiments,
`optimize` (a search whose base scenario is the imported circle), the viewer's map,
`Scenario.with_policy`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.execute import simulate_run
from experiments.optimize.problem import load_problem
from experiments.summary import summarize_run
from lifecircle.cli import main
from model import CommerceModel, ScenarioError, load_scenario
from model.city import WALL
from model.city_layer import LayerCity, read_layer
from tests.import_tiny import BBOX, EXPECTED, OPTIONS, bbox_arg, write_inputs


def _import(files, out: Path, *extra: str) -> int:
    args = ["import", *map(str, files), "--bbox", bbox_arg(), "--out", str(out)]
    for o in OPTIONS:
        args += ["--set", o]
    return main(args + list(extra))


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("imported")
    files = write_inputs(folder / "inputs")
    out = folder / "circle" / "tiny.toml"
    assert _import(files, out) == 0
    return files, out


def test_import_writes_a_scenario_extending_baseline_and_its_layer(imported, capsys):
    _, out = imported
    layer = out.with_name("tiny.city.npz")
    assert out.is_file() and layer.is_file()
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# lifecircle import:")
    assert 'extends = "baseline"' in text and 'city_layer = "tiny.city.npz"' in text
    assert "POI types with no mapping" in text  # the summary travels with the scenario
    sc = load_scenario(out)
    assert sc.params.city_layer == str(layer.resolve())
    arrays, meta = read_layer(layer)
    assert meta["written_by"] == "lifecircle import" and meta["bbox"] == list(BBOX)
    assert [s["file"] for s in meta["sources"]] == ["tiny.geojson", "pois.csv"]
    assert meta["summary"]["unmapped"] == EXPECTED["unmapped"]


def test_validate_and_run_accept_the_imported_scenario(imported, tmp_path, capsys):
    _, out = imported
    assert main(["validate", str(out)]) == 0
    run_dir = tmp_path / "run"
    assert main(["run", str(out), "--days", "20", "--seed", "2", "--out", str(run_dir),
                 "--no-progress"]) == 0
    config = json.loads((run_dir / "config.json").read_text())
    assert config["scenario"]["params"]["city_layer"].endswith("tiny.city.npz")
    assert len(config["scenario"]["city_layer_sha256"]) == 64


def test_the_model_lives_on_the_imported_grid_with_its_shops_at_day_0(imported):
    _, out = imported
    m = CommerceModel(out, rng=4)
    assert isinstance(m.city, LayerCity)
    assert (m.city.width, m.city.height) == (11, 9)
    assert m.population.n == sum(EXPECTED["homes"].values())
    homes = {tuple(map(int, xy)) for xy in m.city.home_xy}
    assert homes == set(EXPECTED["homes"])
    shops = m.supply.shops
    got = {tuple(map(int, m.supply.site_xy[s])): (m.categories.names[c], bool(ch))
           for s, c, ch in zip(shops.site, shops.category, shops.chain, strict=True)}
    assert got == EXPECTED["shops"]
    assert not shops.entrant.any() and shops.open.all()
    assert set(map(tuple, m.supply.site_xy[m.supply.vacant_storefronts()].tolist())) == \
        EXPECTED["vacant"]
    m.run_for(40)
    metrics = m.metrics()
    assert 0 <= metrics["share_satisfied"] <= 1 and metrics["residents"] > 0


def test_same_seed_same_days_on_an_imported_circle(imported):
    _, out = imported
    runs = []
    for _ in range(2):
        m = CommerceModel(out, rng=9)
        m.run_for(15)
        runs.append(m.datacollector.get_model_vars_dataframe())
    assert runs[0].equals(runs[1])


def test_policies_apply_to_an_imported_circle(imported):
    _, out = imported
    sc = load_scenario(out).with_policy("mobile_vendors", n_buses=1)
    m = CommerceModel(sc, rng=1)
    m.run_for(5)
    assert m.params.city_layer and m.policies[0].kind == "mobile_vendors"


def test_a_second_import_needs_force_and_a_foreign_file_is_never_replaced(imported, tmp_path,
                                                                         capsys):
    files, out = imported
    target = tmp_path / "again.toml"
    assert _import(files, target) == 0
    before = target.read_bytes()
    assert _import(files, target) == 2
    assert "pass --force" in capsys.readouterr().err
    assert _import(files, target, "--force") == 0
    assert target.read_bytes().splitlines()[-3:] == before.splitlines()[-3:]
    foreign = tmp_path / "mine.toml"
    foreign.write_text("name = 'mine'\n")
    assert _import(files, foreign, "--force") == 2
    assert "not written by lifecircle import" in capsys.readouterr().err
    assert foreign.read_text() == "name = 'mine'\n"
    assert not (tmp_path / "mine.city.npz").exists()


def _bad_csv(folder: Path) -> Path:
    p = folder / "bad.csv"
    p.write_text("lon,lat,what\n116.4,39.9,x\n")
    return p


@pytest.mark.parametrize(("case", "expect"), [
    ("suffix", "unknown kind of file"),
    ("missing", "file not found"),
    ("csv_columns", "needs a type column"),
    ("bbox_text", "needs four numbers"),
    ("bbox_order", "west < east"),
    ("option", "did you mean 'area_per_person_m2'"),
    ("option_range", "out of range"),
    ("no_streets", "no walkable street inside the box"),
    ("no_homes", "no homes inside the box"),
    ("broken_pbf", "not a readable OSM PBF extract"),
    ("broken_xml", "not readable as OSM XML"),
    ("broken_geojson", "not a readable GeoJSON/GeoPackage file"),
])
def test_bad_input_is_one_error_line_exit_2_and_nothing_written(imported, tmp_path, capsys,
                                                                 case, expect):
    files, _ = imported
    files = list(files)
    out = tmp_path / "out" / "x.toml"
    w, s, e, n = BBOX
    args = ["import", *map(str, files), "--out", str(out), "--bbox", bbox_arg()]
    if case == "suffix":
        args[1] = str(tmp_path / "roads.shp")
        Path(args[1]).write_text("")
    elif case == "missing":
        args[1] = str(tmp_path / "nowhere.osm.pbf")
    elif case == "csv_columns":
        args[2] = str(_bad_csv(tmp_path))
    elif case == "bbox_text":
        args[-1] = "116.4,39.9"
    elif case == "bbox_order":
        args[-1] = f"{e},{s},{w},{n}"
    elif case == "option":
        args += ["--set", "area_per_persn_m2=30"]
    elif case == "option_range":
        args += ["--set", "area_per_person_m2=-3"]
    elif case == "no_streets":
        args[-1] = f"{w - 0.05},{s - 0.05},{w - 0.04},{s - 0.04}"
    elif case == "no_homes":
        args[-1] = f"{w + (e - w) * 0.5},{s},{e},{s + (n - s) * 0.3}"
    elif case.startswith("broken_"):
        name = {"broken_pbf": "x.osm.pbf", "broken_xml": "x.osm", "broken_geojson": "x.geojson"}
        bad = tmp_path / name[case]
        bad.write_bytes(b"\x00\x01garbage{<" * 50)
        args[1] = str(bad)
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and expect in err
    assert not out.parent.exists()


def test_city_layer_is_relative_to_the_scenario_file_that_sets_it(imported, tmp_path):
    _, out = imported
    child = tmp_path / "elsewhere" / "child.toml"
    child.parent.mkdir()
    child.write_text(f'extends = "{out.as_posix()}"\nname = "child"\nbeta_quality = 2.5\n')
    sc = load_scenario(child)
    assert sc.params.city_layer == str(out.with_name("tiny.city.npz").resolve())


def test_a_cell_size_other_than_the_layers_is_refused(imported):
    _, out = imported
    with pytest.raises(ScenarioError) as err:
        load_scenario(out, {"cell_size_m": 25.0})
    assert err.value.key == "cell_size_m" and "re-import" in err.value.problem


def test_a_missing_or_damaged_layer_fails_validate_naming_the_key(imported, tmp_path, capsys):
    _, out = imported
    copy = tmp_path / "copy"
    shutil.copytree(out.parent, copy)
    scenario, layer = copy / "tiny.toml", copy / "tiny.city.npz"
    arrays, meta = read_layer(layer)
    arrays["home_capacity"] = arrays["home_capacity"][:-1]  # one count short
    np.savez_compressed(layer, meta=np.array(json.dumps(meta)), **arrays)
    assert main(["validate", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert "city_layer" in err and "home_capacity" in err
    layer.unlink()
    assert main(["validate", str(scenario)]) == 2
    assert "file not found" in capsys.readouterr().err


def test_the_layers_content_is_part_of_the_configuration_hash(imported, tmp_path):
    files, _ = imported
    a, b = tmp_path / "a.toml", tmp_path / "b" / "a.toml"
    assert _import(files, a) == 0
    assert _import(files, b, "--set", "area_per_person_m2=30") == 0
    da, db = load_scenario(a).to_dict(), load_scenario(b).to_dict()
    assert da["city_layer_sha256"] != db["city_layer_sha256"]
    assert load_scenario(a).config_hash() != load_scenario(b).config_hash()


def test_an_experiment_runs_the_imported_circle(imported, tmp_path):
    _, out = imported
    exp = tmp_path / "exp.toml"
    exp.write_text(f"""
name = "imported"
scenarios = ["{out.as_posix()}"]
baseline = "tiny"
replicates = 2
days = 8
warmup = 2
root_seed = 3
metrics = ["share_satisfied", "coverage_basic_all"]
""")
    results = tmp_path / "results"
    assert main(["experiment", str(exp), "--workers", "1", "--out", str(results),
                 "--no-progress"]) == 0
    runs = pd.read_parquet(results / "runs.parquet")
    assert (runs["status"] == "ok").sum() == 2 and set(runs["scenario"]) == {"tiny"}
    daily = pd.read_parquet(results / "daily.parquet")
    assert len(daily) == 2 * 8 and daily["share_satisfied"].between(0, 1).all()


def test_the_viewers_map_draws_the_imported_layout(imported):
    import io

    from PIL import Image

    from viz.mapview import MapPainter, cell_colours
    from viz.palette import PLAIN, rgb8

    _, out = imported
    m = CommerceModel(out, rng=1)
    rgb = cell_colours(m)
    assert rgb.shape[:2] == (m.city.width, m.city.height)
    ct = m.city.cell_type
    assert (rgb[ct == WALL] == rgb8(PLAIN["wall"])).all()
    assert tuple(rgb[5, 2]) == rgb8(PLAIN["road"])
    assert tuple(rgb[3, 3]) == rgb8(PLAIN["old"])  # an old community's home
    assert tuple(rgb[8, 3]) == rgb8(PLAIN["new"])
    img = Image.open(io.BytesIO(MapPainter(m).png()))
    assert img.size[0] > m.city.width and img.size[1] > m.city.height


def test_the_viewer_builds_the_imported_scenario_from_its_picker(imported, monkeypatch, tmp_path):
    import model.scenario as scenario_files
    from model.scenario import SCENARIO_DIR
    from viz.levers import Settings, build_model, scenario_choices
    from viz.mapview import MapPainter

    _, out = imported
    folder = tmp_path  # one scenario folder: the picker lists it, the model reads it
    for path in (out, out.with_name("tiny.city.npz"), SCENARIO_DIR / "categories.toml",
                 SCENARIO_DIR / "baseline.toml"):
        shutil.copy(path, folder / path.name)
    monkeypatch.setattr(scenario_files, "SCENARIO_DIR", folder)
    assert "tiny" in scenario_choices()
    m = build_model(Settings(scenario="tiny", seed=2))
    assert isinstance(m.city, LayerCity) and m.city.width == 11
    m.step()
    assert MapPainter(m).png()[:4] == b"\x89PNG"


def test_optimize_searches_the_imported_circle(imported, tmp_path, capsys):
    _, out = imported
    problem = tmp_path / "problem.toml"
    problem.write_text(f"""
name = "imported_search"
scenario = "{out.as_posix()}"
replicates = 1
days = 6
warmup = 1
evaluations = 2
population = 2
holdout_replicates = 0

[levers."policy.rent_subsidy.share"]
type = "real"
low = 0.0
high = 0.5

[objectives.surplus_yuan]
sense = "max"

[objectives.public_spend_per_year]
sense = "min"
""")
    results = tmp_path / "search"
    assert main(["optimize", str(problem), "--out", str(results), "--workers", "0",
                 "--no-progress"]) == 0
    ev = pd.read_parquet(results / "evaluations.parquet")
    # the base scenario (the imported circle) and the two mixes the search asked for
    assert list(ev["role"]) == ["baseline", "search", "search"]
    assert (ev["runs_failed"] == 0).all() and ev["feasible"].all()
    share = ev.loc[ev["role"] == "search", "policy.rent_subsidy.share"]
    assert share.between(0.0, 0.5).all() and share.nunique() == 2
    spent = ev.loc[ev["role"] == "search", "public_spend_per_year__mean"]
    assert ((spent > 0) == (share > 0)).all()
    records = [json.loads(p.read_text()) for p in (results / "runs").glob("*.json")]
    assert len(records) == 3 and {r["status"] for r in records} == {"ok"}
    assert {r["rows"] for r in records} == {6}
    manifest = json.loads((results / "manifest.json").read_text())
    assert manifest["base_scenario"]["params"]["city_layer"].endswith("tiny.city.npz")
    # the baseline row is the imported circle's own run, simulated directly
    problem_def = load_problem(problem)
    _, daily = simulate_run(load_scenario(out), problem_def.seeds[0], 6)
    direct = summarize_run(daily, 1)
    assert ev.loc[ev["role"] == "baseline", "surplus_yuan__r0"].iloc[0] == direct["surplus_yuan"]
