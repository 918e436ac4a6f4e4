"""The import builds exactly the grid a tiny hand-made neighbourhood describes (tests/import_tiny.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import ndimage

from mapdata.importer import import_city
from mapdata.options import make_options
from model.city import NEW, OLD, RESIDENTIAL, ROAD, STOREFRONT, WALL
from model.errors import MapDataError
from tests.import_tiny import BBOX, EXPECTED, OPTIONS, write_inputs

CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)


def _options(extra=()):
    return make_options("test", dict(o.split("=", 1) for o in [*OPTIONS, *extra]))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    files = write_inputs(tmp_path_factory.mktemp("tiny"))
    return import_city(files, BBOX, "tiny", _options())


def _cells(mask):
    return {tuple(int(v) for v in xy) for xy in np.argwhere(mask)}


def test_grid_covers_the_box_at_the_cell_size(tiny):
    assert tiny.arrays["cell_type"].shape == (11, 9)
    assert tiny.meta["cell_size_m"] == 50.0 and tiny.meta["crs"] == "EPSG:32650"


def test_streets_are_the_walkable_ways_and_nothing_else(tiny):
    ct, streets = tiny.arrays["cell_type"], tiny.arrays["walkable"]
    assert _cells(streets) == EXPECTED["street"] | _diagonal(streets)
    for xy in EXPECTED["not_street"] | EXPECTED["dropped"]:
        assert ct[xy] == WALL, xy  # motorway, private road, the cut-off footway
    assert tiny.summary.street_cells_dropped == 3 and tiny.summary.street_pieces_dropped == 1


def _diagonal(streets):
    """The diagonal footway's cells: streets east of the V street it starts on, and its start."""
    (x0, y0), (x1, y1) = EXPECTED["diagonal_ends"]
    path = np.zeros_like(streets)
    path[x0 + 1:x1 + 1, y1:y0 + 1] = streets[x0 + 1:x1 + 1, y1:y0 + 1]
    path[x0, y0] = True
    return _cells(path)


def test_a_diagonal_street_is_a_4_connected_staircase_between_its_end_cells(tiny):
    streets = tiny.arrays["walkable"]
    (x0, y0), (x1, y1) = EXPECTED["diagonal_ends"]
    path = np.zeros_like(streets)
    for xy in _diagonal(streets):
        path[xy] = True
    assert path[x1, y1] and (tiny.arrays["cell_type"][path] == ROAD).all()
    assert path.sum() == abs(x1 - x0) + abs(y1 - y0) + 1  # no diagonal jump, no detour
    _, n = ndimage.label(path, structure=CROSS)
    assert n == 1


def test_streets_form_one_network_and_every_home_and_shop_is_on_or_beside_it(tiny):
    streets = tiny.arrays["walkable"]
    _, n = ndimage.label(streets, structure=CROSS)
    assert n == 1
    beside = ndimage.binary_dilation(streets, structure=CROSS)
    for name in ("home_xy", "storefront_xy"):
        xy = tiny.arrays[name]
        assert beside[xy[:, 0], xy[:, 1]].all(), name
    ct = tiny.arrays["cell_type"]
    assert ((ct != WALL) == (streets | _mask(ct.shape, tiny.arrays["home_xy"])
                              | _mask(ct.shape, tiny.arrays["storefront_xy"]))).all()


def _mask(shape, xy):
    m = np.zeros(shape, dtype=bool)
    m[xy[:, 0], xy[:, 1]] = True
    return m


def test_residents_from_floor_area_per_person_at_cells_beside_a_street(tiny):
    homes = {tuple(map(int, xy)): int(c) for xy, c in
             zip(tiny.arrays["home_xy"], tiny.arrays["home_capacity"], strict=True)}
    assert homes == EXPECTED["homes"]
    assert tiny.summary.residents == sum(EXPECTED["homes"].values())
    assert tiny.summary.residents_unreached == pytest.approx(EXPECTED["unreached"])
    assert tiny.summary.residents_moved == pytest.approx(240)
    ct = tiny.arrays["cell_type"]
    assert all(ct[xy] == RESIDENTIAL for xy in homes)


def test_shops_from_mapped_pois_with_chains_and_vacant_storefronts(tiny):
    a = tiny.arrays
    sites = [tuple(map(int, xy)) for xy in a["storefront_xy"]]
    shops = {sites[s]: (c, bool(ch)) for s, c, ch in
             zip(a["shop_site"], a["shop_category"], a["shop_chain"], strict=True)}
    assert shops == EXPECTED["shops"]
    assert set(sites) - set(shops) == EXPECTED["vacant"]
    assert len(sites) == len(EXPECTED["shops"]) + len(EXPECTED["vacant"])
    assert all(a["cell_type"][xy] == STOREFRONT for xy in sites)
    assert dict(tiny.summary.shops_unreached) == EXPECTED["unreached_shops"]
    assert tiny.summary.pois_outside == 1


def test_unmapped_poi_types_are_listed_not_dropped(tiny):
    assert dict(tiny.summary.unmapped) == EXPECTED["unmapped"]
    text = "\n".join(tiny.summary.lines())
    assert "amap:999999 1" in text and "shop=clothes 1" in text


def test_communities_old_by_polygon_year_new_by_building_year(tiny):
    com, kind = tiny.arrays["community"], tiny.arrays["community_kind"]
    for xy in EXPECTED["old_cells"]:
        assert kind[com[xy]] == OLD
    for xy in EXPECTED["new_cells"]:
        assert kind[com[xy]] == NEW
    # the residential land use polygon is one community: the 12 cells whose centre it holds
    poly = com[3, 3]
    assert com[1, 3] == poly
    members = _cells(com == poly)
    assert members <= {(x, y) for x in range(4) for y in range(3, 6)}
    assert (com[tiny.arrays["cell_type"] == WALL] == -1).all()
    assert (com[tiny.arrays["cell_type"] != WALL] >= 0).all()


def test_gcj02_inputs_give_the_same_grid(tiny, tmp_path):
    files = write_inputs(tmp_path, gcj=True)
    again = import_city(files, BBOX, "tiny", _options(["crs=gcj02"]))
    for name, arr in tiny.arrays.items():
        np.testing.assert_array_equal(again.arrays[name], arr, err_msg=name)


def test_wgs84_inputs_read_as_gcj02_land_hundreds_of_metres_away(tmp_path):
    files = write_inputs(tmp_path)  # the offset near Beijing is ~550 m west, ~150 m south
    with pytest.raises(MapDataError, match="no walkable street inside the box"):
        import_city(files, BBOX, "tiny", _options(["crs=gcj02"]))


def test_a_box_without_streets_is_an_error(tmp_path):
    files = write_inputs(tmp_path)
    w, s, e, n = BBOX
    far = (w - 0.05, s - 0.05, w - 0.04, s - 0.04)
    with pytest.raises(MapDataError, match="no walkable street inside the box"):
        import_city(files, far, "tiny", _options())


def test_a_box_without_homes_is_an_error(tmp_path):
    files = write_inputs(tmp_path)
    w, s, e, n = BBOX
    # the south-east quarter: streets H and V, no residential building
    east = (w + (e - w) * 0.5, s, e, s + (n - s) * 0.3)
    with pytest.raises(MapDataError, match="no homes inside the box"):
        import_city(files, east, "tiny", _options())


def test_a_bad_box_is_an_error(tmp_path):
    files = write_inputs(tmp_path)
    with pytest.raises(MapDataError, match="WEST,SOUTH,EAST,NORTH"):
        import_city(files, (116.5, 39.9, 116.4, 39.95), "tiny", _options())


def _edit_layers(folder, edit):
    files = write_inputs(folder)
    data = json.loads(files[0].read_text(encoding="utf-8"))
    edit(data["features"])
    files[0].write_text(json.dumps(data), encoding="utf-8")
    return files


def test_a_population_attribute_replaces_the_floor_area_rule(tmp_path):
    def edit(features):
        for f in features:
            if f["properties"].get("start_date") == "2010":  # building E in cell (8, 3)
                f["properties"]["population"] = 123

    result = import_city(_edit_layers(tmp_path, edit), BBOX, "tiny", _options())
    homes = {tuple(map(int, xy)): int(c) for xy, c in
             zip(result.arrays["home_xy"], result.arrays["home_capacity"], strict=True)}
    assert homes == {**EXPECTED["homes"], (8, 3): 123}
    assert result.summary.buildings_population == 1


def test_a_community_layer_replaces_land_use_and_states_its_kind(tmp_path):
    def edit(features):
        ref = next(f for f in features if f["properties"].get("landuse"))
        ring = ref["geometry"]["coordinates"][0]  # [0, 4] x [3, 6] in cell units
        dx = ring[1][0] - ring[0][0]  # 4 cells of longitude
        shifted = [[x + 1.5 * dx, y] for x, y in ring]  # [6, 10] x [3, 6]
        features.append({"type": "Feature", "geometry": {"type": "Polygon",
                                                         "coordinates": [shifted]},
                         "properties": {"community": "东区", "community_kind": "old"}})

    result = import_city(_edit_layers(tmp_path, edit), BBOX, "tiny", _options())
    com, kind = result.arrays["community"], result.arrays["community_kind"]
    assert kind[com[8, 3]] == OLD  # stated, though its building was built in 2010
    assert com[8, 3] == com[6, 3] == com[7, 3]
    # land use no longer forms communities: A (2015) now types its tile as new
    assert kind[com[3, 3]] == NEW
    assert result.summary.community_rules["stated kind"] == 1
