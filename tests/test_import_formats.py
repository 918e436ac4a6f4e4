"""The same neighbourhood read from OSM XML, GeoPackage or GeoJSON gives the same city layer;
the mapping tables are checked when loaded."""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pytest

from mapdata.importer import import_city
from mapdata.options import make_options
from mapdata.tables import load_feature_rules, load_poi_rules
from model.errors import MapDataError
from tests.import_tiny import BBOX, OPTIONS, write_inputs


def _opts():
    return make_options("test", dict(o.split("=", 1) for o in OPTIONS))


def _osm_xml(geojson: Path, out: Path) -> Path:
    """Write the GeoJSON's features as OSM XML: shared vertices are shared nodes."""
    features = json.loads(geojson.read_text())["features"]
    nodes: dict[tuple[float, float], int] = {}
    node_tags: list[tuple[int, dict]] = []
    ways: list[tuple[list[int], dict]] = []

    def node(lon, lat):
        key = (round(lon, 10), round(lat, 10))
        if key not in nodes:
            nodes[key] = len(nodes) + 1
        return nodes[key]

    for f in features:
        g, props = f["geometry"], f["properties"]
        if g["type"] == "Point":
            nid = len(nodes) + 1
            nodes[(g["coordinates"][0], g["coordinates"][1] + 1e-12)] = nid
            node_tags.append((nid, props))
        else:
            coords = g["coordinates"][0] if g["type"] == "Polygon" else g["coordinates"]
            ways.append(([node(*c) for c in coords], props))
    tagged = dict(node_tags)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for (lon, lat), nid in nodes.items():
        tags = tagged.get(nid, {})
        body = "".join(f"<tag k={quoteattr(k)} v={quoteattr(str(v))}/>" for k, v in tags.items())
        lines.append(f'<node id="{nid}" version="1" lat="{lat!r}" lon="{lon!r}">{body}</node>')
    for i, (refs, tags) in enumerate(ways, start=1):
        body = "".join(f'<nd ref="{r}"/>' for r in refs)
        body += "".join(f"<tag k={quoteattr(k)} v={quoteattr(str(v))}/>" for k, v in tags.items())
        lines.append(f'<way id="{i}" version="1">{body}</way>')
    lines.append("</osm>")
    out.write_text("\n".join(lines), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ref")
    files = write_inputs(folder)
    return files, import_city(files, BBOX, "tiny", _opts())


def _same(a, b):
    for name, arr in a.arrays.items():
        np.testing.assert_array_equal(b.arrays[name], arr, err_msg=name)


def test_osm_xml_gives_the_same_layer_as_geojson(reference, tmp_path):
    (layers, pois), ref = reference
    xml = _osm_xml(layers, tmp_path / "tiny.osm")
    _same(ref, import_city([xml, pois], BBOX, "tiny", _opts()))


def test_geopackage_gives_the_same_layer_as_geojson(reference, tmp_path):
    (layers, pois), ref = reference
    gpkg = tmp_path / "tiny.gpkg"
    gdf = gpd.read_file(layers)
    kinds = gdf.geometry.geom_type
    for kind in sorted(set(kinds)):  # one layer per geometry type, as GIS users keep them
        gdf[kinds == kind].to_file(gpkg, layer=kind.lower(), driver="GPKG")
    _same(ref, import_city([gpkg, pois], BBOX, "tiny", _opts()))


def test_the_shipped_mapping_tables_load():
    rules = load_poi_rules()
    assert rules.classify({"shop": "convenience"}).category == "convenience"
    assert rules.classify({}, codes=("060705",)).category == "fresh_food"
    assert rules.classify({}, codes=("060401",)).chain
    assert rules.classify({}, name="阳光长者食堂", codes=("050000",)).category == "canteen"
    assert rules.classify({"amenity": "bench"}).category == "none"
    assert rules.classify({"shop": "clothes"}).category == ""
    fr = load_feature_rules()
    assert fr.walkable({"highway": "footway"}) and not fr.walkable({"highway": "motorway"})
    assert not fr.walkable({"highway": "service", "access": "private"})
    assert fr.walkable({"highway": "service", "access": "private", "foot": "yes"})


@pytest.mark.parametrize(("text", "key", "problem"), [
    ('[[osm]]\nmatch = { shop = "x" }\ncategory = "grocer"\nsource = "s"\n', "osm[0].category",
     "not a category"),
    ('[[osm]]\nmatch = { shop = "x" }\ncategory = "convenience"\n', "osm[0].source",
     "needs a source"),
    ('[[amap]]\ncode = "06A"\ncategory = "convenience"\nsource = "s"\n', "amap[0].code",
     "2 to 6 digits"),
    ('[[name]]\ncontains = []\ncategory = "canteen"\nsource = "s"\n', "name[0].contains",
     "non-empty list"),
    ('[[osm]]\nmatch = { shop = "x" }\ncategory = "dining"\nsource = "s"\ncolour = 1\n',
     "osm[0].colour", "unknown field"),
])
def test_a_broken_mapping_table_names_its_file_and_rule(tmp_path, text, key, problem):
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(MapDataError) as err:
        load_poi_rules(bad)
    assert err.value.where == str(bad) and err.value.key == key and problem in err.value.problem


def test_odd_lists_every_import_option_with_its_source():
    from mapdata.options import OPTION_FIELDS, odd_section, options_table

    odd = (Path(__file__).resolve().parent.parent / "docs" / "ODD.md").read_text(encoding="utf-8")
    assert odd_section(odd) == options_table(), "run: python -m mapdata.options --write"
    for name, f in OPTION_FIELDS.items():
        assert f.metadata["source"].strip() and f"| `{name}` |" in odd
