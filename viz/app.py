# ruff: noqa: N802 - Solara components are CamelCase by convention
"""The browser view of ``CommerceModel`` for students (run it with ``lifecircle viz``).

One page per browser session, each with its own model (built in the session, never at module
level): a map of the city (old/new communities, roads, walls, vacant storefronts, shops by
category with chains marked, mobile-vendor buses on their routes with their stops, and a
switchable per-cell layer of satisfaction or 15-minute coverage), an HTML legend, a short text
on today's numbers, four plots of the daily series, and controls. Scenario, seed, community mix
and policy levers are collected as *pending* settings and take effect when the user presses
Reset; the page says which ones are pending. Every model is made by :func:`build_model`.

Speed (a step must render in well under a second): the map is painted with numpy + PIL on a
background coloured once per model (:class:`MapPainter`), and the plots are one matplotlib
figure kept per model whose axes are drawn only when a range changes, with the day's lines
blitted over them (:class:`PlotPainter`).

Uses Mesa's ``update_counter`` / ``force_update`` for the redraws, but not the ``SolaraViz``
frame, whose Reset cannot drive this model: it re-creates ``type(model)(**params)`` (bypassing
``build_model``), replaces a ``scenario`` keyword with a ``mesa.experimental.scenarios.Scenario``,
and its parameter check raises on ``model.scenario`` being our own scenario object; nor Mesa's
``PlotMatplotlib``, which builds a new figure and draws it in full (with ``bbox_inches="tight"``
and ``legend(loc="best")``) for every plot every day, ~0.15 s each.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import solara  # noqa: E402
import solara.lab  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from mesa.visualization.utils import force_update, update_counter  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIR = Path(os.environ.get("LIFECIRCLE_SCENARIO_DIR") or ROOT / "scenarios")
#: TOML files in scenarios/ that are not scenarios (tables the scenarios refer to).
NOT_SCENARIOS = {"categories"}
DEFAULT_SCENARIO = "baseline"
DEFAULT_SEED = 1
#: Print the server-side time of each Step (model step + re-render) to stderr.
TIMING = bool(os.environ.get("LIFECIRCLE_VIZ_TIMING"))

#: The page's policy levers and community mix. ``param`` is a flat scenario parameter (an
#: override of ``load_scenario``) unless ``policy`` names a policy kind, in which case the value
#: goes to that policy's ``param`` through ``Scenario.with_policy``; the lever's ``off`` value
#: (0 buses, a 0 share or discount, a switch turned off) removes the policy with
#: ``Scenario.without_policy``. Only levers the user moved are applied; the rest keep the
#: scenario's values.
LEVERS: dict[str, dict[str, Any]] = {
    "share_old": dict(label="Community mix: share of old communities", kind="float", lo=0.0,
                      hi=1.0, step=0.05, param="share_old"),
    "n_buses": dict(label="Mobile-vendor buses (0 = none)", kind="int", lo=0, hi=20, step=1,
                    policy="mobile_vendors", param="n_buses", off=0),
    "chain_target": dict(label="Chain target rate (0 = no chain push)", kind="float", lo=0.0,
                         hi=1.0, step=0.05, policy="chain_penetration",
                         param="target_chain_rate", off=0.0),
    "rent_subsidy_share": dict(label="Rent subsidy, share of rent (0 = none)", kind="float",
                               lo=0.0, hi=1.0, step=0.05, policy="rent_subsidy", param="share",
                               off=0.0),
    "canteen_discount": dict(label="Elderly canteens: meal discount 60+ (0 = no canteens)",
                             kind="float", lo=0.0, hi=1.0, step=0.05, policy="elderly_canteen",
                             param="discount_60", off=0.0),
    "instant_retail": dict(label="Instant retail (online order + delivery)", kind="bool",
                           policy="instant_retail", param=None, off=False),
}

# ---------------------------------------------------------------------------------------------
# Building models


def scenario_names() -> list[str]:
    """Scenario files in ``scenarios/`` by stem, ``baseline`` first."""
    names = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml") if p.stem not in NOT_SCENARIOS)
    if DEFAULT_SCENARIO in names:
        names.remove(DEFAULT_SCENARIO)
    return [DEFAULT_SCENARIO, *names]


def scenario_source(name: str) -> str:
    """What ``load_scenario`` gets for a picker entry (the file's path if it exists)."""
    path = SCENARIO_DIR / f"{name}.toml"
    return str(path) if path.exists() else name


def _coerce(name: str, value: Any) -> Any:
    kind = LEVERS[name]["kind"]
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return bool(value)


def build_scenario(scenario: str = DEFAULT_SCENARIO, levers: dict[str, Any] | None = None):
    """The scenario file ``scenario`` with the moved ``levers`` applied.

    Flat levers (community mix) become ``load_scenario`` overrides; policy levers add the
    policy or update its parameter (``with_policy``), or remove it at their off value
    (``without_policy``).
    """
    from model import load_scenario

    flat: dict[str, Any] = {}
    policy_levers: list[tuple[str, Any]] = []
    for name, value in (levers or {}).items():
        if name not in LEVERS:
            raise KeyError(f"unknown lever {name!r}; known: {list(LEVERS)}")
        value = _coerce(name, value)
        if LEVERS[name].get("policy"):
            policy_levers.append((name, value))
        else:
            flat[LEVERS[name]["param"]] = value
    sc = load_scenario(scenario_source(scenario), flat or None)
    for name, value in policy_levers:
        spec = LEVERS[name]
        if value == spec["off"]:
            sc = sc.without_policy(spec["policy"])
        elif spec["param"] is None:  # an on/off policy: keep its parameters if present
            sc = sc.with_policy(spec["policy"])
        else:
            sc = sc.with_policy(spec["policy"], **{spec["param"]: value})
    return sc


def build_model(scenario: str = DEFAULT_SCENARIO, seed: int = DEFAULT_SEED,
                levers: dict[str, Any] | None = None):
    """Make the model the page shows: ``scenario`` name, integer ``seed``, moved ``levers``."""
    from model import CommerceModel

    return CommerceModel(scenario=build_scenario(scenario, levers), rng=int(seed))


@dataclasses.dataclass(frozen=True)
class Settings:
    """What a model is built from; pending (edited) and applied (current model) copies."""

    scenario: str = DEFAULT_SCENARIO
    seed: int = DEFAULT_SEED
    levers: tuple[tuple[str, Any], ...] = ()

    def lever(self, name: str, fallback: Any) -> Any:
        """The pending value of lever ``name``, or ``fallback`` if the user has not moved it."""
        return dict(self.levers).get(name, fallback)

    def with_lever(self, name: str, value: Any) -> Settings:
        """A copy with lever ``name`` set to ``value``."""
        levers = dict(self.levers)
        levers[name] = value
        return dataclasses.replace(self, levers=tuple(sorted(levers.items())))

    def differences(self, other: Settings | None) -> list[str]:
        """Human-readable list of what differs from ``other`` (the running model's settings)."""
        if other is None:
            return []
        out = []
        if self.scenario != other.scenario:
            out.append(f"scenario {other.scenario} → {self.scenario}")
        if self.seed != other.seed:
            out.append(f"seed {other.seed} → {self.seed}")
        mine, theirs = dict(self.levers), dict(other.levers)
        for name in LEVERS:
            if mine.get(name) != theirs.get(name):
                shown = mine.get(name, "scenario value")
                out.append(f"{LEVERS[name]['label'].lower()} → {shown}")
        return out


# ---------------------------------------------------------------------------------------------
# Reading the model (duck-typed, so the page survives small changes in the model)


def agents_of(model, class_name: str) -> list:
    """Agents whose class is called ``class_name`` (Shop, Bus, ...)."""
    out: list = []
    for cls, agentset in model.agents_by_type.items():
        if cls.__name__ == class_name:
            out.extend(agentset.to_list() if hasattr(agentset, "to_list") else list(agentset))
    return out


def day_of(model) -> int:
    """The model's day (``model.day``, else Mesa's step count)."""
    return int(getattr(model, "day", getattr(model, "steps", 0)))


def today(model) -> dict[str, float]:
    """Today's metrics, or an empty dict if the model cannot compute them."""
    try:
        return dict(model.metrics())
    except Exception:  # noqa: BLE001 - a metric bug must not take the page down
        return {}


def policies_of(model, kind: str) -> list:
    """The model's policy objects of ``kind``."""
    return [p for p in getattr(model, "policies", None) or [] if getattr(p, "kind", None) == kind]


def lever_value_in_model(model, name: str) -> Any:
    """The value a lever has in the running model (its off value if the policy is absent)."""
    spec = LEVERS[name]
    if not spec.get("policy"):
        return getattr(getattr(model, "params", None), spec["param"], None)
    found = policies_of(model, spec["policy"])
    if not found:
        return spec["off"]
    return True if spec["param"] is None else getattr(found[0], spec["param"], None)


def _xy(cell) -> tuple[int, int]:
    coord = cell.coordinate if hasattr(cell, "coordinate") else cell
    return int(coord[0]), int(coord[1])


# ---------------------------------------------------------------------------------------------
# The map

COLOURS = {
    "road": "#d6d6d6",
    "old": "#f3d9b1",
    "new": "#c9ddf0",
    "residential": "#eeeeee",
    "vacant": "#7a7a7a",
    "wall": "#4e342e",
    "route": "#6a1b9a",
}
#: One colour per category, in the model's category order (convenience, fresh food,
#: breakfast, repair, pharmacy, parcel, hair, laundry, canteen, elderly care, childcare,
#: fitness, dining), then repeating for any further categories.
CATEGORY_PALETTE = ["#1f77b4", "#2ca02c", "#ff7f0e", "#8c564b", "#d62728", "#9467bd",
                    "#e377c2", "#17becf", "#bcbd22", "#393b79", "#ffdd00", "#98df8a",
                    "#800000", "#008080", "#808000"]
LAYERS = ["Plain map", "Satisfaction", "15-min coverage"]
LAYER_CAPTIONS = {
    "Satisfaction": "mean satisfaction of the residents living in a cell (0 = none, 1 = all)",
    "15-min coverage": "share of a cell's residents who reach every basic category within a "
                       "15-minute walk",
}
LAYER_CMAP = "RdYlGn"
LAYER_ALPHA = 0.85
MAP_TARGET_PX = 600  # the map image's side, about; cells are whole pixels


def category_colours(model, shops=()) -> dict[str, str]:
    """A fixed colour per category: the model's category order if known, else sorted names."""
    names: list[str] = []
    cats = getattr(model, "categories", None)
    for attr in ("names", "categories"):
        seq = getattr(cats, attr, None)
        if seq is not None:
            names = [getattr(c, "name", c) for c in seq]
            break
    names = [*names, *sorted({s.category for s in shops} - set(names))]
    return {n: CATEGORY_PALETTE[i % len(CATEGORY_PALETTE)] for i, n in enumerate(names)}


def _rgb8(colour: str) -> tuple[int, int, int]:
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(colour)
    return round(255 * r), round(255 * g), round(255 * b)


def base_map_rgb(city) -> np.ndarray:
    """(width, height, 3) uint8 colours of the cells: communities, roads, walls, storefronts."""
    ct = np.asarray(city.cell_type)
    com = np.asarray(city.community_type)
    rgb = np.empty((*ct.shape, 3), dtype=np.uint8)
    rgb[:] = _rgb8(COLOURS["road"])
    homes = ct == 1
    rgb[homes] = _rgb8(COLOURS["residential"])
    rgb[homes & (com == 0)] = _rgb8(COLOURS["old"])
    rgb[homes & (com == 1)] = _rgb8(COLOURS["new"])
    rgb[ct == 2] = _rgb8(COLOURS["vacant"])
    rgb[ct == 3] = _rgb8(COLOURS["wall"])
    return rgb


def layer_rgb(values: np.ndarray, base: np.ndarray) -> np.ndarray:
    """``base`` with the finite cells of ``values`` (0..1) blended in the layer colour map."""
    from matplotlib import colormaps

    values = np.asarray(values, dtype=float)
    ok = np.isfinite(values)
    if not ok.any():
        return base
    coloured = colormaps[LAYER_CMAP](np.clip(np.where(ok, values, 0.0), 0.0, 1.0))[..., :3]
    out = base.astype(float)
    out[ok] = (1 - LAYER_ALPHA) * out[ok] + LAYER_ALPHA * 255 * coloured[ok]
    return np.rint(out).astype(np.uint8)


def vendor_routes(model) -> list[list[tuple[int, int]]]:
    """The stops of every mobile-vendor route, in driving order."""
    routes: list[list[tuple[int, int]]] = []
    for pol in policies_of(model, "mobile_vendors"):
        for route in getattr(pol, "routes", None) or []:
            routes.append([_xy(xy) for xy in route])
    if not routes:  # buses without a policy object: their own routes
        for bus in agents_of(model, "Bus"):
            route = getattr(bus, "route", None)
            if route:
                routes.append([_xy(xy) for xy in route])
    return routes


class MapPainter:
    """Draws one model's map as PNG bytes, fast enough for every day of Play.

    The city's cells (communities, roads, walls, storefronts) are coloured once per model;
    each day only the per-cell layer (if any) is blended in at cell resolution, the array is
    scaled to whole pixels per cell, and shops, routes, stops and buses are drawn on it with
    PIL. No matplotlib, so a frame costs ~10-20 ms instead of ~0.3 s.
    """

    def __init__(self, model, target_px: int = MAP_TARGET_PX):
        import threading

        self.model = model
        self.base = base_map_rgb(model.city)  # (w, h, 3)
        self.w, self.h = self.base.shape[:2]
        self.px = max(3, target_px // max(self.w, self.h))
        self.pad = int(math.ceil(1.2 * self.px))  # a margin, so buses at the edge show whole
        self.colours = {k: _rgb8(v) for k, v in category_colours(model).items()}
        self.lock = threading.Lock()

    def centre(self, xy: tuple[int, int]) -> tuple[float, float]:
        """Pixel centre of cell ``xy`` (y grows upward on the map, downward in the image)."""
        x, y = xy
        return self.pad + (x + 0.5) * self.px, self.pad + (self.h - 1 - y + 0.5) * self.px

    def image(self, layer: str = LAYERS[0]):
        """The map as a PIL image."""
        import PIL.Image
        import PIL.ImageDraw

        model, px = self.model, self.px
        cells = self.base
        if layer == "Satisfaction":
            cells = layer_rgb(model.satisfaction_grid(), cells)
        elif layer == "15-min coverage":
            cells = layer_rgb(model.coverage_grid(), cells)
        # (w, h, 3) with y up -> image rows top to bottom, each cell px × px pixels
        arr = np.ascontiguousarray(cells.transpose(1, 0, 2)[::-1])
        arr = np.repeat(np.repeat(arr, px, axis=0), px, axis=1)
        arr = np.pad(arr, ((self.pad, self.pad), (self.pad, self.pad), (0, 0)),
                     constant_values=255)
        img = PIL.Image.fromarray(arr, "RGB")
        draw = PIL.ImageDraw.Draw(img)
        inset = 1 if px >= 5 else 0
        for shop in agents_of(model, "Shop"):
            x, y = _xy(shop.cell)
            x0, y0 = self.pad + x * px, self.pad + (self.h - 1 - y) * px
            colour = self.colours.get(shop.category, (0, 0, 0))
            if shop.chain:  # a diamond with a black outline, a little larger than the cell
                cx, cy, r = x0 + px / 2 - 0.5, y0 + px / 2 - 0.5, px * 0.62
                draw.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)],
                             fill=colour, outline=(0, 0, 0), width=max(1, px // 6))
            else:
                draw.rectangle([x0 + inset, y0 + inset, x0 + px - 1 - inset, y0 + px - 1 - inset],
                               fill=colour)
        route_colour = _rgb8(COLOURS["route"])
        routes = vendor_routes(model)
        for route in routes:
            if len(route) > 1:
                draw.line([self.centre(xy) for xy in route], fill=route_colour,
                          width=max(1, px // 5), joint="curve")
        r = max(3.0, 0.6 * px)
        for route in routes:
            for xy in route:
                cx, cy = self.centre(xy)
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 255, 255),
                             outline=(0, 0, 0), width=max(1, px // 6))
        r = max(5.0, 1.1 * px)
        for bus in agents_of(model, "Bus"):
            cx, cy = self.centre(_xy(bus.cell))
            draw.polygon([(cx, cy - r), (cx + r, cy + 0.8 * r), (cx - r, cy + 0.8 * r)],
                         fill=(0, 0, 0), outline=(255, 255, 255), width=max(1, px // 5))
        return img

    def png(self, layer: str = LAYERS[0]) -> bytes:
        """The map as PNG bytes."""
        import io

        with self.lock:
            img = self.image(layer)
        buf = io.BytesIO()
        img.save(buf, format="png", compress_level=1)
        return buf.getvalue()


def map_title(model) -> str:
    """The line above the map: day and the city's size."""
    city = model.city
    title = f"Day {day_of(model)}"
    metres = getattr(city, "cell_size_m", None)
    if metres:
        title += (f" · {city.width * metres / 1000:.1f} × {city.height * metres / 1000:.1f} km,"
                  f" one cell {metres:.0f} m")
    return title


def _swatch(style: str) -> str:
    return f'<span class="lc-sw" style="{style}"></span>'


def legend_html(model) -> str:
    """The map legend as HTML (static per model)."""
    items = [
        (_swatch(f"background:{COLOURS['old']}"), "old community (homes)"),
        (_swatch(f"background:{COLOURS['new']}"), "new community (homes)"),
        (_swatch(f"background:{COLOURS['road']}"), "road / lane"),
        (_swatch(f"background:{COLOURS['wall']}"), "compound wall"),
        (_swatch(f"background:{COLOURS['vacant']}"), "vacant storefront"),
        (_swatch("background:#bbb;transform:scale(0.8)"), "independent shop (colour: category)"),
        (_swatch("background:#bbb;border:2px solid #000;transform:rotate(45deg) scale(0.8)"),
         "chain outlet"),
        ('<span class="lc-sw" style="width:0;height:0;border-left:8px solid transparent;'
         'border-right:8px solid transparent;border-bottom:14px solid #000"></span>',
         "mobile-vendor bus"),
        (_swatch("background:#fff;border:2px solid #000;border-radius:50%"), "bus stop"),
        (_swatch(f"height:3px;background:{COLOURS['route']}"), "bus route"),
    ]
    cats = [(_swatch(f"background:{c};transform:scale(0.8)"), n.replace("_", " "))
            for n, c in category_colours(model).items()]

    def block(title: str, rows: list[tuple[str, str]]) -> str:
        cells = "".join(f'<div class="lc-li">{s}<span>{t}</span></div>' for s, t in rows)
        return f'<div class="lc-lh">{title}</div><div class="lc-lg">{cells}</div>'

    return block("Map", items) + block("Shop categories", cats)


def colourbar_html(layer: str) -> str:
    """A colour bar for a per-cell layer, as HTML."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps[LAYER_CMAP]
    stops = ", ".join(to_hex(cmap(i / 10)) for i in range(11))
    return (f'<div class="lc-cbar"><span>0</span><span class="lc-cbar-bar" '
            f'style="background:linear-gradient(to right, {stops})"></span><span>1</span></div>'
            f'<div class="lc-cbar-caption">{LAYER_CAPTIONS.get(layer, layer)}</div>')


LEGEND_CSS = """
.lc-legend { font-size: 13px; line-height: 1.25; }
.lc-lh { font-weight: bold; margin: 6px 0 2px 0; }
.lc-lg { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr));
         gap: 2px 10px; }
.lc-li { display: flex; align-items: center; gap: 6px; }
.lc-sw { display: inline-block; width: 14px; height: 14px; flex: none; box-sizing: border-box; }
.lc-cbar { display: flex; align-items: center; gap: 6px; font-size: 12px; margin-top: 4px; }
.lc-cbar-bar { display: inline-block; height: 12px; flex: 1; opacity: 0.85; }
.lc-cbar-caption { font-size: 12px; color: #444; text-align: center; }
.lc-map img { width: 100%; max-width: 640px; image-rendering: pixelated; }
.lc-plots img { width: 100%; max-width: 1100px; }
.lc-maptitle { font-weight: bold; font-size: 1.05em; }
.lc-lever-label { font-size: 0.85em; color: #555; margin-top: 6px; }
.lc-lever .v-input { margin-top: 0; }
"""


# ---------------------------------------------------------------------------------------------
# Text about today's numbers


def _pct(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{100 * value:.0f}%"


def summary_markdown(model, applied: Settings | None) -> str:
    """A few sentences on today's numbers for students."""
    m = today(model)
    day = day_of(model)
    get = m.get
    lines = [f"### Day {day}"]
    if applied is not None:
        lines.append(f"Scenario **{applied.scenario}**, seed {applied.seed}.\n")
    change = ""
    try:
        df = model.datacollector.get_model_vars_dataframe()
        if len(df) >= 2 and "share_satisfied" in df:
            delta = 100 * (df["share_satisfied"].iloc[-1] - df["share_satisfied"].iloc[-2])
            change = f" ({delta:+.1f} points since yesterday)"
    except Exception:  # noqa: BLE001
        pass
    lines += [
        f"- **Satisfied residents:** {_pct(get('share_satisfied'))}{change}: old communities "
        f"{_pct(get('share_satisfied_old'))}, new {_pct(get('share_satisfied_new'))}, "
        f"elderly {_pct(get('share_satisfied_elderly'))}.",
        f"- **15-minute basic coverage:** {_pct(get('coverage_basic_all'))} of residents reach "
        "every basic shop or service within a 15-minute walk.",
    ]
    if get("outlets_open") is not None:
        lines.append(f"- **Outlets open:** {get('outlets_open'):.0f}, of which chains "
                     f"{_pct(get('chain_rate'))}.")
    buses = agents_of(model, "Bus")
    lines.append(f"- **Mobile-vendor buses:** {len(buses)} on the road.")
    kinds = [getattr(p, "kind", "?") for p in getattr(model, "policies", None) or []]
    lines.append("- **Policies in force:** "
                 + (", ".join(k.replace("_", " ") for k in kinds) if kinds else "none") + ".")
    if get("public_spend") is not None:
        lines.append(f"- **Public spend so far:** ¥{get('public_spend'):,.0f} (subsidies, "
                     "buses, canteen discounts).")
    lines.append(
        "\n*Satisfied* means a resident's recent needs were met well enough (moving average "
        "above the threshold); *coverage* counts walking distance on the street network, "
        "not as the crow flies."
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The plots

#: (title, {column: (label, colour)}, y range 0..1?, {twin-axis column: (label, colour)})
PLOTS: list[tuple[str, dict[str, tuple[str, str]], bool, dict[str, tuple[str, str]]]] = [
    ("Share of residents satisfied", {
        "share_satisfied": ("all", "black"), "share_satisfied_old": ("old communities", "#c47c1a"),
        "share_satisfied_new": ("new", "#2f6db3"),
        "share_satisfied_elderly": ("elderly 60+", "#8e44ad")}, True, {}),
    ("Basic needs within a 15-minute walk (share)", {
        "coverage_basic_all": ("all", "black"), "coverage_basic_all_old": ("old communities", "#c47c1a"),
        "coverage_basic_all_new": ("new", "#2f6db3"),
        "coverage_basic_all_elderly": ("elderly 60+", "#8e44ad")}, True, {}),
    ("Chains and outlets", {"chain_rate": ("chain rate (left)", "#d62728")}, True,
     {"outlets_open": ("outlets open (right)", "#555555")}),
    ("Public spend, cumulative (yuan)", {"public_spend": ("public spend", "#2ca02c")}, False, {}),
]


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at or above ``value`` (1 for nothing)."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    e = 10.0 ** math.floor(math.log10(value))
    for m in (1.0, 2.0, 5.0, 10.0):
        if value <= m * e * (1 + 1e-9):
            return m * e
    return 10 * e


def day_axis_end(n_days: int) -> int:
    """The day axis runs to 30, 60, 120, ... days: redrawn rarely, never cramped."""
    end = 30
    while end < n_days:
        end *= 2
    return end


def _yuan(value: float, _pos=None) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:g}M"
    if abs(value) >= 1e3:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


class PlotPainter:
    """Draws one model's four daily plots as one PNG, with blitting.

    The axes, ticks, titles and legends are drawn once and kept as a background; they are
    redrawn only when an axis range changes (the day axis doubles, a spend or outlet count
    outgrows its range). Each day only the lines are drawn over the background: ~20 ms
    instead of ~0.3 s for a full matplotlib draw. Legends sit above the axes, in the
    background, as drawing them is what costs.
    """

    def __init__(self, model):
        import threading

        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        self.model = model
        self.lock = threading.Lock()
        self.fig = Figure(figsize=(10.6, 5.8), dpi=80)
        self.canvas = FigureCanvasAgg(self.fig)
        self.fig.subplots_adjust(left=0.06, right=0.94, bottom=0.08, top=0.9, wspace=0.25,
                                 hspace=0.6)
        cols = set(self.columns())
        self.lines: list[tuple[Any, str]] = []  # (line, column)
        self.scaled: list[tuple[Any, list[str], bool]] = []  # (axis, columns, integer?)
        for ax, (title, main, share, twin) in zip(self.fig.subplots(2, 2).flat, PLOTS,
                                                  strict=True):
            ax.set_title(title, fontsize=11, pad=17)
            ax.set_xlabel("day", fontsize=9, labelpad=1)
            ax.tick_params(labelsize=8)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.25)
            handles = []
            main = {c: v for c, v in main.items() if c in cols}
            twin = {c: v for c, v in twin.items() if c in cols}
            if not main and not twin:
                ax.text(0.5, 0.5, "not recorded by this model", ha="center", va="center",
                        transform=ax.transAxes)
                continue
            for col, (label, colour) in main.items():
                (line,) = ax.plot([], [], color=colour, lw=1.8 if colour == "black" else 1.4,
                                  label=label, animated=True)
                self.lines.append((line, col))
                handles.append(line)
            if share:
                ax.set_ylim(0, 1)
            elif main:
                self.scaled.append((ax, list(main), False))
                ax.yaxis.set_major_formatter(FuncFormatter(_yuan))
            if twin:
                ax2 = ax.twinx()
                ax2.tick_params(labelsize=8)
                for col, (label, colour) in twin.items():
                    (line,) = ax2.plot([], [], color=colour, ls="--", lw=1.3, label=label,
                                       animated=True)
                    self.lines.append((line, col))
                    handles.append(line)
                self.scaled.append((ax2, list(twin), True))
            # above the axes, so it is part of the background and no line ever crosses it
            ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=4,
                      fontsize=8, frameon=False, borderpad=0.1, borderaxespad=0.1,
                      handlelength=1.5, columnspacing=1.0, handletextpad=0.4)
        self.key: tuple | None = None
        self.background = None

    def columns(self) -> list[str]:
        """The daily series the model records."""
        return list(getattr(self.model.datacollector, "model_vars", {}) or {})

    def _key(self, data: dict[str, list], n: int) -> tuple:
        tops = []
        for _ax, cols, _integer in self.scaled:
            top = max((max((v for v in data[c] if v is not None and math.isfinite(v)),
                           default=0.0) for c in cols), default=0.0)
            tops.append(nice_ceiling(1.1 * top))
        return (day_axis_end(n), *tops)

    def image(self):
        """The plots as a PIL image."""
        import PIL.Image

        data = self.model.datacollector.model_vars
        n = max((len(v) for v in data.values()), default=0)
        key = self._key(data, n)
        if key != self.key:  # axis ranges changed: redraw the static parts
            for ax in self.fig.axes:
                ax.set_xlim(0, key[0])
            for (ax, _cols, _integer), top in zip(self.scaled, key[1:], strict=True):
                ax.set_ylim(0, top)
            self.canvas.draw()
            self.background = self.canvas.copy_from_bbox(self.fig.bbox)
            self.key = key
        else:
            self.canvas.restore_region(self.background)
        for line, col in self.lines:
            ys = np.asarray(data[col], dtype=float)
            line.set_data(np.arange(len(ys)), ys)
            line.axes.draw_artist(line)
        rgba = np.asarray(self.canvas.buffer_rgba())
        return PIL.Image.fromarray(rgba[..., :3].copy(), "RGB")

    def png(self) -> bytes:
        """The plots as PNG bytes."""
        import io

        with self.lock:
            img = self.image()
        buf = io.BytesIO()
        img.save(buf, format="png", compress_level=1)
        return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Components


@solara.component
def Plots(model):
    """The daily series: satisfied shares, basic coverage, chains and outlets, public spend."""
    counter = update_counter.get()
    painter = solara.use_memo(lambda: PlotPainter(model), dependencies=[model])
    png = solara.use_memo(painter.png, dependencies=[painter, counter])
    with solara.Div(classes=["lc-plots"]):
        solara.Image(png, format="png")


@solara.component
def MapView(model, layer: str):
    """The map image (redrawn each day and when the layer changes), its title and legend."""
    counter = update_counter.get()
    painter = solara.use_memo(lambda: MapPainter(model), dependencies=[model])
    png = solara.use_memo(lambda: painter.png(layer), dependencies=[painter, layer, counter])
    solara.Text(map_title(model), classes=["lc-maptitle"])
    with solara.Div(classes=["lc-map"]):
        solara.Image(png, format="png")
    if layer != LAYERS[0]:
        solara.HTML(tag="div", unsafe_innerHTML=colourbar_html(layer), classes=["lc-colourbar"])


@solara.component
def Legend(model):
    """The map legend (static per model)."""
    html = solara.use_memo(lambda: legend_html(model), dependencies=[model])
    solara.HTML(tag="div", unsafe_innerHTML=html, classes=["lc-legend"])


@solara.component
def Summary(model, applied):
    """The text panel on today's numbers."""
    update_counter.get()
    with solara.Div(classes=["lc-summary"]):
        solara.Markdown(summary_markdown(model, applied))


@solara.component
def DayBadge(model):
    """The day shown above the run buttons."""
    update_counter.get()
    running = getattr(model, "running", True)
    solara.Text(f"Day {day_of(model)}" + ("" if running else " (finished)"),
                classes=["lc-day"], style={"font-size": "1.3em", "font-weight": "bold"})


@solara.component
def LeverInput(name: str, pending: solara.Reactive[Settings], model):
    """A slider or switch for one lever; a moved lever becomes an override."""
    spec = LEVERS[name]
    in_model = lever_value_in_model(model, name) if model is not None else None
    fallback = in_model if in_model is not None else spec.get("off", spec.get("lo", 0))
    overridden = name in dict(pending.value.levers)
    value = pending.value.lever(name, fallback)
    origin = "moved, applies on Reset" if overridden else "scenario"

    def set_value(v):
        pending.value = pending.value.with_lever(name, v)

    if spec["kind"] == "bool":
        solara.Switch(label=f"{spec['label']} ({origin})", value=bool(value),
                      on_value=set_value, classes=[f"lc-lever-{name}"])
        return
    # the label (with the value) above a full-width slider: side by side, the sidebar
    # squeezes the slider to nothing
    shown = f"{int(value)}" if spec["kind"] == "int" else f"{float(value):.2f}"
    if value == spec.get("off"):
        shown += " (off)"
    with solara.Column(gap="0px", classes=["lc-lever", f"lc-lever-{name}"]):
        solara.Text(f"{spec['label']}: {shown} ({origin})", classes=["lc-lever-label"])
        if spec["kind"] == "int":
            solara.SliderInt("", value=int(value), min=spec["lo"], max=spec["hi"],
                             step=spec["step"], on_value=set_value)
        else:
            solara.SliderFloat("", value=float(value), min=spec["lo"], max=spec["hi"],
                               step=spec["step"], on_value=set_value)


@solara.component
def SetupControls(pending: solara.Reactive[Settings], applied: Settings | None, model):
    """Scenario, seed and levers (pending until Reset), and whether they are applied."""
    names = solara.use_memo(scenario_names, [])
    s = pending.value
    solara.Select("Scenario", values=names, value=s.scenario,
                  on_value=lambda v: pending.set(dataclasses.replace(pending.value, scenario=v)),
                  classes=["lc-scenario"])
    solara.InputInt("Seed", value=s.seed,
                    on_value=lambda v: pending.set(dataclasses.replace(pending.value,
                                                                       seed=int(v or 0))),
                    classes=["lc-seed"])
    for name in LEVERS:
        LeverInput(name, pending, model)
    solara.Button("Use the scenario's lever values", text=True, small=True,
                  on_click=lambda: pending.set(dataclasses.replace(pending.value, levers=())))
    diffs = s.differences(applied)
    if diffs:
        solara.Warning("Not applied yet: " + "; ".join(diffs)
                       + ". Press Reset to rebuild the model with these settings.",
                       dense=True, classes=["lc-pending"])
    else:
        solara.Info("The running model uses these settings. Changes here take effect on Reset.",
                    dense=True, classes=["lc-applied"])


@solara.component
def RunCard(model, playing: solara.Reactive[bool], interval_ms: solara.Reactive[int],
            days_per_frame: solara.Reactive[int], building: bool, on_step, on_reset):
    """Day, Step / Play / Reset and play speed."""
    # Step/Play need a model that is still running; Reset works unless a build is under way.
    idle = model is not None and not building and bool(getattr(model, "running", True))
    with solara.Card("Run", margin=0, classes=["lc-run"]):
        if model is not None:
            DayBadge(model)
        with solara.Row():
            solara.Button("Step", color="primary", on_click=on_step,
                          disabled=not idle or playing.value)
            solara.Button("Pause" if playing.value else "Play", color="primary",
                          on_click=lambda: playing.set(not playing.value), disabled=not idle)
            solara.Button("Reset", color="primary", outlined=True, on_click=on_reset,
                          disabled=building)
        solara.SliderInt("Play: pause between frames (ms)", value=interval_ms, min=0, max=2000,
                         step=50)
        solara.SliderInt("Play: days per frame", value=days_per_frame, min=1, max=30)


@solara.component
def MainView(model, applied: Settings | None, layer: solara.Reactive[str]):
    """Map with layer switch, text panel and plots."""
    with solara.Columns([3, 2], classes=["lc-main"]):
        with solara.Column():
            solara.ToggleButtonsSingle(value=layer, values=LAYERS, classes=["lc-layer"])
            MapView(model, layer.value)
        with solara.Column():
            Summary(model, applied)
            Legend(model)
    Plots(model)


@solara.component
def RenderTimer(step_clicked: list):
    """With LIFECIRCLE_VIZ_TIMING set: print how long a Step took to step and re-render."""
    counter = update_counter.get()

    def report():
        started, step_clicked[0] = step_clicked[0], None
        if started is not None:
            print(f"lifecircle viz timing: step + render {1000 * (time.perf_counter() - started):.0f} ms",
                  file=sys.stderr, flush=True)

    solara.use_effect(report, [counter])


@solara.component
def Page():
    """One session's page: its own model, controls, map, plots and text."""
    pending = solara.use_reactive(Settings())
    current = solara.use_reactive((None, None))  # (model, the Settings it was built from)
    build_no = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    interval_ms = solara.use_reactive(300)
    days_per_frame = solara.use_reactive(1)
    layer = solara.use_reactive(LAYERS[0])
    error = solara.use_reactive(None)
    step_clicked = solara.use_memo(lambda: [None], [])  # for LIFECIRCLE_VIZ_TIMING

    def build():
        settings = pending.value
        playing.value = False
        try:
            m = build_model(settings.scenario, settings.seed, dict(settings.levers))
        except Exception as e:  # noqa: BLE001 - show the model's message on the page
            error.value = f"Could not build the model: {type(e).__name__}: {e}"
            return
        error.value = None
        current.value = (m, settings)

    builder = solara.lab.use_task(build, dependencies=[build_no.value], prefer_threaded=True)
    model, applied = current.value

    def play_loop():
        m = model
        while playing.value and m is not None and current.value[0] is m:
            t0 = time.monotonic()
            try:
                for _ in range(max(1, days_per_frame.value)):
                    m.step()
                    if not getattr(m, "running", True) or not playing.value:
                        break
            except Exception as e:  # noqa: BLE001
                error.value = f"Error in step: {type(e).__name__}: {e}"
                playing.value = False
                break
            force_update()  # redraws map, plots and text
            if not getattr(m, "running", True):
                playing.value = False
                break
            time.sleep(max(0.0, interval_ms.value / 1000 - (time.monotonic() - t0)))

    solara.lab.use_task(play_loop, dependencies=[playing.value, model], prefer_threaded=True)

    def do_step():
        m = current.value[0]
        if m is not None and not playing.value:
            step_clicked[0] = time.perf_counter()
            try:
                m.step()
            except Exception as e:  # noqa: BLE001
                error.value = f"Error in step: {type(e).__name__}: {e}"
            force_update()

    def do_reset():
        playing.value = False
        build_no.value += 1

    building = builder.pending or (model is None and not error.value)
    solara.Title("LifeCircle")
    solara.Style(LEGEND_CSS)
    with solara.AppBar():
        solara.AppBarTitle("LifeCircle · 15-minute living circles")
    with solara.Sidebar():
        RunCard(model, playing, interval_ms, days_per_frame, building, do_step, do_reset)
        with solara.Card("Set-up (applies on Reset)", margin=0):
            SetupControls(pending, applied, model)
    if error.value:
        solara.Error(error.value, classes=["lc-error"])
    if building:
        with solara.Column(align="center", classes=["lc-building"]):
            solara.Text("Building the model…")
            solara.ProgressLinear(True)
    if model is not None:
        MainView(model, applied, layer)
        if TIMING:
            RenderTimer(step_clicked)
