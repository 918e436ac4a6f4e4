"""Mesa agents: thin views over the model's arrays.

The daily kernels work on arrays owned by the model; these agents read them, so users and
the visualization see ordinary Mesa agents (``model.agents_by_type[Resident]``) with cells on
the grid, while a day costs no per-agent Python.
"""

from __future__ import annotations

from mesa.discrete_space import CellAgent, FixedAgent

from .population import ELDERLY, ELDERLY80, FAMILY, WORKER

GROUP_NAMES = {WORKER: "worker", FAMILY: "family", ELDERLY: "elderly", ELDERLY80: "elderly80"}


class Resident(CellAgent):
    """A resident at its home cell; attributes read the population arrays."""

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = int(index)

    @property
    def age(self) -> float:
        """Age in years."""
        return float(self.model.population.age[self.index])

    @property
    def group(self) -> str:
        """worker, family, elderly (60-79) or elderly80."""
        return GROUP_NAMES[int(self.model.population.group[self.index])]

    @property
    def income(self) -> int:
        """Income band: 0 low, 1 middle, 2 high."""
        return int(self.model.population.income[self.index])

    @property
    def digital(self) -> bool:
        """Orders online."""
        return bool(self.model.population.digital[self.index])

    @property
    def walking_speed(self) -> float:
        """Walking speed in m/s."""
        return float(self.model.population.speed_mps[self.index])

    def reach_m(self, category: str) -> float:
        """Metres this resident walks within the category's standard walk (at its own speed)."""
        cats = self.model.categories
        return self.walking_speed * 60.0 * float(cats.standard_min[cats.index[category]])

    @property
    def satisfaction(self) -> float:
        """Moving average of need outcomes, 0..1 (NaN before the first outcome)."""
        return float(self.model.satisfaction[self.index])


class Shop(FixedAgent):
    """A shop at a storefront; attributes read the supply arrays."""

    def __init__(self, model, shop_id: int):
        super().__init__(model)
        self.shop_id = int(shop_id)

    @property
    def _shops(self):
        return self.model.supply.shops

    @property
    def category(self) -> str:
        """Primary category."""
        return self.model.categories.names[int(self._shops.category[self.shop_id])]

    @property
    def categories(self) -> list[str]:
        """Every category the shop serves (multi-category outlets serve several)."""
        offers = self.model.supply.offers
        cats = offers.category[offers.shop == self.shop_id]
        return [self.model.categories.names[int(k)] for k in cats]

    @property
    def chain(self) -> bool:
        """Part of a chain."""
        return bool(self._shops.chain[self.shop_id])

    @property
    def cash(self) -> float:
        """Cash in yuan."""
        return float(self._shops.cash[self.shop_id])

    @property
    def is_open(self) -> bool:
        """Open today."""
        return bool(self._shops.open[self.shop_id])

    @property
    def price(self) -> float:
        """Price index of the primary offer (market = 1)."""
        offers = self.model.supply.offers
        return float(offers.price[offers.shop == self.shop_id][0])

    @property
    def quality(self) -> float:
        """Quality of the primary offer, 0..1."""
        offers = self.model.supply.offers
        return float(offers.quality[offers.shop == self.shop_id][0])
