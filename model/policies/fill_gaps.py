"""Fill what is missing (缺什么、补什么): each quarter, subsidized entry of missing basic formats.

Every ``period_days`` the policy finds, for each basic category, the residents who do not
reach it within the category's standard walk, and opens up to ``per_round`` independent shops
of the categories missing for the most residents, each at the vacant storefront that covers
the most of them. Each gets a start-up grant (paid into its cash) and a share of its rent for
``relief_days``. All within a yearly budget: a grant is paid only if the budget left covers
it and the rent relief already promised for the rest of the year, and the relief share is
paced over the year like the rent subsidy's, so the year's spending never exceeds the budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..entry import shop_terms
from ..schema import spec
from .base import DAYS_PER_YEAR, Policy
from .placement import PLACEMENTS, cover, lacking


@dataclass(repr=False)
class FillGaps(Policy):
    """Quarterly subsidized entry of the missing basic categories where coverage is lowest."""

    kind = "fill_gaps"
    period_days: int = spec(90, "Days between rounds.", lo=1, hi=3650,
                            source="seed: quarterly project lists")
    per_round: int = spec(3, "Shops opened per round at most (0: none).", lo=0, hi=1000)
    grant_yuan: float = spec(30000.0, "Start-up grant per shop (yuan).", lo=0, hi=1e8)
    relief_share: float = spec(0.5, "Share of rent paid for the subsidized shops.", lo=0, hi=1)
    relief_days: int = spec(365, "Days of rent relief.", lo=0, hi=3650)
    budget_per_year: float = spec(800_000.0, "Yearly budget cap (yuan).", lo=0, hi=1e10)
    placement: str = spec("greedy", "How the shops' sites are chosen: greedy cover, or the exact maximal "
                          "covering location model (spopt MCLP).", choices=PLACEMENTS,
                          source="implementation choice; MCLP: Church & ReVelle 1974")

    def setup(self, model) -> None:
        """Start the books."""
        super().setup(model)
        self.opened: list[tuple[int, int]] = []  # (day, shop)
        self._paid_today = 0.0
        self._year, self._year_base = -1, 0.0
        self._shares = np.zeros(0)

    def _mine(self) -> np.ndarray:
        return np.array([s for _, s in self.opened], dtype=np.int64)

    def apply(self, model) -> None:
        """On round days open shops where basic categories are missing; pace the rent relief."""
        self._paid_today = 0.0
        year, day_of_year = self.budget_year(model.day)
        if year != self._year:
            self._year, self._year_base = year, model.ledger[self.label]
        left = max(0.0, self.budget_per_year - (model.ledger[self.label] - self._year_base))
        days_left = DAYS_PER_YEAR - day_of_year
        if (model.day - self.start_day) % self.period_days == 0:
            left -= self._open_round(model, left - self._relief_due(model, days_left))
        mine = self._mine()
        shops = model.supply.shops
        self._shares = np.zeros(len(shops))
        if len(mine):
            active = shops.open[mine] & (model.day - shops.opened_day[mine] < self.relief_days)
            due = float(shops.rent_day[mine[active]].sum()) * days_left
            share = self.relief_share if due <= 0 else min(self.relief_share, left / due)
            self._shares[mine[active]] = share

    def _relief_due(self, model, days_left: int) -> float:
        """Rent relief at the full share for this year's remaining days (what is promised)."""
        mine = self._mine()
        if len(mine) == 0:
            return 0.0
        shops = model.supply.shops
        active = shops.open[mine] & (model.day - shops.opened_day[mine] < self.relief_days)
        return float(shops.rent_day[mine[active]].sum()) * self.relief_share * days_left

    def _open_round(self, model, free: float) -> float:
        """Open this round's shops while ``free`` budget covers the grants; return grants paid."""
        cats, sup = model.categories, model.supply
        basic = [cats.names[k] for k in np.flatnonzero(cats.basic)]
        missing = sorted(((len(lacking(model, c)), c) for c in basic), reverse=True)
        paid = 0.0
        for n_lacking, cat in missing[: self.per_round]:
            if n_lacking == 0 or paid + self.grant_yuan > free:
                break
            vacant = sup.vacant_storefronts()
            pick = cover(model, sup.site_xy[vacant], lacking(model, cat), 1, cat, self.placement)
            if not pick:
                continue
            site = vacant[pick[0]]
            k = np.array([cats.index[cat]], dtype=np.int16)
            terms = shop_terms(model, self.rng, k, np.array([False]), np.array([site]))
            terms["cash"] = terms["cash"] + self.grant_yuan
            sid = sup.open_shops(model.day, np.array([site]), k, np.array([False]), entrant=True,
                                 owner=model.policies.index(self), **terms)
            self.opened.append((model.day, int(sid[0])))
            paid += self.grant_yuan
        self._paid_today += paid
        model.sync_agents()
        return paid

    def rent_shares(self, model) -> np.ndarray | None:
        """The relief share of the shops it opened, while their relief lasts."""
        if not self.is_active(model.day):
            return None
        n = len(model.supply.shops)
        return np.concatenate([self._shares, np.zeros(n - len(self._shares))])

    def spending(self, model, record) -> float:
        """Grants paid today plus the rent relief charged to it."""
        if not self.is_active(model.day):
            return 0.0
        return super().spending(model, record) + self._paid_today

    def progress(self, model) -> str:
        """Shops opened to fill gaps, and how many are still open."""
        mine = self._mine()
        still = int(model.supply.shops.open[mine].sum()) if len(mine) else 0
        return f"{len(mine)} shops opened where basic formats were missing; {still} still open"

    def sites(self, model) -> np.ndarray:
        """Sites of the shops it opened."""
        mine = self._mine()
        return model.supply.shops.site[mine].astype(np.int64) if len(mine) else mine

    def supported_shops(self, model) -> np.ndarray:
        """Its shops still open."""
        mine = self._mine()
        return mine[model.supply.shops.open[mine]] if len(mine) else mine
