"""The four daily plots, drawn fast enough for every day of Play.

:class:`PlotPainter` keeps one matplotlib figure per run. Axes, ticks, titles, legends and the
pinned runs' grey reference lines are drawn once and kept as a background; they are redrawn
only when an axis range changes (the day axis doubles, a count outgrows its range). Each day
only the run's lines (and the baseline twin's, dashed) are drawn over the background: ~20 ms
instead of ~0.3 s for a full draw. Day ``d`` is drawn at ``x = d``, from day 0.
"""

from __future__ import annotations

import io
import math
import threading

import numpy as np
import pandas as pd
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .run import Pin, Run

#: Subgroup lines of the satisfaction and coverage plots: metric suffix -> (label, colour).
GROUP_LINES = {"": ("all", "black"), "_old": ("old communities", "#b35806"),
               "_new": ("new", "#2d6bb4"), "_elderly": ("elderly 60+", "#7a3d9a")}
PIN_COLOUR = "#9a9a9a"


#: (title, {column: (label, colour)}, y range 0..1?, {twin-axis column: (label, colour)})
PLOTS: tuple[tuple[str, dict[str, tuple[str, str]], bool, dict[str, tuple[str, str]]], ...] = (
    ("Share of residents satisfied",
     {f"share_satisfied{s}": v for s, v in GROUP_LINES.items()}, True, {}),
    ("All basic formats within the standard walk (share)",
     {f"coverage_basic_all{s}": v for s, v in GROUP_LINES.items()}, True, {}),
    ("Chains and outlets", {"chain_rate": ("chain rate (left)", "#b35806")}, True,
     {"outlets_open": ("outlets open (right)", "#444444")}),
    ("Public spend, cumulative (yuan)", {"public_spend": ("public spend", "#2d6bb4")}, False,
     {}),
)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at or above ``value`` (1 for nothing)."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    e = 10.0 ** math.floor(math.log10(value))
    for m in (1.0, 2.0, 5.0, 10.0):
        if value <= m * e * (1 + 1e-9):
            return m * e
    return 10 * e


def day_axis_end(last_day: int) -> int:
    """The day axis runs to 30, 60, 120, ... days: redrawn rarely, never cramped."""
    end = 30
    while end < last_day:
        end *= 2
    return end


def _yuan(value: float, _pos: int | None = None) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:g}M"
    if abs(value) >= 1e3:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def _top(frames: list[pd.DataFrame], cols: list[str]) -> float:
    values = [np.nanmax(f[c].to_numpy(dtype=float)) for f in frames for c in cols if len(f)]
    finite = [v for v in values if math.isfinite(v)]
    return nice_ceiling(1.1 * max(finite, default=0.0))


class PlotPainter:
    """Draws one run's four plots as one PNG, with blitting (see the module docstring).

    Args:
        run: the run drawn (and its twin, when it has one).
        pins: runs pinned as grey reference lines.
    """

    def __init__(self, run: Run, pins: tuple[Pin, ...] = ()):
        self.run, self.pins = run, pins
        self.lock = threading.Lock()
        self.fig = Figure(figsize=(10.6, 5.8), dpi=80)
        self.canvas = FigureCanvasAgg(self.fig)
        self.fig.subplots_adjust(left=0.06, right=0.94, bottom=0.08, top=0.9, wspace=0.25,
                                 hspace=0.6)
        self.lines: list[tuple[object, str, bool]] = []  # (line, column, twin?)
        self.scaled: list[tuple[object, list[str]]] = []  # (axis, columns)
        for ax, (title, main, share, twin) in zip(self.fig.subplots(2, 2).flat, PLOTS,
                                                  strict=True):
            ax.set_title(title, fontsize=11, pad=17)
            ax.set_xlabel("day", fontsize=9, labelpad=1)
            ax.tick_params(labelsize=8)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.25)
            handles = self._series(ax, main, dashed=False)
            if share:
                ax.set_ylim(0, 1)
            else:
                self.scaled.append((ax, list(main)))
                ax.yaxis.set_major_formatter(FuncFormatter(_yuan))
            if twin:
                ax2 = ax.twinx()
                ax2.tick_params(labelsize=8)
                handles += self._series(ax2, twin, dashed=True)
                self.scaled.append((ax2, list(twin)))
            if pins:
                (h,) = ax.plot([], [], color=PIN_COLOUR, lw=1.0, label="pinned runs")
                handles.append(h)
            # above the axes, so it is part of the background and no line ever crosses it
            ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=4,
                      fontsize=8, frameon=False, borderpad=0.1, borderaxespad=0.1,
                      handlelength=1.5, columnspacing=1.0, handletextpad=0.4)
        self.key: tuple | None = None
        self.background = None

    def _series(self, ax, columns: dict[str, tuple[str, str]], dashed: bool) -> list:
        handles = []
        for col, (label, colour) in columns.items():
            style = "--" if dashed else "-"
            (line,) = ax.plot([], [], color=colour, ls=style, lw=1.8 if colour == "black" else 1.4,
                              label=label, animated=True, marker="o", markersize=3,
                              markevery=[-1])  # a dot on today's value (day 0 has one point)
            handles.append(line)
            self.lines.append((line, col, False))
            if self.run.twin is not None:
                (tline,) = ax.plot([], [], color=colour, ls=":", lw=1.2, animated=True)
                self.lines.append((tline, col, True))
        for pin in self.pins:
            for col in columns:
                ax.plot(pin.frame["day"], pin.frame[col], color=PIN_COLOUR, lw=1.0, zorder=1)
        return handles

    def image(self) -> PIL.Image.Image:
        """The plots as a PIL image."""
        frame = self.run.frame()
        twin = self.run.twin_frame()
        frames = [frame, *([twin] if twin is not None else []), *(p.frame for p in self.pins)]
        last = max(int(f["day"].iloc[-1]) for f in frames if len(f))
        key = (day_axis_end(last), *(_top(frames, cols) for _ax, cols in self.scaled))
        if key != self.key:  # axis ranges changed: redraw the static parts
            for ax in self.fig.axes:
                ax.set_xlim(0, key[0])
            for (ax, _cols), top in zip(self.scaled, key[1:], strict=True):
                ax.set_ylim(0, top)
            self.canvas.draw()
            self.background = self.canvas.copy_from_bbox(self.fig.bbox)
            self.key = key
        else:
            self.canvas.restore_region(self.background)
        for line, col, is_twin in self.lines:
            source = twin if is_twin else frame
            if source is None:
                continue
            line.set_data(source["day"].to_numpy(), source[col].to_numpy(dtype=float))
            line.axes.draw_artist(line)
        rgba = np.asarray(self.canvas.buffer_rgba())
        return PIL.Image.fromarray(rgba[..., :3].copy(), "RGB")

    def png(self) -> bytes:
        """The plots as PNG bytes."""
        with self.lock:
            img = self.image()
        buf = io.BytesIO()
        img.save(buf, format="png", compress_level=1)
        return buf.getvalue()
