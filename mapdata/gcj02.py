"""GCJ-02 <-> WGS-84: the offset Chinese map providers (Gaode/Amap, Tencent) apply to coordinates.

GCJ-02 ("Mars coordinates") is WGS-84 shifted by a deterministic, non-linear offset of a few
hundred metres inside China and not at all outside it. The forward transform below is the
published reconstruction used by the open-source converters (e.g. googollee/eviltransform,
wandergis/coordtransform): Krasovsky-1940 ellipsoid (a = 6378245 m, e^2 = 0.00669342162296594323)
and the polynomial-plus-sine offsets of longitude and latitude. The inverse has no closed
form: it is solved by fixed-point iteration (``wgs = gcj - (f(wgs) - wgs)``), to 1e-9 degree
(~0.1 mm). Tests check both against published reference points, including conversions made
by Gaode's own coordinate-conversion service.

"Inside China" is the rectangle the same converters use (longitude 72.004..137.8347,
latitude 0.8293..55.8271); outside it both directions return the input unchanged.
"""

from __future__ import annotations

import numpy as np

_A = 6378245.0
_EE = 0.00669342162296594323
_LON_RANGE = (72.004, 137.8347)
_LAT_RANGE = (0.8293, 55.8271)


def in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """True where a point lies in the rectangle to which GCJ-02 applies an offset."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return ((lon >= _LON_RANGE[0]) & (lon <= _LON_RANGE[1])
            & (lat >= _LAT_RANGE[0]) & (lat <= _LAT_RANGE[1]))


def _offsets(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84, in degrees of longitude and latitude, at WGS-84 ``(lon, lat)``."""
    x, y = lon - 105.0, lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y
            + 0.2 * np.sqrt(np.abs(x)) + common
            + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
            + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sq = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sq) * pi)
    dlon = dlon * 180.0 / (_A / sq * np.cos(rad) * pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS-84 longitude/latitude (degrees, scalars or arrays) to GCJ-02."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _offsets(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(lon, lat, tol_deg: float = 1e-9,
                   max_iter: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 longitude/latitude (degrees) to WGS-84 by fixed-point iteration.

    Args:
        lon, lat: GCJ-02 coordinates (scalars or arrays).
        tol_deg: stop when every point moves less than this (degrees).
        max_iter: iteration limit (convergence takes 3-5 steps; the offset's derivative is
            ~1e-5, so each step gains ~5 digits).
    """
    glon, glat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        nlon, nlat = wlon - (flon - glon), wlat - (flat - glat)
        done = np.all(np.abs(nlon - wlon) < tol_deg) and np.all(np.abs(nlat - wlat) < tol_deg)
        wlon, wlat = nlon, nlat
        if done:
            break
    return wlon, wlat
