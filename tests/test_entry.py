"""The market answers: entry follows opportunity, expectations are unbiased, every entry
parameter has an effect, and entrants count the support that policies would give them.

Each direction is checked on the first entry round (day 30) over common-random-number seeds:
up to that day every run is the same, so the difference is the parameter's alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from model import CommerceModel
from model.entry import sales_error

CITY = {"communities_x": 3, "communities_y": 3}
SEEDS = (41, 42, 43, 44, 45)


def first_round(overrides: dict, scenario: str = "baseline") -> np.ndarray:
    """(openings, chain openings) of the day-30 entry round, per seed."""
    out = []
    for seed in SEEDS:
        m = CommerceModel(scenario=scenario, rng=seed, **CITY, overrides=overrides)
        m.run_for(30)
        new = m.today.opened
        out.append((len(new), int(m.supply.shops.chain[new].sum())))
    return np.array(out)


@pytest.mark.parametrize(("name", "low", "high", "column", "sign"), [
    ("entrants_per_vacancy_month", 0.05, 0.3, 0, +1),
    ("entry_margin", 0.0, 2.0, 0, -1),
    ("entry_candidates", 2, 30, 0, +1),
    ("entry_error_sd", 0.0, 1.5, 0, +1),
    ("entry_optimism", 0.5, 2.0, 0, +1),
    ("chain_min_revenue", 0.0, 3.0, 1, -1),
    ("chain_entrant_share", 0.1, 0.8, 1, +1),
])
def test_every_entry_parameter_moves_entry_the_expected_way(name, low, high, column, sign):
    lo, hi = first_round({name: low})[:, column], first_round({name: high})[:, column]
    diff = sign * (hi - lo)
    assert np.all(diff >= 0), (lo, hi)
    assert diff.sum() >= 5, (lo, hi)


def test_grants_count_more_when_entrants_look_less_far_ahead():
    params = {"policy.chain_penetration.grant_per_chain_entry": 300_000.0,
              "policy.chain_penetration.budget_per_year": 1e8, "chain_min_revenue": 0.0,
              "entry_margin": 3.0}  # a high hurdle: only a grant counted near can clear it
    far = first_round({**params, "entry_horizon_days": 3650.0}, "chain_penetration")[:, 1]
    near = first_round({**params, "entry_horizon_days": 60.0}, "chain_penetration")[:, 1]
    assert np.all(near >= far) and near.sum() > far.sum()


def test_would_be_entrants_do_not_all_enter():
    """Entry answers profit: where no storefront clears its hurdle, the would-be entrant stays out."""
    entered, came = 0, 0
    for seed in SEEDS:
        m = CommerceModel(rng=seed, **CITY)
        for _ in range(180):
            m.step()
            entered += len(m.today.opened)
            came += m.today.would_be_entrants
    assert 0 < entered < 0.9 * came  # some would-be entrants find nothing worth opening
    m = CommerceModel(rng=41, **CITY, entry_margin=10.0)
    m.run_for(30)
    assert m.today.would_be_entrants > 0 and len(m.today.opened) == 0


def test_an_emptied_city_refills_and_a_full_one_does_not():
    empty = CommerceModel(rng=7, **CITY, storefront_occupancy_old=0.0, storefront_occupancy_new=0.0)
    usual = CommerceModel(rng=7, **CITY)
    full = CommerceModel(rng=7, **CITY, storefront_occupancy_old=1.0, storefront_occupancy_new=1.0)
    for m in (empty, usual, full):
        m.run_for(180)
    opened = {name: m.datacollector.get_model_vars_dataframe()["outlets_opened"].sum()
              for name, m in (("empty", empty), ("usual", usual), ("full", full))}
    assert opened["empty"] > 2 * opened["usual"] > 0
    # at a believable pace: a quarter or more of the usual city's outlets within half a year,
    # not all of them at once
    outlets = {name: m.metrics()["outlets_open"] for name, m in (("empty", empty), ("usual", usual))}
    assert 0.25 * outlets["usual"] < outlets["empty"] <= outlets["usual"] * 1.2
    first_month = empty.datacollector.get_model_vars_dataframe()["outlets_opened"].iloc[29]
    assert first_month < 0.6 * outlets["usual"]
    # a city without vacancies sees no entry until shops close
    closed_before = full.datacollector.get_model_vars_dataframe()["outlets_closed"].cumsum()
    opened_full = full.datacollector.get_model_vars_dataframe()["outlets_opened"]
    assert np.all(opened_full.cumsum() <= closed_before + 1e-9)


def test_entrants_errors_have_mean_one():
    rng = np.random.default_rng(3)
    for sigma in (0.3, 1.0, 2.0):
        x = sales_error(rng, sigma, 1.0, 400_000)
        assert x.mean() == pytest.approx(1.0, abs=4 * x.std() / np.sqrt(len(x)))
        assert np.median(x) < 1.0  # a skewed error: most entrants expect too little
    assert sales_error(rng, 0.5, 1.5, 400_000).mean() == pytest.approx(1.5, rel=0.01)


def test_entrants_estimate_is_the_choice_model_share_of_todays_demand():
    """With no error the estimate equals what the choice model gives that outlet on average
    (the shops opened the same month compete, so the first of them expects more)."""
    from model.reference import reference_probabilities

    m = CommerceModel(rng=41, **CITY, entry_error_sd=0.0, entrants_per_vacancy_month=0.02)
    m.run_for(30)
    shops, offers, pop, cats = m.supply.shops, m.supply.offers, m.population, m.categories
    new = m.today.opened
    assert len(new) >= 1
    sid = int(new[-1])  # the last entrant of the month saw every other
    k = int(shops.category[sid])
    o = int(np.flatnonzero((offers.shop == sid) & (offers.category == k))[0])
    offers.quality[o] = m.params.independent_quality  # as the entrant assumed
    exact = 0.0
    for r in m.present_idx[::3]:
        ids, probs, _ = reference_probabilities(m, int(r), k)
        if o in ids:
            exact += 3 * cats.freq[pop.group[r], k] * m.spend_mult[pop.income[r]] * probs[ids.index(o)]
    exact *= cats.spend[k] * offers.price[o]
    assert shops.expected_sales[sid] == pytest.approx(exact, rel=0.15)


def test_entrants_count_the_rent_subsidy_they_would_get():
    support = {"policy.rent_subsidy.share": 0.9, "policy.rent_subsidy.budget_per_year": 1e9,
               "policy.rent_subsidy.tier": "all", "entry_margin": 1.0}
    base = first_round({"entry_margin": 1.0})[:, 0]
    subsidized = first_round(support, "rent_subsidy")[:, 0]
    assert np.all(subsidized >= base) and subsidized.sum() > base.sum()
