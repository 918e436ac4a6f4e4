"""``lifecircle import``: a neighbourhood from map data, written as a scenario and its city layer.

    lifecircle import FILE [FILE ...] [--bbox W,S,E,N] [--name NAME] [--out PATH.toml]
                      [--crs wgs84|gcj02] [--cell-size M] [--set KEY=VALUE ...] [--force]

It writes two files side by side: ``NAME.toml`` (a scenario that extends ``baseline`` and
sets ``city_layer``) and ``NAME.city.npz`` (the layer), by default into the scenarios folder
so that ``lifecircle run NAME`` finds it; it prints the import summary. Bad input gives one
error line naming the file or argument and the key, exit status 2, and nothing is written.
An existing file is replaced only if ``lifecircle import`` wrote it and ``--force`` is given;
a file lifecircle did not write is never replaced.
"""

from __future__ import annotations

import argparse
import os
import re
import tomllib
from pathlib import Path

from lifecircle import exits

MARKER = "# lifecircle import:"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``lifecircle import`` to ``parser``."""
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="OSM extracts (.osm.pbf, .osm), vector layers (.geojson, .gpkg) "
                             "and POI tables (.csv)")
    parser.add_argument("--bbox", metavar="W,S,E,N",
                        help="the box in WGS-84 degrees (default: the inputs' extent); "
                             "write --bbox=W,S,E,N when WEST is negative")
    parser.add_argument("--name", help="name of the circle and its files (default: the first "
                                       "file's name)")
    parser.add_argument("--out", metavar="PATH.toml",
                        help="the scenario file to write (default: <scenarios>/<name>.toml); "
                             "the layer goes beside it as <name>.city.npz")
    parser.add_argument("--crs", choices=("wgs84", "gcj02"),
                        help="coordinates of POI tables and GeoJSON/GeoPackage layers "
                             "(default wgs84; gcj02 for Gaode/Amap and Tencent data)")
    parser.add_argument("--cell-size", type=float, metavar="M",
                        help="grid cell size in metres (default: the model's, 50)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                        help="an import option (repeatable): area_per_person_m2=30, "
                             "default_levels=18, old_until_year=2000, default_kind=new, ...")
    parser.add_argument("--force", action="store_true",
                        help="replace files an earlier lifecircle import wrote")


def _parse_sets(items: list[str]) -> dict[str, object]:
    from model.errors import MapDataError

    out: dict[str, object] = {}
    for item in items:
        if "=" not in item:
            raise MapDataError("--set", item, "expected KEY=VALUE")
        key, raw = item.split("=", 1)
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def _parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    from model.errors import MapDataError

    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4:
        raise MapDataError("--bbox", text, "needs four numbers WEST,SOUTH,EAST,NORTH "
                           "(e.g. 116.30,39.90,116.33,39.92)")
    return values  # type: ignore[return-value]


def output_paths(args: argparse.Namespace, name: str) -> tuple[Path, Path]:
    """The scenario file and the layer file an import writes."""
    from model.city_layer import LAYER_SUFFIX
    from model.errors import MapDataError
    from model.scenario import SCENARIO_DIR

    out = Path(args.out) if args.out else SCENARIO_DIR / f"{name}.toml"
    if out.suffix != ".toml":
        raise MapDataError("--out", str(out), "must name a .toml scenario file")
    if out.exists() and out.is_dir():
        raise MapDataError("--out", str(out), "is a folder; name a .toml file")
    return out, out.with_name(out.stem + LAYER_SUFFIX)


def written_by_import(path: Path) -> bool:
    """True if ``path`` is a file an earlier ``lifecircle import`` wrote."""
    from model.city_layer import read_layer
    from model.errors import ScenarioError

    if path.suffix == ".npz":
        try:
            _, meta = read_layer(path)
        except ScenarioError:
            return False
        return meta.get("written_by") == "lifecircle import"
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.readline().startswith(MARKER)
    except (OSError, UnicodeDecodeError):
        return False


def check_outputs(paths: tuple[Path, ...], force: bool) -> None:
    """Refuse to replace a file lifecircle did not write, or one it did without ``--force``."""
    from model.errors import OutputError

    for p in paths:
        if not p.exists():
            continue
        if not written_by_import(p):
            raise OutputError(p, "--out", "exists and was not written by lifecircle import; "
                              "it is never replaced: choose another --out or --name")
        if not force:
            raise OutputError(p, "--out", "exists (written by an earlier import); pass --force "
                              "to replace it")


def scenario_text(name: str, layer: Path, summary_lines: list[str], cell_size_m: float,
                  description: str) -> str:
    """The scenario file of an imported circle (header marker, summary, parameters)."""
    head = [f"{MARKER} this file and {layer.name} were written by `lifecircle import`.",
            "# Re-importing replaces them (--force). Edit the parameters below as in any",
            "# scenario; the city (streets, homes, residents, communities, shops at day 0)",
            "# comes from the layer, so the generated-city parameters (block_cells,",
            "# communities_x/y, share_old, storefronts_*) do not apply.",
            "#", "# Import summary:"]
    head += [f"#   {line}" for line in summary_lines]
    body = [f"name = {_toml_str(name)}", f"description = {_toml_str(description)}",
            'extends = "baseline"', f"city_layer = {_toml_str(layer.name)}",
            f"cell_size_m = {cell_size_m!r}",
            "# New communities (built after the import's old_until_year) fill from",
            "# occupancy_new_start as in any scenario; set it here if they are settled:",
            "# occupancy_new_start = 0.9"]
    return "\n".join(head + [""] + body) + "\n"


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def cmd_import(args: argparse.Namespace) -> int:
    """Import map data; write the scenario and its layer; print the summary."""
    from model.city_layer import write_layer
    from model.errors import LifecircleError
    from model.scenario import load_scenario

    from .importer import import_city
    from .options import make_options

    try:
        files = [Path(f) for f in args.files]
        name = args.name or re.sub(r"[^A-Za-z0-9_-]+", "_", files[0].name.split(".")[0]).lower()
        if not _NAME.fullmatch(name):
            raise LifecircleError("--name", name, "use letters, digits, '_' or '-' (at most 64)")
        values = _parse_sets(args.set)
        if args.crs:
            values["crs"] = args.crs
        if args.cell_size is not None:
            values["cell_size_m"] = args.cell_size
        opts = make_options("--set", values)
        scenario_path, layer_path = output_paths(args, name)
        check_outputs((scenario_path, layer_path), args.force)
        result = import_city(files, _parse_bbox(args.bbox), name, opts)
    except LifecircleError as err:
        exits.error(str(err))
        return exits.INVALID
    lines = result.summary.lines()
    w, s, e, n = result.grid.bbox
    description = (f"Imported from {', '.join(f.name for f in files)}, box "
                   f"{w:.5f},{s:.5f},{e:.5f},{n:.5f}")
    scenario_path.parent.mkdir(parents=True, exist_ok=True)
    write_layer(layer_path, result.arrays, result.meta)
    try:
        _write_text_atomic(scenario_path, scenario_text(name, layer_path, lines, opts.cell_size_m,
                                                        description))
        load_scenario(scenario_path)  # what was written loads as a scenario
    except BaseException:
        layer_path.unlink(missing_ok=True)
        scenario_path.unlink(missing_ok=True)
        raise
    print("\n".join(lines))
    print(f"written: {scenario_path} and {layer_path.name} beside it "
          f"(lifecircle run {scenario_path if args.out else name})")
    return exits.OK
