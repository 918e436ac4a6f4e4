"""Driving the student page in headless Debian chromium (Python playwright; no downloads).

Shared by the browser tests: a browser context aborts every request that would leave
127.0.0.1, and :class:`Session` records every request, failed response and console error of
its page, so each test can assert that the page stayed offline and clean. Helpers read a
series back from the page's plots, hit-test the legend, and check the circle-grade layer
pixel by pixel against the same model built in the test.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
BUILD_TIMEOUT_MS = 90_000  # a fresh server's first model build may compile numba code
UI_TIMEOUT_MS = 20_000

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian chromium at /usr/bin/chromium (apt-get install -y chromium)")


def new_context(browser, width: int = 1400, height: int = 1000):
    """A browser context whose requests to anything but this machine are aborted."""
    context = browser.new_context(viewport={"width": width, "height": height},
                                  accept_downloads=True)
    context.route("**/*", lambda route: route.continue_()
                  if urlparse(route.request.url).hostname in LOCAL_HOSTS else route.abort())
    return context


class Session:
    """One page (= one Solara session and model) with its requests and errors recorded."""

    def __init__(self, context, url: str, wait: bool = True):
        from playwright.sync_api import expect

        self.expect = expect
        self.urls: list[str] = []
        self.errors: list[str] = []
        self.page = context.new_page()
        self.page.on("request", lambda r: self.urls.append(r.url))
        self.page.on("websocket", lambda ws: self.urls.append(ws.url))
        self.page.on("response", lambda r: self.errors.append(f"{r.status} {r.url}")
                     if r.status >= 400 else None)
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed {r.url}"))
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}")
                     if m.type == "error" else None)
        self.page.goto(url)
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: int = BUILD_TIMEOUT_MS) -> None:
        """Wait until a model is built, drawn, and Step is enabled."""
        self.expect(self.page.locator(".lc-map img")).to_be_visible(timeout=timeout)
        self.expect(self.button("Step")).to_be_enabled(timeout=timeout)

    def button(self, name: str):
        """The button called ``name``."""
        return self.page.get_by_role("button", name=name, exact=True)

    def day(self) -> int:
        """The day the run bar shows."""
        text = self.page.locator(".lc-day").inner_text()
        return int(re.search(r"Day (\d+)", text).group(1))

    def expect_day(self, n: int, timeout: int = UI_TIMEOUT_MS) -> None:
        """Wait until the run bar shows day ``n``."""
        self.expect(self.page.locator(".lc-day")).to_have_text(re.compile(rf"^Day {n}\b"),
                                                               timeout=timeout)

    def step(self) -> None:
        """Press Step and wait for the next day."""
        before = self.day()
        self.button("Step").click()
        self.expect_day(before + 1)

    def reset(self) -> None:
        """Press Reset and wait for the new model at day 0."""
        self.button("Reset").click()
        self.expect_day(0, timeout=BUILD_TIMEOUT_MS)
        self.wait_ready()

    def pick(self, select_class: str, text: str) -> None:
        """Choose ``text`` in the Vuetify select with CSS class ``select_class``."""
        self.page.locator(f".{select_class}").click()
        menu = self.page.locator(".menuable__content__active .v-list-item")
        menu.filter(has_text=re.compile(rf"^\s*{re.escape(text)}\s*$")).first.click()

    def map_src(self) -> str:
        """The map image's current data (changes whenever the map is redrawn)."""
        return self.page.locator(".lc-map img").get_attribute("src")

    def click_cell(self, painter, xy: tuple[int, int]) -> None:
        """Click the centre of cell ``xy`` of the map (geometry from the same painter)."""
        img = self.page.locator(".lc-map img")
        box = img.bounding_box()
        cx, cy = painter.centre(xy)
        img.click(position={"x": cx / painter.size[0] * box["width"],
                            "y": cy / painter.size[1] * box["height"]})

    def pixels(self, points: list[tuple[float, float]],
               image: str = ".lc-map img") -> list[list[int]]:
        """RGB of an image (the map's) at natural-pixel ``points`` (read through a canvas)."""
        self.page.wait_for_function("s => { const i = document.querySelector(s); "
                                    "return i && i.complete && i.naturalWidth > 0; }", arg=image)
        return self.page.eval_on_selector(image, """(img, points) => {
            const c = document.createElement('canvas');
            c.width = img.naturalWidth; c.height = img.naturalHeight;
            const g = c.getContext('2d');
            g.drawImage(img, 0, 0);
            return points.map(([x, y]) => Array.from(g.getImageData(x, y, 1, 1).data.slice(0, 3)));
        }""", [[int(x), int(y)] for x, y in points])

    def assert_offline(self) -> None:
        """No request left the machine; nothing failed; no console error."""
        hosts = {urlparse(u).hostname for u in self.urls}
        assert hosts <= LOCAL_HOSTS, f"requests left the machine: {sorted(hosts - LOCAL_HOSTS)}"
        assert not self.errors, f"failed requests or console errors: {self.errors}"

    def close(self) -> None:
        """Close the page (its tab)."""
        self.page.close()


def series_drawn_at(session: Session, run, column: str, days: list[int]) -> list[bool]:
    """Whether the page's plots show series ``column`` (in its colour) at x = day, per day.

    The plot's geometry comes from a PlotPainter of ``run`` (a :class:`viz.run.Run`; the axes do
    not move before day 30); a column of pixels inside that series' axes is read back from the page.
    """
    from viz.palette import rgb8
    from viz.plots import PlotPainter

    painter = PlotPainter(run)
    painter.png()
    line = next(ln for ln, col, twin in painter.lines if col == column and not twin)
    colour = np.array(rgb8(line.get_color()))
    height = painter.fig.bbox.height
    (_x0, bottom), (_x1, top) = line.axes.bbox.get_points()
    rows = range(int(height - top) + 3, int(height - bottom) - 2)
    out = []
    for day in days:
        x = float(line.axes.transData.transform((day, 0.0))[0])
        points = [(x + dx, y) for dx in (-1, 0, 1) for y in rows]
        rgb = np.array(session.pixels(points, image=".lc-plots img"))
        out.append(bool((np.abs(rgb - colour).max(axis=1) <= 30).any()))
    return out


def legend_covered(page) -> list:
    """Points of the legend that something else covers, scrolled to the window's bottom edge.

    A badge or any fixed element sits at an edge of the window: the legend is scrolled to the
    bottom edge and hit-tested (``document.elementFromPoint``) at its centre and on a 5 x 3
    grid reaching its corners; each hit must be the legend or inside it.
    """
    page.evaluate("() => document.querySelector('.lc-legend').scrollIntoView({block: 'end'})")
    page.wait_for_timeout(300)
    return page.evaluate("""() => {
        const legend = document.querySelector('.lc-legend');
        const r = legend.getBoundingClientRect();
        const covered = [];
        if (r.bottom > window.innerHeight + 1 || r.height < 20) return [['not in view', r.top, r.bottom]];
        for (const fx of [0.5, 0.01, 0.25, 0.75, 0.99]) {
            for (const fy of [0.5, 0.03, 0.97]) {
                const x = r.left + fx * r.width, y = r.top + fy * r.height;
                if (y < 140) continue;  // under the sticky run bar, if the legend is that tall
                const hit = document.elementFromPoint(x, y);
                if (!hit || !legend.contains(hit)) {
                    covered.push([Math.round(x), Math.round(y), hit ? hit.outerHTML.slice(0, 80) : null]);
                }
            }
        }
        return covered;
    }""")


#: The legend's text of each circle grade.
GRADE_TEXT = {"none": "circle below the basic grade", "basic": "basic circle",
              "upgraded": "upgraded circle", "quality": "quality circle"}


def check_grade_layer(session: Session, day: int) -> None:
    """Pick the "Circle grade" layer of the baseline (seed 1) on ``day``: its rule under the map,
    a legend entry for each grade drawn and none other, and every home cell in the colour of
    its grade in the same model built here."""
    from model.grades import GRADES
    from viz.levers import Settings, build_model
    from viz.mapview import MapPainter, storefront_cells
    from viz.palette import GRADE_COLOURS, rgb8

    expect, page = session.expect, session.page
    previous = session.map_src()
    page.get_by_role("button", name="Circle grade").click()
    expect(page.locator(".lc-map img")).not_to_have_attribute("src", previous)
    expect(page.locator(".lc-colourbar")).to_contain_text("Upgraded: basic and at least 4 of")
    legend = page.locator(".lc-legend")
    expect(legend).to_contain_text("formats hidden on the grade map")
    expect(legend).not_to_contain_text("fresh food (basic)")
    twin = build_model(Settings())
    twin.run_for(day)
    grades = np.where(storefront_cells(twin), np.nan, twin.grade_grid())
    present = {GRADES[int(c)] for c in np.unique(grades[np.isfinite(grades)])}
    assert present
    for name, text in GRADE_TEXT.items():
        if name in present:
            expect(legend).to_contain_text(text)
        else:
            expect(legend).not_to_contain_text(text)
    painter = MapPainter(twin)
    cells = [tuple(xy) for xy in np.argwhere(np.isfinite(grades)).tolist()]
    points = []
    for xy in cells:  # the bottom row of a cell, clear of the "old" / "new" labels
        x0, y0 = painter.corner(xy)
        points.append((x0 + painter.px // 2, y0 + painter.px - 1))
    shown = session.pixels(points)
    wrong = [(xy, rgb) for xy, rgb in zip(cells, shown, strict=True)
             if tuple(rgb) != rgb8(GRADE_COLOURS[GRADES[int(grades[xy])]])]
    assert not wrong, wrong[:5]
