"""The map: the city's cells, a per-cell layer, shops, buses and what policies changed.

:class:`MapPainter` draws one model's map as a PNG with numpy and PIL (no matplotlib, so a
frame costs ~10-20 ms): the cells are coloured from ``city.cell_type`` (re-read every frame,
and storefronts from the supply's sites, so a storefront a policy adds shows the day it
appears), a per-cell layer is blended into the home cells (a share on the grey ramp, a
difference on the diverging ramp, or a circle grade in its own colour: ``viz.palette``), the
picture is scaled to whole pixels per cell, and shops (squares: basic formats, circles:
quality formats; a thick black rim: chain; outlines only on a difference or grade map),
vendor routes, stops, buses and the outline of every site a policy created, changed or
supports are drawn on it. The painter records what it drew (:attr:`MapPainter.drawn`), so
the legend lists only what is on the map, and which cells it outlined for each policy
(:attr:`MapPainter.outlined`).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import PIL.Image
import PIL.ImageDraw

from model import CommerceModel
from model.agents import Shop
from model.city import NEW, OLD, RESIDENTIAL, WALL
from model.grades import GRADES
from model.policies import Bus, MobileVendors

from .palette import (
    BLACK,
    CATEGORY_COLOURS,
    PLAIN,
    UNDER_LAYER,
    WHITE,
    diverging_rgb,
    grade_rgb,
    ramp_rgb,
    rgb8,
)

MAP_TARGET_PX = 600  # about the map image's side; cells are whole pixels


@dataclass(frozen=True)
class Layer:
    """A per-cell layer of the map.

    Attributes:
        key: the layer's name on the page's buttons.
        caption: what a cell's colour means.
        per_category: the layer is about one category (picked beside the buttons).
        graded: the values are circle grade codes (``model.grades.GRADES``), not shares.
    """

    key: str
    caption: str
    per_category: bool = False
    graded: bool = False


PLAIN_MAP = Layer("Plain map", "")
LAYERS: tuple[Layer, ...] = (
    PLAIN_MAP,
    Layer("Satisfaction", "mean satisfaction of the residents of a cell"),
    Layer("All basic formats", "share of a cell's residents who reach every basic format "
                               "within its standard walk"),
    Layer("One format", "share of a cell's residents who reach this format within its "
                        "standard walk", per_category=True),
    Layer("Circle grade", "the grade of the circle of the community a cell belongs to",
          graded=True),
)
LAYER_BY_KEY = {layer.key: layer for layer in LAYERS}


def layer_values(model: CommerceModel, layer: Layer, category: str) -> np.ndarray | None:
    """The (width, height) values of ``layer`` (NaN where nobody lives); None: plain map."""
    if layer is PLAIN_MAP:
        return None
    if layer.key == "Satisfaction":
        return model.satisfaction_grid()
    if layer.graded:
        return model.grade_grid()
    if layer.per_category:
        return model.coverage_grid(category)
    return model.coverage_grid()


def storefront_cells(model: CommerceModel) -> np.ndarray:
    """(width, height) bool: the cells of storefront sites (including spaces policies add)."""
    out = np.zeros(model.city.cell_type.shape, dtype=bool)
    xy = model.supply.site_xy[model.supply.site_storefront]
    out[xy[:, 0], xy[:, 1]] = True
    return out


def cell_colours(model: CommerceModel, plain: bool = True) -> np.ndarray:
    """(width, height, 3) uint8 colours of the cells: the plain map's, or those under a layer."""
    cell_type, community_type = model.city.cell_type, model.city.community_type
    pal = PLAIN if plain else UNDER_LAYER
    rgb = np.empty((*cell_type.shape, 3), dtype=np.uint8)
    rgb[:] = rgb8(pal["road"])
    homes = cell_type == RESIDENTIAL
    rgb[homes] = rgb8(pal["residential"])
    if plain:
        rgb[homes & (community_type == OLD)] = rgb8(PLAIN["old"])
        rgb[homes & (community_type == NEW)] = rgb8(PLAIN["new"])
    rgb[storefront_cells(model)] = rgb8(pal["vacant"])
    rgb[cell_type == WALL] = rgb8(pal["wall"])
    return rgb


class MapPainter:
    """Draws one model's map (see the module docstring).

    Args:
        model: the model drawn.
        target_px: about the image's side in pixels.
    """

    def __init__(self, model: CommerceModel, target_px: int = MAP_TARGET_PX):
        self.model = model
        city = model.city
        self.w, self.h = city.width, city.height
        self.px = max(3, target_px // max(self.w, self.h))
        self.pad = int(math.ceil(1.2 * self.px))  # a margin, so buses at the edge show whole
        self.size = (self.w * self.px + 2 * self.pad, self.h * self.px + 2 * self.pad)
        self.drawn: set[str] = set()
        self.outlined: dict[str, list[tuple[int, int]]] = {}  # policy label -> cells
        self._blocks = self._community_blocks()

    # --- geometry ------------------------------------------------------------------------
    def corner(self, xy: tuple[int, int]) -> tuple[int, int]:
        """Pixel of the top-left corner of cell ``xy`` (y grows upward on the map)."""
        x, y = xy
        return self.pad + x * self.px, self.pad + (self.h - 1 - y) * self.px

    def centre(self, xy: tuple[int, int]) -> tuple[float, float]:
        """Pixel centre of cell ``xy``."""
        x0, y0 = self.corner(xy)
        return x0 + self.px / 2, y0 + self.px / 2

    def cell_at(self, fx: float, fy: float) -> tuple[int, int] | None:
        """The cell under the point at fractions ``fx``, ``fy`` of the image (None: margin)."""
        px_x, px_y = fx * self.size[0], fy * self.size[1]
        x = math.floor((px_x - self.pad) / self.px)
        y = self.h - 1 - math.floor((px_y - self.pad) / self.px)
        return (x, y) if 0 <= x < self.w and 0 <= y < self.h else None

    def _community_blocks(self) -> list[tuple[int, int, int]]:
        """(x0, y1, kind) of each community block: its top-left cell and OLD / NEW."""
        city = self.model.city
        out = []
        for cid, kind in enumerate(city.community_kind.tolist()):
            xs, ys = np.nonzero(city.community == cid)
            if len(xs):
                out.append((int(xs.min()) + 1, int(ys.max()), int(kind)))
        return out

    # --- drawing -------------------------------------------------------------------------
    def image(self, values: np.ndarray | None = None, diverging: bool = False,
              selected: tuple[int, int] | None = None, policy_sites: bool = True,
              graded: bool = False) -> PIL.Image.Image:
        """The map with per-cell ``values`` (0..1, or -1..1 when ``diverging``) blended in.

        Args:
            values: a (width, height) layer, NaN where it does not apply; None: plain map.
            diverging: ``values`` is a difference (drawn on the diverging ramp).
            selected: a cell to mark (the one the user clicked).
            policy_sites: outline the sites and shops of every policy.
            graded: ``values`` are circle grade codes, each drawn in its colour (unless
                ``diverging``: a difference of grades is drawn on the diverging ramp).
        """
        model, px = self.model, self.px
        city = model.city
        self.drawn = set()
        self.outlined = {}
        grades = graded and not diverging
        cells = cell_colours(model, plain=values is None)
        if values is not None:
            ok = np.isfinite(values) & (city.cell_type == RESIDENTIAL) & ~storefront_cells(model)
            colours = (diverging_rgb(values) if diverging else grade_rgb(values) if grades
                       else ramp_rgb(values))
            cells[ok] = colours[ok]
            self.drawn.add("grade-layer" if grades else "layer")
            for code in np.unique(values[ok]).astype(np.int64).tolist() if grades else ():
                self.drawn.add(f"grade:{GRADES[code]}")
            if (city.cell_type == WALL).any():
                self.drawn.add("wall-layer")
        else:
            kinds = {OLD: "old", NEW: "new"}
            for kind, key in kinds.items():
                if ((city.cell_type == RESIDENTIAL) & (city.community_type == kind)).any():
                    self.drawn.add(key)
            if (city.cell_type == WALL).any():
                self.drawn.add("wall")
        if len(model.supply.vacant_storefronts()):
            self.drawn.add("vacant" if values is None else "vacant-layer")
        arr = np.ascontiguousarray(cells.transpose(1, 0, 2)[::-1])  # rows top to bottom
        arr = np.repeat(np.repeat(arr, px, axis=0), px, axis=1)
        arr = np.pad(arr, ((self.pad, self.pad), (self.pad, self.pad), (0, 0)),
                     constant_values=255)
        img = PIL.Image.fromarray(arr, "RGB")
        draw = PIL.ImageDraw.Draw(img)
        if values is None:
            self.drawn.add("road")
        else:
            self._label_blocks(draw, cells)
            self._outline_vacant(draw)
        hollow = "shop-hollow" if diverging else "shop-hollow-grade" if grades else ""
        self._draw_shops(draw, hollow)
        if policy_sites:
            self._draw_policy_sites(draw)
        self._draw_vendors(draw)
        if selected is not None:
            self._mark(draw, selected)
        return img

    def png(self, values: np.ndarray | None = None, diverging: bool = False,
            selected: tuple[int, int] | None = None, policy_sites: bool = True,
            graded: bool = False) -> bytes:
        """The map as PNG bytes (see :meth:`image`)."""
        buf = io.BytesIO()
        self.image(values, diverging, selected, policy_sites, graded).save(
            buf, format="png", compress_level=1)
        return buf.getvalue()

    def _label_blocks(self, draw: PIL.ImageDraw.ImageDraw, cells: np.ndarray) -> None:
        """Under a layer, write "old" / "new" in each community block's corner.

        Black on a light cell, white on a dark one (``cells``: the cells' colours).
        """
        for x0, y1, kind in self._blocks:
            cx, cy = self.corner((x0, y1))
            light = cells[x0, y1].astype(float) @ (0.299, 0.587, 0.114) > 110
            draw.text((cx + 1, cy), "old" if kind == OLD else "new",
                      fill=rgb8(BLACK if light else WHITE))
        self.drawn.add("block-label")

    def _outline_vacant(self, draw: PIL.ImageDraw.ImageDraw) -> None:
        """Under a layer, a vacant storefront is a white cell with a grey outline."""
        px = self.px
        for x, y in np.argwhere(storefront_cells(self.model)).tolist():
            x0, y0 = self.corner((x, y))
            draw.rectangle([x0, y0, x0 + px - 1, y0 + px - 1], outline=(128, 128, 128))

    def _draw_shops(self, draw: PIL.ImageDraw.ImageDraw, hollow: str) -> None:
        """Shops in their format's colour, or white outlines only (``hollow``: its legend key)."""
        px = self.px
        basic = {n for n, b in zip(self.model.categories.names, self.model.categories.basic,
                                   strict=True) if b}
        for shop in self.model.agents_by_type.get(Shop, []):
            x0, y0 = self.corner(shop.cell.coordinate)
            box = [x0, y0, x0 + px - 1, y0 + px - 1]
            if hollow:
                draw.rectangle(box, fill=rgb8(WHITE), outline=rgb8(BLACK), width=max(1, px // 6))
                self.drawn.add(hollow)
                continue
            rim = rgb8(BLACK) if shop.chain else rgb8(WHITE)
            width = max(1, px // 4) if shop.chain else 1
            fill = rgb8(CATEGORY_COLOURS[shop.category])
            if shop.category in basic:
                draw.rectangle(box, fill=fill, outline=rim, width=width)
            else:
                draw.ellipse(box, fill=fill, outline=rim, width=width)
            self.drawn.add(f"cat:{shop.category}")
            self.drawn.add("chain" if shop.chain else "independent")

    def _draw_policy_sites(self, draw: PIL.ImageDraw.ImageDraw) -> None:
        """A black-and-white ring around each site a policy created, changed or supports."""
        model, px = self.model, self.px
        for label, policy in zip(model.policy_labels, model.policies, strict=True):
            if isinstance(policy, MobileVendors):
                continue  # its sites are the stops, drawn as stops
            shops = policy.supported_shops(model)
            sites = np.union1d(policy.sites(model), model.supply.shops.site[shops])
            for site in sites.astype(np.int64).tolist():
                xy = tuple(model.supply.site_xy[site].tolist())
                self.outlined.setdefault(label, []).append(xy)
                x0, y0 = self.corner(xy)
                m = max(2, px // 4)
                draw.rectangle([x0 - m, y0 - m, x0 + px - 1 + m, y0 + px - 1 + m],
                               outline=rgb8(BLACK), width=max(1, px // 6))
                draw.rectangle([x0 - m + 1, y0 - m + 1, x0 + px - 2 + m, y0 + px - 2 + m],
                               outline=rgb8(WHITE), width=1)
                self.drawn.add("policy-site")

    def _draw_vendors(self, draw: PIL.ImageDraw.ImageDraw) -> None:
        model, px = self.model, self.px
        buses = list(model.agents_by_type.get(Bus, []))
        routes = [bus.route for bus in buses]
        for route in routes:
            if len(route) > 1:
                draw.line([self.centre(xy) for xy in route], fill=rgb8(BLACK),
                          width=max(1, px // 5), joint="curve")
                self.drawn.add("route")
        r = max(3.0, 0.6 * px)
        for route in routes:
            for xy in route:
                cx, cy = self.centre(xy)
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=rgb8(WHITE),
                             outline=rgb8(BLACK), width=max(1, px // 6))
                self.drawn.add("stop")
        r = max(5.0, 1.1 * px)
        for bus in buses:
            cx, cy = self.centre(bus.cell.coordinate)
            draw.polygon([(cx, cy - r), (cx + r, cy + 0.8 * r), (cx - r, cy + 0.8 * r)],
                         fill=rgb8(BLACK), outline=rgb8(WHITE), width=max(1, px // 5))
            self.drawn.add("bus")

    def _mark(self, draw: PIL.ImageDraw.ImageDraw, xy: tuple[int, int]) -> None:
        x0, y0 = self.corner(xy)
        m, px = self.px, self.px
        draw.rectangle([x0 - m, y0 - m, x0 + px - 1 + m, y0 + px - 1 + m],
                       outline=rgb8(WHITE), width=3)
        draw.rectangle([x0 - m + 1, y0 - m + 1, x0 + px - 2 + m, y0 + px - 2 + m],
                       outline=rgb8(BLACK), width=1)
        self.drawn.add("selected")

