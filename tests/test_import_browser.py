"""The browser view shows an imported circle: picked in the scenario menu, its map is the real
layout (checked pixel by pixel against the same model drawn here). Real headless chromium."""

from __future__ import annotations

import shutil

import pytest

from lifecircle.cli import main
from tests.import_tiny import OPTIONS, bbox_arg, write_inputs
from tests.viz_support import BUILD_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS, Session, needs_chromium, new_context

pytestmark = [pytest.mark.browser, needs_chromium]
playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect


@pytest.fixture(scope="module")
def picker_dir(tmp_path_factory):
    """The scenario folder the server uses: the imported circle beside the baseline and the
    category table (``LIFECIRCLE_SCENARIOS``, the one scenario-folder setting)."""
    from model.scenario import SCENARIO_DIR

    folder = tmp_path_factory.mktemp("scenarios")
    files = write_inputs(tmp_path_factory.mktemp("inputs"))
    args = ["import", *map(str, files), "--bbox", bbox_arg(), "--out", str(folder / "tiny.toml")]
    for o in OPTIONS:
        args += ["--set", o]
    assert main(args) == 0
    for name in ("baseline.toml", "categories.toml"):
        shutil.copy(SCENARIO_DIR / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def server_url(picker_dir, tmp_path_factory):
    from viz.server import background

    log = tmp_path_factory.mktemp("viz") / "server.log"
    with background(log, env={"LIFECIRCLE_SCENARIOS": str(picker_dir)}) as server:
        yield server.url


def test_the_page_shows_the_imported_layout(server_url, picker_dir, monkeypatch):
    import model.scenario as scenario_files
    from viz.levers import Settings, build_model
    from viz.mapview import MapPainter
    from viz.palette import PLAIN, rgb8

    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = new_context(browser)
        session = Session(context, server_url)
        try:
            page = session.page
            session.pick("lc-scenario", "tiny")
            session.button("Reset").click()
            expect(page.locator(".lc-summary")).to_contain_text("Scenario tiny",
                                                                timeout=BUILD_TIMEOUT_MS)
            session.wait_ready()
            session.expect_day(0)
            # the same scenario and seed built here: the page's map is its map
            monkeypatch.setattr(scenario_files, "SCENARIO_DIR", picker_dir)
            twin = build_model(Settings(scenario="tiny"))
            painter = MapPainter(twin)
            natural = page.eval_on_selector(".lc-map img", "e => e.naturalWidth")
            assert natural == painter.size[0]
            cells = {(5, 2): "road", (5, 6): "road", (3, 3): "old", (8, 3): "new",
                     (0, 0): "wall", (9, 5): "wall"}
            shown = session.pixels([painter.centre(xy) for xy in cells])
            for (xy, key), rgb in zip(cells.items(), shown, strict=True):
                assert tuple(rgb) == rgb8(PLAIN[key]), (xy, key, rgb)
            session.step()
            session.assert_offline()
        finally:
            session.close()
            context.close()
            browser.close()
