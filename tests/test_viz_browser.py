"""The student page in a real headless browser (Debian chromium + Python playwright).

One Solara server on a free loopback port serves every test here; each page load is its own
session with its own model. What the page shows is checked against the same model built in
the test (same scenario and seed): buses and converted storefronts pixel by pixel, a clicked
cell's residents and shop, the CSV's every value. The server's results folder holds a tiny
experiment made with ``lifecircle experiment``, so the page can replay one of its runs.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.viz_support import (
    BUILD_TIMEOUT_MS,
    UI_TIMEOUT_MS,
    Session,
    check_grade_layer,
    legend_covered,
    needs_chromium,
    new_context,
    series_drawn_at,
)

pytestmark = [pytest.mark.browser, needs_chromium]
playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

from model import METRIC_NAMES  # noqa: E402
from model.agents import Shop  # noqa: E402
from model.policies import Bus, IdleSpace  # noqa: E402
from model.scenario import load_scenario  # noqa: E402
from viz.levers import Settings, build_model  # noqa: E402
from viz.mapview import MapPainter, storefront_cells  # noqa: E402
from viz.palette import PLAIN, rgb8  # noqa: E402
from viz.replay import finished_runs  # noqa: E402
from viz.run import Run  # noqa: E402
from viz.server import background  # noqa: E402

EXPERIMENT = """
name = "viz_replay"
description = "Two scenarios, one lever point: runs for the viewer to replay."
scenarios = ["baseline", "mobile_vendors"]
baseline = "baseline"
replicates = 1
days = 6
warmup = 0
root_seed = 11
metrics = ["share_satisfied"]

[design]
method = "grid"

[levers."policy.mobile_vendors.n_buses"]
values = [3]
"""


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    """A results folder and the `lifecircle experiment` filling it (runs beside the server)."""
    root = tmp_path_factory.mktemp("results")
    spec = root.parent / "viz_replay.toml"
    spec.write_text(EXPERIMENT)
    cli = Path(sys.executable).with_name("lifecircle")
    proc = subprocess.Popen([str(cli), "experiment", str(spec), "--workers", "0", "--no-progress",
                             "--out", str(root / "viz_replay")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    yield root, proc
    proc.communicate()


@pytest.fixture(scope="module")
def server_url(tmp_path_factory, experiment):
    log = tmp_path_factory.mktemp("viz") / "server.log"
    with background(log, env={"LIFECIRCLE_VIZ_RESULTS": str(experiment[0])}) as server:
        yield server.url
    text = log.read_text()
    assert "Could not load URL" not in text, text[-4000:]  # never fetched from a CDN
    assert "Traceback" not in text, text[-4000:]


@pytest.fixture(scope="module")
def browser():
    from tests.viz_support import CHROMIUM, CHROMIUM_ARGS

    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def context(browser):
    ctx = new_context(browser)  # pages of one context share the HTTP cache: faster loads
    yield ctx
    ctx.close()


@pytest.fixture
def session(context, server_url):
    s = Session(context, server_url)
    yield s
    s.assert_offline()
    s.close()


def read_csv(session: Session) -> pd.DataFrame:
    with session.page.expect_download() as info:
        session.page.locator(".lc-download button, .lc-download a").first.click()
    return pd.read_csv(io.BytesIO(Path(info.value.path()).read_bytes()))


def test_page_loads_offline_with_plots_and_csv_from_day_0(session):
    page = session.page
    assert session.day() == 0
    natural, shown = page.eval_on_selector(".lc-plots img", "e => [e.naturalWidth, e.clientWidth]")
    assert natural > 600 and shown > 400
    expect(page.locator(".lc-summary")).to_contain_text("Satisfied residents")
    expect(page.locator(".lc-summary")).to_contain_text(load_scenario("baseline").description)
    expect(page.locator(".lc-applied")).to_be_visible()
    # the legend lists only what the baseline map shows: shops, no buses or policy sites
    legend = page.locator(".lc-legend")
    expect(legend).to_contain_text("fresh food (basic)")
    expect(legend).to_contain_text("chain outlet")
    for absent in ("mobile-vendor bus", "bus stop", "a policy made"):
        expect(legend).not_to_contain_text(absent)
    # the series start at day 0 and are the model's own numbers
    twin = build_model(Settings())
    first = read_csv(session)
    assert list(first.columns) == ["day", *METRIC_NAMES]
    assert first["day"].tolist() == [0]
    assert first.iloc[0][list(METRIC_NAMES)].tolist() == pytest.approx(
        [twin.metrics()[m] for m in METRIC_NAMES], nan_ok=True)
    # the plots: day 0 is a point at x = 0 (nothing at x = 1); after a step, a point at x = 1
    geometry = Run(model=twin, settings=Settings(), day0=twin.metrics())
    assert series_drawn_at(session, geometry, "chain_rate", [0, 1]) == [True, False]
    before = page.locator(".lc-plots img").get_attribute("src")
    session.step()
    expect(page.locator(".lc-plots img")).not_to_have_attribute("src", before)
    assert series_drawn_at(session, geometry, "chain_rate", [1, 2]) == [True, False]
    assert read_csv(session)["day"].tolist() == [0, 1]
    session.step()
    twin.run_for(2)
    csv = read_csv(session)
    assert csv["day"].tolist() == [0, 1, 2]
    expected = twin.datacollector.get_model_vars_dataframe()[list(METRIC_NAMES)]
    pd.testing.assert_frame_equal(csv.iloc[1:][list(METRIC_NAMES)].reset_index(drop=True),
                                  expected.reset_index(drop=True), check_exact=True)
    assert any("/_solara/cdn/" in u for u in session.urls)  # assets came from the local cache


def test_step_play_pause_reset_and_layers(session):
    page = session.page
    session.step()
    session.button("Play").click()
    expect(page.locator(".lc-day")).to_have_text(re.compile(r"^Day ([4-9]|\d\d+)\b"),
                                                 timeout=UI_TIMEOUT_MS)
    session.button("Pause").click()
    expect(session.button("Step")).to_be_enabled(timeout=UI_TIMEOUT_MS)
    page.wait_for_timeout(1500)  # a frame being drawn when Pause was pressed still lands
    paused_at = session.day()
    page.wait_for_timeout(1200)
    assert session.day() == paused_at
    plain = session.map_src()
    page.get_by_role("button", name="One format").click()
    expect(page.locator(".lc-category")).to_be_visible()
    expect(page.locator(".lc-colourbar")).to_contain_text("fresh food")
    fresh = session.map_src()
    assert fresh != plain
    session.pick("lc-category", "canteen")
    expect(page.locator(".lc-colourbar")).to_contain_text("canteen")
    assert session.map_src() != fresh
    expect(page.locator(".lc-legend")).to_contain_text("“old” / “new”")
    expect(page.locator(".lc-legend")).not_to_contain_text("old community (homes)")
    check_grade_layer(session, paused_at)
    session.reset()


def test_levers_say_where_their_value_comes_from(session):
    page = session.page
    buses = page.locator(".lc-lever-n_buses")
    expect(buses).to_contain_text("0 (off) (baseline's value · in use)")
    slider = page.locator(".lc-lever-n_buses [role=slider]")
    slider.focus()
    for _ in range(4):
        slider.press("ArrowRight")
    expect(buses).to_contain_text("4 (your setting · applies on Reset)")
    expect(page.locator(".lc-pending")).to_contain_text("mobile-vendor buses (0 = none) → 4")
    session.button("Use the scenario's lever values").click()
    expect(buses).to_contain_text("0 (off) (baseline's value · in use)")
    session.pick("lc-scenario", "combined")  # before Reset: the scenario's own values
    expect(buses).to_contain_text("2 (combined's value · applies on Reset)")
    expect(page.locator(".lc-lever-instant_retail")).to_contain_text("on (combined's value")
    slider.focus()
    slider.press("ArrowRight")
    expect(buses).to_contain_text("3 (your setting · applies on Reset)")
    session.reset()
    expect(buses).to_contain_text("3 (your setting · in use)")
    expect(page.locator(".lc-applied")).to_be_visible()
    summary = page.locator(".lc-summary")
    expect(summary).to_contain_text("Scenario combined")
    expect(summary).to_contain_text("3 buses serving")
    # a seed below 0 is refused before Reset, and the running model is untouched
    seed = page.locator(".lc-seed input")
    seed.fill("-3")
    seed.press("Enter")
    expect(page.locator(".lc-problem")).to_contain_text("0 or more")
    expect(session.button("Reset")).to_be_disabled()
    session.step()


def test_policies_show_on_the_map_and_in_the_text(session, tmp_path):
    page = session.page
    session.pick("lc-scenario", "mobile_vendors")
    session.reset()
    summary = page.locator(".lc-summary")
    expect(summary).to_contain_text("Scenario mobile_vendors")
    expect(summary).to_contain_text(load_scenario("mobile_vendors").description)
    expect(summary).to_contain_text("What the policies did")
    expect(summary).to_contain_text("2 buses serving 12 stops")
    expect(page.locator(".lc-legend")).to_contain_text("mobile-vendor bus")
    twin = build_model(Settings(scenario="mobile_vendors"))
    painter = MapPainter(twin)
    bus_cells = [b.cell.coordinate for b in twin.agents_by_type[Bus]]
    assert bus_cells
    assert page.eval_on_selector(".lc-map img", "e => e.naturalWidth") == painter.size[0]
    for rgb in session.pixels([painter.centre(xy) for xy in bus_cells]):
        assert rgb == [0, 0, 0], rgb
    stops = [xy for bus in twin.agents_by_type[Bus] for xy in bus.route  # not under a bus
             if all(max(abs(xy[0] - bx), abs(xy[1] - by)) > 2 for bx, by in bus_cells)]
    assert stops
    for rgb in session.pixels([painter.centre(xy) for xy in stops]):
        assert rgb == [255, 255, 255], rgb
    session.step()
    expect(summary).to_contain_text("customers today")
    from viz.screenshot import take

    take(page, tmp_path / "viz.png")  # what `make screenshot` writes to docs/
    assert (tmp_path / "viz.png").stat().st_size > 50_000
    # idle ground floors a policy turns into storefronts show the day they are made
    session.pick("lc-scenario", "idle_space")
    session.reset()
    twin = build_model(Settings(scenario="idle_space"))
    policy = next(p for p in twin.policies if isinstance(p, IdleSpace))
    cells = [tuple(xy) for xy in policy.cells.tolist()]
    painter = MapPainter(twin)
    old = list(rgb8(PLAIN["old"]))  # ground floors of homes in old communities
    assert session.pixels([painter.centre(xy) for xy in cells]) == [old] * len(cells)
    before = session.map_src()
    session.step()
    expect(page.locator(".lc-map img")).not_to_have_attribute("src", before)
    twin.step()
    assert all(storefront_cells(twin)[xy] for xy in cells)
    vacant = list(rgb8(PLAIN["vacant"]))
    assert session.pixels([painter.centre(xy) for xy in cells]) == [vacant] * len(cells)
    x0, y0 = painter.corner(cells[0])  # the black ring of a site a policy made
    m = max(2, painter.px // 4)
    assert session.pixels([(x0 - m, y0 + painter.px // 2)]) == [[0, 0, 0]]
    expect(session.page.locator(".lc-summary")).to_contain_text(
        "12 idle spaces converted to storefronts")
    expect(session.page.locator(".lc-legend")).to_contain_text("site or shop a policy made")


def test_click_a_home_and_a_shop(session):
    page = session.page
    twin = build_model(Settings())
    painter = MapPainter(twin)
    home = next(xy for xy in map(tuple, twin.city.home_xy.tolist())
                if len(twin.grid[xy].agents) >= 5)
    people = len(twin.grid[home].agents)
    session.click_cell(painter, home)
    box = page.locator(".lc-inspector")
    expect(box).to_contain_text(f"Cell ({home[0]}, {home[1]}): homes")
    expect(box).to_contain_text(f"{people} residents")
    expect(box).to_contain_text("fresh food")
    expect(box).to_contain_text(f"of {people}")
    first = twin.agents_by_type[Shop].to_list()[0]
    session.click_cell(painter, first.cell.coordinate)
    expect(box).to_contain_text(f"Shop: {first.category.replace('_', ' ')}")
    expect(box).to_contain_text("chain outlet" if first.chain else "independent")
    expect(box).to_contain_text("visits today, capacity")
    expect(page.locator(".lc-legend")).to_contain_text("the cell you clicked")


def test_compare_with_baseline_and_pins(session):
    page = session.page
    session.pick("lc-scenario", "elderly_canteen")
    session.reset()
    session.step()
    page.locator(".lc-compare-switch input").click(force=True)
    expect(page.locator(".lc-summary")).to_contain_text("Compared with the baseline",
                                                        timeout=BUILD_TIMEOUT_MS)
    page.get_by_role("button", name="Satisfaction").click()
    absolute = session.map_src()
    page.locator(".lc-difference input").click(force=True)
    expect(page.locator(".lc-colourbar")).to_contain_text("minus the baseline")
    assert session.map_src() != absolute
    expect(page.locator(".lc-legend")).to_contain_text("formats hidden on a difference map")
    session.step()
    expect(page.locator(".lc-summary")).to_contain_text("Compared with the baseline")
    page.locator(".lc-pin").click()
    expect(page.locator(".lc-pinned")).to_contain_text("elderly_canteen, seed 1, to day 2")
    session.reset()
    expect(page.locator(".lc-pinned")).to_contain_text("to day 2")  # kept after Reset


def test_replay_a_run_of_a_finished_experiment(experiment, context, server_url):
    root, proc = experiment
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    run = next(r for r in finished_runs("viz_replay", root) if r.scenario == "mobile_vendors")
    assert (run.point, run.replicate) == (0, 0)
    session = Session(context, server_url)  # opened once the experiment has finished
    page = session.page
    session.pick("lc-run-pick", run.label)
    page.locator(".lc-open-run").click()
    summary = page.locator(".lc-summary")
    expect(summary).to_contain_text(f"run {run.run_id} of experiment viz_replay",
                                    timeout=BUILD_TIMEOUT_MS)
    expect(summary).to_contain_text("3 buses serving")  # the design point's lever value
    session.wait_ready()
    page.locator(".lc-replay-run").click()
    expect(page.locator(".lc-replay-check")).to_contain_text(
        "Replayed 6 days: every daily metric is identical to the recorded run",
        timeout=BUILD_TIMEOUT_MS)
    session.expect_day(6)
    session.step()  # the page is the student's again
    session.assert_offline()
    session.close()


def test_two_sessions_have_independent_models(session, context, server_url):
    other = Session(context, server_url)  # a second tab: its own session and model
    try:
        for _ in range(3):
            session.step()
        assert other.day() == 0
        other.step()
        assert (session.day(), other.day()) == (3, 1)
        other.assert_offline()
    finally:
        other.close()


#: (width, height, smallest map width in px) of a phone, a small laptop and a wide screen
SCREENS = [(400, 800, 360), (1024, 768, 450), (1600, 1000, 560)]


def test_layout_at_phone_laptop_and_wide_screens(session):
    page = session.page
    for width, height, min_map in SCREENS:
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("() => document.querySelector('.lc-map img')"
                      ".scrollIntoView({block: 'center'})")
        page.wait_for_timeout(300)
        geometry = page.evaluate("""() => {
            const box = s => document.querySelector(s).getBoundingClientRect();
            const map = box('.lc-map img');
            const hit = document.elementFromPoint(map.left + map.width / 2,
                                                  map.top + map.height / 2);
            const layers = [...document.querySelectorAll('.lc-layer .v-btn')]
                .map(b => b.getBoundingClientRect().right);
            return {map: map.width, hit: !!hit && hit.classList.contains('lc-map-img'),
                    layers: Math.max(...layers), width: document.documentElement.scrollWidth,
                    bar: box('.lc-runbar').bottom};
        }""")
        where = (width, geometry)
        assert geometry["map"] >= min_map, where
        assert geometry["hit"], where  # nothing covers the map
        assert geometry["layers"] <= width, where  # no layer button cut off
        assert geometry["width"] <= width + 1, where  # no sideways scrolling
        assert geometry["bar"] < 140, where  # Step / Play / Reset at the top
        if width >= 1024:
            assert legend_covered(page) == [], where
        plots = page.locator(".lc-plots img")
        if width >= 1600:
            assert plots.bounding_box()["y"] < height, where  # above the fold
        plots.scroll_into_view_if_needed()
        expect(plots).to_be_in_viewport()
        seed = page.locator(".lc-seed")  # the set-up is reachable (below, on a phone)
        seed.scroll_into_view_if_needed()
        expect(seed).to_be_in_viewport()
        session.step()  # the sticky run bar stays usable after scrolling
