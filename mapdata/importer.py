"""One import: read the files, build the grid and its layers, return the city layer.

The steps, in order (each in its own module):

1. **read** -- map layers (``osm.py``: OSM PBF/XML, GeoJSON/GeoPackage) and POI tables
   (``poi.py``); GCJ-02 coordinates are converted (``gcj02.py``);
2. **grid** -- the box (given, or the inputs' extent) in a local UTM projection, cut into
   cells of ``cell_size_m`` (``rasterize.Grid``);
3. **streets** -- walkable ways rasterised with connectivity kept; the largest connected
   network kept (``network.py``);
4. **homes** -- residents per cell from residential floor area or populations, at cells
   beside the network (``homes.py``);
5. **shops** -- POIs classified; shops and storefront sites placed (``shops.py``);
6. **cells** -- cell types: storefront over residential over road over wall;
7. **communities** -- polygons or tiles, old/new (``communities.py``);
8. **layer** -- the arrays and metadata of a ``model.city_layer`` file, and the summary.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from model.city import RESIDENTIAL, ROAD, STOREFRONT, WALL
from model.errors import MapDataError

from .communities import assign_communities, community_polygons
from .homes import place_homes
from .network import build_network
from .options import ImportOptions
from .osm import kind_of_file, read_osm_xml, read_pbf, read_vector
from .poi import read_poi_table
from .rasterize import Grid
from .shops import place_shops, poi_points
from .summary import Summary
from .tables import POI_KEYS, load_feature_rules, load_poi_rules

Box = tuple[float, float, float, float]


@dataclass
class ImportResult:
    """A built city layer: its arrays and metadata (``model.city_layer`` format) and summary."""

    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]
    summary: Summary
    grid: Grid


def check_bbox(where: str, bbox: Box) -> Box:
    """Check a WGS-84 box (west, south, east, north); return it as floats."""
    w, s, e, n = (float(v) for v in bbox)
    if not (all(np.isfinite([w, s, e, n])) and -180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise MapDataError(where, ",".join(f"{v:g}" for v in bbox),
                           "needs WEST,SOUTH,EAST,NORTH in degrees with west < east and "
                           "south < north (longitude -180..180, latitude -90..90)")
    return w, s, e, n


def read_inputs(files: list[Path], bbox: Box | None, opts: ImportOptions
                ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read every file: ``(map features, POI table rows)``, all in WGS-84."""
    features, tables = [], []
    for path in files:
        if not path.is_file():
            raise MapDataError(path, "(file)", "file not found")
        kind = kind_of_file(path)
        if kind == "pbf":
            features.append(read_pbf(path, bbox))
        elif kind == "osm":
            features.append(read_osm_xml(path))
        elif kind == "vector":
            features.append(read_vector(path, opts.crs))
        else:
            tables.append(read_poi_table(path, opts.crs))

    def cat(parts, cols):
        parts = [p for p in parts if len(p)]
        if not parts:
            return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs="EPSG:4326")
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")

    return (cat(features, ["tags", "file"]),
            cat(tables, ["tags", "name", "codes", "category", "file"]))


def import_city(files: list[Path], bbox: Box | None, name: str,
                opts: ImportOptions | None = None) -> ImportResult:
    """Build a city layer from map files (see the module docstring for the steps).

    Args:
        files: OSM extracts, vector layers and POI tables.
        bbox: the box (WGS-84 west, south, east, north); None: the inputs' extent.
        name: the circle's name (recorded in the layer).
        opts: import options (defaults if None).

    Raises:
        MapDataError: unreadable input, a bad box, or a box with no streets or no homes.
    """
    opts = opts or ImportOptions()
    where = ", ".join(str(f) for f in files)
    if bbox is not None:
        bbox = check_bbox("--bbox", bbox)
    fr, pr = load_feature_rules(), load_poi_rules()
    features, table = read_inputs(files, bbox, opts)
    if bbox is None:
        parts = [g for g in (features.geometry, table.geometry) if len(g)]
        if not parts:
            raise MapDataError(where, "(files)", "no features to import")
        bounds = np.array([g.total_bounds for g in parts])
        bbox = check_bbox(where, (bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(),
                                  bounds[:, 3].max()))
    grid = Grid.for_box(bbox, opts.cell_size_m, opts.max_cells)
    summary = Summary(files=[Path(f).name for f in files], bbox=bbox,
                      grid=(grid.width, grid.height), cell_size_m=grid.cell)

    # 3. streets
    geo_type = shapely.get_type_id(np.asarray(features.geometry.values)) if len(features) else \
        np.zeros(0, dtype=int)
    tags = list(features["tags"])
    is_poly = np.isin(geo_type, (3, 6))
    is_way = np.isin(geo_type, (1, 2, 5)) | is_poly
    highway = np.array([bool(t.get("highway")) for t in tags], dtype=bool) & is_way
    walk = np.array([fr.walkable(t) for t in tags], dtype=bool) & highway
    area = walk & is_poly & np.array([t.get("area") == "yes" for t in tags], dtype=bool)
    summary.ways_read, summary.ways_walkable = int(highway.sum()), int(walk.sum())
    net = build_network(grid, grid.project(features.geometry[walk & ~area]),
                        grid.project(features.geometry[area]), where)
    summary.street_cells = int(net.net.sum())
    summary.street_cells_dropped, summary.street_pieces_dropped = net.cells_dropped, \
        net.pieces_dropped

    # 4. homes
    has_building = np.array([bool(t.get("building")) for t in tags], dtype=bool)
    summary.building_points_skipped = int((has_building & (geo_type == 0)).sum())
    buildings = features[has_building & is_poly]
    landuse = features[np.array([bool(t.get("landuse")) for t in tags], dtype=bool) & is_poly]
    homes = place_homes(grid, buildings, landuse, net, fr, opts, summary)
    if summary.residents == 0:
        raise MapDataError(where, "--bbox", "no homes inside the box "
                           f"{','.join(f'{v:g}' for v in bbox)}: no residential building "
                           "(building=apartments/residential/house..., or building=yes in "
                           "landuse=residential) and no population near a street")

    # 5. shops
    pois = pd.concat([poi_points(features, POI_KEYS), table], ignore_index=True)
    shops = place_shops(grid, gpd.GeoDataFrame(pois, crs="EPSG:4326"), net, homes.frontage,
                        pr, opts, summary)

    # 6. cells
    cell_type = np.full((grid.width, grid.height), WALL, dtype=np.int8)
    cell_type[net.net] = ROAD
    cell_type[homes.capacity > 0] = RESIDENTIAL
    if len(shops.site_xy):
        cell_type[shops.site_xy[:, 0], shops.site_xy[:, 1]] = STOREFRONT

    # 7. communities
    polygons, _ = community_polygons(features, fr)
    community, kind = assign_communities(grid, polygons, cell_type != WALL, homes, fr, opts,
                                         summary.community_rules)
    summary.communities_old = int((kind == 0).sum())
    summary.communities_new = int((kind == 1).sum())

    # 8. layer
    home_xy = np.argwhere(homes.capacity > 0).astype(np.int32)
    arrays = {
        "cell_type": cell_type, "walkable": net.net, "community": community,
        "community_kind": kind,
        "home_xy": home_xy, "home_capacity": homes.capacity[home_xy[:, 0], home_xy[:, 1]],
        "storefront_xy": shops.site_xy, "shop_site": shops.shop_site,
        "shop_category": np.array(shops.shop_category, dtype=str),
        "shop_secondary": np.array(shops.shop_secondary, dtype=str),
        "shop_chain": shops.shop_chain,
    }
    meta = {"name": name, **grid.to_meta(), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                   time.gmtime()),
            "written_by": "lifecircle import", "sources": [_source(Path(f)) for f in files],
            "options": dataclasses.asdict(opts), "summary": summary.to_dict()}
    return ImportResult(arrays=arrays, meta=meta, summary=summary, grid=grid)


def _source(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"file": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest()}
