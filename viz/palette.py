"""The map's colours and shapes, chosen to be told apart with any colour vision.

* **Categories**: one colour each, and a shape by tier: squares for basic formats, circles for
  quality formats. The 13 colours were picked (greedy max-min search over sRGB) so that every
  pair differs by at least 20 CIELAB units under normal vision and under simulated
  protanopia, deuteranopia and tritanopia (Machado et al. 2009), and every colour is as far
  from the map's greys, black, white and community tints (``tests/test_viz_palette.py``).
* **Per-cell layers** (satisfaction, coverage) are a grey ramp, dark = high: lightness alone
  carries the value, which every viewer reads, and no category colour is near a grey.
* **Difference from the baseline** is a blue (better) – white – orange (worse) ramp, the
  diverging pair that stays apart for colour-blind viewers; on that layer shops are drawn as
  outlines only, so no category colour sits on it.
* **Circle grades** (none / basic / upgraded / quality, ``model.grades.GRADES``) are four
  colours whose lightness rises with the grade for every viewer (the order reads without hue),
  at least 20 CIELAB units apart for every viewer and from the map's colours under a layer,
  the grey ramp and the difference ramp (picked by a max-min search over sRGB in steps of 15).
  Four colours cannot also keep 20 units from all 13 category colours (in that search no
  two such colours are 20 units apart), so on the grade map shops are drawn as outlines
  only, as on the difference map.
* Buses, stops, routes and the outline of a policy's sites are black and white.
"""

from __future__ import annotations

import numpy as np

from model.grades import GRADES

#: Category colours (basic formats: squares; quality formats: circles).
CATEGORY_COLOURS: dict[str, str] = {
    # basic
    "convenience": "#5500ff",
    "fresh_food": "#00ff00",
    "breakfast": "#997755",
    "repair": "#115500",
    "pharmacy": "#bb11bb",
    "parcel": "#ee99ff",
    "hair": "#330044",
    "laundry": "#77bb55",
    # quality
    "canteen": "#cc6611",
    "elderly_care": "#aa44ff",
    "childcare": "#99ff77",
    "fitness": "#220099",
    "dining": "#773377",
}

#: Cell colours of the plain map.
PLAIN = {
    "road": "#d6d6d6",
    "old": "#f3d9b1",
    "new": "#c9ddf0",
    "residential": "#eeeeee",
    "vacant": "#7a7a7a",
    "wall": "#333333",
}
#: Cell colours under a per-cell layer (homes take the layer's colour).
UNDER_LAYER = {
    "road": "#ffffff",
    "residential": "#ffffff",
    "vacant": "#ffffff",
    "wall": "#000000",
}
#: The sequential layer ramp: value 0 -> 1 (light -> dark grey).
RAMP_ENDS = ("#e1e1e1", "#373737")
#: The diverging ramp of a difference: -1 (worse) -> 0 -> +1 (better).
DIVERGING = ("#b35806", "#f7f7f7", "#2d6bb4")
BLACK, WHITE = "#000000", "#ffffff"
#: Colours of the circle grades by name (``model.grades.GRADES``): dark = below basic,
#: light = quality.
GRADE_COLOURS: dict[str, str] = {
    "none": "#690f00",
    "basic": "#1e00ff",
    "upgraded": "#b45aff",
    "quality": "#00e100",
}


def rgb8(colour: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` as three 0..255 integers."""
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def ramp_rgb(values: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 colours of values in 0..1 on the sequential grey ramp."""
    lo, hi = (np.array(rgb8(c), dtype=float) for c in RAMP_ENDS)
    t = np.clip(np.nan_to_num(np.asarray(values, dtype=float)), 0.0, 1.0)[..., None]
    return np.rint(lo + t * (hi - lo)).astype(np.uint8)


def diverging_rgb(values: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 colours of values in -1..1 on the diverging ramp."""
    neg, mid, pos = (np.array(rgb8(c), dtype=float) for c in DIVERGING)
    t = np.clip(np.nan_to_num(np.asarray(values, dtype=float)), -1.0, 1.0)[..., None]
    out = np.where(t < 0, mid + (-t) * (neg - mid), mid + t * (pos - mid))
    return np.rint(out).astype(np.uint8)


def grade_rgb(values: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 colours of grade codes 0..3 (``model.grades.GRADES``; NaN: white)."""
    table = np.array([rgb8(WHITE), *(rgb8(GRADE_COLOURS[g]) for g in GRADES)], dtype=np.uint8)
    v = np.asarray(values, dtype=float)
    codes = np.where(np.isfinite(v), np.clip(np.nan_to_num(v), -1, len(GRADES) - 1), -1)
    return table[codes.astype(np.int64) + 1]


def ramp_css(diverging: bool = False, stops: int = 11) -> str:
    """A CSS linear-gradient of a ramp, for the colour bar under the map."""
    if diverging:
        values = np.linspace(-1, 1, stops)
        colours = diverging_rgb(values)
    else:
        colours = ramp_rgb(np.linspace(0, 1, stops))
    parts = ", ".join("#" + "".join(f"{int(v):02x}" for v in c) for c in colours)
    return f"linear-gradient(to right, {parts})"
