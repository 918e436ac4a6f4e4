"""A smart platform: one map of the shops around, so residents find what is there (看得见、找得到).

The source: Ningbo's Jiangbei district platform lists 412 merchants (shopping, dining,
services) with "points at a glance, navigation at a click"; the repair map makes small
repair points visible; the commerce ministry's 2023 pilot report counts 60.3% of pilot circles
using a smart-service platform. With consideration sets on (``consideration_sets``, see
``model.knowledge``), residents know only part of the shops within reach; the platform makes
every listed shop within reach known to the residents who use it.

* **Who lists.** Each shop of a category in ``categories`` (empty: every category) joins
  with probability ``join_share`` -- the open shops when the policy starts, and every shop
  that opens later (market entrants and policies' shops alike) on the day after it opens
  (drawn on the policy's own stream). Listing is free for shops.
* **Who uses it.** Each digital adopter uses the platform with probability ``uptake`` (drawn
  once, on the policy's own stream): the ``ACCESS_PLATFORM`` bit of ``model.access``.
* **Cost.** ``operating_cost_per_year`` (building, data and running the platform), booked
  evenly on each active day.

Small, rarely used formats (repair points, laundries) gain the most: residents visit them too
seldom to learn of them by themselves. Without consideration sets everybody already knows
every shop within reach, and the platform changes nothing but the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..categories import category_names
from ..errors import ScenarioError
from ..schema import spec
from ..supply import ACCESS_PLATFORM
from .base import DAYS_PER_YEAR, Policy


@dataclass(repr=False)
class SmartPlatform(Policy):
    """A platform listing shops, known to the residents who use it."""

    kind = "smart_platform"
    join_share: float = spec(0.6, "Share of shops that list on the platform (0: none).", lo=0,
                             hi=1, source="seed: 412 merchants on Ningbo Jiangbei's platform "
                             "(value assumption)")
    categories: str = spec("", "Categories whose shops may list, comma separated (empty: all).",
                           source="seed: shopping, dining, services and small repairs")
    uptake: float = spec(0.7, "Share of digital adopters who use the platform (0: nobody).",
                         lo=0, hi=1, source="assumption")
    operating_cost_per_year: float = spec(300_000.0, "Yearly cost of the platform (yuan), "
                                          "booked evenly over the active days.", lo=0, hi=1e10,
                                          source="assumption")

    def check(self, where: str) -> None:
        """Listed categories are known ones, each once."""
        super().check(where)
        names = [c.strip() for c in self.categories.split(",") if c.strip()]
        known = category_names()
        if any(c not in known for c in names) or len(set(names)) != len(names):
            raise ScenarioError(where, "policy.smart_platform.categories",
                                f"{self.categories!r}: give known categories, each once, comma "
                                f"separated (or nothing for all); known: {known}")

    def setup(self, model) -> None:
        """Draw who uses the platform (own stream); nothing is listed before the start."""
        super().setup(model)
        pop = model.population
        self.user = pop.digital & (self.rng.random(pop.n) < self.uptake)
        cats = model.categories
        names = [c.strip() for c in self.categories.split(",") if c.strip()]
        self.may_list = np.isin(np.arange(cats.k), [cats.index[c] for c in names]) if names \
            else np.ones(cats.k, dtype=bool)
        self.listed = np.zeros(0, dtype=bool)  # per shop: asked (and listed or not)

    def apply(self, model) -> None:
        """Ask the shops not asked yet (open ones; each lists with ``join_share``)."""
        shops = model.supply.shops
        new = np.arange(len(self.listed), len(shops))
        if len(new) == 0:
            return
        draw = self.rng.random(len(new)) < self.join_share
        ok = shops.open[new] & self.may_list[shops.category[new]]
        self.listed = np.concatenate([self.listed, draw & ok])

    def activate(self, model) -> None:
        """The users may look the listed shops up."""
        model.access[self.user] |= np.uint8(ACCESS_PLATFORM)

    def deactivate(self, model) -> None:
        """The platform closes: nobody uses it."""
        model.access[self.user] &= np.uint8(0xFF ^ ACCESS_PLATFORM)
        for pol in model.policies:  # still users of another platform that runs
            if pol is not self and pol.kind == self.kind and pol._running:
                model.access[pol.user] |= np.uint8(ACCESS_PLATFORM)

    def platform_shops(self, model) -> np.ndarray | None:
        """The open shops listed today."""
        if not self.is_active(model.day) or not self.listed.any():
            return None
        ids = np.flatnonzero(self.listed)
        return ids[model.supply.shops.open[ids]]

    def spending(self, model, record) -> float:
        """The platform's running cost for one day."""
        return self.operating_cost_per_year / DAYS_PER_YEAR if self.is_active(model.day) else 0.0

    def progress(self, model) -> str:
        """Shops listed and residents using the platform."""
        listed = self.platform_shops(model)
        users = int(self.user[model.present_idx].sum())
        return (f"{0 if listed is None else len(listed)} shops listed; {users:,} residents use "
                f"the platform")

    def sites(self, model) -> np.ndarray:
        """Sites of the listed shops."""
        return model.supply.shops.site[self.supported_shops(model)].astype(np.int64)

    def supported_shops(self, model) -> np.ndarray:
        """The open shops listed today."""
        listed = self.platform_shops(model)
        return np.zeros(0, dtype=np.int64) if listed is None else listed
