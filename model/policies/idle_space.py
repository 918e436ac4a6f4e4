"""Revive idle space: turn idle space in old communities into storefronts (见缝插针).

At its start the policy converts ``n_spaces`` lane cells of old communities (bicycle sheds,
ground floors, corners) into storefronts where basic coverage is lowest, paying a one-off
renovation cost per space and a rent discount (``rent_factor`` of the local rent). The market
then lets them through ordinary monthly entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..city import OLD, ROAD, STOREFRONT
from ..metrics import coverage_matrix
from ..schema import spec
from .base import Policy
from .placement import greedy_cover, walkable_road_cells


@dataclass(repr=False)
class IdleSpace(Policy):
    """Idle space in old communities becomes storefronts."""

    kind = "idle_space"
    n_spaces: int = spec(12, "Idle spaces converted.", lo=1, hi=10000)
    renovation_yuan: float = spec(50000.0, "One-off renovation cost per space (yuan).", lo=0)
    rent_factor: float = spec(0.6, "Rent of a converted space relative to local rent.", lo=0, hi=5)

    def setup(self, model) -> None:
        """Choose the spaces where basic coverage is lowest."""
        super().setup(model)
        cand = walkable_road_cells(model, community_kind=OLD, step=1)
        city = model.city
        # idle corners: lane cells that are not crossings of two lanes
        keep = [i for i, (x, y) in enumerate(cand)
                if not (city.cell_type[x - 1, y] == ROAD and city.cell_type[x, y - 1] == ROAD)]
        cand = cand[keep]
        cov = coverage_matrix(model)[:, model.categories.basic].all(axis=1)
        need = model.present_idx[~cov]
        picked = greedy_cover(model, cand, need, self.n_spaces)
        if len(picked) < self.n_spaces:
            more = [i for i in greedy_cover(model, cand, model.present_idx, self.n_spaces)
                    if i not in picked]
            picked += more[: self.n_spaces - len(picked)]
        self.cells = cand[np.array(picked, dtype=np.int64)]
        self.sites_created = np.zeros(0, dtype=np.int64)
        self._renovated_on = -1

    def activate(self, model) -> None:
        """Convert the spaces: new storefront sites, at a discounted rent."""
        rent = model.params.rent_old_yuan_m2_day * self.rent_factor
        self.sites_created = model.supply.add_sites(self.cells, rent, storefront=True)
        model.city.cell_type[self.cells[:, 0], self.cells[:, 1]] = STOREFRONT
        self._renovated_on = model.day

    def deactivate(self, model) -> None:
        """Converted spaces stay storefronts (the renovation is done)."""

    def spend_today(self, model) -> float:
        """Renovation cost, paid on the day the spaces are converted."""
        if self.is_active(model.day) and model.day == self._renovated_on:
            return len(self.cells) * self.renovation_yuan
        return 0.0

    def progress(self, model) -> str:
        """Spaces converted and how many are let."""
        if len(self.sites_created) == 0:
            return f"{len(self.cells)} idle spaces chosen, converted at day {self.start_day}"
        let = int((model.supply.site_occupant[self.sites_created] >= 0).sum())
        return f"{len(self.sites_created)} idle spaces converted to storefronts; {let} let"

    def sites(self, model) -> np.ndarray:
        """The converted storefronts."""
        return np.asarray(self.sites_created, dtype=np.int64)

    def supported_shops(self, model) -> np.ndarray:
        """Shops open in the converted spaces (they pay the discounted rent)."""
        occ = model.supply.site_occupant[self.sites_created] if len(self.sites_created) else []
        return np.asarray([o for o in occ if o >= 0], dtype=np.int64)
