"""A per-agent reference of the daily choice rule, in plain Python (for tests and benchmarks).

This is the "straightforward" implementation the numba kernel in ``choice.py`` is checked
against and timed against. It shares no code with the kernel: each resident (a wrapper round
the model's Mesa ``Resident`` agent) finds the offers it can reach from the supply's
home-to-site walking distances and the model's extra (delivery) candidates, caches them per
category the first time it needs that category (and again when the supply has changed), and
then, for every need, loops over its candidates in plain Python with ``math.exp``:

    v_j = beta_quality q_j - beta_price[b] (p_j - 1) - beta_walk t_j
          - beta_late max(0, t_j - reach_minutes) - beta_crowding c_j^2

with p_j the price index the resident pays (free from ``free_age``, else the 60+ discount;
then plus the offer's delivery ``fee``), t_j = walk_j / (speed x 60) minutes and
c_j = load / capacity of the offer at the moment of choice (the kernel sees the recent loads
because sales are booked after choice). Offers not available today are skipped, and online
offers are skipped for residents who do not order online today (``model.orders_online``).
The outside option has utility ``outside_utility[k]``.

A draw with uniform ``u`` walks the cumulative weights exactly as the kernel does: the
outside option first, then the candidates in index order (for walk-in offers: by site, then
by offer id; then the extra candidates in the order the model lists them); an offer is taken
at the first cumulative weight above ``u x total``; if rounding leaves ``u x total`` above the
last cumulative sum, the last available candidate is taken.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class _Coefficients:
    """The utility coefficients the reference uses (read from ``Params``)."""

    beta_quality: float
    beta_price: tuple[float, float, float]
    beta_walk: float
    beta_late: float
    beta_crowding: float
    reach_min: float
    outside_u: tuple[float, ...]

    @classmethod
    def from_params(cls, params: Any, outside_utility: np.ndarray) -> _Coefficients:
        """Build from a ``Params`` (or any object with the same attributes)."""
        return cls(float(params.beta_quality),
                   (float(params.beta_price_low), float(params.beta_price_mid),
                    float(params.beta_price_high)),
                   float(params.beta_walk_per_min), float(params.beta_late_per_min),
                   float(params.beta_crowding), float(params.reach_minutes),
                   tuple(float(x) for x in outside_utility))


class _OfferState:
    """Offer columns as Python lists: one snapshot of the supply at the moment of choice."""

    def __init__(self, model: Any):
        offers = model.supply.offers
        self.orders_online: np.ndarray = model.orders_online
        self.today: list[bool] = offers.today.tolist()
        self.online: list[bool] = offers.online.tolist()
        self.price: list[float] = offers.price.tolist()
        self.fee: list[float] = offers.fee.tolist()
        self.quality: list[float] = offers.quality.tolist()
        self.crowd: list[float] = (offers.load / offers.capacity).tolist()
        self.discount60: list[float] = offers.discount60.tolist()
        self.free_age: list[float] = offers.free_age.tolist()


class ReferenceResident:
    """One resident choosing for itself, with its reachable offers cached per category.

    Args:
        chooser: the ``ReferenceChooser`` it belongs to.
        r: resident index.

    Attributes:
        index: resident index; home: home-cell index; income: band 0/1/2.
        digital: adopts online ordering (who orders online today is ``model.orders_online``).
        speed: walking speed (m/s); age: years.
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
            self.digital = agent.digital
            self.speed = agent.walking_speed
            self.age = agent.age
        else:  # not (yet) living here: read the population arrays directly
            pop = model.population
            self.home = int(pop.home[r])
            self.income = int(pop.income[r])
            self.digital = bool(pop.digital[r])
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

    def weights(self, k: int, state: _OfferState, c: _Coefficients
                ) -> tuple[list[int], list[float], float]:
        """Logit weights ``exp(v)`` of the available candidates and of the outside option.

        Returns:
            ``(offers, weights, outside weight)``; ``offers`` lists only the candidates
            available to this resident today, in index order.
        """
        bp = c.beta_price[self.income]
        inv_speed = 1.0 / (self.speed * 60.0)
        age = self.age
        orders_online = bool(state.orders_online[self.index])
        offers: list[int] = []
        weights: list[float] = []
        for o, walk in self.reachable(k):
            if not state.today[o] or (state.online[o] and not orders_online):
                continue
            p = state.price[o]
            free_age = state.free_age[o]
            if free_age > 0 and age >= free_age:
                p = 0.0
            elif age >= 60.0:
                p = p * (1.0 - state.discount60[o])
            p += state.fee[o]
            t = walk * inv_speed
            late = t - c.reach_min
            if late < 0.0:
                late = 0.0
            crowd = state.crowd[o]
            v = c.beta_quality * state.quality[o] - bp * (p - 1.0) - c.beta_walk * t \
                - c.beta_late * late - c.beta_crowding * crowd * crowd
            offers.append(o)
            weights.append(math.exp(v))
        return offers, weights, math.exp(c.outside_u[k])

    def probabilities(self, k: int, state: _OfferState, c: _Coefficients
                      ) -> tuple[list[int], list[float], float]:
        """Logit probabilities: ``(offers, probabilities, probability of the outside option)``."""
        offers, weights, w_out = self.weights(k, state, c)
        total = w_out
        for w in weights:
            total += w
        return offers, [w / total for w in weights], w_out / total

    def choose(self, k: int, u: float, state: _OfferState, c: _Coefficients) -> int:
        """Draw one option with the uniform ``u``; return the offer id, or -1 for outside."""
        offers, weights, w_out = self.weights(k, state, c)
        total = w_out
        for w in weights:
            total += w
        target = u * total
        acc = w_out
        if target < acc:
            return -1
        for o, w in zip(offers, weights, strict=True):
            acc += w
            if target < acc and w > 0.0:
                return o
        for o, w in zip(reversed(offers), reversed(weights), strict=True):
            if w > 0.0:  # rounding at the top end: the last available candidate
                return o
        return -1


class ReferenceChooser:
    """Per-agent reference choosers for one model.

    Args:
        model: a ``CommerceModel``.
        params: coefficients to use instead of ``model.params`` (an object with the same
            ``beta_*``, ``reach_minutes`` attributes), e.g. ``dataclasses.replace(model.params,
            beta_walk_per_min=0.0)`` to build a deliberately wrong rule.
    """

    def __init__(self, model: Any, params: Any = None):
        self.model = model
        self.params = params
        self.residents: dict[int, ReferenceResident] = {}
        self._pairs_version = -1
        self._pairs_by_home: dict[int, list[tuple[int, float]]] = {}

    def coefficients(self) -> _Coefficients:
        """The utility coefficients in force."""
        return _Coefficients.from_params(self.params or self.model.params,
                                         self.model.categories.outside_utility)

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
        cut-off (by site id, then offer id); extras are the model's ``extra_candidates``
        (delivery) rows for this home, in their listed order.
        """
        model = self.model
        sup = model.supply
        if self._pairs_version != sup.version:
            self._index_pairs()
        offers = sup.offers
        out: list[tuple[int, float]] = []
        for site, walk in self._pairs_by_home.get(home, ()):
            for o in self._site_offers.get(site, ()):
                if self._category[o] == k:
                    out.append((o, walk))
        for homes, offer_ids, walks in model.extra_candidates.values():
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
        live = offers.open & ~offers.online
        for o in np.flatnonzero(live).tolist():
            site_offers.setdefault(int(offers.site[o]), []).append(o)
        self._pairs_by_home = by_home
        self._site_offers = site_offers
        self._category: list[int] = offers.category.tolist()
        self._pairs_version = sup.version

    def probabilities(self, r: int, k: int) -> tuple[list[int], list[float], float]:
        """Logit probabilities of resident ``r`` for a need of category ``k`` (see module)."""
        state = _OfferState(self.model)
        return self.resident(r).probabilities(k, state, self.coefficients())

    def choose(self, need_res: np.ndarray, need_cat: np.ndarray, uniforms: np.ndarray
               ) -> np.ndarray:
        """Choose for every need (one uniform each); return offer ids, -1 for the outside option."""
        state = _OfferState(self.model)
        c = self.coefficients()
        out = np.empty(len(need_res), dtype=np.int32)
        for i, (r, k, u) in enumerate(zip(need_res.tolist(), need_cat.tolist(),
                                          uniforms.tolist(), strict=True)):
            out[i] = self.resident(r).choose(k, u, state, c)
        return out


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

    Args:
        model: a ``CommerceModel`` (its offer state now is the state choices see).
        r: resident index.
        k: category index.

    Returns:
        ``(offers, probabilities, p_outside)``: the offers available to ``r`` today in index
        order, their choice probabilities, and the probability of the outside option.
    """
    return reference_chooser(model).probabilities(int(r), int(k))


def reference_choose(model: Any, need_res: np.ndarray, need_cat: np.ndarray,
                     uniforms: np.ndarray) -> np.ndarray:
    """Choose for every need with the given uniforms, one resident at a time.

    Args:
        model: a ``CommerceModel``.
        need_res: resident per need.
        need_cat: category per need.
        uniforms: one uniform in [0, 1) per need.

    Returns:
        int32 offer id per need, -1 for the outside option (as ``run_choice``'s ``chosen``).
    """
    return reference_chooser(model).choose(np.asarray(need_res), np.asarray(need_cat),
                                           np.asarray(uniforms))
