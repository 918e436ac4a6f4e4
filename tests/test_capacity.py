"""Capacity binds (ODD 7.4).

No offer ever serves more than ``floor(capacity)`` visits a day; the needs turned away choose
again among the offers that still have room or go without; an offer's crowding memory moves
only on days it was open.
"""

from __future__ import annotations

import numpy as np

from model import CommerceModel

from .conftest import SMALL


def test_no_offer_ever_serves_more_than_its_capacity():
    m = CommerceModel(scenario="mobile_vendors", rng=8, **SMALL)
    offers = m.supply.offers
    tight = np.arange(0, len(offers), 3)
    offers.capacity[tight] = 25.0  # many offers full most days
    over_demand = 0
    for _ in range(40):
        m.step()
        rec = m.today
        cap = np.floor(m.supply.offers.capacity[: len(rec.offer_served)] + 1e-9)
        served = np.bincount(rec.chosen[rec.chosen >= 0], minlength=len(rec.offer_served))
        assert np.array_equal(served, rec.offer_served)
        assert np.all(served <= cap)
        assert np.all(rec.offer_attempts >= served)
        over_demand += int((rec.offer_attempts > cap).sum())
    assert over_demand > 0
    assert m.metrics()["turned_away_rate"] > 0


def test_the_turned_away_choose_again_among_offers_with_room():
    m = CommerceModel(rng=8, **SMALL)
    m.run_for(2)
    offers = m.supply.offers
    offers.capacity[:] = 30.0
    m.step()
    rec = m.today
    again = rec.turned_away
    assert again.sum() > 100
    # some of them are served elsewhere, at offers that still had room, others go without
    assert (rec.chosen[again] >= 0).any() and (rec.chosen[again] < 0).any()
    assert np.all(rec.offer_served <= 30)


def test_crowding_memory_counts_only_days_an_offer_was_open():
    m = CommerceModel(scenario="mobile_vendors", rng=2, **SMALL)
    pol = m.policies[0]
    m.step()
    loads = []
    for _ in range(8):
        before = m.supply.offers.load[pol.offer_ids].copy()
        m.step()
        after = m.supply.offers.load[pol.offer_ids]
        served = pol.todays_stops(m.day)
        # stops the bus did not call at today keep yesterday's memory exactly
        assert np.array_equal(after[~served], before[~served])
        loads.append(after[served] / m.supply.offers.capacity[pol.offer_ids][served])
    assert np.concatenate(loads).max() > 0.2  # on its days a stop's demand shows
