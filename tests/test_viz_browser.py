"""The student visualization in a real headless browser (Debian chromium + Python playwright).

Starts ``viz/app.py`` under Solara on a free loopback port and drives it: the page loads with
no request leaving the machine, map and plots render, Step / Play / Pause / Reset work, a
pending change (seed, a policy lever) is announced and applied on Reset, the mobile-vendor
scenario shows its buses on the map (checked pixel by pixel against the same model built here),
and two browser sessions have independent models. Saves docs/viz-screenshot.png (the vendor
scenario after a few days).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `viz` importable without an installed package
    sys.path.insert(0, str(ROOT))
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "docs" / "viz-screenshot.png"
SCENARIO_DIR = Path(os.environ.get("LIFECIRCLE_SCENARIO_DIR") or ROOT / "scenarios")  # as viz.app
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
BUILD_TIMEOUT_MS = 90_000  # first model build in a fresh server may compile numba code
UI_TIMEOUT_MS = 20_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs Debian chromium at /usr/bin/chromium "
                              "(apt-get install -y chromium)"),
]

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    from viz import assets, server

    assets.fill(quiet=True)  # no-op when `python -m viz.assets` ran during set-up
    port = _free_port()
    log = tmp_path_factory.mktemp("viz") / "server.log"
    env = server.server_env()
    with open(log, "w") as out:
        proc = subprocess.Popen(server.command("127.0.0.1", port), env=env, cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"solara server did not start:\n{log.read_text()[-4000:]}")
        time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
    text = log.read_text()
    # The server must never have tried to fetch an asset from the CDN.
    assert "Could not load URL" not in text, text[-4000:]


@pytest.fixture(scope="module")
def browser():
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Session:
    """One browser context (= one Solara session) with every request it makes recorded."""

    def __init__(self, context, url: str):
        self.urls: list[str] = []
        self.errors: list[str] = []
        self.page = context.new_page()
        self.page.on("request", lambda r: self.urls.append(r.url))
        self.page.on("websocket", lambda ws: self.urls.append(ws.url))
        self.page.on("response", lambda r: self.errors.append(f"{r.status} {r.url}")
                     if r.status >= 400 else None)
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed {r.url}"))
        self.page.goto(url)
        self.wait_ready()

    # -- helpers ------------------------------------------------------------------------
    def wait_ready(self, timeout: int = BUILD_TIMEOUT_MS) -> None:
        """Wait until a model is built and the Step button is enabled."""
        expect(self.page.locator(".lc-day")).to_be_visible(timeout=timeout)
        expect(self.button("Step")).to_be_enabled(timeout=timeout)

    def button(self, name: str):
        return self.page.get_by_role("button", name=name, exact=True)

    def day(self) -> int:
        text = self.page.locator(".lc-day").inner_text()
        return int(re.search(r"Day (\d+)", text).group(1))

    def expect_day(self, n: int, timeout: int = UI_TIMEOUT_MS) -> None:
        expect(self.page.locator(".lc-day")).to_have_text(re.compile(rf"^Day {n}\b"),
                                                          timeout=timeout)

    def step(self) -> None:
        before = self.day()
        self.button("Step").click()
        self.expect_day(before + 1)

    def assert_offline(self) -> None:
        hosts = {urlparse(u).hostname for u in self.urls}
        assert hosts <= LOCAL_HOSTS, f"requests left the machine: {sorted(hosts - LOCAL_HOSTS)}"
        assert not self.errors, f"failed requests: {self.errors}"

    def close(self) -> None:
        self.page.close()


def new_context(browser):
    """A browser context whose requests to anything but this machine are aborted."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route(
        "**/*",
        lambda route: route.continue_()
        if urlparse(route.request.url).hostname in LOCAL_HOSTS else route.abort())
    return context


@pytest.fixture(scope="module")
def context(browser):
    ctx = new_context(browser)  # pages of one context share the HTTP cache: faster loads
    yield ctx
    ctx.close()


@pytest.fixture
def session(context, server_url):
    s = Session(context, server_url)  # every page load is its own Solara session and model
    yield s
    s.close()


def _image_size(page, selector: str) -> tuple[int, int]:
    return page.eval_on_selector(selector, "e => [e.naturalWidth, e.clientWidth]")


def test_page_loads_offline_and_renders(session):
    page = session.page
    expect(page.locator(".lc-map img")).to_be_visible(timeout=UI_TIMEOUT_MS)
    natural, shown = _image_size(page, ".lc-map img")
    assert natural > 300 and shown > 200, (natural, shown)
    expect(page.locator(".lc-plots img")).to_be_visible(timeout=UI_TIMEOUT_MS)
    natural, shown = _image_size(page, ".lc-plots img")  # one image, four plots
    assert natural > 600 and shown > 400, (natural, shown)
    expect(page.locator(".lc-legend")).to_contain_text("mobile-vendor bus")
    expect(page.locator(".lc-legend")).to_contain_text("fresh food")
    expect(page.locator(".lc-summary")).to_contain_text("Satisfied residents")
    expect(page.locator(".lc-applied")).to_be_visible()
    assert session.day() == 0
    session.assert_offline()
    assert any("/_solara/cdn/" in u for u in session.urls)  # assets came from the local cache


def test_step_play_pause_reset(session):
    page = session.page
    session.step()
    session.step()
    # Play until a few more days have passed, then pause and check it stays paused.
    session.button("Play").click()
    expect(page.locator(".lc-day")).to_have_text(re.compile(r"^Day ([5-9]|\d\d+)\b"),
                                                 timeout=UI_TIMEOUT_MS)
    session.button("Pause").click()
    expect(session.button("Step")).to_be_enabled(timeout=UI_TIMEOUT_MS)
    page.wait_for_timeout(2000)  # a frame being drawn when Pause was pressed still lands
    paused_at = session.day()
    page.wait_for_timeout(1500)
    assert session.day() == paused_at
    # the per-cell layers change the map image
    plain = page.locator(".lc-map img").get_attribute("src")
    page.get_by_role("button", name="15-min coverage").click()
    expect(page.locator(".lc-map img")).not_to_have_attribute("src", plain,
                                                               timeout=UI_TIMEOUT_MS)
    session.button("Reset").click()
    session.expect_day(0, timeout=BUILD_TIMEOUT_MS)
    session.wait_ready()
    session.assert_offline()


def test_changed_control_applies_on_reset(session):
    page = session.page
    session.step()
    seed = page.locator(".lc-seed input")
    seed.fill("7")
    seed.press("Enter")
    expect(page.locator(".lc-pending")).to_contain_text("seed 1 → 7", timeout=UI_TIMEOUT_MS)
    # a policy lever: three vendor buses on the baseline city (keyboard on the slider)
    slider = page.locator(".lc-lever-n_buses [role=slider]")
    slider.focus()
    for _ in range(3):
        slider.press("ArrowRight")
    expect(page.locator(".lc-lever-n_buses")).to_contain_text("buses (0 = none): 3 (moved")
    expect(page.locator(".lc-pending")).to_contain_text("mobile-vendor buses (0 = none) → 3")
    session.step()  # the running model is unchanged until Reset
    expect(page.locator(".lc-summary")).to_contain_text("Mobile-vendor buses: 0 on the road")
    session.button("Reset").click()
    session.expect_day(0, timeout=BUILD_TIMEOUT_MS)
    expect(page.locator(".lc-applied")).to_be_visible(timeout=BUILD_TIMEOUT_MS)
    expect(page.locator(".lc-summary")).to_contain_text("seed 7")
    expect(page.locator(".lc-summary")).to_contain_text("Mobile-vendor buses: 3 on the road")
    expect(page.locator(".lc-summary")).to_contain_text("Policies in force: mobile vendors")


def _pixels(page, selector: str, points: list[tuple[float, float]]) -> list[list[int]]:
    """RGB of the shown image at natural-pixel ``points`` (read back through a canvas)."""
    return page.eval_on_selector(selector, """(img, points) => {
        const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const g = c.getContext('2d');
        g.drawImage(img, 0, 0);
        return points.map(([x, y]) => Array.from(g.getImageData(x, y, 1, 1).data.slice(0, 3)));
    }""", [[int(x), int(y)] for x, y in points])


def test_mobile_vendor_scenario_shows_buses(session):
    from viz import app

    assert (SCENARIO_DIR / "mobile_vendors.toml").exists()
    page = session.page
    expect(page.locator(".lc-summary")).to_contain_text("Mobile-vendor buses: 0")
    page.locator(".lc-scenario").click()
    page.locator(".v-menu__content .v-list-item", has_text="mobile_vendors").click()
    expect(page.locator(".lc-pending")).to_contain_text("mobile_vendors")
    session.button("Reset").click()
    expect(page.locator(".lc-summary")).to_contain_text("Scenario mobile_vendors",
                                                        timeout=BUILD_TIMEOUT_MS)
    session.wait_ready()
    session.expect_day(0)
    expect(page.locator(".lc-summary")).to_contain_text(
        re.compile(r"Mobile-vendor buses: [1-9]\d* on the road"))
    # The same scenario and seed built here puts its buses at the same cells: the page's map
    # must show a black bus triangle on each, and a white stop on each route's other stops.
    twin = app.build_model("mobile_vendors", app.DEFAULT_SEED)
    painter = app.MapPainter(twin)
    bus_cells = [app._xy(b.cell) for b in app.agents_of(twin, "Bus")]
    assert bus_cells
    expect(page.locator(".lc-map img")).to_be_visible()
    natural, _ = _image_size(page, ".lc-map img")
    assert natural == painter.w * painter.px + 2 * painter.pad
    for rgb in _pixels(page, ".lc-map img", [painter.centre(xy) for xy in bus_cells]):
        assert rgb == [0, 0, 0], rgb
    stops = [xy for route in app.vendor_routes(twin) for xy in route  # not under a bus
             if all(max(abs(xy[0] - bx), abs(xy[1] - by)) > 2 for bx, by in bus_cells)]
    assert stops
    for rgb in _pixels(page, ".lc-map img", [painter.centre(xy) for xy in stops]):
        assert rgb == [255, 255, 255], rgb
    # A few days on, a screenshot of the page for the docs (README shows it).
    for _ in range(4):
        session.step()
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1640})  # map, text, legend and plots
    page.wait_for_timeout(700)
    page.screenshot(path=str(SCREENSHOT))
    page.set_viewport_size({"width": 1400, "height": 1000})
    session.assert_offline()


def test_two_sessions_have_independent_models(browser, server_url):
    ctx_a, ctx_b = new_context(browser), new_context(browser)
    a = Session(ctx_a, server_url)
    b = Session(ctx_b, server_url)
    try:
        for _ in range(3):
            a.step()
        assert b.day() == 0
        b.step()
        assert (a.day(), b.day()) == (3, 1)
        a.assert_offline()
        b.assert_offline()
    finally:
        ctx_a.close()
        ctx_b.close()

