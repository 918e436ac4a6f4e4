"""Instant retail: "online order + delivery from the nearest store".

Residents who order online (digital adopters, each with probability ``uptake``) may, for a
deliverable category, order from the nearest open store of that category within
``radius_m`` (network distance): the order has no walk, costs the delivery fee on top of the
store's price, and the store gets the sale. Fees go to the couriers; an optional public
subsidy per order is booked to the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..schema import spec
from ..supply import SRC_ONLINE, SRC_SHOP
from .base import Policy


@dataclass(repr=False)
class InstantRetail(Policy):
    """Online ordering with delivery from the nearest store."""

    kind = "instant_retail"
    radius_m: float = spec(1500.0,
                           "Delivery radius (network metres).",
                           lo=0,
                           source="assumption (instant retail delivers within ~3 km; capped by the grid)")
    uptake: float = spec(0.6, "Share of digital adopters who order online.", lo=0, hi=1)
    delivery_fee: float = spec(4.0, "Delivery fee per order (yuan).", lo=0)
    quality_penalty: float = spec(0.05, "Quality lost to delivery (0..1).", lo=0, hi=1)
    subsidy_per_order: float = spec(0.0, "Public subsidy per online order (yuan).", lo=0)

    def setup(self, model) -> None:
        """Draw who orders online (the policy's own stream)."""
        super().setup(model)
        pop = model.population
        self.user = pop.digital & (self.rng.random(pop.n) < self.uptake)
        self.twin_of: dict[int, int] = {}  # store offer -> its online twin
        self._built_state: tuple[int, int] = (-1, -1)
        self.orders_today = 0

    def activate(self, model) -> None:
        """Residents who order online may now do so."""
        model.orders_online = self.user.copy()

    def deactivate(self, model) -> None:
        """Close the online twins and the ordering."""
        model.orders_online = np.zeros(model.population.n, dtype=bool)
        offers = model.supply.offers
        twins = np.array(list(self.twin_of.values()), dtype=np.int64)
        offers.open[twins] = False
        offers.today[twins] = False
        model.extra_candidates.pop(self.kind, None)
        self.twin_of = {}

    def apply(self, model) -> None:
        """Rebuild the delivery pairs when shops opened or closed."""
        sup = model.supply
        offers, cats = sup.offers, model.categories
        state = (sup.version, int(offers.open.sum()))
        if state == self._built_state:
            return
        store = np.flatnonzero(offers.open & (offers.source == SRC_SHOP)
                               & cats.deliverable[offers.category])
        new = [int(o) for o in store if int(o) not in self.twin_of]
        if new:
            new_arr = np.array(new)
            k = offers.category[new_arr]
            twins = sup.add_offers(shop=offers.shop[new_arr], site=offers.site[new_arr], category=k,
                                   price=offers.price[new_arr],
                                   quality=np.clip(offers.quality[new_arr] - self.quality_penalty, 0, 1),
                                   capacity=offers.capacity[new_arr], source=SRC_ONLINE,
                                   online=True, fee=self.delivery_fee / cats.spend[k],
                                   owner=model.policies.index(self))
            self.twin_of.update(zip(new, twins.tolist(), strict=True))
        # keep twins open exactly while their store offer is open
        for o, t in self.twin_of.items():
            offers.open[t] = offers.open[o]
            offers.today[t] = offers.open[o]
        model.extra_candidates[self.kind] = self._nearest_pairs(model, store)
        sup.version += 1  # the candidate index must pick up the new pairs
        self._built_state = (sup.version, int(offers.open.sum()))

    def _nearest_pairs(self, model, store: np.ndarray) -> tuple[np.ndarray, ...]:
        """(home, online twin, walk 0): for each home and category, the nearest open store."""
        sup, K = model.supply, model.categories.k
        offers = sup.offers
        src, home, dist = model.city.distances_from(sup.site_xy[offers.site[store]], self.radius_m)
        k = offers.category[store][src]
        key = home.astype(np.int64) * K + k
        order = np.lexsort((offers.site[store][src], dist, key))  # nearest, ties by site
        key, first = key[order], np.ones(len(order), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        best = order[first]
        twin = np.array([self.twin_of[int(o)] for o in store[src[best]]], dtype=np.int32)
        return home[best].astype(np.int32), twin, np.zeros(len(best), dtype=np.float32)

    def after_choice(self, model, day) -> None:
        """Count today's online orders."""
        offers = model.supply.offers
        met = day.chosen >= 0
        self.orders_today = int(offers.online[day.chosen[met]].sum())

    def spend_today(self, model) -> float:
        """Public subsidy per online order, if any."""
        if not self.is_active(model.day):
            return 0.0
        return self.orders_today * self.subsidy_per_order

    def progress(self, model) -> str:
        """Stores delivering and orders today."""
        offers = model.supply.offers
        n_stores = len({int(offers.shop[o]) for o, t in self.twin_of.items() if offers.open[t]})
        return f"{n_stores} stores deliver; {self.orders_today:,} online orders today"

    def supported_shops(self, model) -> np.ndarray:
        """Stores that deliver now."""
        offers = model.supply.offers
        return np.unique(np.array([offers.shop[o] for o, t in self.twin_of.items()
                                   if offers.open[t]], dtype=np.int64))
