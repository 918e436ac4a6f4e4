"""Shops and storefronts from POIs and commercial ground floors.

Each POI is classified by ``poi_categories.toml`` (``tables.PoiRules``). A POI mapped to a
lifecircle category becomes a shop open at day 0 at the cell holding it, or, if that cell is
not beside the street network, at the nearest cell that is (within ``access_m``; farther ones
are left out and counted). It is a chain outlet when it carries a brand. Each shop has a
storefront site of its own (several shops may share a cell: one unit each).

A cell beside the network is also a storefront cell when commercial ground floors cover at
least ``frontage_share`` of it, or when a street-level business that is not a lifecircle
format stands there (``[frontage]``); such a cell with no mapped shop offers one vacant unit,
where entrants may open.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from .network import Network
from .options import ImportOptions
from .rasterize import Grid, point_cells
from .summary import Summary
from .tables import NONE, PoiRules


@dataclass
class Shops:
    """Storefront sites and the shops open at day 0.

    Attributes:
        site_xy: ``(n_sites, 2)`` storefront cells (repeated for several units in a cell).
        shop_site, shop_category, shop_secondary, shop_chain: per shop.
    """

    site_xy: np.ndarray
    shop_site: np.ndarray
    shop_category: list[str]
    shop_secondary: list[str]
    shop_chain: np.ndarray


def poi_points(features: gpd.GeoDataFrame, poi_keys: tuple[str, ...]) -> gpd.GeoDataFrame:
    """POIs among map features (any with a POI key): a point each (a polygon's inner point)."""
    keep = [any(t.get(k) for k in poi_keys) for t in features["tags"]]
    f = features[keep]
    pts = shapely.point_on_surface(np.asarray(f.geometry.values)) if len(f) else np.zeros(0)
    return gpd.GeoDataFrame({"tags": list(f["tags"]),
                             "name": [str(t.get("name", "")) for t in f["tags"]],
                             "codes": [()] * len(f), "category": [""] * len(f),
                             "file": list(f["file"])}, geometry=pts, crs="EPSG:4326")


def place_shops(grid: Grid, pois: gpd.GeoDataFrame, net: Network, frontage: np.ndarray,
                rules: PoiRules, opts: ImportOptions, summary: Summary) -> Shops:
    """Classify POIs and place shops and storefront sites (see the module docstring)."""
    summary.pois_read = len(pois)
    pts = grid.project(pois.geometry) if len(pois) else np.zeros(0, dtype=object)
    ix, iy, inside = point_cells(grid, pts)
    summary.pois_outside = int((~inside).sum())
    fx, fy, near = net.nearest_front(ix, iy, opts.access_m / grid.cell)
    front_poi = np.zeros(grid.width * grid.height, dtype=bool)
    shops: list[tuple[int, int, str, str, bool]] = []
    all_tags, names = list(pois["tags"]), list(pois["name"])
    all_codes, givens = list(pois["codes"]), list(pois["category"])
    for i in np.flatnonzero(inside).tolist():
        tags, name, codes = all_tags[i], names[i], tuple(all_codes[i])
        m = rules.classify(tags, name, codes, givens[i])
        if m.category == NONE:
            summary.not_formats[m.label or "(no type)"] += 1
        elif not m.category:
            summary.unmapped[m.label or "(no type)"] += 1
        if m.category in ("", NONE):
            if rules.is_frontage(tags, codes) and net.front[ix[i], iy[i]]:
                front_poi[ix[i] * grid.height + iy[i]] = True
            continue
        if not near[i]:
            summary.shops_unreached[m.category] += 1
            continue
        chain = rules.is_chain(m, tags, name)
        shops.append((int(fx[i]), int(fy[i]), m.category, m.secondary, chain))
        summary.shops[m.category] += 1
        summary.chains[m.category] += int(chain)
    shops.sort(key=lambda s: (s[0], s[1], s[2], s[3], s[4]))  # sites in cell order
    site_xy = [(x, y) for x, y, *_ in shops]
    occupied = {(x, y) for x, y in site_xy}
    vacant_mask = (frontage >= opts.frontage_share) | front_poi.reshape(grid.width, grid.height)
    vacant_mask &= net.front
    vacant = [(int(x), int(y)) for x, y in np.argwhere(vacant_mask) if (x, y) not in occupied]
    summary.storefronts = len(site_xy) + len(vacant)
    summary.storefronts_vacant = len(vacant)
    return Shops(site_xy=np.array(site_xy + vacant, dtype=np.int32).reshape(-1, 2),
                 shop_site=np.arange(len(shops), dtype=np.int32),
                 shop_category=[s[2] for s in shops], shop_secondary=[s[3] for s in shops],
                 shop_chain=np.array([s[4] for s in shops], dtype=bool))
