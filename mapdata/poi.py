"""POI tables (CSV): one row per point of interest, with coordinates and a type.

Columns (names are case-insensitive; the first match is used):

* coordinates: ``lon``/``lng``/``longitude``/``x``/``经度`` and ``lat``/``latitude``/``y``/``纬度``,
  or ``location`` as ``"lon,lat"`` (the form of Gaode/Amap's place API);
* a type, at least one of: ``typecode`` (Gaode/Amap type codes, several joined by ``|``),
  ``osm_tag`` (``shop=convenience``), ``category`` (a lifecircle category name);
* optional ``name`` / ``名称`` and ``brand`` (a non-empty brand marks a chain outlet).

Coordinates are WGS-84 unless the import's ``crs`` is ``gcj02`` (Amap and Tencent exports),
in which case they are converted. Bad input is a MapDataError naming the file, the row and
the column.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from model.errors import MapDataError, suggest
from model.scenario import category_names

from .gcj02 import gcj02_to_wgs84

LON = ("lon", "lng", "longitude", "x", "经度")
LAT = ("lat", "latitude", "y", "纬度")
LOCATION = ("location",)
TYPECODE = ("typecode", "type_code", "类型编码")
OSM_TAG = ("osm_tag", "tag")
CATEGORY = ("category",)
NAME = ("name", "名称")
BRAND = ("brand", "品牌")


def _column(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {str(c).strip().lower(): c for c in df.columns}
    for n in names:
        if n in lower:
            return lower[n]
    return None


def _text(df: pd.DataFrame, col: str | None) -> list[str]:
    if col is None:
        return [""] * len(df)
    return ["" if pd.isna(v) else str(v).strip() for v in df[col]]


def read_poi_table(path: Path, crs: str = "wgs84") -> gpd.GeoDataFrame:
    """Read a POI CSV into a GeoDataFrame of points.

    Columns of the result: ``geometry`` (WGS-84), ``tags`` (dict), ``name``, ``codes`` (tuple
    of type codes), ``category`` (given category or ""), ``file``.
    """
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise MapDataError(path, "(file)", f"not a readable CSV table: {err}") from None
    lon_c, lat_c, loc_c = _column(df, LON), _column(df, LAT), _column(df, LOCATION)
    if (lon_c is None or lat_c is None) and loc_c is None:
        raise MapDataError(path, "columns", "needs longitude and latitude columns "
                           f"(one of {list(LON)} and one of {list(LAT)}) or {list(LOCATION)}; "
                           f"found {list(df.columns)}")
    code_c, tag_c, cat_c = _column(df, TYPECODE), _column(df, OSM_TAG), _column(df, CATEGORY)
    if code_c is None and tag_c is None and cat_c is None:
        raise MapDataError(path, "columns", "needs a type column: one of "
                           f"{list(TYPECODE + OSM_TAG + CATEGORY)}; found {list(df.columns)}")
    if lon_c is not None and lat_c is not None:
        lon_s, lat_s = df[lon_c], df[lat_c]
        lon_name, lat_name = str(lon_c), str(lat_c)
    else:
        parts = df[loc_c].astype(str).str.split(",", n=1, expand=True).reindex(columns=[0, 1])
        lon_s, lat_s = parts[0], parts[1]
        lon_name = lat_name = str(loc_c)
    lon = pd.to_numeric(lon_s, errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(lat_s, errors="coerce").to_numpy(dtype=float)
    for name, values, lo, hi in ((lon_name, lon, -180, 180), (lat_name, lat, -90, 90)):
        bad = ~np.isfinite(values) | (values < lo) | (values > hi)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raw = (lon_s if values is lon else lat_s).iloc[row]
            raise MapDataError(path, f"row {row + 2}, column {name}",
                               f"{raw!r} is not a coordinate in [{lo}, {hi}]")
    if crs == "gcj02":
        lon, lat = gcj02_to_wgs84(lon, lat)
    known = set(category_names())
    cats = _text(df, cat_c)
    for i, c in enumerate(cats):
        if c and c not in known and c != "none":
            raise MapDataError(path, f"row {i + 2}, column {cat_c}", f"{c!r} is not a category"
                               + suggest(c, known) + f"; known: {sorted(known)}")
    codes = [tuple(_pad(c) for c in s.split("|") if c.strip()) for s in _text(df, code_c)]
    tags = []
    for i, (t, brand) in enumerate(zip(_text(df, tag_c), _text(df, _column(df, BRAND)), strict=True)):
        d: dict[str, str] = {}
        if t:
            if "=" not in t:
                raise MapDataError(path, f"row {i + 2}, column {tag_c}",
                                   f"{t!r} is not key=value (e.g. shop=convenience)")
            k, v = t.split("=", 1)
            d[k.strip()] = v.strip()
        if brand:
            d["brand"] = brand
        tags.append(d)
    return gpd.GeoDataFrame({"tags": tags, "name": _text(df, _column(df, NAME)), "codes": codes,
                             "category": cats, "file": path.name},
                            geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _pad(code: str) -> str:
    code = code.strip()
    if code.isdigit() and len(code) < 6:  # a spreadsheet dropped the leading zero
        code = code.zfill(6)
    return code
