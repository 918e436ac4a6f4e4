"""What residents know: consideration sets (看得见、找得到), without per-resident-per-offer tables.

With ``consideration_sets`` on, a resident chooses only among the offers within reach that it
knows (the outside option is always there). Resident r knows offer o (at home cell h, of
category k) when any of these holds:

* the offer is in sight: its walk is at most ``know_sight_m`` (passed every day);
* the resident uses the smart platform (the ``ACCESS_PLATFORM`` bit of ``model.access``) and
  the offer's shop is listed on it (``Policy.platform_shops``);
* ``hash01(r, o) >= miss_offer[o] * miss_home[h, k]``, i.e. with probability
  ``1 - miss_offer[o] * miss_home[h, k]``, where

  - ``1 - miss_offer[o] = know_new_shop + (know_settled_shop - know_new_shop)
    (1 - exp(-age / know_age_days))`` grows with the shop's age (days open; shops open at
    day 0 count ``know_incumbent_age_days`` more): word of mouth and signs;
  - ``1 - miss_home[h, k] = 1 - exp(-V[h, k] / (n_h know_visits_per_resident))`` grows with
    the visits ``V`` the residents of home cell h have made to walk-in offers of category k
    so far (n_h: residents living there today): a household that uses a format often knows
    more of its providers.

  Offers that are not shops' (vendor stops, deliveries, care at home) are always known: they
  are announced to the residents they serve.

``hash01(r, o)`` is a fixed 64-bit mix of (resident, offer) and a salt drawn from the model's
seed, mapped to [0, 1): the resident's key (splitmix64 of r and the salt, once per need), then
one multiply-xorshift round with the offer (per candidate). A resident's knowledge of an offer
is the same from one day to the next and rises only as the probability rises, and nothing is
stored per (resident, offer). The state is per offer (shop age, platform listing) and per
(home cell, category) (visits), so memory scales with offers + homes x categories, not
residents x offers; the choice kernels evaluate the rule for each candidate they weigh (one
multiply-xorshift round and a comparison, without a branch).

Coverage metrics stay physical (an open provider within the standard walk, known or not);
entrants still expect to be known to everyone within reach (they learn otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .supply import ACCESS_PLATFORM, SRC_SHOP, SRC_VENDOR

KNOWLEDGE_SPAWN_KEY = 1_000  # spawn key of the salt under the model's root seed (no stream shifts)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@numba.njit(cache=True, nogil=True, inline="always")
def resident_hash(salt, r):  # pragma: no cover - compiled
    """The resident's 64-bit key: splitmix64 of ``r`` xor the salt (once per need)."""
    z = (np.uint64(r) ^ salt) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, nogil=True, inline="always")
def pair_uniform(hr, o):  # pragma: no cover - compiled
    """A uniform in [0, 1) fixed by a resident's key ``hr`` and offer ``o`` (one mixing round)."""
    z = hr ^ (np.uint64(o) * _GOLDEN)
    z = (z ^ (z >> np.uint64(32))) * _MIX2
    z = z ^ (z >> np.uint64(29))
    return np.float64(z >> np.uint64(11)) * _TO_UNIT


@numba.njit(cache=True, nogil=True)
def hash01(salt, r, o):  # pragma: no cover - compiled
    """``pair_uniform(resident_hash(salt, r), o)``: resident r's fixed uniform for offer o."""
    return pair_uniform(resident_hash(salt, r), o)


@dataclass
class KnowledgeTerms:
    """The day's knowledge state as the kernels read it.

    Attributes:
        on: consideration sets apply (else everyone knows every offer within reach).
        salt: the model's salt of ``hash01``.
        sight_m: walks up to this are always known.
        miss_offer: per offer, the chance of not knowing it from its age alone (0: always known).
        miss_home: per (home cell, category), flat ``home * K + k``: the chance of not knowing
            an offer from the home's visits alone.
        listed: per offer, its shop is on a smart platform that runs today.
    """

    on: bool
    salt: np.uint64
    sight_m: float
    miss_offer: np.ndarray
    miss_home: np.ndarray
    listed: np.ndarray


class Knowledge:
    """The state residents' knowledge grows from: the homes' visits per category.

    Args:
        model: the CommerceModel (its parameters, city and category table).
        salt: the salt of ``hash01`` (from the model's root seed).
    """

    def __init__(self, model, salt: np.uint64):
        self.on = bool(model.params.consideration_sets)
        self.salt = np.uint64(salt)
        self.visits = np.zeros(len(model.city.home_xy) * model.categories.k)

    def record(self, model, record) -> None:
        """Add today's met needs at walk-in offers to the homes' visits per category."""
        if not self.on:
            return
        offers = model.supply.offers
        met = record.chosen >= 0
        chosen = record.chosen[met]
        walk_in = np.isin(offers.source[chosen], (SRC_SHOP, SRC_VENDOR)) & ~offers.online[chosen]
        key = (model.population.home[record.need_res[met][walk_in]].astype(np.int64)
               * model.categories.k + record.need_cat[met][walk_in])
        self.visits += np.bincount(key, minlength=len(self.visits))

    def terms(self, model) -> KnowledgeTerms:
        """Today's terms (see the module docstring)."""
        p, offers, shops = model.params, model.supply.offers, model.supply.shops
        n_off = len(offers)
        if not self.on:
            return KnowledgeTerms(False, self.salt, 0.0, np.zeros(n_off), np.zeros(0),
                                  np.zeros(n_off, dtype=bool))
        is_shop = (offers.source == SRC_SHOP) & (offers.shop >= 0)
        sid = np.where(is_shop, offers.shop, 0)
        opened = shops.opened_day[sid].astype(np.float64) if len(shops) else np.zeros(n_off)
        age = model.day - opened + np.where(opened == 0, p.know_incumbent_age_days, 0.0)
        known = p.know_new_shop + (p.know_settled_shop - p.know_new_shop) * \
            (1.0 - np.exp(-np.maximum(age, 0.0) / p.know_age_days))
        miss_offer = np.where(is_shop, 1.0 - known, 0.0)
        n_homes, K = len(model.city.home_xy), model.categories.k
        residents = np.bincount(model.population.home[model.present_idx], minlength=n_homes)
        per_resident = self.visits.reshape(n_homes, K) / np.maximum(residents, 1)[:, None]
        miss_home = np.exp(-per_resident / p.know_visits_per_resident).ravel()
        listed = np.zeros(n_off, dtype=bool)
        for pol in model.policies:
            shop_ids = pol.platform_shops(model)
            if shop_ids is not None and len(shop_ids):
                listed |= is_shop & np.isin(offers.shop, shop_ids)
        return KnowledgeTerms(True, self.salt, float(p.know_sight_m), miss_offer, miss_home,
                              listed)


def knows(terms: KnowledgeTerms, model, residents: np.ndarray, offers: np.ndarray,
          walks: np.ndarray) -> np.ndarray:
    """Bool per (resident, offer, walk) triple: the resident knows the offer (vectorized rule).

    For people and tests (the kernels evaluate the same rule candidate by candidate).
    """
    residents = np.asarray(residents, dtype=np.int64)
    offers = np.asarray(offers, dtype=np.int64)
    if not terms.on:
        return np.ones(len(residents), dtype=bool)
    u = _hash_many(terms.salt, residents, offers)
    row = model.population.home[residents].astype(np.int64) * model.categories.k + \
        model.supply.offers.category[offers]
    by_chance = u >= terms.miss_offer[offers] * terms.miss_home[row]
    platform = ((model.access[residents] & ACCESS_PLATFORM) != 0) & terms.listed[offers]
    return (np.asarray(walks) <= terms.sight_m) | platform | by_chance


@numba.njit(cache=True)
def _hash_many(salt, residents, offers):  # pragma: no cover - compiled
    out = np.empty(residents.shape[0])
    for i in range(residents.shape[0]):
        out[i] = hash01(salt, residents[i], offers[i])
    return out
