"""The map's legend and colour bar, listing only what the map shows.

:func:`legend_html` takes the keys a :class:`~viz.mapview.MapPainter` recorded while drawing
(``"bus"``, ``"cat:fresh_food"``, ...) and returns an entry for each, in a fixed order: a
category without an open shop, a bus in a scenario without buses, community colours under
a layer, or a circle grade no community has (or any grade, off the grade layer) never appear.
"""

from __future__ import annotations

from html import escape

from model.categories import CategoryTable

from .mapview import Layer
from .palette import BLACK, CATEGORY_COLOURS, GRADE_COLOURS, PLAIN, UNDER_LAYER, WHITE, ramp_css


def _swatch(style: str) -> str:
    return f'<span class="lc-sw" style="{style}"></span>'


#: (key, swatch, text) of the map's non-category entries, in the legend's order.
ENTRIES: tuple[tuple[str, str, str], ...] = (
    ("old", _swatch(f"background:{PLAIN['old']}"), "old community (homes)"),
    ("new", _swatch(f"background:{PLAIN['new']}"), "new community (homes)"),
    ("block-label", _swatch("background:#fff;border:1px solid #999"),
     "“old” / “new”: the community of a block"),
    ("road", _swatch(f"background:{PLAIN['road']}"), "road / lane"),
    ("wall", _swatch(f"background:{PLAIN['wall']}"), "compound wall"),
    ("wall-layer", _swatch(f"background:{UNDER_LAYER['wall']}"), "compound wall"),
    ("vacant", _swatch(f"background:{PLAIN['vacant']}"), "vacant storefront"),
    ("vacant-layer", _swatch("background:#fff;border:1px solid #808080"), "vacant storefront"),
    ("grade:none", _swatch(f"background:{GRADE_COLOURS['none']}"),
     "circle below the basic grade"),
    ("grade:basic", _swatch(f"background:{GRADE_COLOURS['basic']}"), "basic circle"),
    ("grade:upgraded", _swatch(f"background:{GRADE_COLOURS['upgraded']}"), "upgraded circle"),
    ("grade:quality", _swatch(f"background:{GRADE_COLOURS['quality']}"), "quality circle"),
    ("independent", _swatch("background:#bbb;border:1px solid #fff;outline:1px solid #ddd"),
     "independent shop (colour: format)"),
    ("chain", _swatch(f"background:#bbb;border:3px solid {BLACK}"), "chain outlet (thick rim)"),
    ("shop-hollow", _swatch(f"background:{WHITE};border:2px solid {BLACK}"),
     "shop (formats hidden on a difference map)"),
    ("shop-hollow-grade", _swatch(f"background:{WHITE};border:2px solid {BLACK}"),
     "shop (formats hidden on the grade map)"),
    ("policy-site", _swatch(f"border:3px double {BLACK};background:transparent"),
     "site or shop a policy made, changed or supports"),
    ("bus", '<span class="lc-sw" style="width:0;height:0;border-left:8px solid transparent;'
     f'border-right:8px solid transparent;border-bottom:14px solid {BLACK}"></span>',
     "mobile-vendor bus"),
    ("stop", _swatch(f"background:{WHITE};border:2px solid {BLACK};border-radius:50%"),
     "bus stop"),
    ("route", _swatch(f"height:3px;background:{BLACK}"), "bus route"),
    ("selected", _swatch(f"border:3px solid {BLACK};outline:2px solid {WHITE}"),
     "the cell you clicked"),
)


def legend_html(drawn: set[str], categories: CategoryTable) -> str:
    """The legend of a map that drew ``drawn`` (keys recorded by the painter)."""
    items = [(swatch, text) for key, swatch, text in ENTRIES if key in drawn]
    cats = []
    for name, basic in zip(categories.names, categories.basic, strict=True):
        if f"cat:{name}" in drawn:
            shape = "" if basic else "border-radius:50%;"
            cats.append((_swatch(f"background:{CATEGORY_COLOURS[name]};{shape}"),
                         name.replace("_", " ") + (" (basic)" if basic else " (quality)")))

    def block(title: str, rows: list[tuple[str, str]]) -> str:
        cells = "".join(f'<div class="lc-li">{s}<span>{escape(t)}</span></div>' for s, t in rows)
        return f'<div class="lc-lh">{title}</div><div class="lc-lg">{cells}</div>'

    out = block("Map", items)
    if cats:
        out += block("Shops by format: squares basic, circles quality", cats)
    return out


def colourbar_html(layer: Layer, category: str, difference: bool, standard_min: float,
                   note: str = "") -> str:
    """The colour bar under the map for a per-cell layer.

    A grade layer has no bar (its grades are legend entries), only its caption and ``note``.

    Args:
        layer: the layer shown.
        category: the category of a per-category layer.
        difference: the map shows run minus baseline.
        standard_min: the category's standard walk in minutes.
        note: a sentence added to the caption (the grade rule).
    """
    caption = layer.caption
    if layer.per_category:
        caption = caption.replace("this format", category.replace("_", " ")).replace(
            "its standard walk", f"its standard walk ({standard_min:g} minutes)")
    if difference:
        ends = ("worse than baseline", "better")
        caption = f"this run minus the baseline run (same seed, no policy): {caption}"
        if layer.graded:
            caption += " (one grade or more: full colour)"
    else:
        ends = ("0", "1")
    if note:
        caption = f"{caption}. {note}"
    if layer.graded and not difference:
        return f'<div class="lc-cbar-caption">{escape(caption)}</div>'
    return (f'<div class="lc-cbar"><span>{ends[0]}</span><span class="lc-cbar-bar" '
            f'style="background:{ramp_css(difference)}"></span><span>{ends[1]}</span></div>'
            f'<div class="lc-cbar-caption">{escape(caption)}</div>')
