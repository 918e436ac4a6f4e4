"""The rules of an import as one typed, ranged, sourced parameter set (``ImportOptions``).

Each field is declared with ``model.schema.spec`` like the model's own parameters, so the
command line checks them the same way and ``docs/ODD.md`` lists them with their sources.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from model.errors import MapDataError
from model.params import Params
from model.schema import check_mapping, spec

_CELL = Params.__dataclass_fields__["cell_size_m"].default
_BLOCK = Params.__dataclass_fields__["block_cells"].default


@dataclass(frozen=True)
class ImportOptions:
    """How map data becomes a city layer."""

    cell_size_m: float = spec(_CELL, "Side of a grid cell in metres (the scenario's cell size).",
        lo=5, hi=500, source="model.params.Params.cell_size_m")
    area_per_person_m2: float = spec(36.5,
        "Residential floor area per resident (m2): residents = floor area / this.",
        lo=5, hi=500, source="7th census 2020: urban households' housing floor area 36.52 m2 "
        "per person (城市家庭户人均住房建筑面积)")
    default_levels: float = spec(6.0,
        "Storeys of a residential building that states neither levels nor height.",
        lo=1, hi=200, source="assumption: 6-storey walk-ups, the commonest old housing")
    storey_height_m: float = spec(3.0, "Metres per storey, to read storeys from a height tag.",
        lo=2, hi=10, source="assumption (residential storey ~2.8-3.0 m)")
    old_until_year: int = spec(2000,
        "A community built in this year or earlier is 'old', later 'new'.",
        lo=1800, hi=2100, source="State Council General Office 2020 No. 23 (国办发〔2020〕23号): "
        "renovation of old communities targets those built before the end of 2000")
    default_kind: str = spec("old", "Kind of a community with no construction year.",
        choices=("old", "new"), source="assumption: an existing neighbourhood is settled")
    block_cells: int = spec(_BLOCK,
        "Side (cells) of the square communities tiling cells outside community polygons.",
        lo=1, hi=1000, source="model.params.Params.block_cells (a ~600 m block)")
    access_m: float = spec(150.0,
        "Farthest a building or shop may lie from a street and still be joined to it (m).",
        lo=0, hi=2000, source="assumption (a courtyard or a compound's inner lane)")
    frontage_share: float = spec(0.25,
        "Share of a cell a commercial ground floor must cover to make it a storefront cell.",
        lo=0, hi=1, lo_open=True, source="assumption")
    crs: str = spec("wgs84",
        "Coordinates of POI tables and GeoJSON/GeoPackage layers (OSM extracts are WGS-84).",
        choices=("wgs84", "gcj02"), source="Gaode/Amap and Tencent publish GCJ-02")
    max_cells: int = spec(4_000_000, "Largest grid (width x height) an import may build.",
        lo=1, source="implementation (memory)")


OPTION_FIELDS = {f.name: f for f in dataclasses.fields(ImportOptions)}


def make_options(where: str, values: dict[str, Any]) -> ImportOptions:
    """Check ``values`` against ``ImportOptions``; raise MapDataError naming ``where`` and key."""
    return ImportOptions(**check_mapping(where, ImportOptions, values, what="import option",
                                         error=MapDataError))


ODD_BEGIN = "<!-- import-options:begin -->"
ODD_END = "<!-- import-options:end -->"


def options_table() -> str:
    """The Markdown table of every import option (docs/ODD.md keeps it between its markers)."""
    from model.schema import allowed_text

    def cell(text: Any) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ").strip()

    lines = ["| option | default | meaning (unit) | allowed | source |", "|---|---|---|---|---|"]
    for f in dataclasses.fields(ImportOptions):
        default = f'"{f.default}"' if isinstance(f.default, str) else repr(f.default)
        lines.append(f"| `{f.name}` | {cell(default)} | {cell(f.metadata['doc'])} | "
                     f"{cell(allowed_text(f))} | {cell(f.metadata['source'])} |")
    return "\n".join(lines)


def odd_section(text: str) -> str:
    """The part of ``text`` between the import-options markers."""
    return text[text.index(ODD_BEGIN) + len(ODD_BEGIN):text.index(ODD_END)].strip()


if __name__ == "__main__":  # python -m mapdata.options [--write]: print or update docs/ODD.md
    import sys
    from pathlib import Path

    odd = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"
    if "--write" in sys.argv:
        text = odd.read_text(encoding="utf-8")
        head, tail = text.split(ODD_BEGIN, 1)
        tail = tail.split(ODD_END, 1)[1]
        odd.write_text(f"{head}{ODD_BEGIN}\n{options_table()}\n{ODD_END}{tail}", encoding="utf-8")
        print(f"updated {odd}")
    else:
        print(options_table())
