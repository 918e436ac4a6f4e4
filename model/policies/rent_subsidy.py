"""Rent subsidy: a share of rent paid for eligible shops, within a yearly budget.

Eligibility by category tier (basic / quality / all), community type (old / new / all) and,
optionally, gap location: a shop is at a gap when the share of residents of its community who
reach its category within 15 minutes is below ``gap_coverage``. When the year's budget would
be exceeded, the day's share is scaled down so spending stops at the cap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..city import NEW, OLD
from ..metrics import coverage_matrix
from ..schema import spec
from .base import Policy


@dataclass(repr=False)
class RentSubsidy(Policy):
    """A share of rent paid for eligible shops (see module docstring)."""

    kind = "rent_subsidy"
    share: float = spec(0.3, "Share of rent paid.", lo=0, hi=1)
    tier: str = spec("basic", "Eligible category tier.", choices=("basic", "quality", "all"))
    community: str = spec("all", "Eligible community type.", choices=("old", "new", "all"))
    gap_coverage: float = spec(0.0,
                               "Only shops whose community's coverage of their category is below this (0: no"
                               " gap rule).",
                               lo=0, hi=1)
    budget_per_year: float = spec(1500000.0, "Yearly budget cap (yuan).", lo=0)

    def setup(self, model) -> None:
        """Start the budget year."""
        super().setup(model)
        self._year_spent = 0.0
        self._year = -1
        self._eligible = np.zeros(0, dtype=bool)

    def eligible(self, model) -> np.ndarray:
        """Bool per shop: open and eligible today."""
        shops, cats, city = model.supply.shops, model.categories, model.city
        ok = shops.open & ~shops.underwritten
        basic = cats.basic[shops.category]
        if self.tier == "basic":
            ok &= basic
        elif self.tier == "quality":
            ok &= ~basic
        kind = city.community_kind[city.community[tuple(model.supply.site_xy[shops.site].T)]]
        if self.community != "all":
            ok &= kind == {"old": OLD, "new": NEW}[self.community]
        if self.gap_coverage > 0 and ok.any():
            cov = coverage_matrix(model)
            comm = model.population.community[model.present_idx]
            n_comm = len(city.community_kind)
            share = np.zeros((n_comm, cats.k))
            for k in range(cats.k):
                hit = np.bincount(comm, weights=cov[:, k], minlength=n_comm)
                share[:, k] = hit / np.maximum(np.bincount(comm, minlength=n_comm), 1)
            shop_comm = city.community[tuple(model.supply.site_xy[shops.site].T)]
            ok &= share[shop_comm, shops.category] < self.gap_coverage
        return ok

    def activate(self, model) -> None:
        """Nothing to save: rent relief is set day by day."""

    def deactivate(self, model) -> None:
        """Stop paying."""
        model.supply.shops.rent_relief[:] = 0.0

    def apply(self, model) -> None:
        """Set today's rent relief on eligible shops, within what is left of the budget."""
        year = (model.day - self.start_day) // 365
        if year != self._year:
            self._year, self._year_spent = year, 0.0
        shops = model.supply.shops
        if len(self._eligible) != len(shops) or model.day % 30 == 1 or model.day == self.start_day:
            self._eligible = self.eligible(model)
        elig = self._eligible & shops.open
        due = float((shops.rent_day[elig] * self.share).sum())
        left = max(0.0, self.budget_per_year - self._year_spent)
        share = self.share if due <= left else self.share * left / due
        shops.rent_relief[:] = 0.0
        shops.rent_relief[elig] = share

    def spend_today(self, model) -> float:
        """Rent paid today for the shops that were open."""
        if not self.is_active(model.day):
            return 0.0
        shops = model.supply.shops
        was_open = shops.open.copy()
        was_open[model.today.closed] = True
        spent = float((shops.rent_day * shops.rent_relief)[was_open].sum())
        self._year_spent += spent
        return spent

    def progress(self, model) -> str:
        """Shops with rent relief today."""
        n = len(self.supported_shops(model))
        return f"{n} shops get {self.share:.0%} of their rent paid (this year {self._year_spent:,.0f} yuan)"

    def sites(self, model) -> np.ndarray:
        """Sites of the subsidized shops."""
        return model.supply.shops.site[self.supported_shops(model)].astype(np.int64)

    def supported_shops(self, model) -> np.ndarray:
        """Open shops with rent relief from this policy."""
        shops = model.supply.shops
        if len(self._eligible) != len(shops):
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self._eligible & shops.open & (shops.rent_relief > 0))
