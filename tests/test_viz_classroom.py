"""A classroom on one server: sessions nobody watches stop working, idle models are dropped.

These run on a server of their own whose sessions drop their model after 7.2 s without use
(``LIFECIRCLE_VIZ_IDLE_MINUTES=0.12``), and read the server's CPU time from /proc: a closed
or reloaded tab must leave the server idle.
"""

from __future__ import annotations

import time

import pytest

from tests.viz_support import BUILD_TIMEOUT_MS, Session, needs_chromium, new_context

pytestmark = [pytest.mark.browser, needs_chromium]
playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

from viz.server import Server, background  # noqa: E402

IDLE_MINUTES = 0.12


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("classroom") / "server.log"
    with background(log, env={"LIFECIRCLE_VIZ_IDLE_MINUTES": str(IDLE_MINUTES)}) as srv:
        yield srv
    assert "Traceback" not in log.read_text(), log.read_text()[-4000:]


@pytest.fixture(scope="module")
def context():
    from tests.viz_support import CHROMIUM, CHROMIUM_ARGS

    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        ctx = new_context(b)  # each page is its own session; they share the HTTP cache
        yield ctx
        ctx.close()
        b.close()


def cpu_rate(server: Server, seconds: float) -> float:
    """The server's CPU seconds per second over the next ``seconds``."""
    before, t0 = server.cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    return (server.cpu_seconds() - before) / (time.monotonic() - t0)


def play_until_day(s: Session, day: int) -> None:
    import re

    pause = s.page.locator(".lc-pause [role=slider]")  # no pause between frames: full speed
    pause.focus()
    pause.press("Home")
    s.button("Play").click()
    expect(s.page.locator(".lc-day")).to_have_text(re.compile(rf"^Day ([{day}-9]|\d\d+)\b"),
                                                   timeout=20_000)


def test_a_closed_tab_stops_stepping(context, server):
    s = Session(context, server.url)
    play_until_day(s, 2)
    playing = cpu_rate(server, 1.5)
    s.assert_offline()
    s.close()  # the tab goes away while playing
    time.sleep(1.0)
    after = cpu_rate(server, 2.5)
    assert playing > 0.25, playing  # it was working ...
    assert after < 0.1 and after < playing / 4, (playing, after)  # ... and no longer is


def test_a_reloaded_tab_stops_the_old_session(context, server):
    s = Session(context, server.url)
    try:
        play_until_day(s, 2)
        s.page.reload()
        s.wait_ready()
        assert s.day() == 0  # a new session with a new model
        time.sleep(1.0)
        assert cpu_rate(server, 2.5) < 0.1  # the old session's Play stopped
    finally:
        s.close()


def test_an_idle_session_drops_its_model_and_reset_rebuilds_it(context, server):
    s = Session(context, server.url)
    try:
        s.step()
        notice = s.page.locator(".lc-notice")
        expect(notice).to_contain_text("put away after", timeout=30_000)
        expect(s.page.locator(".lc-map img")).to_have_count(0)
        expect(s.button("Step")).to_be_disabled()
        s.button("Reset").click()
        s.wait_ready(BUILD_TIMEOUT_MS)
        s.expect_day(0)
        expect(notice).to_have_count(0)
        s.assert_offline()
    finally:
        s.close()
