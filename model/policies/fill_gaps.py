"""Fill what is missing (缺什么、补什么): each quarter, subsidized entry of missing basic formats.

Every ``period_days`` the policy finds, for each basic category, the residents who lack it
within their own 15-minute walk, and opens up to ``per_round`` independent shops of the
categories missing for the most residents, each at the vacant storefront that covers the
most of them. Each gets a start-up grant (paid into its cash) and rent relief for
``relief_days``; all within a yearly budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..entry import shop_terms
from ..schema import spec
from .base import Policy
from .placement import greedy_cover, lacking


@dataclass(repr=False)
class FillGaps(Policy):
    """Quarterly subsidized entry of the missing basic categories where coverage is lowest."""

    kind = "fill_gaps"
    period_days: int = spec(90, "Days between rounds.", lo=1, hi=3650, source="seed: quarterly project lists")
    per_round: int = spec(3, "Shops opened per round at most.", lo=1, hi=1000)
    grant_yuan: float = spec(30000.0, "Start-up grant per shop (yuan).", lo=0)
    relief_share: float = spec(0.5, "Share of rent paid for the subsidized shops.", lo=0, hi=1)
    relief_days: int = spec(365, "Days of rent relief.", lo=0, hi=3650)
    budget_per_year: float = spec(800000.0, "Yearly budget cap (yuan).", lo=0)

    def setup(self, model) -> None:
        """Start the books."""
        super().setup(model)
        self.opened: list[tuple[int, int]] = []  # (day, shop)
        self._spent_today = 0.0
        self._year, self._year_spent = -1, 0.0

    def apply(self, model) -> None:
        """On round days, open shops where basic categories are missing."""
        self._spent_today = 0.0
        year = (model.day - self.start_day) // 365
        if year != self._year:
            self._year, self._year_spent = year, 0.0
        shops = model.supply.shops
        mine = np.array([s for _, s in self.opened], dtype=np.int64)
        if len(mine):
            active = model.day - shops.opened_day[mine] < self.relief_days
            shops.rent_relief[mine] = np.where(active & shops.open[mine], self.relief_share, 0.0)
        if (model.day - self.start_day) % self.period_days != 0:
            return
        cats, sup = model.categories, model.supply
        basic = [cats.names[k] for k in np.flatnonzero(cats.basic)]
        missing = sorted(((len(lacking(model, c)), c) for c in basic), reverse=True)
        for n_lacking, cat in missing[: self.per_round]:
            if n_lacking == 0 or self._year_spent + self.grant_yuan > self.budget_per_year:
                break
            vacant = sup.vacant_storefronts()
            pick = greedy_cover(model, sup.site_xy[vacant], lacking(model, cat), 1)
            if not pick:
                continue
            site = vacant[pick[0]]
            k = np.array([cats.index[cat]], dtype=np.int16)
            terms = shop_terms(model, self.rng, k, np.array([False]), np.array([site]))
            terms["cash"] = terms["cash"] + self.grant_yuan
            sid = sup.open_shops(model.day, np.array([site]), k, np.array([False]), entrant=True,
                                 owner=model.policies.index(self), **terms)
            shops = sup.shops
            shops.rent_relief[sid] = self.relief_share
            self.opened.append((model.day, int(sid[0])))
            self._spent_today += self.grant_yuan
            self._year_spent += self.grant_yuan
        model.sync_agents()

    def spend_today(self, model) -> float:
        """Grants paid today plus rent relief of the subsidized shops."""
        if not self.is_active(model.day):
            return 0.0
        shops = model.supply.shops
        mine = np.array([s for _, s in self.opened], dtype=np.int64)
        relief = 0.0
        if len(mine):
            was_open = shops.open[mine] | np.isin(mine, model.today.closed)
            relief = float((shops.rent_day[mine] * shops.rent_relief[mine])[was_open].sum())
        self._year_spent += relief
        return self._spent_today + relief

    def deactivate(self, model) -> None:
        """Stop the rent relief."""
        mine = np.array([s for _, s in self.opened], dtype=np.int64)
        if len(mine):
            model.supply.shops.rent_relief[mine] = 0.0

    def progress(self, model) -> str:
        """Shops opened to fill gaps, and how many are still open."""
        mine = np.array([s for _, s in self.opened], dtype=np.int64)
        still = int(model.supply.shops.open[mine].sum()) if len(mine) else 0
        return f"{len(mine)} shops opened where basic formats were missing; {still} still open"

    def sites(self, model) -> np.ndarray:
        """Sites of the shops it opened."""
        mine = np.array([s for _, s in self.opened], dtype=np.int64)
        return model.supply.shops.site[mine].astype(np.int64) if len(mine) else mine

    def supported_shops(self, model) -> np.ndarray:
        """Its shops still open."""
        mine = np.array([s for _, s in self.opened], dtype=np.int64)
        return mine[model.supply.shops.open[mine]] if len(mine) else mine
