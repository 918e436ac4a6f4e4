"""Instant retail: "online order + delivery from the nearest store".

Residents who order online (digital adopters, each with probability ``uptake``) may, for a
deliverable category, order from the nearest open store of that category within
``radius_m`` (network distance): the order has no walk, costs the delivery fee on top of the
store's price (a price in the choice and in the outcome score), and the store gets the sale.
A store's delivery desk serves at most ``capacity_share`` of the store's capacity a day. Fees
go to the couriers; an optional public subsidy per order is booked to the ledger.
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
    radius_m: float = spec(1500.0, "Delivery radius (network metres).", lo=0, hi=20_000,
                           source="assumption (instant retail delivers within ~3 km; capped by the grid)")
    uptake: float = spec(0.6, "Share of digital adopters who order online (0: nobody).", lo=0, hi=1)
    delivery_fee: float = spec(4.0, "Delivery fee per order (yuan).", lo=0, hi=1000)
    quality_penalty: float = spec(0.05, "Quality lost to delivery (0..1).", lo=0, hi=1)
    capacity_share: float = spec(0.5, "Orders a store's delivery desk handles a day, as a share "
                                 "of the store's capacity.", lo=0, hi=10, lo_open=True)
    subsidy_per_order: float = spec(0.0, "Public subsidy per online order (yuan).", lo=0, hi=1000)

    def setup(self, model) -> None:
        """Draw who orders online (the policy's own stream)."""
        super().setup(model)
        pop = model.population
        self.user = pop.digital & (self.rng.random(pop.n) < self.uptake)
        self.twin_of: dict[int, int] = {}  # store offer -> its online twin
        self._stores = np.zeros(0, dtype=np.int64)
        self.orders_today = 0

    def activate(self, model) -> None:
        """Residents who order online may now do so."""
        model.orders_online = self.user.copy()

    def deactivate(self, model) -> None:
        """Close the online twins and the ordering."""
        model.orders_online = np.zeros(model.population.n, dtype=bool)
        model.supply.set_open(np.array(list(self.twin_of.values()), dtype=np.int64), False)
        model.supply.set_extra_candidates(self.kind, None)
        self.twin_of = {}
        self._stores = np.zeros(0, dtype=np.int64)

    def apply(self, model) -> None:
        """Keep a delivery twin for every open store offer; rebuild pairs when stores change."""
        if not self.user.any():
            return  # nobody orders online: nothing to deliver
        sup = model.supply
        offers, cats = sup.offers, model.categories
        store = np.flatnonzero(offers.open & (offers.source == SRC_SHOP)
                               & cats.deliverable[offers.category])
        if np.array_equal(store, self._stores):
            return
        new = np.array([o for o in store.tolist() if o not in self.twin_of], dtype=np.int64)
        if len(new):
            k = offers.category[new]
            twins = sup.add_offers(shop=offers.shop[new], site=offers.site[new], category=k,
                                   price=offers.price[new],
                                   quality=np.clip(offers.quality[new] - self.quality_penalty, 0, 1),
                                   capacity=offers.capacity[new] * self.capacity_share,
                                   margin=offers.margin[new], source=SRC_ONLINE, online=True,
                                   fee=self.delivery_fee / cats.spend[k],
                                   owner=model.policies.index(self))
            self.twin_of.update(zip(new.tolist(), twins.tolist(), strict=True))
        # a twin is open exactly while its store offer is
        pairs = np.array(list(self.twin_of.items()), dtype=np.int64).reshape(-1, 2)
        sup.set_open(pairs[:, 1], offers.open[pairs[:, 0]])
        sup.set_extra_candidates(self.kind, self._nearest_pairs(model, store))
        self._stores = store

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

    def after_choice(self, model, record) -> None:
        """Count today's online orders (at this policy's delivery twins only)."""
        offers = model.supply.offers
        chosen = record.chosen[record.chosen >= 0]
        mine = (offers.source[chosen] == SRC_ONLINE) & \
            (offers.owner[chosen] == model.policies.index(self))
        self.orders_today = int(mine.sum())

    def spending(self, model, record) -> float:
        """Public subsidy per online order, if any."""
        if not self.is_active(model.day):
            return 0.0
        return self.orders_today * self.subsidy_per_order

    def progress(self, model) -> str:
        """Stores delivering and orders today."""
        return f"{len(self.supported_shops(model))} stores deliver; {self.orders_today:,} online orders today"

    def supported_shops(self, model) -> np.ndarray:
        """Stores that deliver now."""
        offers = model.supply.offers
        return np.unique(np.array([offers.shop[o] for o, t in self.twin_of.items()
                                   if offers.open[t]], dtype=np.int64))
