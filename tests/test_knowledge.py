"""Consideration sets and the smart platform (issue 15).

* a resident never chooses an offer it does not know (checked with the knowledge state at the
  moment of choice), and there are offers within reach it does not know;
* with the platform, its users know every listed shop within reach;
* the knowledge terms follow the documented formulas, by hand; a resident's knowledge of an
  offer is a fixed draw (the same on every day the terms are the same);
* the state is per offer and per (home cell, category): nothing per (resident, offer);
* the platform raises the surplus over common-random-number seeds, and small, rarely used
  services gain the most; it books its running cost.

Kernel = reference and thread independence with knowledge on are in ``test_choice.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import model.model as model_module
from model import CommerceModel, load_scenario
from model.choice import run_choice
from model.knowledge import knows
from model.reference import hash01, reference_probabilities
from model.supply import ACCESS_PLATFORM, SRC_SHOP

from .conftest import SMALL

SEEDS = (31, 32, 33)


def platform_model(seed: int = 5, **params) -> CommerceModel:
    sc = load_scenario("smart_platform", {**SMALL, **{f"policy.smart_platform.{k}": v
                                                      for k, v in params.items()}})
    return CommerceModel(scenario=sc, rng=seed)


def _walk_of(m: CommerceModel, r: int, k: int, o: int) -> float:
    idx = m.candidates
    row = int(m.population.home[r]) * idx.k + k
    a, b = idx.ptr[row], idx.ptr[row + 1]
    j = a + int(np.flatnonzero(idx.offer[a:b] == o)[0])
    return float(idx.walk_m[j])


def test_a_resident_never_chooses_an_offer_it_does_not_know(monkeypatch):
    m = platform_model(join_share=0.3)
    seen: list[tuple[int, int]] = []  # (choices at shops checked, candidates not known)

    def checked(model, need_res, need_cat, uniforms):
        terms = model.knowledge.terms(model)  # the state at the moment of choice
        out = run_choice(model, need_res, need_cat, uniforms)
        offers = model.supply.offers
        at_shop = (out.chosen >= 0) & (offers.source[np.maximum(out.chosen, 0)] == SRC_SHOP)
        res, cat, cho = need_res[at_shop], need_cat[at_shop], out.chosen[at_shop]
        walks = np.array([_walk_of(model, int(r), int(k), int(o))
                          for r, k, o in zip(res, cat, cho, strict=True)])
        assert np.all(knows(terms, model, res, cho, walks))
        # the candidates of the first 300 needs: some are unknown (the rule has bite)
        idx = model.candidates
        unknown = 0
        for r, k in zip(need_res[:300].tolist(), need_cat[:300].tolist(), strict=True):
            row = int(model.population.home[r]) * idx.k + k
            a, b = idx.ptr[row], idx.ptr[row + 1]
            cand = idx.offer[a:b].astype(np.int64)
            unknown += int((~knows(terms, model, np.full(len(cand), r), cand,
                                   idx.walk_m[a:b])).sum())
        seen.append((int(at_shop.sum()), unknown))
        return out

    monkeypatch.setattr(model_module, "run_choice", checked)
    m.run_for(12)
    assert len(seen) == 12
    assert min(c for c, _ in seen) > 500 and min(u for _, u in seen) > 50


def test_with_the_platform_its_users_know_every_listed_shop_within_reach():
    m = platform_model(join_share=0.5, uptake=0.8)
    m.run_for(5)
    pol = m.policies[0]
    terms = m.knowledge.terms(m)
    listed_shops = pol.platform_shops(m)
    assert len(listed_shops) > 5
    offers, idx, pop = m.supply.offers, m.candidates, m.population
    users = m.present_idx[(m.access[m.present_idx] & ACCESS_PLATFORM) != 0]
    others = m.present_idx[(m.access[m.present_idx] & ACCESS_PLATFORM) == 0]
    assert np.array_equal(np.sort(users), np.sort(m.present_idx[pol.user[m.present_idx]]))
    rng = np.random.default_rng(1)
    missed_by_others = 0
    for group, is_user in ((users, True), (others, False)):
        for r in rng.choice(group, size=60, replace=False).tolist():
            for k in range(m.categories.k):
                row = int(pop.home[r]) * idx.k + k
                a, b = idx.ptr[row], idx.ptr[row + 1]
                cand = idx.offer[a:b].astype(np.int64)
                listed = terms.listed[cand] & offers.open[cand]
                if not listed.any():
                    continue
                known = knows(terms, m, np.full(len(cand), r), cand, idx.walk_m[a:b])
                if is_user:
                    assert known[listed].all()
                    # and they are in the resident's choice set (with positive probability)
                    got, probs, _ = reference_probabilities(m, r, k)
                    usable = listed & offers.today[cand]
                    assert set(cand[usable].tolist()) <= set(got)
                else:
                    missed_by_others += int((~known[listed]).sum())
    assert missed_by_others > 0  # without the platform, listed shops can be unknown


def test_knowledge_terms_follow_the_formulas_by_hand():
    m = platform_model(join_share=0.5)
    m.run_for(40)
    p, offers, shops = m.params, m.supply.offers, m.supply.shops
    t = m.knowledge.terms(m)
    for o in np.flatnonzero((offers.source == SRC_SHOP) & offers.open)[:40].tolist():
        opened = int(shops.opened_day[offers.shop[o]])
        age = m.day - opened + (p.know_incumbent_age_days if opened == 0 else 0)
        known = p.know_new_shop + (p.know_settled_shop - p.know_new_shop) * (
            1 - np.exp(-age / p.know_age_days))
        assert t.miss_offer[o] == pytest.approx(1 - known)
    assert np.all(t.miss_offer[offers.source != SRC_SHOP] == 0)  # announced: always known
    # the homes' visits per category are today's met walk-in needs, summed
    K = m.categories.k
    n_h = np.bincount(m.population.home[m.present_idx], minlength=len(m.city.home_xy))
    h = int(np.argmax(n_h))
    for k in range(K):
        v = m.knowledge.visits[h * K + k]
        assert t.miss_home[h * K + k] == pytest.approx(np.exp(-v / n_h[h] / p.know_visits_per_resident))
    assert m.knowledge.visits.sum() > 0
    # nothing per (resident, offer): the state is per offer and per (home, category)
    n_homes = len(m.city.home_xy)
    assert m.knowledge.visits.shape == (n_homes * K,)
    assert t.miss_home.shape == (n_homes * K,)
    assert t.miss_offer.shape == t.listed.shape == (len(offers),)


def test_knowing_an_offer_is_a_fixed_draw_per_resident_and_offer():
    m = platform_model()
    m.run_for(3)
    t = m.knowledge.terms(m)
    rng = np.random.default_rng(3)
    r = rng.choice(m.present_idx, size=500)
    o = rng.choice(np.flatnonzero(m.supply.offers.source == SRC_SHOP), size=500)
    walks = np.full(500, 1e6)
    first = knows(t, m, r, o, walks)
    assert np.array_equal(first, knows(t, m, r, o, walks))  # the same terms, the same answer
    u = np.array([hash01(int(t.salt), int(a), int(b)) for a, b in zip(r, o, strict=True)])
    assert np.array_equal(first | t.listed[o] & ((m.access[r] & ACCESS_PLATFORM) != 0),
                          first)  # listed-and-user pairs are known
    row = m.population.home[r].astype(np.int64) * m.categories.k + m.supply.offers.category[o]
    by_chance = u >= t.miss_offer[o] * t.miss_home[row]
    platform = t.listed[o] & ((m.access[r] & ACCESS_PLATFORM) != 0)
    assert np.array_equal(first, by_chance | platform)
    # another seed, another salt: other residents know other shops
    other = platform_model(seed=6)
    assert other.knowledge.salt != m.knowledge.salt


def test_the_platform_raises_surplus_and_small_services_gain_the_most():
    gains, ratio_small, ratio_big = [], [], []
    for seed in SEEDS:
        base = CommerceModel(scenario=load_scenario("partial_knowledge", SMALL), rng=seed)
        plat = platform_model(seed, join_share=1.0, uptake=1.0)
        rev_b = rev_p = None
        for _ in range(28):  # before the first monthly entry the shops are the same
            base.step()
            plat.step()
            rb = base.today.offer_revenue
            rp = plat.today.offer_revenue[: len(rb)]
            rev_b = rb if rev_b is None else rev_b + rb[: len(rev_b)]
            rev_p = rp if rev_p is None else rev_p + rp[: len(rev_p)]
        db = base.datacollector.get_model_vars_dataframe()
        dp = plat.datacollector.get_model_vars_dataframe()
        gains.append((dp["surplus_yuan"] - db["surplus_yuan"]).iloc[5:].mean())
        offers, cats = base.supply.offers, base.categories
        shop = offers.source[: len(rev_b)] == SRC_SHOP
        for names, out in ((("repair", "laundry"), ratio_small), (("convenience",), ratio_big)):
            ks = [cats.index[n] for n in names]
            sel = shop & np.isin(offers.category[: len(rev_b)], ks)
            out.append(rev_p[sel].sum() / rev_b[sel].sum())
        assert plat.ledger["smart_platform"] == pytest.approx(28 * 300_000.0 / 365)
    assert min(gains) > 0
    assert np.mean(ratio_small) > np.mean(ratio_big) > 0.95


def test_without_consideration_sets_the_platform_changes_no_choice():
    base = CommerceModel(rng=4, **SMALL)
    sc = load_scenario("smart_platform", {**SMALL, "consideration_sets": False})
    plat = CommerceModel(scenario=sc, rng=4)
    base.run_for(35)
    plat.run_for(35)
    db = base.datacollector.get_model_vars_dataframe()
    dp = plat.datacollector.get_model_vars_dataframe()
    spend = [c for c in db.columns if "spend" in c]
    assert db.drop(columns=spend).equals(dp.drop(columns=spend))
    assert dp["spend_smart_platform"].iloc[-1] > 0


def test_the_fixed_draws_are_uniform_and_independent_across_offers_and_residents():
    """Structured inputs (consecutive residents and offers): the draws behave as uniforms."""
    from model.knowledge import _hash_many

    salt = np.uint64(0x5EED)
    r = np.repeat(np.arange(2_000), 100)
    o = np.tile(np.arange(100), 2_000)
    u = _hash_many(salt, r, o).reshape(2_000, 100)
    n = u.size
    for p in (0.05, 0.3, 0.5, 0.9):
        assert abs((u < p).mean() - p) < 5 * np.sqrt(p * (1 - p) / n)
    # neighbouring offers of one resident, and neighbouring residents for one offer
    both_offers = ((u[:, :-1] < 0.5) & (u[:, 1:] < 0.5)).mean()
    both_residents = ((u[:-1, :] < 0.5) & (u[1:, :] < 0.5)).mean()
    for share in (both_offers, both_residents):
        assert abs(share - 0.25) < 5 * np.sqrt(0.25 * 0.75 / n)
    assert abs(np.corrcoef(u[:, 0], u[:, 1])[0, 1]) < 0.06
