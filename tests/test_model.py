"""Behaviour and invariants of the core model: agents, people and money, determinism, the city."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import CommerceModel, ScenarioError, simulate
from model.agents import Resident, Shop
from model.city import NEW, OLD, STOREFRONT, WALL, round_half_up
from model.satisfaction import update_satisfaction

from .conftest import SMALL


def test_public_api_and_agents(small_model):
    m = small_model
    m.step()
    metrics = m.metrics()
    assert all(isinstance(v, float) for v in metrics.values())
    for name in ("satisfaction_mean", "share_satisfied", "share_satisfied_old", "share_satisfied_new",
                 "share_satisfied_elderly", "coverage_basic_all", "coverage_fresh_food", "unmet_rate",
                 "mean_walk_min", "chain_rate", "outlets_open", "public_spend", "surplus_yuan",
                 "surplus_yuan_old", "surplus_yuan_new", "surplus_yuan_elderly",
                 "surplus_yuan_nonelderly"):
        assert name in metrics
    assert list(m.datacollector.get_model_vars_dataframe().columns) == m.metric_names()
    assert list(metrics) == m.metric_names()  # the declared names are what is computed
    residents = m.agents_by_type[Resident]
    shops = m.agents_by_type[Shop]
    assert len(residents) == len(m.present_idx)
    assert len(shops) == int(metrics["outlets_open"])
    shop = shops.to_list()[0]
    assert m.city.cell_type[shop.cell.coordinate] == STOREFRONT
    r = residents.to_list()[0]
    assert r.cell.coordinate == tuple(m.city.home_xy[m.population.home[r.index]])
    assert r.reach_m("convenience") == pytest.approx(r.walking_speed * 600.0)
    assert m.city.walkable.dtype == bool and m.city.cell_size_m == 50.0
    assert not m.city.walkable[m.city.cell_type == WALL].any()
    assert m.config.name == "baseline" and m.scenario is not m.config  # Mesa's own attribute
    home = int(m.population.home[r.index])
    walks = m.nearest_walk_m(home)
    assert walks.shape == (m.categories.k,)
    reaches = np.array([r.reach_m(c) for c in m.categories.names])
    cov = m.coverage_grid()  # basic coverage of this cell's residents agrees with the walks
    basic = m.categories.basic
    assert (cov[r.cell.coordinate] == 1.0) == bool(np.all(walks[basic] <= reaches[basic])) or \
        0 < cov[r.cell.coordinate] < 1


def test_residents_equal_occupancy_every_day(small_model):
    m = small_model
    pop = m.population
    for _ in range(40):
        m.step()
        counts = np.bincount(pop.community[pop.present], minlength=len(m.city.community_kind))
        expected = np.rint(pop.capacity_by_community * pop.occupancy(m.day)).astype(int)
        assert np.array_equal(counts, expected)
        assert len(m.agents_by_type[Resident]) == pop.present.sum()
    new = m.city.community_kind == NEW
    assert pop.occupancy(m.day)[new].max() > m.params.occupancy_new_start  # filling
    assert np.allclose(pop.occupancy(m.day)[~new], m.params.occupancy_old)


def test_money_is_conserved(small_model):
    m = small_model
    shops = m.supply.shops
    for _ in range(65):  # crosses two entry months
        cash_before = shops.cash.copy()
        n_before = len(cash_before)
        m.step()
        rec = m.today
        # every yuan residents pay is some provider's revenue (no policy subsidizes here)
        assert rec.resident_paid.sum() == pytest.approx(rec.offer_revenue.sum(), rel=1e-12)
        assert np.all(rec.resident_paid[rec.chosen < 0] == 0)
        # each shop's cash changes by its gross margin minus rent and staff, nothing else
        offers = m.supply.offers
        n_off = len(rec.offer_revenue)  # offers opened by today's entry sold nothing yet
        shop_of = offers.shop[:n_off]
        is_shop = shop_of >= 0
        margin = offers.margin[:n_off] * rec.offer_revenue
        gross = np.bincount(shop_of[is_shop], weights=margin[is_shop], minlength=len(shops))
        fixed = shops.rent_day + shops.staff_day
        was_open = shops.open.copy()
        was_open[rec.closed] = True
        change = shops.cash[:n_before] - cash_before
        expect = np.where(was_open, gross - fixed, 0.0)[:n_before]
        assert np.allclose(change, expect)


def test_chains_buy_cheaper_and_pay_a_royalty():
    m = CommerceModel(rng=2, **SMALL)
    p, offers, shops = m.params, m.supply.offers, m.supply.shops
    primary = offers.shop >= 0
    k = offers.category[primary]
    chain = shops.chain[offers.shop[primary]]
    base = m.categories.margin[k]
    expect = np.where(chain, 1 - (1 - base) * (1 - p.chain_cogs_discount) / p.chain_price_index
                      - p.chain_royalty_share, 1 - (1 - base) / offers.price[primary])
    assert np.allclose(offers.margin[primary], expect)
    assert chain.any() and (~chain).any()
    # chains are steadier, not better: the same mean quality, a smaller spread
    q_chain = offers.quality[primary][chain]
    q_ind = offers.quality[primary][~chain]
    assert q_chain.std() < q_ind.std() / 2
    assert abs(q_chain.mean() - p.independent_quality) < 0.03
    # and they open with head-office backing
    fixed = shops.rent_day + shops.staff_day
    assert np.allclose(shops.cash[shops.chain], p.chain_cash_days * fixed[shops.chain])


def test_shops_close_and_open(small_model):
    m = small_model
    m.run_for(240)
    shops = m.supply.shops
    closed = np.flatnonzero(shops.closed_day >= 0)
    entrants = np.flatnonzero(shops.entrant)
    assert len(entrants) > 0 and len(closed) > 0
    # a closed shop frees its site, its offers are closed, its agent is gone
    sid = closed[0]
    assert m.supply.site_occupant[shops.site[sid]] != sid
    assert not m.supply.offers.open[m.supply.offers.shop == sid].any()
    assert sid not in m.shop_agents
    # closed independents ran out of cash, or were new and kept losing money
    indep = closed[~shops.chain[closed]]
    assert np.all((shops.cash[indep] < 0) | (shops.entrant[indep] & (shops.profit_avg[indep] < 0)))
    # entrants open at storefronts that were vacant, on entry days
    assert np.all(shops.opened_day[entrants] % 30 == 0)
    occupied = m.supply.site_occupant[m.supply.site_occupant >= 0]
    assert len(np.unique(occupied)) == len(occupied)


def test_a_chain_outlet_closes_when_its_backing_runs_out():
    m = CommerceModel(rng=2, chain_cash_days=1.0, chain_review_days=3650, **SMALL)
    shops = m.supply.shops
    chains = np.flatnonzero(shops.chain & shops.open)
    m.run_for(20)
    gone = chains[~shops.open[chains]]
    assert len(gone) > 0
    assert np.all(shops.cash[gone] < 0) and np.all(shops.closed_day[gone] < 20)


def test_same_seed_same_days_other_seed_differs():
    a = simulate("baseline", seed=21, days=35, overrides=SMALL)
    b = simulate("baseline", seed=21, days=35, overrides=SMALL)
    c = simulate("baseline", seed=22, days=35, overrides=SMALL)
    pd.testing.assert_frame_equal(a, b)
    assert not a.drop(columns="day").equals(c.drop(columns="day"))


def test_streams_are_separate(small_model):
    """Needs are drawn from their own stream: changing choice parameters keeps them."""
    other = CommerceModel(rng=7, beta_walk_per_min=0.3, **SMALL)
    small_model.step()
    other.step()
    assert np.array_equal(small_model.today.need_res, other.today.need_res)
    assert np.array_equal(small_model.today.need_cat, other.today.need_cat)
    assert not np.array_equal(small_model.today.chosen, other.today.chosen)


def test_old_and_new_communities_differ(small_model):
    m = small_model
    city = m.city
    kinds = city.community_kind
    assert set(kinds.tolist()) == {OLD, NEW}
    # new superblocks are walled (gated), old ones are not
    walls = city.cell_type == WALL
    assert walls[city.community_type == NEW].any() and not walls[city.community_type == OLD].any()
    # new communities start with more vacant storefronts
    occ = m.supply.site_occupant >= 0
    kind = kinds[city.storefront_community]
    assert occ[kind == OLD].mean() > occ[kind == NEW].mean() + 0.3
    # and with more elderly in old ones
    pop = m.population
    elderly = pop.group[pop.present] >= 2
    assert elderly[pop.kind[pop.present] == OLD].mean() > elderly[pop.kind[pop.present] == NEW].mean()
    # the elderly walk slower, so their own 10-minute reach is shorter
    assert pop.speed_mps[pop.group == 3].max() < pop.speed_mps[pop.group == 0].min()


def test_storefronts_follow_block_area_and_share_old_rounds_half_up():
    small = CommerceModel(rng=1, **SMALL)
    big = CommerceModel(rng=1, block_cells=24, **SMALL)
    # 4x the area, 4x the storefronts (0.61 and 0.67 per hectare, rounded half up)
    assert len(small.city.storefront_xy) == 2 * 22 + 2 * 24
    assert len(big.city.storefront_xy) == 2 * round_half_up(0.61 * 144) + 2 * round_half_up(0.67 * 144)
    assert round_half_up(2.5) == 3 and round(2.5) == 2
    m = CommerceModel(rng=1, communities_x=2, communities_y=1, share_old=0.25)
    assert (m.city.community_kind == OLD).sum() == 1  # 0.5 communities -> 1, not 0
    with pytest.raises(ScenarioError, match="storefronts_per_ha_old"):
        CommerceModel(rng=1, storefronts_per_ha_old=50.0, **SMALL)


def test_satisfaction_averages_the_first_outcomes_then_moves():
    sat = np.full(3, np.nan)
    seen = np.zeros(3, dtype=np.int64)
    update_satisfaction(sat, seen, np.array([0, 0, 1]), np.array([0.2, 0.6, 0.9]), 0.25)
    assert sat[0] == pytest.approx(0.4) and sat[1] == pytest.approx(0.9) and np.isnan(sat[2])
    # outcomes 3 and 4 are still averaged (1/memory = 4), the fifth weighs 0.25
    update_satisfaction(sat, seen, np.array([0, 0]), np.array([1.0, 1.0]), 0.25)
    assert sat[0] == pytest.approx((0.2 + 0.6 + 1.0 + 1.0) / 4)
    update_satisfaction(sat, seen, np.array([0]), np.array([0.0]), 0.25)
    assert sat[0] == pytest.approx(0.7 * 0.75)
    assert list(seen) == [5, 1, 0]


def test_satisfaction_follows_outcomes(small_model):
    m = small_model
    m.run_for(20)
    s = m.satisfaction[m.present_idx]
    rated = ~np.isnan(s)
    assert rated.mean() > 0.95
    assert 0 <= s[rated].min() and s[rated].max() <= 1 and s[rated].std() > 0.01
    unmet = np.bincount(m.today.need_res[m.today.chosen < 0], minlength=m.population.n)
    met = np.bincount(m.today.need_res[m.today.chosen >= 0], minlength=m.population.n)
    worse = np.nanmean(m.satisfaction[(unmet > 0) & (met == 0)])
    better = np.nanmean(m.satisfaction[(met > 1) & (unmet == 0)])
    assert worse < better


def test_rates_are_nan_on_a_day_without_needs():
    m = CommerceModel(rng=1, **SMALL, overrides={f"categories.{c}.{f}": 0.0
                                                 for c in ("convenience", "fresh_food", "breakfast",
                                                           "repair", "pharmacy", "parcel", "hair",
                                                           "laundry", "canteen", "elderly_care",
                                                           "childcare", "fitness", "dining")
                                                 for f in ("freq_worker", "freq_family",
                                                           "freq_elderly", "freq_80plus")})
    m.step()
    mt = m.metrics()
    assert len(m.today.need_res) == 0
    for name in ("unmet_rate", "turned_away_rate", "mean_walk_min", "satisfaction_mean"):
        assert np.isnan(mt[name]), name
    assert mt["surplus_yuan"] == 0.0


def test_every_category_zero_at_day_0_is_a_clear_error():
    with pytest.raises(ScenarioError, match="initial_share"):
        CommerceModel(rng=1, **SMALL, overrides={f"categories.{c}.initial_share": 0.0
                                                 for c in ("convenience", "fresh_food", "breakfast",
                                                           "repair", "pharmacy", "parcel", "hair",
                                                           "laundry", "canteen", "elderly_care",
                                                           "childcare", "fitness", "dining")})


def test_mesa_batch_run_passes_parameters_as_keywords():
    import mesa

    res = mesa.batch_run(CommerceModel, parameters={**SMALL, "share_old": [0.25, 0.75]}, rng=[1],
                         number_processes=1, max_steps=2, data_collection_period=-1,
                         display_progress=False)
    assert sorted(r["share_old"] for r in res) == [0.25, 0.75]
    assert all(0 <= r["share_satisfied"] <= 1 for r in res)


def test_a_city_without_shops_runs_and_leaves_every_need_unmet():
    m = CommerceModel(rng=1, storefront_occupancy_old=0.0, storefront_occupancy_new=0.0,
                      entrants_per_vacancy_month=0.0, **SMALL)
    m.run_for(3)
    metrics = m.metrics()
    assert metrics["outlets_open"] == 0 and metrics["unmet_rate"] == 1.0
    assert metrics["coverage_basic_all"] == 0.0 and metrics["surplus_yuan"] == 0.0
    assert m.today.resident_paid.sum() == 0 and len(m.today.need_res) > 0
