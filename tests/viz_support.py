"""Driving the student page in headless Debian chromium (Python playwright; no downloads).

Shared by the browser tests: a browser context aborts every request that would leave
127.0.0.1, and :class:`Session` records every request, failed response and console error of
its page, so each test can assert that the page stayed offline and clean.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

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

    def pixels(self, points: list[tuple[float, float]]) -> list[list[int]]:
        """RGB of the map image at natural-pixel ``points`` (read back through a canvas)."""
        return self.page.eval_on_selector(".lc-map img", """(img, points) => {
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
