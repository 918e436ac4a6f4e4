"""The page's levers really change the model ``viz.levers.build_model`` builds (no browser).

Also: each lever is declared against the model's own field (type and range from
``model.schema.spec``), and a slider shows the value of the scenario the next Reset uses.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model.city import OLD
from model.params import PARAM_FIELDS
from model.policies import Bus, MobileVendors
from viz.levers import (
    LEVERS,
    Lever,
    Settings,
    build_model,
    build_scenario,
    format_value,
    lever_value,
    scenario_file,
    without_policies,
)

SEED = 3
BY_NAME = {lever.name: lever for lever in LEVERS}


def kinds(model) -> list[str]:
    return [p.kind for p in model.policies]


def policy(model, kind: str):
    found = [p for p in model.policies if p.kind == kind]
    assert len(found) == 1, kinds(model)
    return found[0]


def buses(model) -> list:
    return list(model.agents_by_type.get(Bus, []))


def build(scenario: str, **levers):
    return build_model(Settings(scenario=scenario, seed=SEED, levers=tuple(sorted(levers.items()))))


@pytest.fixture(scope="module")
def baseline():
    return build("baseline")


@pytest.mark.parametrize("lever", LEVERS, ids=lambda lever: lever.name)
def test_each_lever_is_declared_against_the_models_field(lever: Lever):
    if lever.policy is None:
        field = PARAM_FIELDS[lever.param]
    elif lever.param is None:
        assert lever.kind is bool and lever.off is False
        return
    else:
        field = {f.name: f for f in dataclasses.fields(lever.policy)}[lever.param]
    lo, hi = field.metadata["min"], field.metadata["max"]
    values = np.arange(lever.lo, lever.hi + lever.step / 2, lever.step)
    on = [v for v in values if lever.off is None or v != lever.off]  # off removes the policy
    assert lo is None or min(on) >= lo
    assert hi is None or max(on) <= hi
    assert isinstance(lever.coerce(lever.hi), lever.kind)


def test_untouched_levers_keep_the_scenario(baseline):
    assert kinds(baseline) == []
    assert buses(baseline) == []
    vendors = build("mobile_vendors")
    assert kinds(vendors) == ["mobile_vendors"]
    assert len(buses(vendors)) == policy(vendors, "mobile_vendors").n_buses == 2
    assert lever_value(vendors.config, BY_NAME["n_buses"]) == 2
    assert lever_value(baseline.config, BY_NAME["n_buses"]) == 0
    assert lever_value(baseline.config, BY_NAME["instant_retail"]) is False
    assert lever_value(baseline.config, BY_NAME["share_old"]) == baseline.params.share_old


def test_a_slider_shows_the_pending_scenarios_value_until_moved():
    combined = Settings(scenario="combined")
    assert combined.value(BY_NAME["n_buses"]) == (
        lever_value(scenario_file("combined"), BY_NAME["n_buses"]), False)
    assert combined.value(BY_NAME["n_buses"])[0] == 2
    moved = combined.with_lever("n_buses", 4)
    assert moved.value(BY_NAME["n_buses"]) == (4, True)
    back = Settings(scenario="baseline", seed=moved.seed)  # "Use the scenario's lever values"
    assert back.value(BY_NAME["n_buses"]) == (0, False)
    assert format_value(BY_NAME["n_buses"], 0) == "0 (off)"


def test_settings_name_what_is_pending_and_what_is_wrong():
    applied = Settings()
    pending = Settings(scenario="combined", seed=7).with_lever("n_buses", 3)
    diffs = pending.differences(applied)
    assert diffs == ["scenario baseline → combined", "seed 1 → 7",
                     "mobile-vendor buses (0 = none) → 3"]
    assert pending.problems() == []
    assert Settings(seed=-3).problems() == ["the seed must be a whole number 0 or more (not -3)"]
    assert "no scenario file" in Settings(scenario="nope").problems()[0]


def test_n_buses_adds_updates_and_removes_the_policy():
    added = build("baseline", n_buses=3)
    assert len(buses(added)) == 3
    pol = policy(added, "mobile_vendors")
    assert isinstance(pol, MobileVendors) and pol.n_buses == 3
    updated = build("mobile_vendors", n_buses=5)
    assert len(buses(updated)) == 5
    assert policy(updated, "mobile_vendors").price_index == 0.9  # other params kept
    removed = build("mobile_vendors", n_buses=0)
    assert "mobile_vendors" not in kinds(removed) and buses(removed) == []


def test_instant_retail_switch():
    on = build("baseline", instant_retail=True)
    assert kinds(on) == ["instant_retail"]
    assert lever_value(on.config, BY_NAME["instant_retail"]) is True
    assert kinds(build("instant_retail", instant_retail=False)) == []
    kept = build("instant_retail", instant_retail=True)
    assert policy(kept, "instant_retail").uptake == 0.6  # the scenario's parameters stay


@pytest.mark.parametrize(("lever", "kind", "param", "value"), [
    ("chain_target", "chain_penetration", "target_chain_rate", 0.6),
    ("rent_subsidy_share", "rent_subsidy", "share", 0.5),
    ("canteen_discount", "elderly_canteen", "discount_60", 0.45),
])
def test_policy_sliders_reach_the_policy_params(lever, kind, param, value):
    added = build("baseline", **{lever: value})
    assert kinds(added) == [kind]
    assert getattr(policy(added, kind), param) == pytest.approx(value)
    assert lever_value(added.config, BY_NAME[lever]) == pytest.approx(value)
    scenario = "combined" if kind != "chain_penetration" else kind
    updated = build_scenario(Settings(scenario=scenario, levers=((lever, value),)))
    assert [p["params"][param] for p in updated.policies if p["kind"] == kind] == [
        pytest.approx(value)]
    removed = build_scenario(Settings(scenario=scenario, levers=((lever, 0.0),)))
    assert kind not in [p["kind"] for p in removed.policies]
    assert len(removed.policies) == len(updated.policies) - 1


def test_share_old_changes_the_communities(baseline):
    def n_old(model) -> int:
        return int((np.asarray(model.city.community_kind) == OLD).sum())

    few, many = build("baseline", share_old=0.25), build("baseline", share_old=0.75)
    assert few.params.share_old == 0.25 and many.params.share_old == 0.75
    assert n_old(few) < n_old(baseline) < n_old(many)


def test_levers_combine_with_a_scenario():
    model = build("combined", n_buses=1, instant_retail=False, share_old=0.25)
    assert len(buses(model)) == 1
    assert "instant_retail" not in kinds(model)
    assert {"mobile_vendors", "rent_subsidy", "elderly_canteen", "fill_gaps"} <= set(kinds(model))
    assert model.params.share_old == 0.25


def test_bad_lever_is_refused():
    with pytest.raises(KeyError, match="no_such_lever"):
        build_scenario(Settings(levers=(("no_such_lever", 1),)))


def test_without_policies_keeps_the_city_and_people():
    combined = scenario_file("combined")
    bare = without_policies(combined)
    assert bare.policies == () and bare.params == combined.params
    assert len(combined.policies) >= 4


@pytest.mark.parametrize(("lever", "kind", "param", "value", "scenario"), [
    ("home_care_providers", "home_care", "n_providers", 3, "home_care"),
    ("service_stores", "multi_function_stores", "approach_share", 0.5, "multi_function_stores"),
    ("platform_join", "smart_platform", "join_share", 0.3, "smart_platform"),
])
def test_issue_15_levers_add_update_and_remove_their_policy(lever, kind, param, value, scenario):
    added = build_scenario(Settings(scenario="baseline", levers=((lever, value),)))
    assert [p["kind"] for p in added.policies] == [kind]
    assert added.policies[0]["params"][param] == pytest.approx(value)
    updated = build_scenario(Settings(scenario=scenario, levers=((lever, value),)))
    assert [p["params"][param] for p in updated.policies] == [pytest.approx(value)]
    assert lever_value(updated, BY_NAME[lever]) == pytest.approx(value)
    removed = build_scenario(Settings(scenario=scenario, levers=((lever, BY_NAME[lever].off),)))
    assert removed.policies == ()


def test_the_knowledge_switch_sets_the_world_the_platform_works_in():
    assert lever_value(scenario_file("baseline"), BY_NAME["consideration_sets"]) is False
    assert lever_value(scenario_file("smart_platform"), BY_NAME["consideration_sets"]) is True
    on = build("baseline", consideration_sets=True, platform_join=0.4)
    assert on.params.consideration_sets and on.knowledge.on
    assert kinds(on) == ["smart_platform"]
    off = build("smart_platform", consideration_sets=False)
    assert not off.params.consideration_sets and not off.knowledge.on
    assert format_value(BY_NAME["consideration_sets"], True) == "on"
