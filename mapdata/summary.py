"""What an import took in, what it left out and which POI types had no mapping.

``Summary`` is filled by the steps of an import; ``lines()`` renders it for the terminal and
for the header of the scenario file; ``to_dict()`` is stored in the city layer's metadata.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields


@dataclass
class Summary:
    """Counts of one import (every figure refers to the box)."""

    files: list[str] = field(default_factory=list)
    bbox: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    grid: tuple[int, int] = (0, 0)
    cell_size_m: float = 0.0
    # streets
    ways_read: int = 0
    ways_walkable: int = 0
    street_cells: int = 0
    street_cells_dropped: int = 0
    street_pieces_dropped: int = 0
    # homes
    buildings_read: int = 0
    buildings_residential: int = 0
    buildings_default_levels: int = 0
    buildings_population: int = 0
    building_points_skipped: int = 0
    floor_area_m2: float = 0.0
    residents_expected: float = 0.0
    residents_moved: float = 0.0
    residents_unreached: float = 0.0
    residents: int = 0
    home_cells: int = 0
    # communities
    communities_old: int = 0
    communities_new: int = 0
    community_rules: Counter = field(default_factory=Counter)
    # POIs and shops
    pois_read: int = 0
    pois_outside: int = 0
    shops: Counter = field(default_factory=Counter)
    chains: Counter = field(default_factory=Counter)
    shops_unreached: Counter = field(default_factory=Counter)
    not_formats: Counter = field(default_factory=Counter)
    unmapped: Counter = field(default_factory=Counter)
    storefronts: int = 0
    storefronts_vacant: int = 0

    def to_dict(self) -> dict:
        """JSON-ready counts."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Counter):
                v = dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0])))
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out

    def lines(self, width: int = 96) -> list[str]:
        """The summary as lines of text; every unmapped type, most frequent first."""
        w, s, e, n = self.bbox
        gx, gy = self.grid
        out = [
            f"files: {', '.join(self.files)}",
            f"box: W {w:.5f} S {s:.5f} E {e:.5f} N {n:.5f}; grid {gx} x {gy} cells of "
            f"{self.cell_size_m:g} m ({gx * gy * self.cell_size_m ** 2 / 1e6:.2f} km2)",
            f"streets: {self.ways_walkable} walkable ways of {self.ways_read} highway ways -> "
            f"{self.street_cells} connected street cells; left out {self.street_cells_dropped} "
            f"cells in {self.street_pieces_dropped} pieces not connected to the main network",
            f"homes: {self.buildings_residential} residential buildings of {self.buildings_read} "
            f"({self.buildings_default_levels} without levels or height: default storeys; "
            f"{self.buildings_population} with a population), floor area "
            f"{self.floor_area_m2:,.0f} m2 -> {self.residents:,} residents in "
            f"{self.home_cells} home cells ({self.residents_expected:,.0f} from floor area; "
            f"{self.residents_moved:,.0f} moved to the nearest cell beside a street; "
            f"{self.residents_unreached:,.0f} left out, too far from any street); "
            f"{self.building_points_skipped} buildings mapped as points left out",
            f"communities: {self.communities_old} old, {self.communities_new} new "
            f"(by {', '.join(f'{k} {v}' for k, v in sorted(self.community_rules.items()))})",
            f"POIs: {self.pois_read} read, {self.pois_outside} outside the box",
            "shops at day 0: " + (", ".join(f"{k} {v} ({self.chains.get(k, 0)} chain)"
                                            for k, v in sorted(self.shops.items())) or "none"),
            f"storefronts: {self.storefronts} sites, {self.storefronts_vacant} vacant",
        ]
        if self.shops_unreached:
            out.append("left out, too far from any street: " + ", ".join(
                f"{k} {v}" for k, v in sorted(self.shops_unreached.items())))
        if self.not_formats:
            out.append(f"not lifecircle formats: {sum(self.not_formats.values())} POIs of "
                       f"{len(self.not_formats)} types")
        if self.unmapped:
            ranked = sorted(self.unmapped.items(), key=lambda kv: (-kv[1], kv[0]))
            out.append(f"POI types with no mapping ({sum(self.unmapped.values())} POIs of "
                       f"{len(ranked)} types; add rules to mapdata/poi_categories.toml):")
            out += _wrap([f"{k} {v}" for k, v in ranked], width)
        return out


def _wrap(items: list[str], width: int) -> list[str]:
    """Comma-separated items on indented lines of at most ``width`` characters."""
    lines, cur = [], ""
    for item in items:
        if cur and len(cur) + len(item) + 2 > width:
            lines.append(f"  {cur},")
            cur = item
        else:
            cur = f"{cur}, {item}" if cur else item
    if cur:
        lines.append(f"  {cur}")
    return lines
