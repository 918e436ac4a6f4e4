"""The page's parts without a browser: runs and their series, the map, plots, text, inspector,
idle sessions and replays of an experiment's runs."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import PIL.Image
import pytest

from model import METRIC_NAMES
from model.agents import Shop
from model.errors import ResultsError
from model.policies import Bus, ElderlyCanteen, IdleSpace
from viz import replay
from viz.inspector import cell_markdown, residents_at, supporting_policies
from viz.legend import legend_html
from viz.levers import Settings
from viz.mapview import LAYERS, PLAIN_MAP, MapPainter, layer_values, storefront_cells
from viz.plots import PLOTS, PlotPainter
from viz.run import Run, pin_of
from viz.session import Activity, Watch
from viz.story import policy_lines, reading_notes, startup_days


@pytest.fixture(scope="module")
def vendors() -> Run:
    return Run.build(Settings(scenario="mobile_vendors", seed=2))


def image(png: bytes) -> np.ndarray:
    return np.asarray(PIL.Image.open(io.BytesIO(png)).convert("RGB"))


def test_series_start_at_day_0_and_the_csv_reads_back_exactly():
    run = Run.build(Settings(seed=5))
    frame = run.frame()
    assert list(frame.columns) == ["day", *METRIC_NAMES] and frame["day"].tolist() == [0]
    day0 = run.model.metrics()
    assert frame.iloc[0][list(METRIC_NAMES)].tolist() == pytest.approx(
        [day0[m] for m in METRIC_NAMES], nan_ok=True)
    run.step(3)
    frame = run.frame()
    assert frame["day"].tolist() == [0, 1, 2, 3]
    back = pd.read_csv(io.BytesIO(run.csv()))
    pd.testing.assert_frame_equal(back, frame, check_exact=True, check_dtype=False)
    assert run.csv_name() == "lifecircle_baseline_seed5_day3.csv"


def test_the_baseline_twin_has_the_same_city_and_no_policy(vendors):
    run = Run.build(Settings(scenario="elderly_canteen", seed=2))
    run.step(2)
    run.start_twin()
    assert run.twin.day == run.day == 2 and run.twin.policies == []
    assert np.array_equal(run.twin.population.age, run.model.population.age)
    run.step(1)
    assert run.twin.day == 3
    twin = run.twin_frame()
    assert twin["day"].tolist() == [0, 1, 2, 3]
    assert twin["public_spend"].iloc[-1] == 0 < run.frame()["public_spend"].iloc[-1]
    run.stop_twin()
    assert run.twin is None and run.twin_frame() is None


def test_cell_at_inverts_the_painters_geometry(vendors):
    painter = MapPainter(vendors.model)
    for xy in [(0, 0), (3, 7), (painter.w - 1, painter.h - 1)]:
        cx, cy = painter.centre(xy)
        assert painter.cell_at(cx / painter.size[0], cy / painter.size[1]) == xy
    assert painter.cell_at(0.001, 0.001) is None  # the margin


def test_map_draws_buses_layers_and_only_what_the_legend_lists(vendors):
    painter = MapPainter(vendors.model)
    arr = image(painter.png())
    for bus in vendors.model.agents_by_type[Bus]:
        cx, cy = painter.centre(bus.cell.coordinate)
        assert tuple(arr[int(cy), int(cx)]) == (0, 0, 0)
    assert {"bus", "stop", "route", "old", "new"} <= painter.drawn
    legend = legend_html(painter.drawn, vendors.model.categories)
    assert "mobile-vendor bus" in legend and "a policy made" not in legend
    plain = painter.png()
    for layer in LAYERS[1:]:
        values = layer_values(vendors.model, layer, "fresh_food")
        assert values.shape == (painter.w, painter.h)
        assert painter.png(values, graded=layer.graded) != plain
        assert ("grade-layer" if layer.graded else "layer") in painter.drawn
        assert "old" not in painter.drawn
    assert layer_values(vendors.model, PLAIN_MAP, "fresh_food") is None


def test_storefronts_a_policy_makes_show_the_day_they_are_made():
    run = Run.build(Settings(scenario="idle_space"))
    painter = MapPainter(run.model)
    policy = next(p for p in run.model.policies if isinstance(p, IdleSpace))
    x, y = policy.cells[0].tolist()
    assert not storefront_cells(run.model)[x, y]
    before = image(painter.png())
    run.step(1)
    assert storefront_cells(run.model)[x, y]
    after = image(painter.png())
    cx, cy = (int(v) for v in painter.centre((x, y)))
    assert tuple(before[cy, cx]) != tuple(after[cy, cx])
    assert "policy-site" in painter.drawn


def test_plots_draw_days_pins_and_the_twin():
    run = Run.build(Settings(scenario="elderly_canteen"))
    first = PlotPainter(run).png()
    run.step(2)
    assert PlotPainter(run).png() != first
    pinned = PlotPainter(run, (pin_of(run),)).png()
    run.start_twin()
    with_twin = PlotPainter(run, (pin_of(run),))
    assert len(with_twin.lines) == 2 * sum(len(m) + len(t) for _, m, _, t in PLOTS)
    assert with_twin.png() != pinned
    assert all(c in METRIC_NAMES for _t, m, _s, t in PLOTS for c in (*m, *t))


def test_reading_notes_come_from_the_models_parameters():
    from model import CommerceModel

    model = Run.build(Settings()).model
    text = reading_notes(model)
    p = model.params
    assert f"threshold is **{p.satisfied_threshold:.2f}**" in text
    assert f"first {1 / p.satisfaction_memory:.0f} outcomes are averaged equally" in text
    assert f"weighs {p.satisfaction_memory:.0%}" in text
    assert f"~{startup_days(model):.0f} days" in text
    other = CommerceModel(scenario="baseline", rng=1, satisfaction_memory=0.2,
                          satisfied_threshold=0.6)
    assert startup_days(other) == pytest.approx(startup_days(model) / 4)
    assert "threshold is **0.60**" in reading_notes(other)
    assert "first 5 outcomes" in reading_notes(other)


def test_policy_lines_say_what_each_policy_did_and_spent():
    run = Run.build(Settings(scenario="combined"))
    run.step(2)
    lines = policy_lines(run.model)
    assert len(lines) == len(run.model.policies)
    for label, line in zip(run.model.policy_labels, lines, strict=True):
        assert f"¥{run.model.ledger[label]:,.0f} spent so far" in line
    assert any("canteens open" in line for line in lines)


def test_inspector_reports_residents_and_a_supported_shop():
    run = Run.build(Settings(scenario="elderly_canteen"))
    run.step(1)
    model = run.model
    home = next(tuple(xy) for xy in model.city.home_xy.tolist()
                if len(residents_at(model, tuple(xy))) > 3)
    text = cell_markdown(model, home)
    assert f"**{len(residents_at(model, home))} residents**" in text
    assert text.count("\n| ") == 1 + model.categories.k  # header + one row per format
    canteen = next(p for p in model.policies if isinstance(p, ElderlyCanteen))
    shop_id = int(canteen.supported_shops(model)[0])
    assert supporting_policies(model, shop_id) == ["elderly canteen"]
    xy = tuple(model.supply.site_xy[model.supply.shops.site[shop_id]].tolist())
    assert any(isinstance(a, Shop) for a in model.grid[xy].agents)
    assert "Supported by: elderly canteen" in cell_markdown(model, xy)


def test_an_idle_session_is_dropped_and_a_used_one_is_not():
    activity = Activity(idle_limit=60.0, last_used=100.0)
    assert not activity.should_drop(True, now=159.0)
    assert activity.should_drop(True, now=160.0)
    assert not activity.should_drop(False, now=1000.0)  # nothing to drop
    activity.touch()
    assert not activity.should_drop(True)
    assert "1 minutes without use" in activity.dropped_notice()
    assert Watch(None).connected() and not Watch(None).closed()


EXPERIMENT = """
name = "tiny"
scenarios = ["baseline", "mobile_vendors"]
baseline = "baseline"
replicates = 1
days = 3
warmup = 0
root_seed = 5
metrics = ["share_satisfied"]
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("results")
    spec = root.parent / "tiny.toml"
    spec.write_text(EXPERIMENT)
    cli = Path(sys.executable).with_name("lifecircle")
    subprocess.run([str(cli), "experiment", str(spec), "--workers", "0", "--no-progress",
                    "--out", str(root / "tiny")], check=True, capture_output=True)
    return root


def test_a_replayed_run_matches_its_record(results):
    assert replay.experiment_folders(results) == ["tiny"]
    runs = replay.finished_runs("tiny", results)
    assert [r.scenario for r in runs] == ["baseline", "mobile_vendors"]
    rep = replay.replay_settings("tiny", runs[1].run_id, results)
    assert rep.days == 3 and rep.settings.seed == runs[1].seed
    run = Run.build(rep.settings, rep.origin)
    run.step(3)
    assert replay.compare_with_record(run.frame(), rep) == []
    short = Run.build(rep.settings)
    short.step(2)
    assert replay.compare_with_record(short.frame(), rep) == ["days: replayed 2, recorded 3"]
    other = Run.build(Settings(scenario="mobile_vendors", seed=runs[1].seed + 1))
    other.step(3)
    assert "share_satisfied" in replay.compare_with_record(other.frame(), rep)


def test_a_replay_refuses_what_it_cannot_rebuild_exactly(results, tmp_path):
    with pytest.raises(ResultsError, match="not an experiment folder"):
        replay.finished_runs("../..", results)
    with pytest.raises(ResultsError, match="no finished"):
        replay.replay_settings("tiny", "nope", results)
    copy = tmp_path / "tampered"
    subprocess.run(["cp", "-r", str(results / "tiny"), str(copy)], check=True)
    record = copy / "runs" / f"{replay.finished_runs('tiny', results)[0].run_id}.json"
    data = json.loads(record.read_text())
    data["scenario_hash"] = "0" * 16
    record.write_text(json.dumps(data))
    with pytest.raises(ResultsError, match="rebuilds its configuration differently"):
        replay.replay_settings("tampered", data["run_id"], tmp_path)
    daily = record.with_suffix(".parquet")  # a changed daily file no longer verifies
    daily.write_bytes(daily.read_bytes()[:-8] + b"\0" * 8)
    assert data["run_id"] not in [r.run_id for r in replay.finished_runs("tampered", tmp_path)]


def test_policies_without_sites_of_their_own_leave_a_trace_on_the_map():
    run = Run.build(Settings(scenario="instant_retail"))
    run.step(1)
    policy = run.model.policies[0]
    assert len(policy.sites(run.model)) == 0 < len(policy.supported_shops(run.model))
    painter = MapPainter(run.model)
    painter.png()
    assert "policy-site" in painter.drawn  # the stores that deliver are outlined
    painter.png(policy_sites=False)
    assert "policy-site" not in painter.drawn


def test_day_d_is_drawn_at_x_d():
    run = Run.build(Settings())
    painter = PlotPainter(run)
    painter.png()
    for line, _col, _twin in painter.lines:
        assert list(line.get_xdata()) == [0]
    run.step(2)
    painter.png()
    for line, col, _twin in painter.lines:
        assert list(line.get_xdata()) == [0, 1, 2]
        assert list(line.get_ydata()) == pytest.approx(run.frame()[col].tolist(), nan_ok=True)
