"""Geometry onto the grid: the box, lines as 4-connected cell paths, polygons as cell shares.

The grid lies in a local UTM projection of the box (metres), its cell ``(0, 0)`` at the box's
south-west corner, x east and y north, ``cell_size_m`` square cells; everything is clipped to
the box first.

**Lines preserve connectivity.** Each segment is walked cell by cell (Amanatides & Woo 1987,
"A fast voxel traversal algorithm"), stepping along x or along y but never both at once, so
consecutive cells share an edge: a street's cells form one 4-connected path and never jump
diagonally across a block corner. Consecutive segments share their vertex's cell, and two
ways that meet share the meeting node's cell, so streets that meet stay connected.

**Polygons** give each cell the area of their intersection with it (for floor area and
frontage), or, for areas (squares, communities), the cells whose centre they contain.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numba
import numpy as np
import shapely
from pyproj import CRS

from model.errors import MapDataError


@dataclass(frozen=True)
class Grid:
    """The raster: projection, origin, cell size and extent of one box.

    Attributes:
        crs: the local projected CRS (UTM zone of the box).
        x0, y0: projected coordinates of the south-west corner of cell (0, 0).
        cell: cell side in metres.
        width, height: cells along x (east) and y (north).
        bbox: the box in WGS-84 (west, south, east, north).
        box: the box as a polygon in the projected CRS (everything is clipped to it).
    """

    crs: CRS
    x0: float
    y0: float
    cell: float
    width: int
    height: int
    bbox: tuple[float, float, float, float]
    box: shapely.Polygon

    @classmethod
    def for_box(cls, bbox: tuple[float, float, float, float], cell: float, max_cells: int,
                where: str = "--bbox") -> Grid:
        """The grid covering a WGS-84 box at ``cell`` metres."""
        west, south, east, north = bbox
        lonlat = gpd.GeoSeries([shapely.box(west, south, east, north)], crs="EPSG:4326")
        crs = lonlat.estimate_utm_crs()
        box = lonlat.to_crs(crs).iloc[0]
        minx, miny, maxx, maxy = box.bounds
        width = max(1, int(np.ceil((maxx - minx) / cell - 1e-9)))
        height = max(1, int(np.ceil((maxy - miny) / cell - 1e-9)))
        if width * height > max_cells:
            raise MapDataError(where, ",".join(f"{v:g}" for v in bbox),
                               f"the box makes a {width} x {height} grid at {cell:g} m, more than "
                               f"max_cells={max_cells}; import a smaller box")
        return cls(crs=crs, x0=minx, y0=miny, cell=cell, width=width, height=height,
                   bbox=tuple(float(v) for v in bbox), box=box)

    def local(self, geoms: gpd.GeoSeries) -> np.ndarray:
        """WGS-84 geometries -> projected (metres), made valid."""
        if len(geoms) == 0:
            return np.zeros(0, dtype=object)
        projected = np.asarray(geoms.to_crs(self.crs).values).copy()
        bad = ~shapely.is_valid(projected)
        if bad.any():  # self-touching rings and the like, common in OSM multipolygons
            projected[bad] = shapely.make_valid(projected[bad])
        return projected

    def project(self, geoms: gpd.GeoSeries) -> np.ndarray:
        """WGS-84 geometries -> projected, clipped to the box (empty where outside)."""
        local = self.local(geoms)
        return shapely.intersection(local, self.box) if len(local) else local

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cell indexes of projected points (clamped to the grid)."""
        ix = np.floor((np.asarray(x) - self.x0) / self.cell).astype(np.int64)
        iy = np.floor((np.asarray(y) - self.y0) / self.cell).astype(np.int64)
        return np.clip(ix, 0, self.width - 1), np.clip(iy, 0, self.height - 1)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Projected centre coordinates of every cell, as ``(width, height)`` arrays."""
        xs = self.x0 + (np.arange(self.width) + 0.5) * self.cell
        ys = self.y0 + (np.arange(self.height) + 0.5) * self.cell
        return np.meshgrid(xs, ys, indexing="ij")

    def to_meta(self) -> dict:
        """What a city layer records about its grid (enough to map a point to its cell)."""
        return {"crs": self.crs.to_string(), "origin_xy": [self.x0, self.y0],
                "cell_size_m": self.cell, "bbox": list(self.bbox),
                "width": self.width, "height": self.height}


def line_cells(grid: Grid, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells crossed by projected line geometries (their boundary, for polygons).

    Returns:
        ``(geometry index, x, y)`` per crossed cell, each line part a 4-connected path.
    """
    geoms = np.asarray(geoms)
    polygon = np.isin(shapely.get_type_id(geoms), (3, 6))
    lines = np.where(polygon, shapely.boundary(np.where(polygon, geoms, None)), geoms)
    parts, owner = shapely.get_parts(lines, return_index=True)
    keep = shapely.get_type_id(parts) == 1  # LineString (points from clipping dropped)
    parts, owner = parts[keep], owner[keep]
    if len(parts) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    coords, part_of = shapely.get_coordinates(parts, return_index=True)
    starts = np.searchsorted(part_of, np.arange(len(parts) + 1))
    u = (coords[:, 0] - grid.x0) / grid.cell
    v = (coords[:, 1] - grid.y0) / grid.cell
    pid, cx, cy = _traverse(u, v, starts.astype(np.int64), grid.width, grid.height)
    return owner[pid], cx, cy


@numba.njit(cache=True)
def _traverse(u, v, starts, width, height):  # pragma: no cover - compiled
    cap = 1024
    out_p = np.empty(cap, dtype=np.int64)
    out_x = np.empty(cap, dtype=np.int64)
    out_y = np.empty(cap, dtype=np.int64)
    n = 0
    for p in range(starts.shape[0] - 1):
        a, b = starts[p], starts[p + 1]
        if b <= a:
            continue
        ix = min(max(int(np.floor(u[a])), 0), width - 1)
        iy = min(max(int(np.floor(v[a])), 0), height - 1)
        if n + 1 > cap:
            cap *= 2
            out_p, out_x, out_y = _grow3(out_p, out_x, out_y, cap)
        out_p[n], out_x[n], out_y[n] = p, ix, iy
        n += 1
        for k in range(a, b - 1):
            x0, y0, x1, y1 = u[k], v[k], u[k + 1], v[k + 1]
            jx = min(max(int(np.floor(x1)), 0), width - 1)
            jy = min(max(int(np.floor(y1)), 0), height - 1)
            dx, dy = x1 - x0, y1 - y0
            sx = 1 if dx > 0 else -1
            sy = 1 if dy > 0 else -1
            # parameter t (0..1 along the segment) at the next x and y cell boundary
            tx = ((ix + (1 if sx > 0 else 0)) - x0) / dx if dx != 0 else np.inf
            ty = ((iy + (1 if sy > 0 else 0)) - y0) / dy if dy != 0 else np.inf
            ddx = abs(1.0 / dx) if dx != 0 else np.inf
            ddy = abs(1.0 / dy) if dy != 0 else np.inf
            steps = abs(jx - ix) + abs(jy - iy)
            if n + steps > cap:
                while n + steps > cap:
                    cap *= 2
                out_p, out_x, out_y = _grow3(out_p, out_x, out_y, cap)
            for _ in range(steps):
                if ix == jx:
                    iy += sy
                elif iy == jy:
                    ix += sx
                elif tx < ty:
                    ix += sx
                    tx += ddx
                else:
                    iy += sy
                    ty += ddy
                out_p[n], out_x[n], out_y[n] = p, ix, iy
                n += 1
    return out_p[:n].copy(), out_x[:n].copy(), out_y[:n].copy()


@numba.njit(cache=True)
def _grow3(a, b, c, cap):  # pragma: no cover - compiled
    a2 = np.empty(cap, dtype=a.dtype)
    b2 = np.empty(cap, dtype=b.dtype)
    c2 = np.empty(cap, dtype=c.dtype)
    a2[: a.shape[0]] = a
    b2[: b.shape[0]] = b
    c2[: c.shape[0]] = c
    return a2, b2, c2


def polygon_overlaps(grid: Grid, geoms: np.ndarray) -> tuple[np.ndarray, ...]:
    """Area of each projected polygon inside each grid cell.

    Returns:
        ``(geometry index, x, y, m2)`` for every (polygon, cell) pair with a positive overlap.
    """
    geoms = np.asarray(geoms)
    ok = ~shapely.is_empty(geoms) & (shapely.area(geoms) > 0)
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z, np.zeros(0)
    b = shapely.bounds(geoms[idx])
    x_lo, y_lo = grid.cell_of(b[:, 0], b[:, 1])
    x_hi, y_hi = grid.cell_of(b[:, 2], b[:, 3])
    nx, ny = x_hi - x_lo + 1, y_hi - y_lo + 1
    counts = nx * ny
    owner = np.repeat(np.arange(len(idx)), counts)
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    cx = x_lo[owner] + local // ny[owner]
    cy = y_lo[owner] + local % ny[owner]
    boxes = shapely.box(grid.x0 + cx * grid.cell, grid.y0 + cy * grid.cell,
                        grid.x0 + (cx + 1) * grid.cell, grid.y0 + (cy + 1) * grid.cell)
    area = shapely.area(shapely.intersection(geoms[idx][owner], boxes))
    pos = area > 1e-9
    return idx[owner[pos]], cx[pos], cy[pos], area[pos]


def polygon_centre_cells(grid: Grid, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells whose centre lies inside each projected polygon: ``(geometry index, x, y)``."""
    geoms = np.asarray(geoms)
    if len(geoms) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    cxs, cys = grid.centres()
    pts = shapely.points(cxs.ravel(), cys.ravel())
    tree = shapely.STRtree(pts)
    g, p = tree.query(geoms, predicate="contains")
    return g.astype(np.int64), p // grid.height, p % grid.height


def point_cells(grid: Grid, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells of projected points; ``inside`` is False for points clipped away (empty)."""
    points = np.asarray(points)
    inside = ~shapely.is_empty(points) if len(points) else np.zeros(0, dtype=bool)
    x = np.where(inside, shapely.get_x(np.where(inside, points, shapely.points(0, 0))), 0.0)
    y = np.where(inside, shapely.get_y(np.where(inside, points, shapely.points(0, 0))), 0.0)
    ix, iy = grid.cell_of(x, y)
    return ix, iy, inside
