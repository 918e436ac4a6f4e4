"""Communities and their kind (old / new).

**Which cells form a community.** Polygons of a community layer (features with a
``community`` attribute) if the inputs have any, else OSM residential land use
(``landuse=residential``: in Chinese cities the mapped 小区 compounds); a cell belongs to the
smallest polygon containing its centre. Cells outside every polygon are tiled into squares of
``block_cells`` cells. Communities without a walkable cell are dropped.

**Old or new**, first rule that applies:

1. the polygon says so: ``community_kind`` (or ``kind``) = ``old`` / ``new``;
2. the polygon has a construction year (``start_date``, ``year`` ...): old if
   <= ``old_until_year`` (2000: the national programme renovates communities built before
   the end of 2000), else new;
3. the residents' buildings have years: the median year, weighted by residents;
4. ``default_kind``.
"""

from __future__ import annotations

from collections import Counter

import geopandas as gpd
import numpy as np
import shapely

from model.city import NEW, OLD

from .homes import Homes
from .options import ImportOptions
from .rasterize import Grid, polygon_centre_cells
from .tables import FeatureRules

KIND_TAGS = ("community_kind", "kind")


def community_polygons(features: gpd.GeoDataFrame, rules: FeatureRules
                       ) -> tuple[gpd.GeoDataFrame, str]:
    """The polygons that define communities, and which rule chose them."""
    polys = features[np.isin(shapely.get_type_id(np.asarray(features.geometry.values)), (3, 6))]
    layer = polys[["community" in t for t in polys["tags"]]]
    if len(layer):
        return layer.reset_index(drop=True), "community layer"
    res = polys[[str(t.get("landuse", "")) in rules.landuse_residential for t in polys["tags"]]]
    return res.reset_index(drop=True), "residential land use"


def assign_communities(grid: Grid, polygons: gpd.GeoDataFrame, walkable: np.ndarray,
                       homes: Homes, rules: FeatureRules, opts: ImportOptions,
                       rule_counts: Counter) -> tuple[np.ndarray, np.ndarray]:
    """Community id per cell (-1 where no walkable cell) and kind per community.

    Args:
        grid: the grid.
        polygons: community polygons (WGS-84) with tags.
        walkable: ``(w, h)`` bool, the cells that will be walkable.
        homes: residents and their buildings' years.
        rules: feature rules (year tags).
        opts: import options.
        rule_counts: incremented by the rule that decided each community's kind.

    Returns:
        ``(community, community_kind)``.
    """
    w, h = grid.width, grid.height
    com = np.full((w, h), -1, dtype=np.int64)
    n_poly = len(polygons)
    if n_poly:
        geoms = grid.project(polygons.geometry)
        order = np.argsort(-shapely.area(geoms), kind="stable")  # small ones assigned last
        g, cx, cy = polygon_centre_cells(grid, geoms)
        rank = np.empty(n_poly, dtype=np.int64)
        rank[order] = np.arange(n_poly)
        for i in np.argsort(rank[g], kind="stable"):
            com[cx[i], cy[i]] = g[i]
    B = opts.block_cells
    xs, ys = np.meshgrid(np.arange(w), np.arange(h), indexing="ij")
    tiles_y = -(-h // B)
    tile = n_poly + (xs // B) * tiles_y + ys // B
    com = np.where(com >= 0, com, tile)
    used = np.unique(com[walkable])
    remap = np.full(int(com.max()) + 1, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    community = np.where(walkable, remap[com], -1).astype(np.int32)
    kinds = np.full(len(used), -1, dtype=np.int8)
    # 1-2: the polygon's own kind or year
    for new_id, old_id in enumerate(used):
        if old_id < n_poly:
            t = polygons["tags"].iloc[old_id]
            stated = next((str(t[k]).lower() for k in KIND_TAGS if k in t), "")
            if stated in ("old", "new"):
                kinds[new_id] = OLD if stated == "old" else NEW
                rule_counts["stated kind"] += 1
                continue
            y = rules.year(t)
            if y is not None:
                kinds[new_id] = OLD if y <= opts.old_until_year else NEW
                rule_counts["polygon year"] += 1
    # 3: residents' buildings' median year
    known = homes.pair_year >= 0
    if known.any():
        pair_com = remap[com[homes.pair_x[known], homes.pair_y[known]]]
        years, weights = homes.pair_year[known], homes.pair_residents[known]
        for c in np.unique(pair_com[pair_com >= 0]):
            if kinds[c] >= 0:
                continue
            sel = pair_com == c
            y = weighted_median(years[sel], weights[sel])
            kinds[c] = OLD if y <= opts.old_until_year else NEW
            rule_counts["building years"] += 1
    # 4: the default
    unknown = kinds < 0
    kinds[unknown] = OLD if opts.default_kind == "old" else NEW
    if unknown.any():
        rule_counts[f"default ({opts.default_kind})"] += int(unknown.sum())
    return community, kinds


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The weighted median (the lower one at an exact half); equal weights if all are zero."""
    order = np.argsort(values, kind="stable")
    v, wt = values[order], weights[order].astype(float)
    if wt.sum() <= 0:
        wt = np.ones_like(wt)
    cum = np.cumsum(wt)
    return float(v[np.searchsorted(cum, 0.5 * cum[-1])])
