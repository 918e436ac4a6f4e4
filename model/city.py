"""The city: a grid of old and new community blocks, its cell types and walking distances.

Layout of one community block of ``B x B`` cells (local coordinates ``0..B-1``):

* Row/column 0 is an arterial road shared with the neighbouring block (the city closes with
  one more road row/column).
* **Old** blocks: a lane every ``old_street_spacing`` cells (a fine, permeable grid); the rest
  is residential; storefronts are residential cells facing a lane or road.
* **New** blocks: a gated superblock. The ring just inside the arterial is the pavement with
  street-facing storefronts; the next ring is the compound wall with ``new_gates`` gates; the
  interior has estate paths (the ring inside the wall and every third row and column) between
  residential towers.

The number of storefronts of a block follows its area (``storefronts_per_ha_*``), rounded
half up; a new block lets its street-facing ring first, then ground floors inside.

**Walking rule.** People walk along streets: lanes, roads, pavements, estate paths and gates
(``walkable``). A walk leaves its start cell (a home, a storefront; a stop is on a street) for
a street cell next to it, goes along 4-neighbouring street cells, and ends by stepping into its
end cell: nobody cuts through a building, a block or a compound wall. The walking distance is
the number of steps times ``cell_size_m`` (a breadth-first search: every step is one cell).
On a 4-connected grid a walk exceeds the straight line by 1.0-1.41x (about 1.27x on average),
in line with the 1.2-1.3 detour factor of real street networks; gated compounds lengthen walks
further.
"""

from __future__ import annotations

import numba
import numpy as np

from .errors import ScenarioError
from .params import Params

ROAD, RESIDENTIAL, STOREFRONT, WALL = 0, 1, 2, 3
OLD, NEW = 0, 1


class City:
    """Grid geometry, community types and home cells of one scenario.

    Attributes:
        width, height: grid size in cells.
        cell_size_m: side of a cell in metres.
        cell_type: ``(width, height)`` int8 array of ROAD / RESIDENTIAL / STOREFRONT / WALL.
        walkable: ``(width, height)`` bool array (all but walls).
        community: ``(width, height)`` int32 array, community id or -1 (edge road).
        community_type: ``(width, height)`` int8 array, OLD / NEW, or -1.
        community_kind: per community id, OLD / NEW.
        home_xy: ``(n_homes, 2)`` coordinates of residential cells.
        home_capacity: residents per home cell at full occupancy.
        home_community: community id per home cell.
        storefront_xy: ``(n_storefronts, 2)`` coordinates of storefront cells.
        storefront_community: community id per storefront.
    """

    def __init__(self, params: Params, rng: np.random.Generator):
        B = params.block_cells
        cx, cy = params.communities_x, params.communities_y
        self.width, self.height = cx * B + 1, cy * B + 1
        self.cell_size_m = float(params.cell_size_m)
        w, h = self.width, self.height
        self.cell_type = np.full((w, h), ROAD, dtype=np.int8)
        self.community = np.full((w, h), -1, dtype=np.int32)
        self.community_type = np.full((w, h), -1, dtype=np.int8)

        n = cx * cy
        centres = np.array([((bx + 0.5) * B, (by + 0.5) * B) for bx in range(cx) for by in range(cy)])
        dist = np.hypot(centres[:, 0] - w / 2, centres[:, 1] - h / 2)
        order = np.lexsort((np.arange(n), dist))  # central first, ties by id
        n_old = round_half_up(params.share_old * n)
        self.community_kind = np.full(n, NEW, dtype=np.int8)
        self.community_kind[order[:n_old]] = OLD

        storefronts: list[tuple[int, int]] = []
        for cid in range(n):
            bx, by = divmod(cid, cy)
            ox, oy = bx * B, by * B
            self.community[ox:ox + B, oy:oy + B] = cid
            self.community_type[ox:ox + B, oy:oy + B] = self.community_kind[cid]
            block_ha = (B * self.cell_size_m) ** 2 / 10_000.0
            if self.community_kind[cid] == OLD:
                cand = self._layout_old(ox, oy, B, params.old_street_spacing)
                k = round_half_up(params.storefronts_per_ha_old * block_ha)
            else:
                cand = self._layout_new(ox, oy, B, params.new_gates)
                k = round_half_up(params.storefronts_per_ha_new * block_ha)
            # a new block lets its street-facing ring first, then ground floors inside
            tiers = cand if self.community_kind[cid] == NEW else [cand]
            if k > sum(len(t) for t in tiers):
                raise ScenarioError("params", "storefronts_per_ha_old" if
                                    self.community_kind[cid] == OLD else "storefronts_per_ha_new",
                                    f"{k} storefronts do not fit in a block with "
                                    f"{sum(len(t) for t in tiers)} places facing a street")
            for tier in tiers:
                take = min(k, len(tier))
                k -= take
                pick = rng.choice(len(tier), size=take, replace=False) if take else []
                for i in sorted(pick):
                    x, y = tier[i]
                    self.cell_type[x, y] = STOREFRONT
                    storefronts.append((x, y))

        self.walkable = self.cell_type == ROAD  # streets: what a walk passes through
        homes = np.argwhere(self.cell_type == RESIDENTIAL)
        kind = self.community_type[homes[:, 0], homes[:, 1]]
        density = np.where(kind == OLD, params.residents_per_cell_old, params.residents_per_cell_new)
        self.home_xy = homes.astype(np.int32)
        self.home_capacity = np.rint(density).astype(np.int64)
        self.home_community = self.community[homes[:, 0], homes[:, 1]]
        self.home_index = np.full((w, h), -1, dtype=np.int64)
        self.home_index[homes[:, 0], homes[:, 1]] = np.arange(len(homes))
        self.storefront_xy = np.array(storefronts, dtype=np.int32).reshape(-1, 2)
        self.storefront_community = (self.community[self.storefront_xy[:, 0], self.storefront_xy[:, 1]]
                                     if len(storefronts) else np.zeros(0, dtype=np.int32))
        if len(homes) == 0:
            raise ScenarioError("params", "block_cells", "the grid has no residential cells")

    def _layout_old(self, ox: int, oy: int, B: int, spacing: int) -> list[tuple[int, int]]:
        """Lay out an old block; return storefront candidate cells (residential facing a lane)."""
        for i in range(B):
            for j in range(B):
                lane = i % spacing == 0 or j % spacing == 0
                self.cell_type[ox + i, oy + j] = ROAD if lane else RESIDENTIAL
        cand = []
        for i in range(1, B):
            for j in range(1, B):
                if i % spacing and j % spacing:
                    cand.append((ox + i, oy + j))  # every non-lane cell touches a lane
        return cand

    def _layout_new(self, ox: int, oy: int, B: int, gates: int) -> list[list[tuple[int, int]]]:
        """Lay out a gated superblock; return storefront candidates in two tiers.

        The tiers: the pavement ring, then the ground floors inside the compound (every tower
        cell faces an estate path).
        """
        mid = B // 2
        gate_cells = [(mid, 2), (mid, B - 2), (2, mid), (B - 2, mid),
                      (2 + (B - 4) // 4, 2), (2 + 3 * (B - 4) // 4, B - 2),
                      (2, 2 + 3 * (B - 4) // 4), (B - 2, 2 + (B - 4) // 4)][:gates]
        cand: list[tuple[int, int]] = []
        inside: list[tuple[int, int]] = []
        for i in range(1, B):
            for j in range(1, B):
                ring = min(i - 1, j - 1, B - 1 - i, B - 1 - j)
                x, y = ox + i, oy + j
                if ring == 0:
                    self.cell_type[x, y] = ROAD
                    corner = i in (1, B - 1) and j in (1, B - 1)
                    facing_gate = any(abs(i - gi) + abs(j - gj) == 1 for gi, gj in gate_cells)
                    if not corner and not facing_gate:
                        cand.append((x, y))
                elif ring == 1:
                    self.cell_type[x, y] = ROAD if (i, j) in gate_cells else WALL
                elif ring == 2 or (i - 3) % 3 == 0 or (j - 3) % 3 == 0:
                    self.cell_type[x, y] = ROAD  # estate paths
                else:
                    self.cell_type[x, y] = RESIDENTIAL
                    inside.append((x, y))  # every tower cell faces an estate path
        return [cand, inside]

    def max_steps(self, metres: float) -> int:
        """Number of cell steps within ``metres`` of walking."""
        return int(np.floor(metres / self.cell_size_m + 1e-9))

    def distances_from(self, sources_xy: np.ndarray, max_m: float) -> tuple[np.ndarray, ...]:
        """Walking distances (the walking rule above) from source cells to homes within ``max_m``.

        Args:
            sources_xy: ``(n, 2)`` cell coordinates (any cell but a wall: a storefront, a stop).
            max_m: cut-off in metres (the longest useful walk).

        Returns:
            ``(source, home, metres)`` arrays, sorted by source then home.
        """
        src, home, steps = _bfs_pairs(self.walkable, self.cell_type != WALL, self.home_index,
                                      np.ascontiguousarray(sources_xy, dtype=np.int64),
                                      self.max_steps(max_m))
        return src, home, steps.astype(np.float32) * np.float32(self.cell_size_m)


def round_half_up(x: float) -> int:
    """``x`` rounded to the nearest integer, halves up (``round`` rounds halves to even)."""
    return int(np.floor(x + 0.5))


@numba.njit(cache=True)
def _bfs_pairs(walkable, enterable, home_index, sources, max_steps):  # pragma: no cover - compiled
    w, h = walkable.shape
    stamp = np.full((w, h), -1, dtype=np.int64)
    dist = np.zeros((w, h), dtype=np.int32)
    qx = np.empty(w * h, dtype=np.int64)
    qy = np.empty(w * h, dtype=np.int64)
    cap = 1024
    out_s = np.empty(cap, dtype=np.int32)
    out_h = np.empty(cap, dtype=np.int32)
    out_d = np.empty(cap, dtype=np.int32)
    n = 0
    dx = np.array([1, -1, 0, 0])
    dy = np.array([0, 0, 1, -1])
    for s in range(sources.shape[0]):
        sx, sy = sources[s, 0], sources[s, 1]
        if not enterable[sx, sy]:
            continue
        head, tail = 0, 1
        qx[0], qy[0] = sx, sy
        stamp[sx, sy] = s
        dist[sx, sy] = 0
        start = n
        while head < tail:
            x, y = qx[head], qy[head]
            head += 1
            d = dist[x, y]
            hi = home_index[x, y]
            if hi >= 0:
                if n == cap:
                    cap *= 2
                    out_s = _grow(out_s, cap)
                    out_h = _grow(out_h, cap)
                    out_d = _grow(out_d, cap)
                out_s[n] = s
                out_h[n] = hi
                out_d[n] = d
                n += 1
            # a walk passes through streets only; other cells are where it starts or ends,
            # and from its start (a home, a shop) it steps straight onto a street
            street = walkable[x, y]
            if d == max_steps or (head > 1 and not street):
                continue
            for k in range(4):
                nx, ny = x + dx[k], y + dy[k]
                if 0 <= nx < w and 0 <= ny < h and enterable[nx, ny] and stamp[nx, ny] != s \
                        and (street or walkable[nx, ny]):
                    stamp[nx, ny] = s
                    dist[nx, ny] = d + 1
                    qx[tail], qy[tail] = nx, ny
                    tail += 1
        order = np.argsort(out_h[start:n])
        out_h[start:n] = out_h[start:n][order]
        out_d[start:n] = out_d[start:n][order]
    return out_s[:n].copy(), out_h[:n].copy(), out_d[:n].copy()


@numba.njit(cache=True)
def _grow(a, cap):  # pragma: no cover - compiled
    b = np.empty(cap, dtype=a.dtype)
    b[: a.shape[0]] = a
    return b
