"""Rent subsidy: a share of rent paid for eligible shops, paced over a yearly budget.

Eligibility by category tier (basic / quality / all), community type (old / new / all) and,
optionally, gap location: a shop is at a gap when the share of residents of its community who
reach its category within the category's standard walk is below ``gap_coverage``. Shops that
another policy underwrites are not eligible (their rent is already public money).

**Pacing.** Each day the effective share is ``min(share, left / (eligible rent x days left))``:
the budget left this budget year spread over the days left, so the subsidy lasts the whole
year instead of running out in spring, and the year's spending never exceeds the budget. The
effective share is reported (``rent_subsidy_share``). Entrants count the effective share in
their expected profit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..city import NEW, OLD
from ..metrics import coverage_matrix
from ..schema import spec
from .base import DAYS_PER_YEAR, Policy


@dataclass(repr=False)
class RentSubsidy(Policy):
    """A share of rent paid for eligible shops (see module docstring)."""

    kind = "rent_subsidy"
    share: float = spec(0.3, "Share of rent paid (at most; see pacing).", lo=0, hi=1)
    tier: str = spec("basic", "Eligible category tier.", choices=("basic", "quality", "all"))
    community: str = spec("all", "Eligible community type.", choices=("old", "new", "all"))
    gap_coverage: float = spec(0.0, "Only shops whose community's coverage of their category "
                               "is below this (0: no gap rule).", lo=0, hi=1)
    budget_per_year: float = spec(1_500_000.0, "Yearly budget cap (yuan).", lo=0, hi=1e10)

    def setup(self, model) -> None:
        """Start the books."""
        super().setup(model)
        self.effective_share = 0.0
        self._year = -1
        self._year_base = 0.0
        self._eligible = np.zeros(0, dtype=bool)
        self._shares = np.zeros(0)

    def _category_ok(self, model) -> np.ndarray:
        basic = model.categories.basic
        return {"basic": basic, "quality": ~basic, "all": np.ones_like(basic)}[self.tier]

    def _gap_share(self, model) -> np.ndarray:
        """(communities, categories): share of a community's residents who reach a category."""
        cov = coverage_matrix(model)
        comm = model.population.community[model.present_idx]
        n_comm = len(model.city.community_kind)
        hits = np.zeros((n_comm, model.categories.k))
        np.add.at(hits, comm, cov)
        return hits / np.maximum(np.bincount(comm, minlength=n_comm), 1)[:, None]

    def eligible(self, model) -> np.ndarray:
        """Bool per shop: open, not underwritten, and eligible by tier, community and gap."""
        shops, city = model.supply.shops, model.city
        ok = shops.open & ~shops.underwritten & self._category_ok(model)[shops.category]
        comm = model.supply.shop_community(city)
        if self.community != "all":
            ok &= city.community_kind[comm] == {"old": OLD, "new": NEW}[self.community]
        if self.gap_coverage > 0 and ok.any():
            ok &= self._gap_share(model)[comm, shops.category] < self.gap_coverage
        return ok

    def apply(self, model) -> None:
        """Set today's effective share on the eligible shops, paced over the budget year."""
        year, day_of_year = self.budget_year(model.day)
        if year != self._year:
            self._year, self._year_base = year, model.ledger[self.label]
        shops = model.supply.shops
        if len(self._eligible) != len(shops) or model.day % 30 == 1 or model.day == self.start_day:
            self._eligible = self.eligible(model)
        elig = self._eligible & shops.open
        left = max(0.0, self.budget_per_year - (model.ledger[self.label] - self._year_base))
        due = float(shops.rent_day[elig].sum()) * (DAYS_PER_YEAR - day_of_year)
        self.effective_share = self.share if due <= 0 else min(self.share, left / due)
        self._shares = np.where(elig, self.effective_share, 0.0)

    def rent_shares(self, model) -> np.ndarray | None:
        """Today's shares (shops opened since ``apply`` get none today)."""
        if not self.is_active(model.day):
            return None
        n = len(model.supply.shops)
        return np.concatenate([self._shares, np.zeros(n - len(self._shares))])

    def entry_support(self, model, site: int, chain: bool) -> tuple[np.ndarray, np.ndarray]:
        """An entrant at ``site`` expects today's effective share where it would be eligible."""
        k = model.categories.k
        if not self.is_active(model.day):
            return np.zeros(k), np.zeros(k)
        city = model.city
        x, y = model.supply.site_xy[site]
        comm = city.community[x, y]
        ok = self._category_ok(model).copy()
        if self.community != "all":
            ok &= city.community_kind[comm] == {"old": OLD, "new": NEW}[self.community]
        if self.gap_coverage > 0:
            ok &= self._gap_share(model)[comm] < self.gap_coverage
        return np.where(ok, self.effective_share, 0.0), np.zeros(k)

    def progress(self, model) -> str:
        """Shops with rent relief today and the year's spending."""
        n = len(self.supported_shops(model))
        spent = model.ledger[self.label] - self._year_base
        return (f"{n} shops get {self.effective_share:.0%} of their rent paid; "
                f"{spent:,.0f} of {self.budget_per_year:,.0f} yuan this budget year")

    def sites(self, model) -> np.ndarray:
        """Sites of the subsidized shops."""
        return model.supply.shops.site[self.supported_shops(model)].astype(np.int64)

    def supported_shops(self, model) -> np.ndarray:
        """Open shops with rent relief from this policy."""
        shares = self.rent_shares(model)
        if shares is None:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero((shares > 0) & model.supply.shops.open)
