"""The walkable network on the grid: street cells, the connected network, cells beside it.

Walkable ways (``features.toml [streets]``) are rasterised as 4-connected cell paths
(``rasterize.line_cells``); highway areas (a pedestrian square) add the cells whose centre
they cover. The street cells are split into 4-connected components and the largest is kept:
the network people walk on. Smaller pieces (a path cut off by the box edge, a courtyard
walkway) are left out and counted. ``front`` is the network plus the cells beside it (sharing
an edge with a network cell): homes and storefronts stand there, so each is one step from the
network and walkable from it. ``nearest_front`` sends a cell that is not in front to the
nearest front cell within the access distance (a building set back in a courtyard).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy import ndimage

from model.errors import MapDataError

from .rasterize import Grid, line_cells, polygon_centre_cells

CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)


@dataclass
class Network:
    """Street cells of one grid.

    Attributes:
        street: ``(w, h)`` bool, every rasterised walkable cell.
        net: ``(w, h)`` bool, the largest 4-connected piece of ``street``.
        front: ``(w, h)`` bool, ``net`` plus the cells sharing an edge with it.
        pieces_dropped, cells_dropped: the street pieces and cells left out.
        near_index, near_dist: per cell, the nearest front cell (``(2, w, h)`` indexes) and
            the distance to it in cells (0 in front).
    """

    street: np.ndarray
    net: np.ndarray
    front: np.ndarray
    pieces_dropped: int
    cells_dropped: int
    near_index: np.ndarray
    near_dist: np.ndarray

    def nearest_front(self, x: np.ndarray, y: np.ndarray, max_cells: float
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The nearest front cell of each cell, and whether it lies within ``max_cells``.

        Returns:
            ``(fx, fy, ok)``; a cell in front is its own nearest front cell.
        """
        fx = self.near_index[0][x, y]
        fy = self.near_index[1][x, y]
        ok = self.near_dist[x, y] <= max_cells + 1e-9
        return fx, fy, ok


def build_network(grid: Grid, geoms: np.ndarray, areas: np.ndarray, where: str) -> Network:
    """Rasterise projected street lines and highway areas; keep the connected network.

    Args:
        grid: the grid.
        geoms: projected, clipped walkable ways (lines, or polygons walked along their edge).
        areas: projected, clipped highway areas (``area=yes``), walkable inside.
        where: the input files (for the error).

    Raises:
        MapDataError: no walkable street inside the box.
    """
    street = np.zeros((grid.width, grid.height), dtype=bool)
    _, cx, cy = line_cells(grid, geoms)
    street[cx, cy] = True
    if len(areas):
        _, ax, ay = line_cells(grid, areas)
        street[ax, ay] = True
        _, ax, ay = polygon_centre_cells(grid, areas[~shapely.is_empty(areas)])
        street[ax, ay] = True
    if not street.any():
        raise MapDataError(where, "--bbox", f"no walkable street inside the box "
                           f"{','.join(f'{v:g}' for v in grid.bbox)}; choose a box over streets "
                           "(the network needs OSM ways tagged highway=*)")
    labels, n = ndimage.label(street, structure=CROSS)
    sizes = np.bincount(labels.ravel())[1:]
    keep = int(np.argmax(sizes)) + 1
    net = labels == keep
    front = ndimage.binary_dilation(net, structure=CROSS)
    dist, index = ndimage.distance_transform_edt(~front, return_indices=True)
    return Network(street=street, net=net, front=front, pieces_dropped=n - 1,
                   cells_dropped=int(street.sum() - net.sum()), near_index=index,
                   near_dist=dist)
