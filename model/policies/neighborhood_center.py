"""A neighbourhood centre: a one-stop, multi-category centre in a new community (邻里中心).

At its start the policy opens one centre at the vacant storefront of a new community that
reaches the most residents lacking a complete basic circle; it serves every category in
``categories`` at once. The public pays a share of its rent (``rent_share``) and its operating
deficit (it is underwritten), so it stays open while the policy runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..city import NEW
from ..metrics import coverage_matrix
from ..schema import spec
from .base import Policy
from .inputs import category_list
from .placement import greedy_cover


@dataclass(repr=False)
class NeighborhoodCenter(Policy):
    """One-stop multi-category centre in a new community."""

    kind = "neighborhood_center"
    categories: str = spec("convenience,fresh_food,breakfast,repair,pharmacy,parcel,laundry",
                           "Categories the centre serves, comma separated.")
    quality: float = spec(0.75, "Quality of the centre's services (0..1).", lo=0, hi=1)
    rent_share: float = spec(0.5, "Share of the centre's rent paid by the public.", lo=0, hi=1)
    staff_share: float = spec(0.6,
                              "Staff cost per category relative to a stand-alone shop.",
                              lo=0, hi=5, source="assumption (shared staff)")

    def check(self, where: str, categories: tuple[str, ...] = ()) -> None:
        """The categories served must be known, at least one, none twice."""
        super().check(where, categories)
        category_list(where, "policy.neighborhood_center.categories", self.categories,
                      categories)

    def setup(self, model) -> None:
        """Pick the site."""
        super().setup(model)

        names = category_list("policy", "policy.neighborhood_center.categories",
                              self.categories, tuple(model.categories.names))
        self.cat_idx = [model.categories.index[c] for c in names]
        sup, city = model.supply, model.city
        vacant = sup.vacant_storefronts()
        vacant = vacant[city.community_kind[city.community[tuple(sup.site_xy[vacant].T)]] == NEW]
        cov = coverage_matrix(model)[:, model.categories.basic].all(axis=1)
        pick = greedy_cover(model, sup.site_xy[vacant], model.present_idx[~cov], 1) or \
            greedy_cover(model, sup.site_xy[vacant], model.present_idx, 1)
        self.site = int(vacant[pick[0]]) if pick else -1
        self.shop_id = -1

    def activate(self, model) -> None:
        """Open the centre."""
        if self.site < 0:
            return
        sup, cats = model.supply, model.categories
        if sup.site_occupant[self.site] >= 0:  # someone moved in meanwhile: take it over
            sup.close_shops(np.array([sup.site_occupant[self.site]]), model.day)
        k = np.array(self.cat_idx, dtype=np.int16)
        primary = k[:1]
        floor = float(cats.floor_m2[k].sum()) * 0.7  # shared space
        rent = floor * sup.site_rent[self.site]
        staff = float(cats.staff[k].sum()) * self.staff_share
        sid = sup.open_shops(model.day, np.array([self.site]), primary, np.array([False]),
                             price=np.ones(1), quality=np.full(1, self.quality), cash=np.zeros(1),
                             rent_day=np.array([rent]), staff_day=np.array([staff]),
                             capacity=cats.capacity[primary], entrant=False,
                             owner=model.policies.index(self), underwritten=True)
        self.shop_id = int(sid[0])
        rest = k[1:]
        sup.add_offers(shop=np.full(len(rest), self.shop_id), site=np.full(len(rest), self.site),
                       category=rest, price=1.0, quality=self.quality, capacity=cats.capacity[rest])
        sup.shops.rent_relief[self.shop_id] = self.rent_share
        model.sync_agents()

    def deactivate(self, model) -> None:
        """Close the centre."""
        if self.shop_id >= 0:
            model.supply.close_shops(np.array([self.shop_id]), model.day)
            model.sync_agents()

    def apply(self, model) -> None:
        """Keep the rent share paid."""
        if self.shop_id >= 0:
            model.supply.shops.rent_relief[self.shop_id] = self.rent_share

    def spend_today(self, model) -> float:
        """Rent share and operating deficit of the centre."""
        if not self.is_active(model.day) or self.shop_id < 0:
            return 0.0
        shops = model.supply.shops
        rent = float(shops.rent_day[self.shop_id] * shops.rent_relief[self.shop_id])
        deficit = min(0.0, float(shops.cash[self.shop_id]))
        shops.cash[self.shop_id] = max(0.0, float(shops.cash[self.shop_id]))
        return rent - deficit

    def progress(self, model) -> str:
        """Whether the centre is open and how many formats it serves."""
        if self.shop_id < 0:
            return "no centre open yet" if self.site >= 0 else "no vacant storefront for a centre"
        return f"1 centre open with {len(self.cat_idx)} formats under one roof"

    def sites(self, model) -> np.ndarray:
        """The centre's site."""
        return np.array([self.site] if self.site >= 0 else [], dtype=np.int64)

    def supported_shops(self, model) -> np.ndarray:
        """The centre, while open."""
        ok = self.shop_id >= 0 and model.supply.shops.open[self.shop_id]
        return np.array([self.shop_id] if ok else [], dtype=np.int64)
