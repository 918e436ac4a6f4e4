"""One store, many services (一店多能): convenience stores take on services of other categories.

The source: convenience stores as nodes that also take in and send parcels (代收代发) and book
home services (上门服务). On its first active day and every ``period_days`` after, the policy
approaches a share ``approach_share`` of the eligible stores -- open shops whose category is
one of ``hosts``, chains, independents or both (``who``), with a floor area (their category's,
in this model) of at least ``min_floor_m2`` -- and offers each the services in ``services`` it
does not serve yet.

A service is an offer of that category at the store: the store's price, quality ``quality``,
its own daily capacity (``capacity_share`` of a stand-alone outlet's), the category's margin at
the store's price and purchasing terms, and extra staff (``secondary_staff_share`` of a
stand-alone outlet's staff, as for the parcel points of convenience stores). The store pays a
one-off fit-out ``fit_out_yuan`` per service and receives the public start-up grant
``grant_per_service``. It takes a service on when what it expects to earn beats its cost:

    expected visits x spend x price x margin - extra staff + (grant - fit-out) / horizon > 0

with the expected visits of a new outlet of that category and quality at the store's site
against the offers already there, by resident group (``entry.site_sales``, at most the
service's capacity) and the entrants' horizon ``entry_horizon_days``. Grants are paid within a
yearly budget (a grant is offered only while the budget left this budget year covers it). The
services stay when the policy ends (the stores invested in them); they close with their store.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..categories import category_names
from ..entry import attraction_sums, expected_demand, shop_margin, site_sales
from ..errors import ScenarioError
from ..schema import spec
from .base import Policy


def _names(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


@dataclass(repr=False)
class MultiFunctionStores(Policy):
    """Convenience stores add services of other categories, with a start-up grant."""

    kind = "multi_function_stores"
    services: str = spec("parcel,repair,laundry", "Services a store may add (categories), comma "
                         "separated.", source="seed: parcel pickup and sending, home services "
                         "and small repairs at convenience stores")
    hosts: str = spec("convenience", "Categories of the stores that may take services on, "
                      "comma separated.", source="seed: convenience stores as service nodes")
    who: str = spec("all", "Which stores may convert.", choices=("chain", "independent", "all"))
    min_floor_m2: float = spec(60.0, "Stores need at least this floor area (m2).", lo=0,
                               hi=100_000, source="assumption (room for a counter and shelves)")
    approach_share: float = spec(0.25, "Share of the eligible stores approached each round "
                                 "(0: none).", lo=0, hi=1, source="assumption")
    period_days: int = spec(30, "Days between rounds.", lo=1, hi=3650, source="assumption")
    capacity_share: float = spec(0.5, "A service's daily capacity, as a share of a stand-alone "
                                 "outlet's.", lo=0, hi=10, lo_open=True,
                                 source="assumption (a counter in a store)")
    quality: float = spec(0.55, "Quality of a service at a store (0..1).", lo=0, hi=1,
                          source="assumption (a little below a specialist's mean 0.6)")
    fit_out_yuan: float = spec(15_000.0, "One-off cost to the store of adding one service "
                               "(yuan).", lo=0, hi=1e8, source="assumption (shelves, lockers, "
                               "tools, training)")
    grant_per_service: float = spec(10_000.0, "Public start-up grant per service added (yuan).",
                                    lo=0, hi=1e8, source="assumption")
    budget_per_year: float = spec(500_000.0, "Yearly budget for the grants (yuan).", lo=0,
                                  hi=1e10, source="assumption")

    def check(self, where: str) -> None:
        """Services and hosts are known categories, each once; a host is not a service."""
        super().check(where)
        known = category_names()
        for key, text in (("services", self.services), ("hosts", self.hosts)):
            names = _names(text)
            if not names or any(c not in known for c in names) or len(set(names)) != len(names):
                raise ScenarioError(where, f"policy.{self.kind}.{key}",
                                    f"{text!r}: give known categories, each once, comma "
                                    f"separated; known: {known}")
        both = set(_names(self.services)) & set(_names(self.hosts))
        if both:
            raise ScenarioError(where, f"policy.{self.kind}.services",
                                f"{sorted(both)} are hosts too; a store cannot add its own category")

    def setup(self, model) -> None:
        """Start the books."""
        super().setup(model)
        cats = model.categories
        self.service_idx = np.array([cats.index[c] for c in _names(self.services)], dtype=np.int16)
        self.host_idx = np.array([cats.index[c] for c in _names(self.hosts)], dtype=np.int16)
        self.added: list[tuple[int, int, int, int]] = []  # (day, shop, category, offer)
        self._paid_today = 0.0
        self._year, self._year_base = -1, 0.0

    def _left(self, model) -> float:
        """Budget left this budget year, counting what was paid today so far."""
        spent = model.ledger[self.label] - self._year_base + self._paid_today
        return max(0.0, self.budget_per_year - spent)

    def eligible(self, model) -> np.ndarray:
        """Ids of the open stores that may take services on (hosts, who, floor area)."""
        shops, cats = model.supply.shops, model.categories
        ok = shops.open & ~shops.underwritten & np.isin(shops.category, self.host_idx) \
            & (cats.floor_m2[shops.category] >= self.min_floor_m2)
        if self.who != "all":
            ok &= shops.chain if self.who == "chain" else ~shops.chain
        return np.flatnonzero(ok)

    def apply(self, model) -> None:
        """On round days: approach stores; each adds the services that pay for it."""
        self._paid_today = 0.0
        year, _ = self.budget_year(model.day)
        if year != self._year:
            self._year, self._year_base = year, model.ledger[self.label]
        first = max(self.start_day, 1)  # the first round on the first active day
        if (model.day - first) % self.period_days != 0 or self.approach_share <= 0:
            return
        eligible = self.eligible(model)
        n = int(np.ceil(self.approach_share * len(eligible)))
        if n == 0:
            return
        approached = np.sort(self.rng.choice(eligible, size=n, replace=False))
        sup, cats, p = model.supply, model.categories, model.params
        shops, offers = sup.shops, sup.offers
        demand, attraction = expected_demand(model), attraction_sums(model)
        cap = self.capacity_share * cats.capacity  # the offer's; it serves floor(cap) a day
        staff = p.secondary_staff_share * cats.staff
        for sid in approached.tolist():
            site = int(shops.site[sid])
            mine = (offers.shop == sid) & offers.open
            price = float(offers.price[mine & (offers.category == shops.category[sid])][0])
            serves = set(offers.category[mine].tolist())
            chain = bool(shops.chain[sid])
            margin = shop_margin(model, np.arange(cats.k), np.full(cats.k, chain),
                                 np.full(cats.k, price))
            for k in self.service_idx.tolist():
                if k in serves:
                    continue  # it serves this already
                if self._left(model) < self.grant_per_service:
                    return
                sales, homes, e = site_sales(model, site, price, demand, attraction, k,
                                             quality=self.quality, capacity=float(cap[k]))
                gain = sales * margin[k] - staff[k]
                if gain + (self.grant_per_service - self.fit_out_yuan) / p.entry_horizon_days <= 0:
                    continue  # the service does not pay for this store
                self._add(model, sid, k, price, float(margin[k]), float(cap[k]), float(staff[k]))
                attraction[:, homes, k] += e  # later stores this round see this one

    def _add(self, model, sid: int, k: int, price: float, margin: float, cap: float,
             staff: float) -> None:
        """Open service ``k`` at store ``sid``: its offer, staff, fit-out and the grant."""
        sup = model.supply
        shops = sup.shops
        offer = sup.add_offers(shop=np.array([sid]), site=np.array([shops.site[sid]]),
                               category=np.array([k]), price=np.array([price]),
                               quality=np.array([self.quality]), capacity=np.array([cap]),
                               margin=np.array([margin]))
        shops.staff_day[sid] += staff
        shops.cash[sid] += self.grant_per_service - self.fit_out_yuan
        self._paid_today += self.grant_per_service
        self.added.append((model.day, sid, k, int(offer[0])))

    def spending(self, model, record) -> float:
        """Start-up grants paid today."""
        return self._paid_today if self.is_active(model.day) else 0.0

    def progress(self, model) -> str:
        """Services added so far, and how many are still open."""
        offers = model.supply.offers
        still = sum(bool(offers.open[o]) for _, _, _, o in self.added)
        stores = len({s for _, s, _, _ in self.added})
        return f"{len(self.added)} services added at {stores} stores; {still} still open"

    def sites(self, model) -> np.ndarray:
        """Sites of the stores that took services on."""
        return model.supply.shops.site[self.supported_shops(model)].astype(np.int64)

    def supported_shops(self, model) -> np.ndarray:
        """Open stores that took services on."""
        ids = np.unique(np.array([s for _, s, _, _ in self.added], dtype=np.int64))
        return ids[model.supply.shops.open[ids]] if len(ids) else ids
