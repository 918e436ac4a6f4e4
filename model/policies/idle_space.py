"""Revive idle space: turn idle ground floors in old communities into storefronts (见缝插针).

At its start the policy converts ``n_spaces`` idle ground floors of old communities (bicycle
sheds, empty ground-floor rooms facing a lane; the homes above stay) into storefronts where
basic coverage is lowest, paying a one-off renovation per space. The spaces are let at
``rent_factor`` of the local rent (publicly owned space let cheaply: rent forgone, not
money paid) through the ordinary monthly entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..metrics import coverage_matrix
from ..schema import spec
from .base import Policy
from .placement import cover_then_fill, idle_ground_floors


@dataclass(repr=False)
class IdleSpace(Policy):
    """Idle ground floors in old communities become storefronts."""

    kind = "idle_space"
    n_spaces: int = spec(12, "Idle spaces converted (0: none).", lo=0, hi=10000)
    renovation_yuan: float = spec(50000.0, "One-off renovation cost per space (yuan).", lo=0, hi=1e8)
    rent_factor: float = spec(0.6, "Rent of a converted space relative to local rent.", lo=0, hi=5)

    def setup(self, model) -> None:
        """Choose the spaces where basic coverage is lowest."""
        super().setup(model)
        self.sites_created = np.zeros(0, dtype=np.int64)
        self._renovated_on = -1
        self.cells = np.zeros((0, 2), dtype=np.int32)
        if self.n_spaces == 0:
            return
        cand = idle_ground_floors(model)
        occupied = {tuple(xy) for xy in model.supply.site_xy.tolist()}
        cand = cand[[tuple(xy) not in occupied for xy in cand.tolist()]]
        cats = model.categories
        cov = coverage_matrix(model)[:, cats.basic].all(axis=1)
        # the basic category missing most often decides what "covering" means here
        missing = (~coverage_matrix(model)[:, cats.basic]).sum(axis=0)
        worst = cats.names[int(np.flatnonzero(cats.basic)[int(np.argmax(missing))])]
        picked = cover_then_fill(model, cand, model.present_idx[~cov], self.n_spaces, worst,
                                 "policy.idle_space.n_spaces")
        self.cells = cand[np.array(picked, dtype=np.int64)]

    def activate(self, model) -> None:
        """Convert the spaces: new storefront sites, at a discounted rent."""
        if len(self.cells) == 0:
            return
        rent = model.params.rent_old_yuan_m2_day * self.rent_factor
        self.sites_created = model.supply.add_sites(self.cells, rent, storefront=True)
        self._renovated_on = model.day

    def spending(self, model, record) -> float:
        """Renovation cost, paid on the day the spaces are converted."""
        if self.is_active(model.day) and model.day == self._renovated_on:
            return len(self.cells) * self.renovation_yuan
        return 0.0

    def progress(self, model) -> str:
        """Spaces converted and how many are let."""
        if len(self.sites_created) == 0:
            return f"{len(self.cells)} idle spaces to convert at day {self.start_day}"
        let = int((model.supply.site_occupant[self.sites_created] >= 0).sum())
        return f"{len(self.sites_created)} idle spaces converted to storefronts; {let} let"

    def sites(self, model) -> np.ndarray:
        """The converted storefronts."""
        return np.asarray(self.sites_created, dtype=np.int64)

    def supported_shops(self, model) -> np.ndarray:
        """Shops open in the converted spaces (they pay the discounted rent)."""
        if len(self.sites_created) == 0:
            return np.zeros(0, dtype=np.int64)
        occ = model.supply.site_occupant[self.sites_created]
        return occ[occ >= 0].astype(np.int64)
