"""Elderly canteens: community canteens where the elderly lack one (Shijiazhuang model).

At its start the policy opens ``n_canteens`` canteens at vacant storefronts chosen to cover
the most elderly residents without a canteen within the category's standard walk (or, with
``convert_failing``, it may take over the site of an open shop that is losing money). Meals
are discounted by ``discount_60`` for residents aged 60+ and free from ``free_age``; the
policy pays the discount per meal, the canteens' whole rent, and any operating deficit (the
canteens are underwritten and never go broke). Canteens close when the policy ends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..entry import shop_margin
from ..population import ELDERLY, ELDERLY80
from ..schema import spec
from .base import Policy
from .placement import PLACEMENTS, cover_then_fill, lacking


@dataclass(repr=False)
class ElderlyCanteen(Policy):
    """Community canteens with meal discounts for the elderly."""

    kind = "elderly_canteen"
    n_canteens: int = spec(2, "Canteens opened (0: none).", lo=0, hi=1000,
                           source="seed: 81 canteens cover a city")
    discount_60: float = spec(0.3, "Meal discount for residents aged 60+.", lo=0, hi=1,
                              source="seed: 60+ eat at a discount (value assumption)")
    free_age: float = spec(90.0, "Age from which meals are free (0: none).", lo=0, hi=120,
                           source="seed: 90+ eat free")
    quality: float = spec(0.75, "Canteen quality (0..1).", lo=0, hi=1)
    capacity: float = spec(500.0, "Meals per day per canteen.", lo=1, hi=1e6,
                           source="seed: ~1,000 m2 canteen (value assumption)")
    convert_failing: bool = spec(False, "Also consider sites of open shops that lose money.")
    placement: str = spec("greedy", "How canteen sites are chosen: greedy cover, or the exact maximal "
                          "covering location model (spopt MCLP).", choices=PLACEMENTS,
                          source="implementation choice; MCLP: Church & ReVelle 1974")

    def setup(self, model) -> None:
        """Choose the canteen sites now (they open at start_day)."""
        super().setup(model)
        self.sites_chosen = self._choose_sites(model)
        self.shop_ids = np.zeros(0, dtype=np.int64)
        self.offer_ids = np.zeros(0, dtype=np.int64)
        self._meal_subsidy = 0.0
        self.meals_today = 0

    def _choose_sites(self, model) -> np.ndarray:
        if self.n_canteens == 0:
            return np.zeros(0, dtype=np.int64)
        sup = model.supply
        cand = sup.vacant_storefronts()
        if self.convert_failing:
            shops = sup.shops
            failing = np.flatnonzero(shops.open & ~shops.chain & (shops.cash < 0.5 * shops.cash.mean()))
            cand = np.concatenate([cand, shops.site[failing]])
        elderly = np.isin(model.population.group[model.present_idx], (ELDERLY, ELDERLY80))
        need = lacking(model, "canteen", who=elderly)
        picked = cover_then_fill(model, sup.site_xy[cand], need, self.n_canteens, "canteen",
                                 "policy.elderly_canteen.n_canteens", self.placement)
        return cand[np.array(picked, dtype=np.int64)]

    def activate(self, model) -> None:
        """Open the canteens (taking over a site whose shop failed, if so chosen)."""
        if len(self.sites_chosen) == 0:
            return
        sup, cats = model.supply, model.categories
        occupant = sup.site_occupant[self.sites_chosen]
        sup.close_shops(occupant[occupant >= 0], model.day)
        k = cats.index["canteen"]
        n = len(self.sites_chosen)
        cat = np.full(n, k, dtype=np.int16)
        chain, price = np.zeros(n, dtype=bool), np.ones(n)
        self.shop_ids = sup.open_shops(
            model.day, self.sites_chosen, cat, chain, price=price,
            quality=np.full(n, self.quality), cash=np.zeros(n),
            rent_day=cats.floor_m2[k] * sup.site_rent[self.sites_chosen],
            staff_day=np.full(n, cats.staff[k]), capacity=np.full(n, self.capacity),
            margin=shop_margin(model, cat, chain, price), entrant=False,
            owner=model.policies.index(self), underwritten=True)
        self.offer_ids = np.flatnonzero(np.isin(sup.offers.shop, self.shop_ids))
        sup.offers.discount60[self.offer_ids] = self.discount_60
        sup.offers.free_age[self.offer_ids] = self.free_age
        model.sync_agents()

    def deactivate(self, model) -> None:
        """Close the canteens."""
        model.supply.close_shops(self.shop_ids, model.day)
        model.sync_agents()

    def rent_shares(self, model) -> np.ndarray | None:
        """The public pays the canteens' whole rent."""
        if not self.is_active(model.day) or len(self.shop_ids) == 0:
            return None
        shares = np.zeros(len(model.supply.shops))
        shares[self.shop_ids] = 1.0
        return shares

    def after_choice(self, model, record) -> None:
        """Price today's meals: the policy pays what discounted diners did not."""
        at = np.isin(record.chosen, self.offer_ids)
        self._meal_subsidy = float((record.list_value[at] - record.resident_paid[at]).sum())
        self.meals_today = int(at.sum())

    def spending(self, model, record) -> float:
        """Meal subsidies, plus the canteens' rent and deficits charged to it."""
        if not self.is_active(model.day) or len(self.shop_ids) == 0:
            return 0.0
        return super().spending(model, record) + self._meal_subsidy

    def progress(self, model) -> str:
        """Canteens open and meals served today."""
        n_open = int(model.supply.shops.open[self.shop_ids].sum()) if len(self.shop_ids) else 0
        return f"{n_open} canteens open; {self.meals_today:,} meals today"

    def sites(self, model) -> np.ndarray:
        """The canteens' sites."""
        return np.asarray(self.sites_chosen, dtype=np.int64)

    def supported_shops(self, model) -> np.ndarray:
        """The canteens (open ones)."""
        ids = np.asarray(self.shop_ids, dtype=np.int64)
        return ids[model.supply.shops.open[ids]] if len(ids) else ids
