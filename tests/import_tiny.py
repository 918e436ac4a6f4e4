"""A tiny hand-made neighbourhood (GeoJSON + POI CSV) whose grid is known cell by cell.

Everything is laid out in cell units ``(u, v)`` of a 50 m grid whose cell (0, 0) is the
south-west corner of the box projected to its UTM zone (the documented grid rule, computed
here independently with geopandas), and converted to longitude/latitude for the files. The
expected layer is spelled out in ``EXPECTED``.

Layout (x east 0..10, y north 0..8)::

    streets   H: y = 2 for x = 0..9;  V: x = 5 for y = 0..7 (they share the node (5, 2));
              D: a diagonal footway from V's end (5, 7) to (8, 5) (shares V's end node);
              an isolated footway (0..2, 6), not connected: left out;
              a motorway along y = 0 and a private service road along x = 9: not walkable
    homes     A apartments, 5 storeys, 40 x 40 m in cell (3, 3): 1600 * 5 / 25 = 320
              B building=yes (6 storeys by default) inside residential land use, 40 x 50 m
                straddling (1, 3) and (1, 4): 480 residents; (1, 4) is not beside a street,
                so its 240 move to (1, 3)
              E apartments, 4 storeys, built 2010, cell (8, 3): 256
              D apartments, 1 storey, cell (0, 7): 64, farther than 150 m from any street
    frontage  a retail building in (7, 3): a vacant storefront
    POIs      convenience 全家(望京店) (2, 3) [chain: branch name], fresh food (6, 3),
              pharmacy (2, 1) [chain: brand], parcel 菜鸟驿站 (8, 1), pharmacy (6, 1) (GeoJSON),
              an unmapped Amap code (6, 4), shop=clothes (4, 3) [unmapped; a vacant unit],
              a convenience store at (0, 7) too far from streets, one POI outside the box
    community residential land use [0, 4] x [3, 6], start_date 1985: old (cells x 0..3,
              y 3..5); the rest tiled in 5 x 5 blocks; E's block is new (built 2010)
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from mapdata.gcj02 import wgs84_to_gcj02

CELL = 50.0
WEST, SOUTH = 116.40, 39.90
# about 11 x 9 cells: 530 m east, 430 m north
BBOX = (WEST, SOUTH, WEST + 530 / (111320 * np.cos(np.radians(39.9))), SOUTH + 430 / 110950)
OPTIONS = ["area_per_person_m2=25", "block_cells=5"]
EXPECTED = {
    "street": {(x, 2) for x in range(10)} | {(5, y) for y in range(8)},
    "diagonal_ends": ((5, 7), (8, 5)),
    "dropped": {(0, 6), (1, 6), (2, 6)},
    "not_street": {(x, 0) for x in range(10) if x != 5} | {(9, y) for y in range(3, 8)},
    "homes": {(3, 3): 320, (1, 3): 480, (8, 3): 256},
    "unreached": 64,
    "shops": {(2, 3): ("convenience", True), (6, 3): ("fresh_food", False),
              (2, 1): ("pharmacy", True), (8, 1): ("parcel", False),
              (6, 1): ("pharmacy", False)},
    "vacant": {(7, 3), (4, 3)},
    "unmapped": {"amap:999999": 1, "shop=clothes": 1},
    "unreached_shops": {"convenience": 1},
    "old_cells": {(3, 3), (1, 3)},
    "new_cells": {(8, 3)},
}


@functools.cache
def grid_frame():
    """(UTM CRS, x0, y0) of the grid of BBOX: the projected box's south-west bounds."""
    box = gpd.GeoSeries([shapely.box(*BBOX)], crs="EPSG:4326")
    crs = box.estimate_utm_crs()
    minx, miny, _, _ = box.to_crs(crs).total_bounds
    return crs, minx, miny


@functools.cache
def _to_lonlat() -> Transformer:
    return Transformer.from_crs(grid_frame()[0], "EPSG:4326", always_xy=True)


def _lonlat(points, gcj: bool):
    crs, x0, y0 = grid_frame()
    to_ll = _to_lonlat()
    xy = np.array(points, dtype=float)
    lon, lat = to_ll.transform(x0 + xy[:, 0] * CELL, y0 + xy[:, 1] * CELL)
    if gcj:
        lon, lat = wgs84_to_gcj02(lon, lat)
    return np.column_stack([lon, lat])


def _line(points, gcj):
    return shapely.LineString(_lonlat(points, gcj))


def _rect(x0, y0, x1, y1, gcj):
    return shapely.Polygon(_lonlat([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], gcj))


def _point(u, v, gcj):
    return shapely.Point(_lonlat([(u, v)], gcj)[0])


def write_inputs(folder: Path, gcj: bool = False) -> list[Path]:
    """Write the tiny GeoJSON and POI CSV (coordinates in GCJ-02 if ``gcj``); return paths."""
    folder.mkdir(parents=True, exist_ok=True)
    c = 0.5  # cell centres
    feats = [
        ({"highway": "residential", "name": "H"}, _line([(c, 2 + c), (5 + c, 2 + c), (9 + c, 2 + c)], gcj)),
        ({"highway": "residential", "name": "V"}, _line([(5 + c, c), (5 + c, 2 + c), (5 + c, 7 + c)], gcj)),
        ({"highway": "footway", "name": "D"}, _line([(5 + c, 7 + c), (8.6, 5.3)], gcj)),
        ({"highway": "footway", "name": "island"}, _line([(c, 6 + c), (2 + c, 6 + c)], gcj)),
        ({"highway": "motorway"}, _line([(c, c), (9 + c, c)], gcj)),
        ({"highway": "service", "access": "private"}, _line([(9 + c, 3 + c), (9 + c, 7 + c)], gcj)),
        ({"building": "apartments", "building:levels": "5", "start_date": "2015"},
         _rect(3.1, 3.1, 3.9, 3.9, gcj)),
        ({"building": "yes"}, _rect(1.1, 3.5, 1.9, 4.5, gcj)),
        ({"building": "apartments", "building:levels": "4", "start_date": "2010"},
         _rect(8.1, 3.1, 8.9, 3.9, gcj)),
        ({"building": "apartments", "building:levels": "1"}, _rect(0.1, 7.1, 0.9, 7.9, gcj)),
        ({"building": "retail"}, _rect(7.1, 3.1, 7.9, 3.9, gcj)),
        ({"landuse": "residential", "start_date": "1985"}, _rect(0.0, 3.0, 4.0, 6.0, gcj)),
        ({"amenity": "pharmacy", "name": "Apteekki"}, _point(6 + c, 1 + c, gcj)),
    ]
    geojson = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
        for props, geom in feats]}
    layers = folder / "tiny.geojson"
    layers.write_text(json.dumps(geojson), encoding="utf-8")
    rows = [  # u, v, typecode, osm_tag, category, name, brand
        (2 + c, 3 + c, "060200", "", "", "全家(望京店)", ""),
        (6 + c, 3 + c, "060705", "", "", "", ""),
        (6 + c, 4 + c, "999999", "", "", "", ""),
        (4 + c, 3 + c, "", "shop=clothes", "", "", ""),
        (2 + c, 1 + c, "", "", "pharmacy", "", "老百姓大药房"),
        (8 + c, 1 + c, "070000", "", "", "菜鸟驿站(东区)", ""),
        (0 + c, 7 + c, "060200", "", "", "小卖部", ""),
        (-3.0, 4.0, "060200", "", "", "outside", ""),
    ]
    ll = _lonlat([(u, v) for u, v, *_ in rows], gcj)
    lines = ["lon,lat,typecode,osm_tag,category,name,brand"]
    for (lon, lat), (_, _, code, tag, cat, name, brand) in zip(ll, rows, strict=True):
        lines.append(f"{float(lon)!r},{float(lat)!r},{code},{tag},{cat},{name},{brand}")
    pois = folder / "pois.csv"
    pois.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [layers, pois]


def bbox_arg(bbox=BBOX) -> str:
    """The box as a --bbox argument."""
    return ",".join(repr(float(v)) for v in bbox)
