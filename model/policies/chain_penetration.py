"""Chain penetration: bring chains into the community through their economics.

While the chain rate is below ``target_chain_rate`` the policy

* recruits chains: would-be chain entrants come ``entry_boost`` times as often (chains still
  open only where they expect a profit);
* promises each new chain outlet a grant (``grant_per_chain_entry``), which chain entrants
  count in their expected profit and which is paid into the new outlet's cash;
* each month approaches a share of the independents in chained formats with a franchise
  offer: an independent converts when its recent sales at the chain's price and margin
  (cheaper goods, a royalty), plus the conversion grant spread over ``entry_horizon_days``,
  beat what it earns now. A franchise takes the chain's price and steadier quality.

Grants are paid within a yearly budget (a grant is promised and paid only while the budget
left covers it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..entry import shop_margin
from ..schema import spec
from .base import Policy


@dataclass(repr=False)
class ChainPenetration(Policy):
    """Chain recruitment, entry grants and franchise offers toward a target chain rate."""

    kind = "chain_penetration"
    target_chain_rate: float = spec(0.45, "Chain rate to push toward.", lo=0, hi=1,
                                    source="seed: pilots average 32%, 2025 target >= 30%")
    entry_boost: float = spec(2.0, "Would-be chain entrants come this many times as often (1: "
                              "no recruitment).", lo=1, hi=100)
    conversion_per_month: float = spec(0.03, "Share of eligible independents offered a "
                                       "franchise each month while below target.", lo=0, hi=1)
    grant_per_conversion: float = spec(20000.0, "Public grant per franchise conversion (yuan).",
                                       lo=0, hi=1e8)
    grant_per_chain_entry: float = spec(20000.0, "Public grant per new chain outlet (yuan).",
                                        lo=0, hi=1e8)
    budget_per_year: float = spec(1_000_000.0, "Yearly budget for the grants (yuan).", lo=0, hi=1e10)

    def setup(self, model) -> None:
        """Start the books."""
        super().setup(model)
        self.conversions: list[tuple[int, int]] = []  # (day, shop)
        self.entry_grants: list[tuple[int, int]] = []  # (day, shop)
        self._paid_today = 0.0
        self._year, self._year_base = -1, 0.0

    def _chain_rate(self, model) -> float:
        shops = model.supply.shops
        n = shops.open.sum()
        return float((shops.open & shops.chain).sum() / n) if n else 0.0

    def _below_target(self, model) -> bool:
        return self.is_active(model.day) and self._chain_rate(model) < self.target_chain_rate

    def _left(self, model) -> float:
        """Budget left this budget year, counting what was paid today so far."""
        spent = model.ledger[self.label] - self._year_base + self._paid_today
        return max(0.0, self.budget_per_year - spent)

    def apply(self, model) -> None:
        """Each month below target: franchise offers, accepted where they pay."""
        self._paid_today = 0.0
        year, _ = self.budget_year(model.day)
        if year != self._year:
            self._year, self._year_base = year, model.ledger[self.label]
        if (model.day - self.start_day) % 30 != 0 or not self._below_target(model):
            return
        shops, cats, p = model.supply.shops, model.categories, model.params
        offers = model.supply.offers
        eligible = np.flatnonzero(shops.open & ~shops.chain & ~shops.underwritten
                                  & (cats.chain_share[shops.category] > 0))
        n_open = int(shops.open.sum())
        gap = int(np.ceil(self.target_chain_rate * n_open - (shops.open & shops.chain).sum()))
        n = min(len(eligible), gap, int(np.ceil(self.conversion_per_month * len(eligible))))
        if n <= 0:
            return
        approached = np.sort(self.rng.choice(eligible, size=n, replace=False))
        for sid in approached.tolist():
            if self._left(model) < self.grant_per_conversion:
                break
            o = int(np.flatnonzero((offers.shop == sid) & (offers.category == shops.category[sid]))[0])
            k = np.array([shops.category[sid]])
            now = shops.sales_avg[sid] * offers.margin[o]
            sales_as_chain = shops.sales_avg[sid] * p.chain_price_index / offers.price[o]
            as_chain = sales_as_chain * shop_margin(model, k, np.array([True]),
                                                    np.array([p.chain_price_index]))[0]
            if as_chain + self.grant_per_conversion / p.entry_horizon_days <= now:
                continue  # the franchise does not pay for this shop
            self._convert(model, sid)
            shops.cash[sid] += self.grant_per_conversion
            self._paid_today += self.grant_per_conversion

    def _convert(self, model, sid: int) -> None:
        """Turn an independent into a franchise: chain price, margin and steadier quality."""
        shops, offers, p = model.supply.shops, model.supply.offers, model.params
        shops.chain[sid] = True
        shops.review_day[sid] = model.day
        shops.profit_window[sid] = 0.0
        of = np.flatnonzero(offers.shop == sid)
        offers.price[of] = p.chain_price_index
        offers.margin[of] = shop_margin(model, offers.category[of], np.ones(len(of), bool),
                                        offers.price[of])
        offers.quality[of] = np.clip(self.rng.normal(p.independent_quality, p.chain_quality_sd,
                                                     len(of)), 0, 1)
        self.conversions.append((model.day, sid))

    def chain_recruitment(self, model) -> float:
        """``entry_boost`` while below target."""
        return self.entry_boost if self._below_target(model) else 1.0

    def entry_support(self, model, site: int, chain: bool) -> tuple[np.ndarray, np.ndarray]:
        """A chain entrant in a chained format expects the entry grant while it is affordable."""
        cats = model.categories
        grant = np.zeros(cats.k)
        if chain and self._below_target(model) and self._left(model) >= self.grant_per_chain_entry:
            grant[cats.chain_share > 0] = self.grant_per_chain_entry
        return np.zeros(cats.k), grant

    def after_entry(self, model, record) -> None:
        """Pay the promised grant to each chain outlet that opened (within the budget)."""
        if not self.is_active(model.day) or len(record.opened) == 0:
            return
        shops = model.supply.shops
        for sid in record.opened[shops.chain[record.opened]].tolist():
            if self._left(model) < self.grant_per_chain_entry:
                break
            shops.cash[sid] += self.grant_per_chain_entry
            self._paid_today += self.grant_per_chain_entry
            self.entry_grants.append((model.day, sid))

    def spending(self, model, record) -> float:
        """Conversion and entry grants paid today."""
        return self._paid_today if self.is_active(model.day) else 0.0

    def progress(self, model) -> str:
        """Conversions and entry grants so far, and the chain rate now."""
        return (f"{len(self.conversions)} franchise conversions and {len(self.entry_grants)} "
                f"chain entry grants; chain rate {self._chain_rate(model):.0%} "
                f"(target {self.target_chain_rate:.0%})")

    def sites(self, model) -> np.ndarray:
        """Sites of the shops it converted or gave an entry grant."""
        return model.supply.shops.site[self.supported_shops(model)].astype(np.int64)

    def supported_shops(self, model) -> np.ndarray:
        """Converted or grant-aided shops still open."""
        ids = np.array([s for _, s in self.conversions + self.entry_grants], dtype=np.int64)
        return ids[model.supply.shops.open[ids]] if len(ids) else ids
