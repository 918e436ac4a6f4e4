"""The browser view shows an imported circle: picked in the scenario menu, its map is the real
layout (checked pixel by pixel against the same model drawn here). Real headless chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from lifecircle.cli import main
from tests.import_tiny import OPTIONS, bbox_arg, write_inputs
from tests.test_viz_browser import (
    BUILD_TIMEOUT_MS,
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    Session,
    _free_port,
    _image_size,
    _pixels,
    expect,
    new_context,
    playwright_sync,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def picker_dir(tmp_path_factory):
    """A scenarios folder for the page: the imported circle beside the baseline."""
    folder = tmp_path_factory.mktemp("scenarios")
    files = write_inputs(tmp_path_factory.mktemp("inputs"))
    args = ["import", *map(str, files), "--bbox", bbox_arg(), "--out", str(folder / "tiny.toml")]
    for o in OPTIONS:
        args += ["--set", o]
    assert main(args) == 0
    shutil.copy(ROOT / "scenarios" / "baseline.toml", folder / "baseline.toml")
    return folder


@pytest.fixture(scope="module")
def server_url(picker_dir, tmp_path_factory):
    from viz import assets, server

    assets.fill(quiet=True)
    port = _free_port()
    env = server.server_env({**os.environ, "LIFECIRCLE_SCENARIO_DIR": str(picker_dir)})
    log = tmp_path_factory.mktemp("viz") / "server.log"
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


def test_the_page_shows_the_imported_layout(server_url, picker_dir, monkeypatch):
    from viz import app

    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = new_context(browser)
        session = Session(context, server_url)
        try:
            page = session.page
            page.locator(".lc-scenario").click()
            page.locator(".v-menu__content .v-list-item", has_text="tiny").click()
            session.button("Reset").click()
            expect(page.locator(".lc-summary")).to_contain_text("Scenario tiny",
                                                                timeout=BUILD_TIMEOUT_MS)
            session.wait_ready()
            session.expect_day(0)
            # the same scenario and seed built here: the page's map is its map
            monkeypatch.setattr(app, "SCENARIO_DIR", Path(picker_dir))
            twin = app.build_model("tiny", app.DEFAULT_SEED)
            painter = app.MapPainter(twin)
            natural, _ = _image_size(page, ".lc-map img")
            assert natural == painter.w * painter.px + 2 * painter.pad
            cells = {(5, 2): "road", (5, 6): "road", (3, 3): "old", (8, 3): "new",
                     (0, 0): "wall", (9, 5): "wall"}
            shown = _pixels(page, ".lc-map img", [painter.centre(xy) for xy in cells])
            for (xy, key), rgb in zip(cells.items(), shown, strict=True):
                assert tuple(rgb) == app._rgb8(app.COLOURS[key]), (xy, key, rgb)
            session.step()
            session.assert_offline()
        finally:
            session.close()
            context.close()
            browser.close()
