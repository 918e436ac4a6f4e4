"""Elderly canteens: community canteens where the elderly lack one (Shijiazhuang model).

At its start the policy opens ``n_canteens`` canteens at vacant storefronts chosen to cover
the most elderly residents without a canteen within their own 15-minute walk (or, with
``convert_failing``, it may take over the site of an open shop that is losing money). Meals
are discounted by ``discount_60`` for residents aged 60+ and free from ``free_age``; the
policy pays the discount per meal, the canteens' rent, and any operating deficit (canteens
are underwritten and never go broke). Canteens close when the policy ends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..population import ELDERLY, ELDERLY80
from ..schema import spec
from .base import Policy
from .placement import greedy_cover, lacking


@dataclass(repr=False)
class ElderlyCanteen(Policy):
    """Community canteens with meal discounts for the elderly."""

    kind = "elderly_canteen"
    n_canteens: int = spec(2, "Canteens opened.", lo=1, hi=1000, source="seed: 81 canteens cover a city")
    discount_60: float = spec(0.3,
                              "Meal discount for residents aged 60+.",
                              lo=0, hi=1, source="seed: 60+ eat at a discount (value assumption)")
    free_age: float = spec(90.0,
                           "Age from which meals are free (0: none).",
                           lo=0, hi=120, source="seed: 90+ eat free")
    quality: float = spec(0.75, "Canteen quality (0..1).", lo=0, hi=1)
    capacity: float = spec(500.0,
                           "Meals per day per canteen.",
                           lo=1, source="seed: ~1,000 m2 canteen (value assumption)")
    convert_failing: bool = spec(False, "Also consider sites of open shops that lose money.")

    def setup(self, model) -> None:
        """Choose the canteen sites now (they open at start_day)."""
        super().setup(model)
        self.sites_chosen = self._choose_sites(model)
        self.shop_ids = np.zeros(0, dtype=np.int64)
        self.offer_ids = np.zeros(0, dtype=np.int64)
        self._meal_subsidy = 0.0

    def _choose_sites(self, model) -> np.ndarray:
        sup = model.supply
        cand = sup.vacant_storefronts()
        if self.convert_failing:
            shops = sup.shops
            failing = np.flatnonzero(shops.open & ~shops.chain & (shops.cash < 0.5 * shops.cash.mean()))
            cand = np.concatenate([cand, shops.site[failing]])
        elderly = np.isin(model.population.group[model.present_idx], (ELDERLY, ELDERLY80))
        need = lacking(model, "canteen", who=elderly)
        picked = greedy_cover(model, sup.site_xy[cand], need, self.n_canteens)
        if len(picked) < self.n_canteens:
            everyone = model.present_idx[elderly]
            more = [i for i in greedy_cover(model, sup.site_xy[cand], everyone, self.n_canteens)
                    if i not in picked]
            picked += more[: self.n_canteens - len(picked)]
        return cand[np.array(picked, dtype=np.int64)]

    def activate(self, model) -> None:
        """Open the canteens (taking over a site whose shop failed, if so chosen)."""
        sup, cats = model.supply, model.categories
        occupant = sup.site_occupant[self.sites_chosen]
        sup.close_shops(occupant[occupant >= 0], model.day)
        k = cats.index["canteen"]
        n = len(self.sites_chosen)
        rent = cats.floor_m2[k] * sup.site_rent[self.sites_chosen]
        me = model.policies.index(self)
        self.shop_ids = sup.open_shops(
            model.day, self.sites_chosen, np.full(n, k, dtype=np.int16), np.zeros(n, dtype=bool),
            price=np.ones(n), quality=np.full(n, self.quality), cash=np.zeros(n), rent_day=rent,
            staff_day=np.full(n, cats.staff[k]), capacity=np.full(n, self.capacity),
            entrant=False, owner=me, underwritten=True)
        sup.shops.rent_relief[self.shop_ids] = 1.0  # the public pays the canteen's rent
        self.offer_ids = np.flatnonzero(np.isin(sup.offers.shop, self.shop_ids))
        sup.offers.discount60[self.offer_ids] = self.discount_60
        sup.offers.free_age[self.offer_ids] = self.free_age
        model.sync_agents()

    def deactivate(self, model) -> None:
        """Close the canteens."""
        model.supply.close_shops(self.shop_ids, model.day)
        model.sync_agents()

    def apply(self, model) -> None:
        """Keep the canteens' rent paid by the public."""
        model.supply.shops.rent_relief[self.shop_ids] = 1.0

    def after_choice(self, model, day) -> None:
        """Price today's meals: the policy pays what discounted diners did not."""
        at = np.isin(day.chosen, self.offer_ids)
        self._meal_subsidy = float((day.list_value[at] - day.resident_paid[at]).sum())
        self.meals_today = int(at.sum())

    def spend_today(self, model) -> float:
        """Meal subsidies, canteen rent, and the canteens' operating deficit."""
        if not self.is_active(model.day) or len(self.shop_ids) == 0:
            return 0.0
        shops = model.supply.shops
        rent = float(shops.rent_day[self.shop_ids].sum())
        deficit = float(np.minimum(shops.cash[self.shop_ids], 0.0).sum())
        shops.cash[self.shop_ids] = np.maximum(shops.cash[self.shop_ids], 0.0)
        return self._meal_subsidy + rent - deficit

    def progress(self, model) -> str:
        """Canteens open and meals served today."""
        n_open = int(model.supply.shops.open[self.shop_ids].sum()) if len(self.shop_ids) else 0
        return f"{n_open} canteens open; {getattr(self, 'meals_today', 0):,} meals today"

    def sites(self, model) -> np.ndarray:
        """The canteens' sites."""
        return np.asarray(self.sites_chosen, dtype=np.int64)

    def supported_shops(self, model) -> np.ndarray:
        """The canteens (open ones)."""
        ids = np.asarray(self.shop_ids, dtype=np.int64)
        return ids[model.supply.shops.open[ids]] if len(ids) else ids
