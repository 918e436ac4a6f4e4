"""The page's levers really change the model ``viz.app.build_model`` builds (no browser).

Also checks the fast map and plot painters the page uses, and that the levers read back from a
running model, so the sliders show the scenario's values until the user moves them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `viz` importable without an installed package
    sys.path.insert(0, str(ROOT))

pytest.importorskip("solara")
from model.city import OLD  # noqa: E402
from model.policies import Bus  # noqa: E402
from viz import app  # noqa: E402

SEED = 3


def kinds(model) -> list[str]:
    return [p.kind for p in model.policies]


def policy(model, kind: str):
    found = [p for p in model.policies if p.kind == kind]
    assert len(found) == 1, kinds(model)
    return found[0]


def buses(model) -> list:
    return list(model.agents_by_type.get(Bus, []))


@pytest.fixture(scope="module")
def baseline():
    return app.build_model("baseline", SEED)


def test_untouched_levers_keep_the_scenario(baseline):
    assert kinds(baseline) == []
    assert buses(baseline) == []
    vendors = app.build_model("mobile_vendors", SEED)
    assert kinds(vendors) == ["mobile_vendors"]
    assert len(buses(vendors)) == policy(vendors, "mobile_vendors").n_buses == 2
    # the sliders show the running model's values until moved
    assert app.lever_value_in_model(vendors, "n_buses") == 2
    assert app.lever_value_in_model(baseline, "n_buses") == 0
    assert app.lever_value_in_model(baseline, "instant_retail") is False
    assert app.lever_value_in_model(baseline, "share_old") == baseline.params.share_old


def test_n_buses_adds_updates_and_removes_the_policy():
    added = app.build_model("baseline", SEED, {"n_buses": 3})
    assert len(buses(added)) == 3
    pol = policy(added, "mobile_vendors")
    assert pol.n_buses == 3 and len(pol.routes) == 3
    assert sorted(tuple(b.route[0]) for b in buses(added)) == sorted(r[0] for r in pol.routes)
    updated = app.build_model("mobile_vendors", SEED, {"n_buses": 5})
    assert len(buses(updated)) == 5
    assert policy(updated, "mobile_vendors").price_index == 0.9  # other params kept
    removed = app.build_model("mobile_vendors", SEED, {"n_buses": 0})
    assert "mobile_vendors" not in kinds(removed) and buses(removed) == []


def test_instant_retail_switch():
    on = app.build_model("baseline", SEED, {"instant_retail": True})
    assert kinds(on) == ["instant_retail"]
    assert app.lever_value_in_model(on, "instant_retail") is True
    off = app.build_model("instant_retail", SEED, {"instant_retail": False})
    assert kinds(off) == []
    kept = app.build_model("instant_retail", SEED, {"instant_retail": True})
    assert policy(kept, "instant_retail").uptake == 0.6  # the scenario's parameters stay


@pytest.mark.parametrize(("lever", "kind", "param", "value"), [
    ("chain_target", "chain_penetration", "target_chain_rate", 0.6),
    ("rent_subsidy_share", "rent_subsidy", "share", 0.5),
    ("canteen_discount", "elderly_canteen", "discount_60", 0.45),
])
def test_policy_sliders_reach_the_policy_params(lever, kind, param, value):
    added = app.build_model("baseline", SEED, {lever: value})
    assert kinds(added) == [kind]
    assert getattr(policy(added, kind), param) == pytest.approx(value)
    assert app.lever_value_in_model(added, lever) == pytest.approx(value)
    # in the scenario that has the policy: updated, other policies untouched; 0 removes it
    updated = app.build_model("combined" if kind != "chain_penetration" else kind, SEED,
                              {lever: value})
    assert getattr(policy(updated, kind), param) == pytest.approx(value)
    removed = app.build_model("combined" if kind != "chain_penetration" else kind, SEED,
                              {lever: 0.0})
    assert kind not in kinds(removed)
    assert len(kinds(removed)) == len(kinds(updated)) - 1


def test_share_old_changes_the_communities(baseline):
    def n_old(model) -> int:
        return int((np.asarray(model.city.community_kind) == OLD).sum())

    few = app.build_model("baseline", SEED, {"share_old": 0.25})
    many = app.build_model("baseline", SEED, {"share_old": 0.75})
    assert few.params.share_old == 0.25 and many.params.share_old == 0.75
    assert n_old(few) < n_old(baseline) < n_old(many)


def test_levers_combine_with_a_scenario():
    model = app.build_model("combined", SEED, {"n_buses": 1, "instant_retail": False,
                                               "share_old": 0.25})
    assert len(buses(model)) == 1
    assert "instant_retail" not in kinds(model)
    assert {"mobile_vendors", "rent_subsidy", "elderly_canteen", "fill_gaps"} <= set(kinds(model))
    assert model.params.share_old == 0.25


def test_bad_lever_is_refused():
    with pytest.raises(KeyError):
        app.build_scenario("baseline", {"no_such_lever": 1})


def test_map_and_plot_painters_draw_buses_and_days():
    import io

    import PIL.Image

    model = app.build_model("mobile_vendors", SEED, {"n_buses": 3})
    model.step()  # satisfaction exists from the first outcomes on
    map_painter, plot_painter = app.MapPainter(model), app.PlotPainter(model)
    first = map_painter.png()
    layers = {layer: map_painter.png(layer) for layer in app.LAYERS[1:]}
    plots0 = plot_painter.png()
    for _ in range(3):
        model.step()
    img = PIL.Image.open(io.BytesIO(map_painter.png())).convert("RGB")
    assert min(img.size) > 400
    arr = np.asarray(img)
    for bus in buses(model):  # a black triangle on each bus's cell
        cx, cy = map_painter.centre(app._xy(bus.cell))
        assert tuple(arr[int(cy), int(cx)]) == (0, 0, 0)
    assert all(png != first for png in layers.values())
    assert plot_painter.png() != plots0
    assert len(app.vendor_routes(model)) == 3
