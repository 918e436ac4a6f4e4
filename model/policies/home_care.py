"""Care at home: elderly care delivered to eligible residents' homes (Shijiazhuang model).

The source's Shijiazhuang report: home care ordered by app from a professional provider, the
city paying an allowance, a platform taking one-button emergency calls. The policy contracts
``n_providers`` providers, each with a base on a street placed (greedy cover) where the most
eligible residents live within ``radius_m`` (network metres). Eligible are residents aged 80+
(``eligible_80plus``), residents aged 60+ who live alone (``eligible_alone``; the population's
``lives_alone``) and a share ``share_60_79`` of the other residents aged 60-79 (an assessed
need, drawn once on the policy's own stream).

For an eligible resident's need of ``elderly_care``, every provider whose radius reaches the
home is one more option in the choice: no walk (the carer comes), quality ``quality``, price
``price_index`` times the category's visit price, of which the public pays ``subsidy_share``
(a per-visit subsidy; the resident pays the rest). A provider makes at most
``visits_per_provider_day`` visits a day (capacity binds like any offer's). Only eligible
residents see these offers (the ``ACCESS_HOME_CARE`` bit of ``model.access``), so
non-eligible residents' choices are untouched.

Public money: the subsidies of the visits made today plus the platform's running cost
(``platform_cost_day``) on every active day. The providers are paid the full price (resident
plus subsidy) and run at their own risk; their accounts are not modelled. One-button
emergency calls are not modelled beyond the platform's cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..population import ELDERLY, ELDERLY80
from ..schema import spec
from ..supply import ACCESS_HOME_CARE, SRC_HOME
from .base import Policy
from .placement import cover_then_fill, walkable_road_cells

CARE = "elderly_care"  # the category a home visit serves


@dataclass(repr=False)
class HomeCare(Policy):
    """Elderly care delivered at home by contracted providers, with a per-visit subsidy."""

    kind = "home_care"
    n_providers: int = spec(2, "Home-care providers contracted (0: none).", lo=0, hi=1000,
                            source="seed: professional institutions deliver care ordered by "
                            "app (value assumption)")
    radius_m: float = spec(1500.0, "A provider serves homes within this network distance of "
                           "its base (metres).", lo=0, hi=20_000, lo_open=True,
                           source="assumption (a carer's round on foot or by bike)")
    visits_per_provider_day: float = spec(40.0, "Home visits one provider makes a day "
                                          "(capacity).", lo=1, hi=1e6,
                                          source="assumption (~8 carers x 5 visits)")
    price_index: float = spec(1.3, "Price of a home visit relative to the category's visit "
                              "price at a centre.", lo=0.01, hi=10,
                              source="assumption (the carer's travel time is paid)")
    quality: float = spec(0.7, "Quality of care at home (0..1).", lo=0, hi=1,
                          source="assumption (professional carers, at home)")
    subsidy_share: float = spec(0.5, "Share of a visit's price the public pays (per-visit "
                                "subsidy).", lo=0, hi=1,
                                source="seed: the city pays an allowance for care ordered by "
                                "app (value assumption)")
    eligible_80plus: bool = spec(True, "Residents aged 80+ are eligible.",
                                 source="issue 15 (80+, living alone, a share of 60-79)")
    eligible_alone: bool = spec(True, "Residents aged 60+ who live alone are eligible.",
                                source="seed: empty-nest and lone elderly are the target group")
    share_60_79: float = spec(0.1, "Share of the other residents aged 60-79 who are eligible "
                              "(an assessed need).", lo=0, hi=1, source="assumption")
    platform_cost_day: float = spec(800.0, "Daily running cost of the call and dispatch "
                                    "platform (yuan), paid while the policy runs.", lo=0, hi=1e8,
                                    source="seed: a district's smart elderly-care platform run "
                                    "by a contracted institution (value assumption)")

    def setup(self, model) -> None:
        """Draw who is eligible (own stream) and place the providers' bases (closed until start)."""
        super().setup(model)
        pop = model.population
        assessed = self.rng.random(pop.n) < self.share_60_79  # drawn for everyone: stable
        elderly = np.isin(pop.group, (ELDERLY, ELDERLY80))
        self.eligible = (self.eligible_80plus & (pop.group == ELDERLY80)) \
            | (self.eligible_alone & elderly & pop.lives_alone) \
            | ((pop.group == ELDERLY) & assessed)
        self.base_sites = np.zeros(0, dtype=np.int64)
        self.offer_ids = np.zeros(0, dtype=np.int64)
        self._pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._subsidy_today = 0.0
        self.visits_today = 0
        if self.n_providers == 0:
            return
        cand = walkable_road_cells(model)
        need = model.present_idx[self.eligible[model.present_idx]]
        picked = cover_then_fill(model, cand, need, self.n_providers, CARE,
                                 "policy.home_care.n_providers", reach_m=self.radius_m)
        sup, cats = model.supply, model.categories
        base_xy = cand[np.array(picked, dtype=np.int64)]
        self.base_sites = sup.add_sites(base_xy, 0.0, storefront=False)
        n = len(self.base_sites)
        self.offer_ids = sup.add_offers(
            shop=np.full(n, -1), site=self.base_sites, category=np.full(n, cats.index[CARE]),
            price=self.price_index, quality=self.quality,
            capacity=self.visits_per_provider_day, margin=0.0, source=SRC_HOME, online=True,
            owner=model.policies.index(self), discount60=self.subsidy_share,
            audience=ACCESS_HOME_CARE, is_open=False)
        src, home, _ = model.city.distances_from(base_xy, self.radius_m)
        self._pairs = (home.astype(np.int32), self.offer_ids[src].astype(np.int32),
                       np.zeros(len(home), dtype=np.float32))

    def activate(self, model) -> None:
        """Open the providers to the eligible residents within their radius."""
        if len(self.offer_ids) == 0:
            return
        model.supply.set_open(self.offer_ids, True)
        model.supply.set_extra_candidates(self.label, self._pairs)
        model.access[self.eligible] |= np.uint8(ACCESS_HOME_CARE)

    def deactivate(self, model) -> None:
        """Close the providers; nobody is eligible any more."""
        if len(self.offer_ids) == 0:
            return
        model.supply.set_open(self.offer_ids, False)
        model.supply.set_extra_candidates(self.label, None)
        model.access[self.eligible] &= np.uint8(0xFF ^ ACCESS_HOME_CARE)
        for pol in model.policies:  # still eligible under another home-care policy that runs
            if pol is not self and pol.kind == self.kind and pol._running:
                model.access[pol.eligible] |= np.uint8(ACCESS_HOME_CARE)

    def after_choice(self, model, record) -> None:
        """Count today's home visits and the subsidy they cost (list price minus what was paid)."""
        at = np.isin(record.chosen, self.offer_ids) if len(self.offer_ids) else \
            np.zeros(len(record.chosen), dtype=bool)
        self.visits_today = int(at.sum())
        self._subsidy_today = float((record.list_value[at] - record.resident_paid[at]).sum())

    def spending(self, model, record) -> float:
        """Visit subsidies paid today plus the platform's running cost."""
        if not self.is_active(model.day) or len(self.offer_ids) == 0:
            return 0.0
        return self._subsidy_today + self.platform_cost_day

    def progress(self, model) -> str:
        """Providers, eligible residents and visits today."""
        eligible = int(self.eligible[model.present_idx].sum())
        return (f"{len(self.offer_ids)} home-care providers; {eligible:,} eligible residents; "
                f"{self.visits_today:,} home visits today")

    def sites(self, model) -> np.ndarray:
        """The providers' bases."""
        return np.asarray(self.base_sites, dtype=np.int64)
