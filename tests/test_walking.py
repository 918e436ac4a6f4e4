"""Walking distances follow the street rule.

An independent breadth-first search and scipy's shortest paths on a split-node graph agree
with the model's home-to-storefront distances; a walk never passes through a home or a
storefront, every home is reachable, and gated new communities lengthen walks (ODD 7.1).
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import shortest_path

from model import CommerceModel
from model.city import NEW, OLD, WALL

from .conftest import SMALL


def _bfs_steps(city, start: tuple[int, int]) -> np.ndarray:
    """Breadth-first steps from ``start`` by the street rule (-1: unreachable)."""
    w, h = city.walkable.shape
    enterable = city.cell_type != WALL
    steps = np.full((w, h), -1, dtype=np.int64)
    steps[start] = 0
    queue = deque([start])
    while queue:
        x, y = queue.popleft()
        if (x, y) != start and not city.walkable[x, y]:
            continue  # a walk ends at a home or a storefront; it never passes through one
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if not (0 <= nx < w and 0 <= ny < h) or steps[nx, ny] >= 0 or not enterable[nx, ny]:
                continue
            if city.walkable[x, y] or city.walkable[nx, ny]:  # from a home: onto a street first
                steps[nx, ny] = steps[x, y] + 1
                queue.append((nx, ny))
    return steps


def _site_pairs(sup, s: int) -> dict[int, float]:
    a, b = sup.site_ptr[s], sup.site_ptr[s + 1]
    assert np.all(sup.pair_site[a:b] == s)
    return dict(zip(sup.pair_home[a:b].tolist(), sup.pair_dist[a:b].tolist(), strict=True))


@pytest.mark.parametrize("cutoff", [500.0, 1800.0])
def test_pair_distances_equal_bfs(cutoff):
    m = CommerceModel(rng=4, communities_x=3, communities_y=3, walk_cutoff_m=cutoff)
    city, sup = m.city, m.supply
    rng = np.random.default_rng(3)
    n_beyond = 0
    for s in rng.choice(len(sup.site_xy), size=25, replace=False).tolist():
        home_steps = _bfs_steps(city, tuple(sup.site_xy[s]))[city.home_xy[:, 0], city.home_xy[:, 1]]
        metres = home_steps * city.cell_size_m
        within = (home_steps >= 0) & (metres <= cutoff)
        pairs = _site_pairs(sup, s)
        expected = {int(h): float(metres[h]) for h in np.flatnonzero(within)}
        assert pairs == pytest.approx(expected)
        assert set(pairs) == set(expected)
        n_beyond += int((~within).sum())
    if cutoff < 1000:
        assert n_beyond > 0  # the cut-off is binding in this city


def test_pair_distances_equal_scipy_shortest_path_on_a_split_node_graph():
    """Every cell is two nodes: arrive (a walk may end here) and leave (a walk may start here);
    only street cells join them, so no path passes through a home or a storefront, and every
    step touches a street."""
    m = CommerceModel(rng=5, **SMALL, walk_cutoff_m=700.0)
    city, sup = m.city, m.supply
    w, h = city.walkable.shape
    n = w * h
    cell = np.arange(n).reshape(w, h)
    enter = city.cell_type != WALL
    rows, cols = [], []
    for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        xs, ys = np.meshgrid(np.arange(w), np.arange(h), indexing="ij")
        nx, ny = xs + dx, ys + dy
        ok = (nx >= 0) & (nx < w) & (ny >= 0) & (ny < h)
        a, b = cell[xs[ok], ys[ok]], cell[nx[ok], ny[ok]]
        street = city.walkable.ravel()
        step = enter.ravel()[a] & enter.ravel()[b] & (street[a] | street[b])
        rows.append(n + a[step])  # leave a ...
        cols.append(b[step])  # ... arrive at b
    on_street = np.flatnonzero(city.walkable.ravel())
    rows.append(on_street)  # arriving at a street cell, one may walk on
    cols.append(n + on_street)
    r, c = np.concatenate(rows), np.concatenate(cols)
    weight = np.where(c < n, city.cell_size_m, 0.0) + 1e-9 * (c >= n)
    graph = sparse.coo_matrix((weight, (r, c)), shape=(2 * n, 2 * n)).tocsr()
    src = n + cell[sup.site_xy[:, 0], sup.site_xy[:, 1]]
    dist = shortest_path(graph, method="D", directed=True, indices=src)
    home_cells = cell[city.home_xy[:, 0], city.home_xy[:, 1]]
    for s in range(len(sup.site_xy)):
        d = dist[s, home_cells]
        within = np.flatnonzero(d <= m.params.walk_cutoff_m + 1e-3)
        pairs = _site_pairs(sup, s)
        assert sorted(pairs) == within.tolist()
        assert np.allclose([pairs[i] for i in within.tolist()], d[within], atol=1e-3)


def test_walks_follow_streets_and_every_home_is_reachable():
    m = CommerceModel(rng=6, communities_x=3, communities_y=3)
    city = m.city
    assert set(np.unique(city.cell_type[city.walkable]).tolist()) == {0}  # streets only
    _, home, _ = city.distances_from(city.storefront_xy, 1e9)
    assert len(np.unique(home)) == len(city.home_xy)
    # two homes side by side are two steps apart at least: the walk goes by the street
    src, home, dist = city.distances_from(city.home_xy[:200], 1e9)
    a, b = city.home_xy[:200][src], city.home_xy[home]
    side_by_side = np.abs(a - b).sum(axis=1) == 1
    assert side_by_side.sum() > 50
    assert np.all(dist[side_by_side] >= 2 * city.cell_size_m)


def test_gated_communities_lengthen_walks():
    m = CommerceModel(rng=6, communities_x=3, communities_y=3)
    city, sup = m.city, m.supply
    hxy = city.home_xy[sup.pair_home].astype(float)
    sxy = sup.site_xy[sup.pair_site].astype(float)
    euclid = np.hypot(*(hxy - sxy).T) * city.cell_size_m
    ok = euclid >= 3 * city.cell_size_m
    ratio = sup.pair_dist[ok] / euclid[ok]
    kind = city.community_kind[city.home_community[sup.pair_home[ok]]]
    old, new = ratio[kind == OLD].mean(), ratio[kind == NEW].mean()
    assert np.all(ratio >= 1.0 - 1e-6)
    assert new > old * 1.05, (old, new)
