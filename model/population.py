"""Residents as arrays: drawn once for every home place, present once they have moved in.

Every place in every home cell gets a potential resident at set-up (age, group, income,
digital adoption, walking speed); a community's occupancy curve decides how many of them live
there on a given day, in a fixed random move-in order. So the number of residents present
always equals capacity x occupancy, and move-ins need no further random draws.

Whether an elderly resident lives alone (``lives_alone``) is drawn last, on a child stream of
the population stream (``Generator.spawn``), so adding it shifted none of the other draws.
"""

from __future__ import annotations

import numpy as np

from .city import NEW, OLD, City
from .params import Params

WORKER, FAMILY, ELDERLY, ELDERLY80 = 0, 1, 2, 3
LOW, MID, HIGH = 0, 1, 2


class Population:
    """Resident attributes as arrays indexed by resident number.

    Attributes:
        home: home-cell index (into ``City.home_xy``).
        community: community id; kind: OLD / NEW.
        age: years; group: WORKER / FAMILY / ELDERLY / ELDERLY80.
        income: LOW / MID / HIGH; digital: adopts online ordering.
        speed_mps: walking speed (each category's standard walk, in minutes, is walked at it).
        move_rank: order of moving in within the community (0 first).
        present: lives here today.
    """

    def __init__(self, params: Params, city: City, rng: np.random.Generator):
        home = np.repeat(np.arange(len(city.home_xy)), city.home_capacity)
        n = len(home)
        self.home = home.astype(np.int32)
        self.community = city.home_community[home].astype(np.int32)
        self.kind = city.community_kind[self.community]
        old = self.kind == OLD
        p_eld = np.where(old, params.share_elderly_old, params.share_elderly_new)
        p_fam = np.where(old, params.share_family_old, params.share_family_new)
        u = rng.random(n)
        elderly = u < p_eld
        family = (~elderly) & (u < p_eld + p_fam)
        old80 = elderly & (rng.random(n) < params.share_80plus_of_elderly)
        self.group = np.full(n, WORKER, dtype=np.int8)
        self.group[family] = FAMILY
        self.group[elderly] = ELDERLY
        self.group[old80] = ELDERLY80
        # ages: 18-59 uniform; 60-79 uniform; 80+ = 80 + exponential(mean 5), at most 105
        age = rng.uniform(18, 60, n)
        age[elderly] = rng.uniform(60, 80, elderly.sum())
        age[old80] = np.minimum(80 + rng.exponential(5.0, old80.sum()), 105)
        age[family] = rng.uniform(25, 45, family.sum())
        self.age = age.astype(np.float32)
        ui = rng.random(n)
        lo, hi = params.share_low_income, params.share_high_income
        # the elderly are poorer: their low-income share is raised by half (assumption)
        lo_r = np.where(elderly, np.minimum(1.0, lo * 1.5), lo)
        self.income = np.where(ui < lo_r, LOW, np.where(ui > 1 - hi, HIGH, MID)).astype(np.int8)
        p_dig = np.choose(self.group, [params.digital_worker, params.digital_worker,
                                       params.digital_elderly, params.digital_80plus])
        self.digital = rng.random(n) < p_dig
        self.speed_mps = np.choose(self.group, [params.speed_worker_mps, params.speed_family_mps,
                                                params.speed_elderly_mps,
                                                params.speed_80plus_mps]).astype(np.float32)
        self.move_rank = np.empty(n, dtype=np.int64)
        self.capacity_by_community = np.bincount(self.community, minlength=len(city.community_kind))
        for cid in range(len(city.community_kind)):
            members = np.flatnonzero(self.community == cid)
            self.move_rank[members] = rng.permutation(len(members))
        self.present = np.zeros(n, dtype=bool)
        # on its own child stream: the draws above are exactly those made before it existed
        alone_rng = rng.spawn(1)[0]
        self.lives_alone = elderly & (alone_rng.random(n) < params.share_alone_of_elderly)
        self.n = n
        self.community_kind = city.community_kind
        self.params = params

    def occupancy(self, day: int) -> np.ndarray:
        """Occupancy per community on ``day`` (old: constant; new: filling exponentially)."""
        p = self.params
        new_occ = p.occupancy_new_target - (p.occupancy_new_target - p.occupancy_new_start) * \
            np.exp(-day / p.occupancy_new_fill_days)
        return np.where(self.community_kind == NEW, new_occ, p.occupancy_old)

    def target_counts(self, day: int) -> np.ndarray:
        """Residents present per community on ``day`` (capacity x occupancy, rounded)."""
        return np.rint(self.capacity_by_community * self.occupancy(day)).astype(np.int64)

    def move_in(self, day: int) -> np.ndarray:
        """Mark residents present for ``day``; return the indices of those who just moved in."""
        target = self.target_counts(day)
        should = self.move_rank < target[self.community]
        arrived = np.flatnonzero(should & ~self.present)
        self.present |= should
        return arrived
