"""The source's remaining levers (issue 15): care at home, one store with many services, and
what every new lever shares (lifecycle, what it did, inputs checked).

* care at home reaches only the eligible (80+, living alone, an assessed share of 60-79),
  only within its providers' radius and capacity; it raises the elderly's surplus and leaves
  everyone else's choices as they were; it books exactly its subsidies and platform;
* living alone is a drawn household attribute that shifted no other draw;
* convenience stores take on services with their own capacity, margin, staff, fit-out and
  grant, only where the services pay, only the stores allowed (chain / independent, floor
  area); coverage of the services rises; the grants are what the policy books.

Zero intensity, order of policies and budgets of these kinds are in ``test_money.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from model import CommerceModel, ScenarioError, load_scenario
from model.entry import shop_margin
from model.population import ELDERLY, ELDERLY80
from model.supply import ACCESS_HOME_CARE, ACCESS_PLATFORM, SRC_HOME

from .conftest import SMALL
from .test_policies import model_with, paired

POPULATION_ARRAYS = ("home", "community", "age", "group", "income", "digital", "speed_mps",
                     "move_rank")


# --- living alone -----------------------------------------------------------------------------
def test_living_alone_is_drawn_for_the_elderly_without_shifting_any_other_draw():
    a = CommerceModel(rng=4, **SMALL)
    b = CommerceModel(rng=4, **SMALL, share_alone_of_elderly=0.6)
    for name in POPULATION_ARRAYS:
        assert np.array_equal(getattr(a.population, name), getattr(b.population, name)), name
    pop = a.population
    elderly = np.isin(pop.group, (ELDERLY, ELDERLY80))
    assert not pop.lives_alone[~elderly].any()
    n = int(elderly.sum())
    se = np.sqrt(0.14 * 0.86 / n)
    assert abs(pop.lives_alone[elderly].mean() - 0.14) < 4 * se
    # the same uniforms against a higher share: everyone alone before is alone still
    assert np.all(b.population.lives_alone >= pop.lives_alone)
    assert b.population.lives_alone[elderly].mean() > 0.55


# --- care at home -------------------------------------------------------------------------------
def test_home_care_eligibility_follows_the_rule():
    m = model_with("home_care", share_60_79=0.3)
    pol, pop = m.policies[0], m.population
    assert np.all(pol.eligible[pop.group == ELDERLY80])
    assert np.all(pol.eligible[pop.lives_alone])
    assert not pol.eligible[~np.isin(pop.group, (ELDERLY, ELDERLY80))].any()
    other = (pop.group == ELDERLY) & ~pop.lives_alone
    se = np.sqrt(0.3 * 0.7 / other.sum())
    assert abs(pol.eligible[other].mean() - 0.3) < 4 * se
    narrow = model_with("home_care", eligible_80plus=False, share_60_79=0.0).policies[0]
    assert np.array_equal(narrow.eligible, pop.lives_alone)
    # eligibility is the access bit while the policy runs
    m.step()
    assert np.array_equal((m.access & ACCESS_HOME_CARE) != 0, pol.eligible)


def test_only_eligible_residents_get_care_at_home_within_radius_and_capacity():
    m = model_with("home_care", visits_per_provider_day=4.0, radius_m=800.0)
    pol = m.policies[0]
    k = m.categories.index["elderly_care"]
    base_xy = m.supply.site_xy[pol.base_sites]
    src, home, _ = m.city.distances_from(base_xy, 800.0)
    in_radius = set(zip(pol.offer_ids[src].tolist(), home.tolist(), strict=True))
    visits, full = 0, 0
    for _ in range(20):
        m.step()
        rec = m.today
        at = np.isin(rec.chosen, pol.offer_ids)
        who = rec.need_res[at]
        assert np.all(pol.eligible[who])
        assert np.all(rec.need_cat[at] == k) and np.all(rec.walk_min[at] == 0)
        homes = m.population.home[who]
        assert all((o, h) in in_radius for o, h in zip(rec.chosen[at].tolist(), homes.tolist(),
                                                       strict=True))
        served = rec.offer_served[pol.offer_ids]
        assert np.all(served <= 4)
        visits += int(at.sum())
        full += int((served == 4).sum())
    assert visits > 0 and full > 0  # used, and the capacity bound
    assert np.all(m.supply.offers.source[pol.offer_ids] == SRC_HOME)


def test_home_care_books_exactly_its_subsidies_and_platform():
    m = model_with("home_care", subsidy_share=0.4, platform_cost_day=500.0, price_index=1.5)
    pol = m.policies[0]
    cats, pop = m.categories, m.population
    k = cats.index["elderly_care"]
    for _ in range(15):
        m.step()
        rec = m.today
        at = np.isin(rec.chosen, pol.offer_ids)
        listed = cats.spend[k] * m.spend_mult[pop.income[rec.need_res[at]]] * 1.5
        assert np.allclose(rec.list_value[at], listed)
        assert np.allclose(rec.resident_paid[at], 0.6 * listed)  # the resident pays the rest
        assert rec.spend_by_policy["home_care"] == pytest.approx(0.4 * listed.sum() + 500.0)
        # residents' payments plus the subsidies equal what providers receive (plus fees)
        assert rec.resident_paid.sum() + 0.4 * listed.sum() == pytest.approx(
            rec.offer_revenue.sum() + rec.delivery_fees.sum())
    assert m.ledger["home_care"] == pytest.approx(m.metrics()["spend_home_care"])


def test_home_care_raises_elderly_surplus_and_leaves_everyone_else_as_they_were():
    gains = []
    for base, hc in paired("home_care", 25):
        b = base.datacollector.get_model_vars_dataframe()
        h = hc.datacollector.get_model_vars_dataframe()
        gains.append((h["surplus_yuan_elderly"] - b["surplus_yuan_elderly"]).mean())
        # nobody under 60 has an elderly-care need: before the first monthly entry their days
        # are exactly the baseline's
        assert np.array_equal(b["surplus_yuan_nonelderly"], h["surplus_yuan_nonelderly"])
        pol = hc.policies[0]
        cared = pol.eligible[hc.present_idx]
        sat_b = base.satisfaction[base.present_idx][cared]
        sat_h = hc.satisfaction[hc.present_idx][cared]
        assert np.nanmean(sat_h) > np.nanmean(sat_b)
    assert min(gains) > 0


def test_home_care_stops_at_its_end_and_clears_eligibility():
    m = model_with("home_care", start_day=3, end_day=6)
    pol = m.policies[0]
    spends = []
    for _ in range(9):
        m.step()
        spends.append(m.today.spend_by_policy["home_care"])
        running = 3 <= m.day <= 6
        assert m.supply.offers.open[pol.offer_ids].all() == running
        assert bool((m.access & ACCESS_HOME_CARE).any()) == running
        assert (pol.label in m.supply.extra_candidates) == running
    assert spends[:2] == [0.0, 0.0] and spends[6:] == [0.0] * 3
    assert all(s >= pol.platform_cost_day for s in spends[2:6])


# --- one store, many services -------------------------------------------------------------------
def _round(kind_params: dict, seed: int = 5) -> tuple[CommerceModel, dict]:
    """A model one day before the policy's first round, then phase 1 of that day run alone."""
    m = model_with("multi_function_stores", seed, start_day=2, **kind_params)
    m.step()
    shops = m.supply.shops
    before = {"cash": shops.cash.copy(), "staff": shops.staff_day.copy(),
              "offers": len(m.supply.offers)}
    m.day += 1
    m.policies[0].begin_day(m)
    return m, before


def test_a_store_takes_services_on_with_own_capacity_margin_staff_fit_out_and_grant():
    m, before = _round({"approach_share": 1.0, "grant_per_service": 8000.0,
                        "fit_out_yuan": 12000.0, "capacity_share": 0.4, "quality": 0.5})
    pol, sup, cats, p = m.policies[0], m.supply, m.categories, m.params
    shops, offers = sup.shops, sup.offers
    assert len(pol.added) > 0
    assert pol._paid_today == 8000.0 * len(pol.added)
    for sid in {s for _, s, _, _ in pol.added}:
        mine = [(k, o) for _, s, k, o in pol.added if s == sid]
        staff = sum(p.secondary_staff_share * cats.staff[k] for k, _ in mine)
        assert shops.staff_day[sid] == pytest.approx(before["staff"][sid] + staff)
        assert shops.cash[sid] == pytest.approx(before["cash"][sid] + len(mine) * (8000.0 - 12000.0))
        primary = np.flatnonzero((offers.shop == sid) & (offers.category == shops.category[sid]))[0]
        for k, o in mine:
            assert cats.names[shops.category[sid]] == "convenience"
            assert offers.shop[o] == sid and offers.site[o] == shops.site[sid]
            assert offers.category[o] == k and cats.names[k] in ("parcel", "repair", "laundry")
            assert offers.capacity[o] == pytest.approx(0.4 * cats.capacity[k])
            assert offers.price[o] == offers.price[primary] and offers.quality[o] == 0.5
            assert offers.margin[o] == pytest.approx(shop_margin(
                m, np.array([k]), np.array([shops.chain[sid]]), np.array([offers.price[primary]]))[0])
        # no store adds a service it already had
        served = offers.category[(offers.shop == sid) & offers.open]
        assert len(served) == len(set(served.tolist()))


@pytest.mark.parametrize(("params", "rule"), [
    ({"who": "chain"}, "chain"), ({"who": "independent"}, "independent"),
    ({"min_floor_m2": 100.0}, "none"), ({"fit_out_yuan": 1e8}, "none"),
    ({"hosts": "convenience,pharmacy", "min_floor_m2": 80.0}, "hosts")])
def test_who_may_convert_and_at_what_cost(params, rule):
    m, _ = _round({"approach_share": 1.0, **params})
    pol, shops, cats = m.policies[0], m.supply.shops, m.categories
    stores = np.array(sorted({s for _, s, _, _ in pol.added}), dtype=np.int64)
    if rule == "none":  # too small (convenience stores have 80 m2), or a fit-out that never pays
        assert len(stores) == 0 and pol._paid_today == 0.0
        return
    assert len(stores) > 0
    if rule == "chain":
        assert shops.chain[stores].all()
    elif rule == "independent":
        assert not shops.chain[stores].any()
    else:
        hosts = {cats.names[k] for k in shops.category[stores]}
        assert hosts == {"convenience", "pharmacy"}


def test_multi_function_stores_raise_service_coverage_and_book_their_grants():
    for base, mf in paired("multi_function_stores", 35, approach_share=0.5):
        pol = mf.policies[0]
        added = {mf.categories.names[k] for _, _, k, _ in pol.added}
        assert added and added <= {"parcel", "repair", "laundry"}
        b, x = base.metrics(), mf.metrics()
        for name in added:
            assert x[f"coverage_{name}"] >= b[f"coverage_{name}"]
        assert sum(x[f"coverage_{n}"] - b[f"coverage_{n}"] for n in added) > 0
        assert x["surplus_yuan"] > b["surplus_yuan"]
        assert mf.ledger["multi_function_stores"] == pytest.approx(
            pol.grant_per_service * len(pol.added))
        # the stores sell the services
        sold = mf.today.offer_revenue[[o for _, _, _, o in pol.added]]
        assert sold.sum() > 0
        assert np.all(mf.supply.shops.open[pol.supported_shops(mf)])


# --- every new lever: lifecycle, what it says it did, inputs checked ---------------------------
def test_the_platform_and_the_stores_act_only_between_start_and_end():
    plat = model_with("smart_platform", start_day=3, end_day=6)
    stores = model_with("multi_function_stores", start_day=3, end_day=6, approach_share=0.5,
                        period_days=1)
    pol_p, pol_s = plat.policies[0], stores.policies[0]
    for _ in range(9):
        plat.step()
        stores.step()
        running = 3 <= plat.day <= 6
        assert bool((plat.access & ACCESS_PLATFORM).any()) == running
        assert (pol_p.platform_shops(plat) is not None) == running
        assert (plat.today.spend_by_policy["smart_platform"] > 0) == running
        assert all(3 <= day <= 6 for day, _, _, _ in pol_s.added)
        if not running:
            assert stores.today.spend_by_policy["multi_function_stores"] == 0
    assert len(pol_s.added) > 0
    # the stores keep the services they invested in
    assert stores.supply.offers.open[[o for _, s, _, o in pol_s.added
                                      if stores.supply.shops.open[s]]].all()


@pytest.mark.parametrize("scenario", ["home_care", "multi_function_stores", "smart_platform"])
def test_every_new_lever_says_what_it_did_and_where(scenario):
    m = CommerceModel(scenario=scenario, rng=3, communities_x=3, communities_y=3)
    m.run_for(35)
    pol = m.policies[0]
    line = pol.progress(m)
    assert isinstance(line, str) and any(ch.isdigit() for ch in line)
    sites = pol.sites(m)
    assert sites.dtype.kind == "i" and len(sites) > 0
    assert np.all((sites >= 0) & (sites < len(m.supply.site_xy)))
    assert np.all(m.supply.shops.open[pol.supported_shops(m)])
    if scenario == "home_care":
        assert len(sites) == pol.n_providers and not m.supply.site_storefront[sites].any()
    else:
        assert len(pol.supported_shops(m)) > 0


@pytest.mark.parametrize(("kind", "key", "value", "phrase"), [
    ("multi_function_stores", "services", "parcel,teleport", "known categories"),
    ("multi_function_stores", "services", "", "known categories"),
    ("multi_function_stores", "hosts", "convenience,parcel", "hosts too"),
    ("multi_function_stores", "who", "everyone", "one of"),
    ("smart_platform", "categories", "repair,repair", "known categories"),
    ("home_care", "radius_m", 0.0, "out of range")])
def test_new_levers_check_their_inputs_when_the_scenario_is_read(kind, key, value, phrase):
    with pytest.raises(ScenarioError, match=phrase):
        load_scenario(kind, {f"policy.{kind}.{key}": value})


def test_knowledge_lines_must_rise_with_age():
    with pytest.raises(ScenarioError, match="know_settled_shop"):
        load_scenario("partial_knowledge", {"know_new_shop": 0.8, "know_settled_shop": 0.5})


def test_instant_retail_subsidizes_its_own_orders_not_care_at_home():
    """Both deliver to the home; each policy books only what it pays for its own offers."""
    sc = load_scenario("home_care", {**SMALL, "policy.home_care.subsidy_share": 0.0,
                                     "policy.home_care.platform_cost_day": 0.0})
    sc = sc.with_policy("instant_retail", subsidy_per_order=2.0)
    m = CommerceModel(scenario=sc, rng=7)
    labels = dict(zip(m.policy_labels, m.policies, strict=True))
    care, retail = labels["home_care"], labels["instant_retail"]
    cared = 0
    for _ in range(10):
        m.step()
        rec, offers = m.today, m.supply.offers
        twins = np.array(list(retail.twin_of.values()), dtype=np.int64)
        orders = int(np.isin(rec.chosen, twins).sum())
        assert rec.spend_by_policy["instant_retail"] == 2.0 * orders
        assert rec.spend_by_policy["home_care"] == 0.0
        cared += int(np.isin(rec.chosen, care.offer_ids).sum())
        assert np.all(offers.online[care.offer_ids])  # delivered to the home too
    assert cared > 0
