"""Chain penetration: push the chain rate toward a target.

While the chain rate is below ``target_chain_rate`` the policy (a) scales the share of chain
entrants by ``entry_boost`` and (b) each month converts a share of the independents in chained
formats to franchises (chain price, steadier quality, chain rent), paying a grant per
conversion. The original entrant share is restored when the policy ends.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..schema import spec
from .base import Policy


@dataclass(repr=False)
class ChainPenetration(Policy):
    """More chain entry and franchise conversion toward a target chain rate."""

    kind = "chain_penetration"
    target_chain_rate: float = spec(0.45,
                                    "Chain rate to push toward.",
                                    lo=0, hi=1, source="seed: pilots average 32%, 2025 target >= 30%")
    entry_boost: float = spec(2.0, "Multiplier on the share of chain entrants.", lo=0, hi=100)
    conversion_per_month: float = spec(0.03,
                                       "Share of eligible independents converted each month while below "
                                       "target.",
                                       lo=0, hi=1)
    grant_per_conversion: float = spec(20000.0, "Public grant per franchise conversion (yuan).", lo=0)
    grant_per_chain_entry: float = spec(20000.0, "Public grant per new chain outlet (yuan).", lo=0)

    def setup(self, model) -> None:
        """Nothing to place; remember the original entrant share."""
        super().setup(model)
        self.original_share = model.params.chain_entrant_share
        self.conversions: list[tuple[int, int]] = []  # (day, shop)
        self._spent = 0.0

    def _chain_rate(self, model) -> float:
        shops = model.supply.shops
        n = shops.open.sum()
        return float((shops.open & shops.chain).sum() / n) if n else 0.0

    def activate(self, model) -> None:
        """Scale the chain entrant share (from the saved original, so it never compounds)."""
        share = min(1.0, self.original_share * self.entry_boost)
        model.params = dataclasses.replace(model.params, chain_entrant_share=share)

    def deactivate(self, model) -> None:
        """Restore the original chain entrant share."""
        model.params = dataclasses.replace(model.params, chain_entrant_share=self.original_share)

    def apply(self, model) -> None:
        """Each month below target: franchise conversions; at target: no boost."""
        self._spent = 0.0
        rate = self._chain_rate(model)
        boosted = min(1.0, self.original_share * self.entry_boost)
        share = boosted if rate < self.target_chain_rate else self.original_share
        if model.params.chain_entrant_share != share:
            model.params = dataclasses.replace(model.params, chain_entrant_share=share)
        if (model.day - self.start_day) % 30 != 0 or rate >= self.target_chain_rate:
            return
        shops, cats = model.supply.shops, model.categories
        n_open = int(shops.open.sum())
        eligible = np.flatnonzero(shops.open & ~shops.chain & ~shops.underwritten
                                  & (cats.chain_share[shops.category] > 0))
        gap = int(np.ceil(self.target_chain_rate * n_open - (shops.open & shops.chain).sum()))
        n = min(len(eligible), gap, int(np.ceil(self.conversion_per_month * len(eligible))))
        if n <= 0:
            return
        chosen = np.sort(self.rng.choice(eligible, size=n, replace=False))
        p = model.params
        shops.chain[chosen] = True
        shops.rent_day[chosen] *= p.chain_rent_premium
        shops.review_day[chosen] = model.day
        shops.profit_window[chosen] = 0.0
        offers = model.supply.offers
        of = np.isin(offers.shop, chosen)
        offers.price[of] = p.chain_price_index
        offers.quality[of] = np.clip(self.rng.normal(p.chain_quality, p.chain_quality_sd, of.sum()), 0, 1)
        self.conversions += [(model.day, int(s)) for s in chosen]
        self._spent += n * self.grant_per_conversion

    def spend_today(self, model) -> float:
        """Conversion grants, plus a grant for each chain outlet that opened today."""
        if not self.is_active(model.day):
            return 0.0
        opened = model.today.opened
        new_chains = int(model.supply.shops.chain[opened].sum()) if len(opened) else 0
        return self._spent + new_chains * self.grant_per_chain_entry

    def progress(self, model) -> str:
        """Franchise conversions so far and the chain rate now."""
        return (f"{len(self.conversions)} independents converted to franchises; chain rate "
                f"{self._chain_rate(model):.0%} (target {self.target_chain_rate:.0%})")

    def sites(self, model) -> np.ndarray:
        """Sites of the converted shops."""
        return model.supply.shops.site[self.supported_shops(model)].astype(np.int64)

    def supported_shops(self, model) -> np.ndarray:
        """Converted shops still open."""
        ids = np.array([s for _, s in self.conversions], dtype=np.int64)
        return ids[model.supply.shops.open[ids]] if len(ids) else ids
