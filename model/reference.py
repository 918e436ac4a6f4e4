"""A per-agent reference of the daily choice rule, in plain Python (for tests and benchmarks).

This is the "straightforward" implementation the numba kernels in ``choice.py`` are checked
against and timed against. It shares no choice code with them (only the day's coefficients,
``choice.coefficients``, which hand-computed tests check on their own): each resident (a wrapper round the
model's Mesa ``Resident`` agent) finds the offers it can reach from the supply's home-to-site
walking distances and extra (delivery) candidates, caches them per category the first time
it needs that category (and again when the supply has changed), and then, for every need,
loops over its candidates in plain Python with ``math.exp``:

    v_j = beta_quality q_j - beta_price[b] (p_j - 1) - beta_walk t_j
          - beta_late max(0, t_j - S_k) - beta_crowding c_j^2

with p_j the price index the resident pays (free from ``free_age``, else the 60+ discount;
then plus the offer's delivery ``fee``), t_j = walk_j / (speed x 60) minutes, S_k the
category's standard walk and c_j = recent demand / capacity of the offer. Offers not available
today are skipped, and so are offers whose ``audience`` needs an access bit the resident
lacks (online offers for residents who do not order online today, care at home for those not
eligible), and, with consideration sets, offers the resident does not know: the rule of
``model.knowledge`` with its own plain-Python hash (``hash01``) and the day's knowledge terms
(``Knowledge.terms``, like the coefficients shared with the kernels). The outside option has
utility ``outside_utility[k]``; weights are exp(v - M) with the shift M of
``choice.coefficients``.

A draw with uniform ``u`` walks the cumulative weights exactly as the kernel does: the
outside option first, then the candidates in index order; an option is taken at the first
cumulative weight above ``u x total``. Then, as in the kernel: offers serve first choices up to
``floor(capacity)`` in queue order (the second uniform), and the needs turned away choose again,
in queue order, among the outside option and the offers with room, with the first uniform
rescaled within the interval of the option first picked. Scores are exp(v) / (exp(v) +
exp(r_k)) with r_k the standard provision's utility; surplus is log(total / outside weight)
times the visit's yuan per unit of utility.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import numpy as np

from .choice import Coefficients, coefficients
from .knowledge import KnowledgeTerms
from .supply import ACCESS_PLATFORM

_MASK64 = (1 << 64) - 1


def hash01(salt: int, r: int, o: int) -> float:
    """A uniform in [0, 1) fixed by (salt, resident, offer), in plain Python.

    The resident's key is splitmix64 of ``r`` xor the salt; the offer enters with one
    multiply-xorshift round (``model.knowledge`` documents the same mix).
    """
    z = ((r ^ salt) + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    z ^= z >> 31
    z ^= (o * 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 32)) * 0x94D049BB133111EB) & _MASK64
    z ^= z >> 29
    return (z >> 11) * 2.0 ** -53


class _OfferState:
    """Offer columns as Python lists: one snapshot of the supply at the moment of choice."""

    def __init__(self, model: Any, c: Coefficients):
        offers = model.supply.offers
        kt: KnowledgeTerms = model.knowledge.terms(model)
        self.know: bool = kt.on
        self.salt: int = int(kt.salt)
        self.sight_m: float = kt.sight_m
        self.miss_offer: list[float] = kt.miss_offer.tolist()
        self.listed: list[bool] = kt.listed.tolist()
        self.miss_home: list[float] = kt.miss_home.tolist()
        self.n_categories: int = model.categories.k
        self.access: list[int] = model.access.tolist()
        self.today: list[bool] = offers.today.tolist()
        self.audience: list[int] = offers.audience.tolist()
        self.price: list[float] = offers.price.tolist()
        self.fee: list[float] = offers.fee.tolist()
        self.quality: list[float] = offers.quality.tolist()
        self.crowd: list[float] = c.crowd.tolist()
        self.discount60: list[float] = offers.discount60.tolist()
        self.free_age: list[float] = offers.free_age.tolist()
        self.capacity: list[float] = np.floor(offers.capacity + 1e-9).tolist()


class ReferenceResident:
    """One resident choosing for itself, with its reachable offers cached per category.

    Args:
        chooser: the ``ReferenceChooser`` it belongs to.
        r: resident index.
    """

    def __init__(self, chooser: ReferenceChooser, r: int):
        self.chooser = chooser
        self.index = int(r)
        model = chooser.model
        agent = model.resident_agents.get(self.index)
        if agent is not None:  # read through the Mesa agent: its cell and its attributes
            x, y = agent.cell.coordinate
            self.home = int(model.city.home_index[x, y])
            self.income = agent.income
            self.speed = agent.walking_speed
            self.age = agent.age
        else:  # not (yet) living here: read the population arrays directly
            pop = model.population
            self.home = int(pop.home[r])
            self.income = int(pop.income[r])
            self.speed = float(pop.speed_mps[r])
            self.age = float(pop.age[r])
        self._version = -1
        self._reach: dict[int, list[tuple[int, float]]] = {}

    def reachable(self, k: int) -> list[tuple[int, float]]:
        """``(offer, walk metres)`` of every offer of category ``k`` this resident can reach."""
        version = self.chooser.model.supply.version
        if version != self._version:
            self._reach.clear()
            self._version = version
        cached = self._reach.get(k)
        if cached is None:
            cached = self.chooser.reachable_from_home(self.home, k)
            self._reach[k] = cached
        return cached

    def weights(self, k: int, state: _OfferState, c: Coefficients,
                full: set[int] | None = None) -> tuple[list[int], list[float], float, float]:
        """Weights exp(v - M) of the available candidates, walks, and the outside option.

        Returns:
            ``(offers, weights, walks, outside weight)`` with offers in index order; offers in
            ``full`` count as unavailable.
        """
        bp = float(c.beta_price[self.income])
        inv_speed = 1.0 / (self.speed * 60.0)
        std = float(c.std_min[k])
        access = state.access[self.index]
        offers, weights, walks = [], [], []
        for o, walk in self.reachable(k):
            needs = state.audience[o]
            if not state.today[o] or (needs & access) != needs:
                continue
            if state.know and not self.knows(o, walk, k, state):
                continue
            if full is not None and o in full:
                continue
            p = self.price_paid(o, state)
            t = walk * inv_speed
            late = max(0.0, t - std)
            crowd = state.crowd[o]
            v = c.beta_quality * state.quality[o] - bp * (p - 1.0) - c.beta_walk * t \
                - c.beta_late * late - c.beta_crowding * crowd * crowd
            offers.append(o)
            weights.append(math.exp(v - c.shift))
            walks.append(walk)
        return offers, weights, walks, math.exp(float(c.outside_u[k]) - c.shift)

    def knows(self, o: int, walk: float, k: int, state: _OfferState) -> bool:
        """Whether this resident knows offer ``o`` (``model.knowledge``'s rule)."""
        if walk <= state.sight_m:
            return True
        if state.access[self.index] & ACCESS_PLATFORM and state.listed[o]:
            return True
        miss = state.miss_offer[o]
        if miss <= 0.0:
            return True
        return hash01(state.salt, self.index, o) >= miss * state.miss_home[
            self.home * state.n_categories + k]

    def price_paid(self, o: int, state: _OfferState) -> float:
        """Price index this resident pays at offer ``o``."""
        p = state.price[o]
        if state.free_age[o] > 0 and self.age >= state.free_age[o]:
            p = 0.0
        elif self.age >= 60.0:
            p = p * (1.0 - state.discount60[o])
        return p + state.fee[o]

    def probabilities(self, k: int, state: _OfferState, c: Coefficients
                      ) -> tuple[list[int], list[float], float]:
        """Logit probabilities: ``(offers, probabilities, probability of the outside option)``."""
        offers, weights, _, w_out = self.weights(k, state, c)
        total = w_out + sum(weights)
        return offers, [w / total for w in weights], w_out / total

    @staticmethod
    def draw(u: float, offers: list[int], weights: list[float], w_out: float
             ) -> tuple[int, float, float]:
        """Pick with ``u``: ``(offer or -1, its weight, u rescaled within its interval)``."""
        total = w_out + sum(weights)
        target = u * total
        acc = w_out
        if target < acc:
            return -1, w_out, 0.0
        pick = -1
        for i, w in enumerate(weights):
            if target < acc + w and w > 0.0:
                pick = i
                break
            acc += w
        if pick < 0:  # rounding at the top end: the last candidate with weight
            pick = max(i for i, w in enumerate(weights) if w > 0.0)
            acc = w_out + sum(weights[:pick])
        w = weights[pick]
        return offers[pick], w, min(max((target - acc) / w, 0.0), math.nextafter(1.0, 0.0))


class ReferenceChooser:
    """Per-agent reference choosers for one model."""

    def __init__(self, model: Any):
        self.model = model
        self.residents: dict[int, ReferenceResident] = {}
        self._pairs_version = -1
        self._pairs_by_home: dict[int, list[tuple[int, float]]] = {}

    def resident(self, r: int) -> ReferenceResident:
        """The reference agent of resident ``r`` (created at first use)."""
        agent = self.residents.get(r)
        if agent is None:
            agent = ReferenceResident(self, r)
            self.residents[r] = agent
        return agent

    def reachable_from_home(self, home: int, k: int) -> list[tuple[int, float]]:
        """Offers of category ``k`` reachable from ``home``: walk-in offers, then extras.

        Walk-in offers are the open, not-online offers standing at sites within the walking
        cut-off (by site id, then offer id); extras are the supply's ``extra_candidates``
        (delivery) rows for this home, in their listed order.
        """
        sup = self.model.supply
        if self._pairs_version != sup.version:
            self._index_pairs()
        offers = sup.offers
        out: list[tuple[int, float]] = []
        for site, walk in self._pairs_by_home.get(home, ()):
            for o in self._site_offers.get(site, ()):
                if self._category[o] == k:
                    out.append((o, walk))
        for homes, offer_ids, walks in sup.extra_candidates.values():
            rows = np.flatnonzero(np.asarray(homes) == home)
            for i in rows.tolist():
                o = int(offer_ids[i])
                if int(offers.category[o]) == k:
                    out.append((o, float(walks[i])))
        return out

    def _index_pairs(self) -> None:
        """Group the supply's (site, home, metres) pairs by home and the live offers by site."""
        sup = self.model.supply
        by_home: dict[int, list[tuple[int, float]]] = {}
        for s, h, d in zip(sup.pair_site.tolist(), sup.pair_home.tolist(),
                           sup.pair_dist.tolist(), strict=True):
            by_home.setdefault(h, []).append((s, d))
        for pairs in by_home.values():
            pairs.sort()
        offers = sup.offers
        site_offers: dict[int, list[int]] = {}
        for o in np.flatnonzero(offers.open & ~offers.online).tolist():
            site_offers.setdefault(int(offers.site[o]), []).append(o)
        self._pairs_by_home = by_home
        self._site_offers = site_offers
        self._category: list[int] = offers.category.tolist()
        self._pairs_version = sup.version

    def probabilities(self, r: int, k: int) -> tuple[list[int], list[float], float]:
        """Logit probabilities of resident ``r`` for a need of category ``k`` (see module)."""
        c = coefficients(self.model)
        return self.resident(r).probabilities(k, _OfferState(self.model, c), c)

    def choose(self, need_res: np.ndarray, need_cat: np.ndarray, uniforms: np.ndarray
               ) -> dict[str, np.ndarray]:
        """The day's choices as the kernel makes them (see module): per need and per offer.

        Returns:
            ``chosen`` (offer, -1 outside), ``score``, ``surplus_yuan``, ``turned_away``,
            ``served`` (per offer).
        """
        model = self.model
        c = coefficients(model)
        state = _OfferState(model, c)
        n = len(need_res)
        chosen = np.full(n, -1, dtype=np.int64)
        score = np.zeros(n)
        surplus = np.zeros(n)
        again = np.zeros(n)
        turned = np.zeros(n, dtype=bool)
        ref = [math.exp(float(x) - c.shift) for x in c.ref_u]
        for i, (r, k, u) in enumerate(zip(need_res.tolist(), need_cat.tolist(),
                                          uniforms[:, 0].tolist(), strict=True)):
            res = self.resident(r)
            offers, weights, _, w_out = res.weights(k, state, c)
            total = w_out + sum(weights)
            surplus[i] = math.log(total / w_out) * float(c.money_per_util[res.income, k])
            chosen[i], w, again[i] = res.draw(u, offers, weights, w_out)
            score[i] = w / (w + ref[k])
        # capacity: first choices in queue order, then the turned away choose again
        served: dict[int, int] = {}
        queue = sorted(range(n), key=lambda i: (uniforms[i, 1], i))
        away = []
        for i in queue:
            o = int(chosen[i])
            if o < 0:
                continue
            if served.get(o, 0) < state.capacity[o]:
                served[o] = served.get(o, 0) + 1
            else:
                away.append(i)
        for i in away:
            turned[i] = True
            r, k = int(need_res[i]), int(need_cat[i])
            res = self.resident(r)
            full = {o for o, m in served.items() if m >= state.capacity[o]}
            full |= {o for o in range(len(state.capacity)) if state.capacity[o] < 1}
            offers, weights, _, w_out = res.weights(k, state, c, full)
            o, w, _ = res.draw(float(again[i]), offers, weights, w_out)
            chosen[i] = o
            score[i] = w / (w + ref[k])
            if o >= 0:
                served[o] = served.get(o, 0) + 1
        per_offer = np.zeros(len(state.capacity))
        for o, m in served.items():
            per_offer[o] = m
        return {"chosen": chosen, "score": score, "surplus_yuan": surplus,
                "turned_away": turned, "served": per_offer}


_CHOOSERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def reference_chooser(model: Any) -> ReferenceChooser:
    """The model's ``ReferenceChooser`` (one per model, so residents keep their caches)."""
    chooser = _CHOOSERS.get(model)
    if chooser is None:
        chooser = ReferenceChooser(model)
        _CHOOSERS[model] = chooser
    return chooser


def reference_probabilities(model: Any, r: int, k: int) -> tuple[list[int], list[float], float]:
    """Logit probabilities of resident ``r`` for a need of category ``k``.

    Returns:
        ``(offers, probabilities, p_outside)``: the offers available to ``r`` today in index
        order, their choice probabilities, and the probability of the outside option.
    """
    return reference_chooser(model).probabilities(int(r), int(k))


def reference_choose(model: Any, need_res: np.ndarray, need_cat: np.ndarray,
                     uniforms: np.ndarray) -> dict[str, np.ndarray]:
    """Choose for every need with the given ``(needs, 2)`` uniforms, one resident at a time.

    Returns:
        As ``ReferenceChooser.choose``.
    """
    return reference_chooser(model).choose(np.asarray(need_res), np.asarray(need_cat),
                                           np.asarray(uniforms))
