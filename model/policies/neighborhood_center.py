"""Neighbourhood centres: one-stop, multi-category centres in new communities (邻里中心).

At its start the policy opens ``n_centers`` centres at vacant storefronts of new communities
that reach the most residents lacking a complete basic circle; each serves every category in
``categories`` at once. The public pays a share of a centre's rent (``rent_share``) and its
operating deficit (it is underwritten), so it stays open while the policy runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..categories import category_names
from ..city import NEW
from ..entry import shop_margin
from ..errors import ScenarioError
from ..metrics import coverage_matrix
from ..schema import spec
from .base import Policy
from .placement import cover_then_fill

SHARED_FLOOR = 0.7  # a centre needs 70% of the floor of separate shops (assumption)


@dataclass(repr=False)
class NeighborhoodCenter(Policy):
    """One-stop multi-category centres in new communities."""

    kind = "neighborhood_center"
    n_centers: int = spec(1, "Centres opened (0: none).", lo=0, hi=100)
    categories: str = spec("convenience,fresh_food,breakfast,repair,pharmacy,parcel,laundry",
                           "Categories a centre serves, comma separated.")
    quality: float = spec(0.75, "Quality of the centre's services (0..1).", lo=0, hi=1)
    rent_share: float = spec(0.5, "Share of a centre's rent paid by the public.", lo=0, hi=1)
    staff_share: float = spec(0.6, "Staff cost per category relative to a stand-alone shop.",
                              lo=0, hi=5, source="assumption (shared staff)")

    def check(self, where: str) -> None:
        """The categories must be known, listed once, and at least one."""
        super().check(where)
        names = [c.strip() for c in self.categories.split(",") if c.strip()]
        known = category_names()
        unknown = [c for c in names if c not in known]
        if not names or unknown or len(set(names)) != len(names):
            raise ScenarioError(where, "policy.neighborhood_center.categories",
                                f"{self.categories!r}: give known categories, each once, comma "
                                f"separated; known: {known}")

    def setup(self, model) -> None:
        """Pick the sites."""
        super().setup(model)
        self.cat_idx = [model.categories.index[c.strip()] for c in self.categories.split(",")
                        if c.strip()]
        self.shop_ids = np.zeros(0, dtype=np.int64)
        self.sites_chosen = np.zeros(0, dtype=np.int64)
        if self.n_centers == 0:
            return
        sup, city = model.supply, model.city
        vacant = sup.vacant_storefronts()
        vacant = vacant[city.community_kind[city.community[tuple(sup.site_xy[vacant].T)]] == NEW]
        cov = coverage_matrix(model)[:, model.categories.basic].all(axis=1)
        first = model.categories.names[self.cat_idx[0]]
        picked = cover_then_fill(model, sup.site_xy[vacant], model.present_idx[~cov],
                                 self.n_centers, first, "policy.neighborhood_center.n_centers")
        self.sites_chosen = vacant[np.array(picked, dtype=np.int64)]

    def activate(self, model) -> None:
        """Open the centres (taking over a site someone moved into meanwhile)."""
        if len(self.sites_chosen) == 0:
            return
        sup, cats = model.supply, model.categories
        occupant = sup.site_occupant[self.sites_chosen]
        sup.close_shops(occupant[occupant >= 0], model.day)
        k = np.array(self.cat_idx, dtype=np.int16)
        n = len(self.sites_chosen)
        primary = np.full(n, k[0], dtype=np.int16)
        chain, price = np.zeros(n, dtype=bool), np.ones(n)
        self.shop_ids = sup.open_shops(
            model.day, self.sites_chosen, primary, chain, price=price,
            quality=np.full(n, self.quality), cash=np.zeros(n),
            rent_day=float(cats.floor_m2[k].sum()) * SHARED_FLOOR * sup.site_rent[self.sites_chosen],
            staff_day=np.full(n, float(cats.staff[k].sum()) * self.staff_share),
            capacity=np.full(n, cats.capacity[k[0]]), margin=shop_margin(model, primary, chain, price),
            entrant=False, owner=model.policies.index(self), underwritten=True)
        rest = k[1:]
        for sid, site in zip(self.shop_ids.tolist(), self.sites_chosen.tolist(), strict=True):
            sup.add_offers(shop=np.full(len(rest), sid), site=np.full(len(rest), site),
                           category=rest, price=1.0, quality=self.quality,
                           capacity=cats.capacity[rest],
                           margin=shop_margin(model, rest, np.zeros(len(rest), bool), np.ones(len(rest))))
        model.sync_agents()

    def deactivate(self, model) -> None:
        """Close the centres."""
        model.supply.close_shops(self.shop_ids, model.day)
        model.sync_agents()

    def rent_shares(self, model) -> np.ndarray | None:
        """The public's share of the centres' rent."""
        if not self.is_active(model.day) or len(self.shop_ids) == 0:
            return None
        shares = np.zeros(len(model.supply.shops))
        shares[self.shop_ids] = self.rent_share
        return shares

    def progress(self, model) -> str:
        """Centres open and the formats they serve."""
        if len(self.shop_ids) == 0:
            return (f"{len(self.sites_chosen)} centres to open at day {self.start_day}"
                    if len(self.sites_chosen) else "no centre")
        n_open = int(model.supply.shops.open[self.shop_ids].sum())
        return f"{n_open} centres open, each with {len(self.cat_idx)} formats under one roof"

    def sites(self, model) -> np.ndarray:
        """The centres' sites."""
        return np.asarray(self.sites_chosen, dtype=np.int64)

    def supported_shops(self, model) -> np.ndarray:
        """The centres, while open."""
        ids = self.shop_ids
        return ids[model.supply.shops.open[ids]] if len(ids) else ids
