"""Residents from buildings: floor area / area per person, or a population column.

A building houses residents when its ``building`` value is residential (``features.toml``),
or when it is a plain ``building=yes`` standing in residential land use. Its residents are

* its ``population`` attribute, when the layer gives one (spread over its footprint by area);
* else floor area / ``area_per_person_m2``, with floor area = footprint x storeys (storeys
  from ``building:levels``, else height / ``storey_height_m``, else ``default_levels``).

Only the part of a footprint inside the box counts. Each cell gets the residents of the
footprint area it holds. Residents in a cell that is not beside the street network move to
the nearest cell that is (within ``access_m``: a building's entrance on its street); farther
ones are left out and counted. Per-cell counts are rounded by largest remainder, so the total
is the rounded total of the floor-area rule.

Commercial frontage: each cell also gets the share of its area covered by buildings with a
commercial ground floor (``building=retail``/``commercial``/..., or a ``shop`` tag).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from .network import Network
from .options import ImportOptions
from .rasterize import Grid, polygon_overlaps
from .summary import Summary
from .tables import FeatureRules


@dataclass
class Homes:
    """Residents per cell and what is known about their buildings.

    Attributes:
        capacity: ``(w, h)`` int64 residents per cell (all in ``front``).
        pair_x, pair_y, pair_residents, pair_year: per (building, cell) overlap before any
            move: the cell, its residents and the building's year (-1 unknown).
        frontage: ``(w, h)`` share of each cell covered by commercial ground floors.
    """

    capacity: np.ndarray
    pair_x: np.ndarray
    pair_y: np.ndarray
    pair_residents: np.ndarray
    pair_year: np.ndarray
    frontage: np.ndarray


def residential_mask(buildings: gpd.GeoDataFrame, landuse: gpd.GeoDataFrame,
                     rules: FeatureRules) -> np.ndarray:
    """Which buildings house residents (see the module docstring)."""
    use = np.array([rules.building_use(t) for t in buildings["tags"]], dtype=object)
    out = use == "residential"
    maybe = np.flatnonzero(use == "maybe")
    if len(maybe) and len(landuse):
        res = landuse[[str(t.get("landuse", "")) in rules.landuse_residential
                       for t in landuse["tags"]]]
        if len(res):
            polys = np.asarray(res.geometry.values)
            polys = polys[np.isin(shapely.get_type_id(polys), (3, 6))]
            pts = shapely.point_on_surface(np.asarray(buildings.geometry.values)[maybe])
            tree = shapely.STRtree(polys)
            hit, _ = tree.query(pts, predicate="within")
            out[maybe[np.unique(hit)]] = True
    has_pop = np.array([rules.population(t) is not None for t in buildings["tags"]], dtype=bool)
    return out | has_pop


def place_homes(grid: Grid, buildings: gpd.GeoDataFrame, landuse: gpd.GeoDataFrame,
                net: Network, rules: FeatureRules, opts: ImportOptions, summary: Summary) -> Homes:
    """Residents per cell from the buildings (WGS-84 polygons with tags)."""
    w, h = grid.width, grid.height
    summary.buildings_read = len(buildings)
    resid = residential_mask(buildings, landuse, rules) if len(buildings) else np.zeros(0, bool)
    tags = list(buildings["tags"])
    full = grid.local(buildings.geometry)
    clipped = shapely.intersection(full, grid.box) if len(full) else full
    floor_per_m2 = np.zeros(len(buildings))  # residents per m2 of footprint
    year = np.full(len(buildings), -1, dtype=np.int64)
    for i in np.flatnonzero(resid):
        t = tags[i]
        pop = rules.population(t)
        if pop is not None:
            area = shapely.area(full[i])
            floor_per_m2[i] = pop / area if area > 0 else 0.0
            summary.buildings_population += 1 if shapely.area(clipped[i]) > 0 else 0
        else:
            storeys = rules.storeys(t, opts.storey_height_m)
            if storeys is None:
                storeys = opts.default_levels
                summary.buildings_default_levels += 1 if shapely.area(clipped[i]) > 0 else 0
            floor_per_m2[i] = storeys / opts.area_per_person_m2
            summary.floor_area_m2 += float(shapely.area(clipped[i]) * storeys)
        year[i] = rules.year(t) or -1
    in_box = shapely.area(clipped) > 0 if len(clipped) else np.zeros(0, bool)
    summary.buildings_residential = int((resid & in_box).sum())
    b, cx, cy, m2 = polygon_overlaps(grid, np.where(resid, clipped, shapely.Polygon()))
    residents = m2 * floor_per_m2[b]
    summary.residents_expected = float(residents.sum())
    per_cell = np.zeros((w, h))
    fx, fy, ok = net.nearest_front(cx, cy, opts.access_m / grid.cell)
    moved = ok & ((fx != cx) | (fy != cy))
    np.add.at(per_cell, (fx[ok], fy[ok]), residents[ok])
    summary.residents_moved = float(residents[moved].sum())
    summary.residents_unreached = float(residents[~ok].sum())
    capacity = largest_remainder(per_cell)
    summary.residents = int(capacity.sum())
    summary.home_cells = int((capacity > 0).sum())
    commercial = np.array([rules.commercial_ground_floor(t) for t in tags], dtype=bool)
    frontage = np.zeros((w, h))
    if commercial.any():
        cb, ccx, ccy, cm2 = polygon_overlaps(grid, np.where(commercial, clipped, shapely.Polygon()))
        np.add.at(frontage, (ccx, ccy), cm2)
        frontage /= grid.cell ** 2
    return Homes(capacity=capacity, pair_x=cx, pair_y=cy, pair_residents=residents,
                 pair_year=year[b], frontage=frontage)


def largest_remainder(values: np.ndarray) -> np.ndarray:
    """Round non-negative values to integers keeping the (rounded) total: largest remainders."""
    flat = values.ravel()
    base = np.floor(flat).astype(np.int64)
    extra = int(round(flat.sum())) - int(base.sum())
    if extra > 0:
        rem = flat - base
        order = np.lexsort((np.arange(len(flat)), -rem))  # largest remainder, then cell order
        base[order[:extra]] += 1
    return base.reshape(values.shape)
