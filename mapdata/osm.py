"""Read map layers into one table of features: geometry (WGS-84) and tags.

* ``.osm.pbf`` -- OpenStreetMap extracts, read with pyrosm (its in-memory engine, limited
  to the box when one is given);
* ``.osm`` -- OpenStreetMap XML, read with GDAL's OSM driver (through pyogrio); the tags
  GDAL does not give their own column arrive in its ``other_tags`` field and are unpacked;
* ``.geojson`` / ``.json`` / ``.gpkg`` -- vector layers (every layer of the file), whose
  attributes are read as tags (``highway``, ``building``, ``building:levels``, ``landuse``,
  ``shop``, ``amenity``, ``start_date``, ``population``, ``community`` ...); layers in another
  CRS are reprojected, and with ``crs = "gcj02"`` longitude/latitude layers are converted
  from GCJ-02.

Every reader returns a GeoDataFrame with the columns ``geometry``, ``tags`` (a dict of
strings) and ``file``. What is a street, a building or a POI is decided later, from the tags.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from model.errors import MapDataError

from .gcj02 import gcj02_to_wgs84

OSM_KEYS = ("highway", "building", "landuse", "amenity", "shop", "craft", "leisure",
            "healthcare", "social_facility", "office", "tourism")
"""Only elements carrying one of these keys are read from OSM extracts."""
_STRUCTURAL = {"id", "lon", "lat", "tags", "visible", "version", "timestamp", "changeset",
               "geometry", "osm_type", "length", "nodes", "osm_id", "osm_way_id", "other_tags",
               "z_order", "all_tags", "fid"}
_HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg")


def kind_of_file(path: Path) -> str:
    """``pbf``, ``osm``, ``vector`` or ``csv`` by the file name; MapDataError otherwise."""
    name = path.name.lower()
    if name.endswith(".osm.pbf") or name.endswith(".pbf"):
        return "pbf"
    if name.endswith(".osm") or name.endswith(".osm.xml"):
        return "osm"
    if name.endswith(VECTOR_SUFFIXES):
        return "vector"
    if name.endswith(".csv"):
        return "csv"
    raise MapDataError(path, "(file)", "unknown kind of file; use .osm.pbf, .osm, .geojson, "
                       ".json, .gpkg (map layers) or .csv (a POI table)")


def _tag_text(v) -> str | None:
    """A tag value as text; None for a missing value."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float):
        if math.isnan(v):
            return None
        if v.is_integer():
            return str(int(v))
    return str(v)


def _table(gdf: gpd.GeoDataFrame, extras: list[dict | None], path: Path) -> gpd.GeoDataFrame:
    """Geometry, tags (columns, then any extra tags not among them) and file of each row.

    Columns are walked one at a time over their non-missing values only: an OSM table has a
    hundred mostly empty tag columns.
    """
    tags: list[dict[str, str]] = [{} for _ in range(len(gdf))]
    for col in gdf.columns:
        if col == gdf.geometry.name or col in _STRUCTURAL:
            continue
        values = gdf[col].to_numpy(dtype=object)
        present = np.flatnonzero(pd.notna(values))
        for i in present.tolist():
            text = _tag_text(values[i])
            if text is not None:
                tags[i][str(col)] = text
    for t, extra in zip(tags, extras, strict=True):
        if extra:
            for k, v in extra.items():
                if k not in t and v is not None:
                    t[k] = str(v)
    geoms = np.asarray(gdf.geometry.values).copy()
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if bad.any():  # self-touching rings and the like, common in OSM multipolygons
        geoms[bad] = shapely.make_valid(geoms[bad])
    out = gpd.GeoDataFrame({"tags": tags, "file": path.name}, geometry=geoms, crs="EPSG:4326")
    return out[~out.geometry.isna() & ~out.geometry.is_empty].reset_index(drop=True)


def read_pbf(path: Path, bbox: tuple[float, float, float, float] | None) -> gpd.GeoDataFrame:
    """Read an ``.osm.pbf`` extract with pyrosm: highway ways, buildings, land use and POIs.

    pyrosm's dedicated readers are used (``get_buildings``, ``get_landuse``, ``get_pois``
    with every key of ``POI_KEYS``, and highway ways by a custom filter); an element that
    several of them return (a building that is also a shop) is kept once.
    """
    from pyrosm import OSM

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # relations cut by the box: clipped to it anyway
            osm = OSM(str(path), bounding_box=list(bbox) if bbox else None, engine="in_memory",
                      progress=False)
            parts = [osm.get_data_by_custom_criteria(custom_filter={"highway": True},
                                                     keep_nodes=False),
                     osm.get_buildings(), osm.get_landuse(),
                     osm.get_pois(custom_filter={k: True for k in OSM_KEYS[3:]})]
    except MapDataError:
        raise
    except Exception as err:  # pyrosm raises many kinds for a broken file
        raise MapDataError(path, "(file)", f"not a readable OSM PBF extract: {err}") from None
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return _empty()
    gdf = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")
    if {"osm_type", "id"} <= set(gdf.columns):
        gdf = gdf[~gdf.duplicated(["osm_type", "id"])].reset_index(drop=True)
    extras = [json.loads(t) if isinstance(t, str) and t else None for t in gdf.get(
        "tags", pd.Series([None] * len(gdf)))]
    return _table(gdf, extras, path)


def read_osm_xml(path: Path) -> gpd.GeoDataFrame:
    """Read OpenStreetMap XML with GDAL's OSM driver (points, lines, multipolygons)."""
    import pyogrio

    parts = []
    for layer in ("points", "lines", "multipolygons"):
        try:
            gdf = pyogrio.read_dataframe(path, layer=layer)
        except Exception as err:  # pyogrio/GDAL raise their own kinds
            raise MapDataError(path, "(file)", f"not readable as OSM XML: {err}") from None
        if len(gdf) == 0:
            continue
        extras = [dict(_HSTORE.findall(t)) if isinstance(t, str) else None
                  for t in gdf.get("other_tags", pd.Series([None] * len(gdf)))]
        t = _table(gdf.set_crs("EPSG:4326", allow_override=True), extras, path)
        keep = [any(k in tags for k in OSM_KEYS) for tags in t["tags"]]
        parts.append(t[keep])
    return _concat(parts)


def read_vector(path: Path, crs: str) -> gpd.GeoDataFrame:
    """Read every layer of a GeoJSON/GeoPackage file; attributes become tags."""
    import pyogrio

    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as err:
        raise MapDataError(path, "(file)", f"not a readable GeoJSON/GeoPackage file: {err}") \
            from None
    parts = []
    for layer in layers:
        try:
            gdf = gpd.read_file(path, layer=layer)
        except Exception as err:
            raise MapDataError(path, f"layer {layer}", f"cannot be read: {err}") from None
        if len(gdf) == 0:
            continue
        if gdf.crs is None:
            gdf = gdf.set_crs("EPSG:4326")
        geographic = gdf.crs.is_geographic
        gdf = gdf.to_crs("EPSG:4326")
        if crs == "gcj02" and geographic:
            gdf = gdf.set_geometry(to_wgs84(gdf.geometry.values))
        parts.append(_table(gdf, [None] * len(gdf), path))
    return _concat(parts)


def to_wgs84(geoms: np.ndarray) -> np.ndarray:
    """Convert shapely geometries from GCJ-02 to WGS-84 longitude/latitude."""
    def conv(xy: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(np.asarray(geoms), conv)


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"tags": [], "file": []}, geometry=[], crs="EPSG:4326")


def _concat(parts: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty()
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")
