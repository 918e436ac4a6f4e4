"""Policies: identity, lifecycle, and directions (each moves its target, common random numbers).

Money (ledger, rent paid once, budgets, order of policies, zero intensity) is specified in
``test_money.py``; the market's answer to policies (entry) in ``test_entry.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model import CommerceModel, ScenarioError, load_scenario
from model.agents import Shop
from model.metrics import reach_m
from model.policies import POLICY_KINDS, Bus, make_policy
from model.population import ELDERLY, ELDERLY80
from model.supply import SRC_ONLINE

from .conftest import SMALL

BAD = Path(__file__).parent / "bad_scenarios"
ROOT = Path(__file__).resolve().parent.parent
KINDS = sorted(["mobile_vendors", "chain_penetration", "rent_subsidy", "elderly_canteen",
                "instant_retail", "fill_gaps", "neighborhood_center", "idle_space"])


def model_with(kind: str, seed: int = 5, overrides: dict | None = None, **params) -> CommerceModel:
    sc = load_scenario(kind, {**SMALL, **(overrides or {}),
                              **{f"policy.{kind}.{k}": v for k, v in params.items()}})
    return CommerceModel(scenario=sc, rng=seed)


# --- identity ------------------------------------------------------------------------------
def test_policies_print_as_calls_and_save_as_specs():
    sc = load_scenario("combined")
    assert [p["kind"] for p in sc.policies] == ["mobile_vendors", "rent_subsidy", "elderly_canteen",
                                                 "instant_retail", "fill_gaps"]
    for spec in sc.policies:
        pol = make_policy(spec)
        assert repr(pol).startswith(f"{spec['kind']}(start_day=0, end_day=-1")
        assert pol.spec() == spec
        assert make_policy(pol.spec()).spec() == spec
    assert set(POLICY_KINDS) >= set(KINDS)


# --- when: inactive before start and after end -----------------------------------------------
def _footprint(m: CommerceModel, pol) -> float:
    """How much of the policy is visible in the model right now."""
    kind = pol.kind
    if kind == "mobile_vendors":
        return float(m.supply.offers.open[pol.offer_ids].sum())
    if kind == "chain_penetration":
        return float(pol.chain_recruitment(m) > 1.0)
    if kind == "rent_subsidy":
        shares = pol.rent_shares(m)
        return 0.0 if shares is None else float(shares.sum())
    if kind == "elderly_canteen":
        return float(m.supply.shops.open[pol.shop_ids].sum()) if len(pol.shop_ids) else 0.0
    if kind == "instant_retail":
        return float(m.orders_online.sum())
    if kind == "fill_gaps":
        return float(len(pol.opened))
    if kind == "idle_space":
        return float(len(pol.sites_created))
    if kind == "neighborhood_center":
        return float(m.supply.shops.open[pol.shop_ids].sum()) if len(pol.shop_ids) else 0.0
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_policy_inactive_before_start_and_after_end(kind):
    extra = {"operating_cost_day": 5000.0} if kind == "mobile_vendors" else {}
    m = model_with(kind, start_day=4, end_day=9, **extra)
    pol = m.policies[0]
    original = m.params
    spends = []
    for _ in range(14):
        m.step()
        spends.append(m.today.spend_by_policy[kind])
        if m.day < 4:
            assert _footprint(m, pol) == 0, m.day
        if 4 <= m.day <= 9 and kind not in ("fill_gaps",):
            assert _footprint(m, pol) != 0, m.day
    assert all(s == 0 for s in spends[:3])
    assert all(s == 0 for s in spends[9:]), spends
    if kind not in ("chain_penetration", "instant_retail"):
        assert sum(spends[3:9]) > 0
    if kind == "fill_gaps":
        assert _footprint(m, pol) > 0  # one round on day 4
    elif kind == "idle_space":
        assert _footprint(m, pol) > 0  # the renovated spaces stay storefronts
    else:
        assert _footprint(m, pol) == 0  # switched off and restored
    assert m.params == original


# --- directions, with common random numbers ---------------------------------------------------
SEEDS = (31, 32, 33)


def paired(kind: str, days: int, overrides: dict | None = None, **params):
    """(baseline, scenario) model pairs on the same seeds."""
    out = []
    for seed in SEEDS:
        base = CommerceModel(scenario=load_scenario("baseline", {**SMALL, **(overrides or {})}),
                             rng=seed)
        pol = model_with(kind, seed, overrides, **params)
        base.run_for(days)
        pol.run_for(days)
        out.append((base, pol))
    return out


def _covered(m: CommerceModel, k: int, residents: np.ndarray) -> np.ndarray:
    walk = m.candidates.min_walk(m.supply)[m.population.home[residents], k]
    return walk <= reach_m(m, residents)[:, k]


def test_mobile_vendors_raise_fresh_food_coverage_where_they_stop():
    scarce = {"categories.fresh_food.initial_share": 0.01}  # a city short of vegetable markets
    for base, vend in paired("mobile_vendors", 20, scarce, n_buses=2, stops_per_bus=3):
        pol = vend.policies[0]
        assert len(vend.agents_by_type[Bus]) == 2
        for bus in vend.agents_by_type[Bus]:  # each bus stands at one of its stops today
            assert bus.cell.coordinate in [tuple(s) for s in bus.route]
        assert vend.metrics()["coverage_fresh_food"] > base.metrics()["coverage_fresh_food"]
        # residents within a stop's standard walk who lacked fresh food are covered now
        k = base.categories.index["fresh_food"]
        idx = base.present_idx
        lacked = ~_covered(base, k, idx)
        src, home, dist = vend.city.distances_from(vend.supply.site_xy[pol.stop_sites], 1500)
        near = np.zeros(len(vend.city.home_xy), dtype=bool)
        near[home[dist <= reach_m(vend, idx)[:, k].min()]] = True
        target = idx[lacked & near[base.population.home[idx]]]
        assert len(target) > 0
        assert np.all(_covered(vend, k, target))
        # the buses sold vegetables, and the public paid the operating deficit
        sales = vend.today.offer_revenue[pol.offer_ids]
        assert sales.sum() > 0
        kept = 1 - (1 - vend.categories.margin[k]) / pol.price_index
        deficit = max(0.0, 2 * pol.operating_cost_day - kept * sales.sum())
        assert vend.today.spend_by_policy["mobile_vendors"] == pytest.approx(deficit)
        conversion = 2 * pol.conversion_cost_per_bus
        assert conversion <= vend.ledger["mobile_vendors"] <= conversion + 2 * pol.operating_cost_day * 20
        assert vend.metrics()["surplus_yuan"] > base.metrics()["surplus_yuan"]


def test_rent_subsidy_keeps_subsidized_shops_open():
    open_base, open_sub = [], []
    for base, sub in paired("rent_subsidy", 240, share=0.5, tier="basic", budget_per_year=1e9):
        basic_b = base.supply.shops.open & base.categories.basic[base.supply.shops.category]
        basic_s = sub.supply.shops.open & sub.categories.basic[sub.supply.shops.category]
        open_base.append(basic_b.sum())
        open_sub.append(basic_s.sum())
        assert sub.ledger["rent_subsidy"] > 0
        assert sub.metrics()["rent_subsidy_share"] == pytest.approx(0.5)
    assert np.mean(open_sub) > np.mean(open_base)


def test_chain_penetration_raises_chain_rate_through_economics():
    for base, ch in paired("chain_penetration", 150, target_chain_rate=0.5,
                           grant_per_conversion=60_000.0):
        rate_b, rate_c = base.metrics()["chain_rate"], ch.metrics()["chain_rate"]
        assert rate_c > rate_b + 0.02
        assert rate_c <= 0.5 + 0.05
        pol = ch.policies[0]
        assert len(pol.conversions) > 0
        shops, offers = ch.supply.shops, ch.supply.offers
        for _, sid in pol.conversions:  # converted shops take the chain's terms
            mine = offers.shop == sid
            assert shops.chain[sid] and np.all(offers.price[mine] == ch.params.chain_price_index)
        chains = [(x.supply.shops.open & x.supply.shops.chain).sum() for x in (base, ch)]
        assert chains[1] > chains[0]
        assert ch.ledger["chain_penetration"] > 0


def test_a_chain_target_of_one_does_not_make_everyone_satisfied():
    """Chains are cheaper and steadier, not better: a 100% target cannot buy +27 points."""
    gains = []
    for base, ch in paired("chain_penetration", 95, target_chain_rate=1.0,
                           conversion_per_month=1.0, grant_per_conversion=60_000.0):
        gains.append(ch.metrics()["share_satisfied"] - base.metrics()["share_satisfied"])
    assert abs(np.mean(gains)) < 0.08


def online_unmet(m: CommerceModel, users: np.ndarray) -> float:
    """Share of online users' needs in deliverable categories that went unmet today."""
    rec = m.today
    mine = users[rec.need_res] & m.categories.deliverable[rec.need_cat]
    return float((rec.chosen[mine] < 0).mean())


def test_elderly_canteens_raise_elderly_satisfaction_and_price_meals_as_configured():
    gains = []
    for base, can in paired("elderly_canteen", 90, n_canteens=2, discount_60=0.3, free_age=90.0):
        series = [x.datacollector.get_model_vars_dataframe()["surplus_yuan_elderly"] for x in (base, can)]
        gains.append((series[1] - series[0]).iloc[10:].mean())
        pol = can.policies[0]
        rec = can.today
        at = np.isin(rec.chosen, pol.offer_ids)
        assert at.sum() > 0
        age = can.population.age[rec.need_res[at]]
        subsidy = rec.list_value[at] - rec.resident_paid[at]
        expect = np.where(age >= 90, rec.list_value[at],
                          np.where(age >= 60, 0.3 * rec.list_value[at], 0.0))
        assert np.allclose(subsidy, expect)
        # the canteens never go broke; elderly coverage of canteens is higher
        assert can.supply.shops.open[pol.shop_ids].all()
        eld = np.isin(can.population.group[can.present_idx], (ELDERLY, ELDERLY80))
        k = can.categories.index["canteen"]
        assert _covered(can, k, can.present_idx)[eld].mean() > _covered(base, k, base.present_idx)[eld].mean()
    assert np.mean(gains) > 0


def test_instant_retail_serves_online_users_and_they_are_better_off():
    for base, ir in paired("instant_retail", 40, uptake=0.8, delivery_fee=3.0):
        pol = ir.policies[0]
        assert online_unmet(ir, pol.user) < online_unmet(base, pol.user)
        rec, offers = ir.today, ir.supply.offers
        online = np.flatnonzero(offers.source == SRC_ONLINE)
        online_rev = rec.offer_revenue[online]
        assert online_rev.sum() > 0
        # the delivering store (the twin's shop) gets the sale
        stores = offers.shop[online[online_rev > 0]]
        assert np.all(stores >= 0) and np.all(ir.supply.shops.open[stores])
        # delivery fees are paid on top, not counted as store revenue
        assert rec.delivery_fees.sum() > 0
        assert rec.resident_paid.sum() == pytest.approx(rec.offer_revenue.sum() + rec.delivery_fees.sum())
        # non-users never order online
        chosen_online = offers.online[np.maximum(rec.chosen, 0)] & (rec.chosen >= 0)
        assert np.all(pol.user[rec.need_res[chosen_online]])
        # a delivery that saves a walk counts as convenience: the users gain, in yuan and in
        # satisfaction (the old rule scored every delivery below the same need walked)
        users = pol.user[ir.present_idx]
        assert np.nanmean(ir.satisfaction[ir.present_idx][users]) > \
            np.nanmean(base.satisfaction[base.present_idx][users])
        assert ir.metrics()["surplus_yuan"] > base.metrics()["surplus_yuan"]


def test_fill_gaps_opens_missing_basic_formats():
    for base, fg in paired("fill_gaps", 100, overrides={"categories.repair.initial_share": 0.0},
                           period_days=45, per_round=2):
        assert len(fg.policies[0].opened) > 0
        assert fg.metrics()["coverage_basic_all"] >= base.metrics()["coverage_basic_all"]
        assert fg.metrics()["coverage_repair"] > base.metrics()["coverage_repair"]


def test_neighborhood_center_serves_many_categories_in_a_new_community():
    m = model_with("neighborhood_center", n_centers=2)
    m.run_for(3)
    pol = m.policies[0]
    assert len(pol.shop_ids) == 2
    for sid in pol.shop_ids.tolist():
        centre = [s for s in m.agents_by_type[Shop] if s.shop_id == sid][0]
        assert len(centre.categories) == len(pol.cat_idx) >= 5
        assert m.city.community_type[centre.cell.coordinate] == 1


def test_idle_space_adds_storefronts_in_old_communities():
    m = model_with("idle_space", n_spaces=5)
    before = m.supply.site_storefront.sum()
    m.step()
    pol = m.policies[0]
    assert m.supply.site_storefront.sum() == before + 5
    assert np.all(m.city.community_type[pol.cells[:, 0], pol.cells[:, 1]] == 0)
    assert np.all(m.city.cell_type[pol.cells[:, 0], pol.cells[:, 1]] == 1)  # homes stay above
    assert m.ledger["idle_space"] == 5 * pol.renovation_yuan


@pytest.mark.parametrize(("kind", "key", "value"), [
    ("mobile_vendors", "n_buses", 400), ("idle_space", "n_spaces", 5000),
    ("elderly_canteen", "n_canteens", 900), ("neighborhood_center", "n_centers", 90)])
def test_asking_for_more_than_the_city_holds_is_refused_not_capped(kind, key, value):
    with pytest.raises(ScenarioError, match=f"policy.{kind}.{key}.*only"):
        model_with(kind, **{key: value})


@pytest.mark.parametrize(("kind", "key", "value", "phrase"), [
    ("mobile_vendors", "goods", "fresh_food,vegetables", "known categories"),
    ("mobile_vendors", "goods", "", "known categories"),
    ("neighborhood_center", "categories", "convenience,spa", "known categories")])
def test_policy_categories_are_checked_when_the_scenario_is_read(kind, key, value, phrase):
    with pytest.raises(ScenarioError, match=phrase):
        load_scenario(kind, {f"policy.{kind}.{key}": value})


def test_routes_file_is_read_beside_the_scenario_and_its_stops_are_configuration(tmp_path):
    (tmp_path / "routes.toml").write_text("[[bus]]\nstops = [[3, 3], [6, 3]]\n")
    (tmp_path / "mine.toml").write_text(
        'extends = "baseline"\ncommunities_x = 2\ncommunities_y = 2\n'
        '[[policy]]\nkind = "mobile_vendors"\nroutes_file = "routes.toml"\n')
    sc = load_scenario(tmp_path / "mine.toml")
    assert sc.to_dict()["policies"][0]["params"]["route_stops"] == [[(3, 3), (6, 3)]]
    first = sc.config_hash()
    (tmp_path / "routes.toml").write_text("[[bus]]\nstops = [[3, 3], [9, 3]]\n")
    assert load_scenario(tmp_path / "mine.toml").config_hash() != first
    (tmp_path / "routes.toml").write_text("[[bus]]\nstops = [[3, 3], [6]]\n")
    with pytest.raises(ScenarioError, match="bus\\[0\\].stops"):
        load_scenario(tmp_path / "mine.toml")
    (tmp_path / "routes.toml").write_text("[[car]]\nwheels = 4\n")
    with pytest.raises(ScenarioError, match="bus"):
        load_scenario(tmp_path / "mine.toml")


# --- bad scenario files -----------------------------------------------------------------------
CORPUS = sorted(BAD.glob("*.toml"))


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_bad_scenario_corpus_is_rejected(path):
    key, phrase = [s.strip() for s in path.read_text().splitlines()[0].removeprefix("# expect:").split("|")]
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.key == key
    assert phrase in str(err.value)
    assert path.name in str(err.value) or "cycle" in str(err.value)


def test_cli_rejects_bad_files_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    for path in (BAD / "policy_param_typo.toml", BAD / "negative_rent.toml"):
        proc = subprocess.run([sys.executable, "-m", "lifecircle", "run", str(path), "--days", "2",
                               "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 2
        assert "error:" in proc.stderr and path.name in proc.stderr
        assert not out.exists() and list(tmp_path.iterdir()) == []
    proc = subprocess.run([sys.executable, "-m", "lifecircle", "validate", *map(str, CORPUS)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr.count("error:") == len(CORPUS)


def test_cli_run_writes_parquet_config_and_seed(tmp_path):
    import json

    import pandas as pd

    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "lifecircle", "run", "rent_subsidy", "--days", "3",
                           "--seed", "4", "--out", str(out), "--set", "communities_x=2",
                           "--set", "communities_y=2", "--set", "policy.rent_subsidy.share=0.4"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    daily = pd.read_parquet(out / "daily.parquet")
    assert list(daily["day"]) == [1, 2, 3]
    summary = pd.read_parquet(out / "summary.parquet")
    assert summary["seed"].iloc[0] == 4 and summary["spend_rent_subsidy"].iloc[0] > 0
    config = json.loads((out / "config.json").read_text())
    assert config["seed"] == 4 and config["code_version"]
    assert config["scenario"]["policies"][0]["params"]["share"] == 0.4
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no partial folder left


@pytest.mark.parametrize("scenario", ["combined", "chain_penetration", "idle_space",
                                      "neighborhood_center"])
def test_every_policy_says_what_it_did_and_where(scenario):
    """progress() is a line for people; sites() and supported_shops() point at real things."""
    m = CommerceModel(scenario=scenario, rng=3, communities_x=3, communities_y=3)
    m.run_for(95)
    for pol in m.policies:
        line = pol.progress(m)
        assert isinstance(line, str) and line, pol.kind
        sites = pol.sites(m)
        assert sites.dtype.kind == "i" and np.all((sites >= 0) & (sites < len(m.supply.site_xy)))
        shops = pol.supported_shops(m)
        assert np.all(m.supply.shops.open[shops]), pol.kind
    by_kind = {pol.kind: pol for pol in m.policies}
    if "idle_space" in by_kind:
        pol = by_kind["idle_space"]
        assert len(pol.sites(m)) == pol.n_spaces
        assert np.all(m.supply.site_storefront[pol.sites(m)])
    if "neighborhood_center" in by_kind:
        pol = by_kind["neighborhood_center"]
        assert list(pol.supported_shops(m)) == list(pol.shop_ids)
    if "elderly_canteen" in by_kind:
        pol = by_kind["elderly_canteen"]
        assert set(pol.supported_shops(m)) == set(pol.shop_ids)
        assert "canteens open" in pol.progress(m)


def test_coverage_grid_of_one_category_is_at_least_the_all_basic_grid():
    m = CommerceModel(scenario="mobile_vendors", rng=3, communities_x=3, communities_y=3)
    m.run_for(3)
    fresh, basic = m.coverage_grid("fresh_food"), m.coverage_grid()
    lived = ~np.isnan(basic)
    assert np.array_equal(lived, ~np.isnan(fresh))
    assert np.all(fresh[lived] >= basic[lived])
    assert np.nanmax(fresh - basic) > 0
