"""CommerceModel: residents and shops of a living circle, one step per day.

The phases of one day (``CommerceModel.step``), in this order:

1. **policies begin** -- each policy switches on/off at its start/end day and acts
   (vendors stop today, subsidies set rent relief, ...);
2. **move-ins** -- new communities fill along their occupancy curve; new Resident agents;
3. **index** -- the candidate index is rebuilt if offers were added (or every
   ``compact_every_days`` to drop closed ones);
4. **needs** -- each present resident draws today's needs per category (stream ``needs``);
5. **choice** -- one logit draw per need over reachable offers and the outside option
   (stream ``choices``);
6. **sales** -- residents pay, offers collect revenue (plus any subsidy), loads are kept for
   tomorrow's crowding; then policies see the day's choices and sales (``after_choice``);
7. **accounts and exit** -- shops book margin, rent and staff; broke independents close,
   chains close at review;
8. **satisfaction** -- each resident's moving average takes today's outcomes;
9. **entry** -- on every 30th day, would-be entrants open at vacant storefronts (stream
   ``entry``);
10. **ledger** -- each policy books the public money it spent today;
11. **metrics** -- computed from state and recorded by the DataCollector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from mesa import DataCollector, Model
from mesa.discrete_space import OrthogonalMooreGrid

from .agents import Resident, Shop
from .categories import CategoryTable
from .choice import needs_from_draws, run_choice
from .city import OLD
from .city_layer import LayerCity, make_city, open_layer_shops
from .economy import settle_day
from .entry import monthly_entry, open_initial_shops
from .metrics import compute_metrics, coverage_matrix, metric_names
from .policies import make_policy
from .population import Population
from .reach import CandidateIndex
from .satisfaction import update_satisfaction
from .scenario import Scenario, load_scenario
from .supply import Supply

STREAMS = ("city", "population", "shops", "needs", "choices", "entry")
ENTRY_PERIOD_DAYS = 30
LOAD_SMOOTHING = 0.7  # weight of the previous recent load (assumption; ~3 days of memory)


@dataclass
class DayRecord:
    """What happened today (the state metrics and policies read)."""

    need_res: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    need_cat: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    chosen: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    walk_min: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    score: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    paid_index: np.ndarray = field(default_factory=lambda: np.zeros(0))
    resident_paid: np.ndarray = field(default_factory=lambda: np.zeros(0))
    list_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    delivery_fees: np.ndarray = field(default_factory=lambda: np.zeros(0))
    offer_revenue: np.ndarray = field(default_factory=lambda: np.zeros(0))
    opened: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    closed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    spend_by_policy: dict[str, float] = field(default_factory=dict)


class CommerceModel(Model):
    """The living-circle model.

    Args:
        scenario: a scenario name in ``scenarios/`` (``"baseline"``), a path to a TOML file,
            or a ``Scenario``.
        rng: seed (int) or numpy Generator; every random draw comes from it.
        **overrides: parameter overrides (``block_cells=10``), validated like a scenario file;
            dotted keys go through ``overrides={"categories.x.spend": 30}``.

    Attributes:
        config: the resolved lifecircle Scenario (Mesa's own ``scenario`` attribute is left
            to Mesa); params: its frozen Params.
        city: the City (``city.cell_size_m``, ``city.walkable``); grid: the Mesa grid.
        population: resident arrays; supply: sites, shops and offers.
        satisfaction: per-resident satisfaction (0..1).
        ledger: public yuan spent to date, per policy label.
        today: the DayRecord of the last day; day: days simulated.
        datacollector: the daily metrics.
    """

    def __init__(self, scenario: str | Path | Scenario = "baseline", rng: Any = None,
                 overrides: dict[str, Any] | None = None, **kw_overrides: Any):
        super().__init__(rng=rng)
        all_overrides = {**(overrides or {}), **kw_overrides}
        self.config = load_scenario(scenario, all_overrides or None)
        self.params = self.config.params
        self.categories: CategoryTable = self.config.category_table
        p = self.params
        root = np.random.SeedSequence(int(self.rng.integers(2**63)))
        children = root.spawn(len(STREAMS) + 1)
        self.streams = {name: np.random.default_rng(s)
                        for name, s in zip(STREAMS, children[:-1], strict=True)}
        self._policy_seed = children[-1]
        self.day = 0
        self.beta_price = np.array([p.beta_price_low, p.beta_price_mid, p.beta_price_high])
        self.spend_mult = np.array([p.spend_mult_low, 1.0, p.spend_mult_high])

        self.city = make_city(p, self.streams["city"])  # generated, or read from p.city_layer
        self.grid = OrthogonalMooreGrid((self.city.width, self.city.height), torus=False,
                                        random=self.random)
        self.population = Population(p, self.city, self.streams["population"])
        self.satisfaction = np.full(self.population.n, p.satisfaction_initial)
        # who orders online today (instant retail sets it; nobody without that policy)
        self.orders_online = np.zeros(self.population.n, dtype=bool)
        rent = np.where(self.city.community_kind[self.city.storefront_community] == OLD,
                        p.rent_old_yuan_m2_day, p.rent_new_yuan_m2_day)
        self.supply = Supply(self.city, rent, p.walk_cutoff_m)
        self.resident_agents: dict[int, Resident] = {}
        self.shop_agents: dict[int, Shop] = {}
        self.ledger: dict[str, float] = {}
        self.extra_candidates: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.today = DayRecord()
        self._move_in(0)
        if isinstance(self.city, LayerCity):  # an imported city lists its shops
            open_layer_shops(self, self.streams["shops"])
        else:
            open_initial_shops(self, self.streams["shops"])
        self.sync_agents()
        self.candidates = self._build_index()  # policies place things by today's coverage
        self.policies = [make_policy(spec) for spec in self.config.policies]
        self.policy_streams = [np.random.default_rng(s)
                               for s in self._policy_seed.spawn(max(1, len(self.policies)))]
        self.policy_labels = []
        for i, pol in enumerate(self.policies):
            label = pol.kind if sum(q.kind == pol.kind for q in self.policies) == 1 else \
                f"{pol.kind}#{i}"
            self.policy_labels.append(label)
            self.ledger[label] = 0.0
            pol.rng = self.policy_streams[i]
            pol.setup(self)
        self.candidates = self._build_index()
        self._metrics: dict[str, float] = {}
        self.datacollector = DataCollector(
            model_reporters={name: _reporter(name) for name in self.metric_names()})

    # --- public API ----------------------------------------------------------------------
    def metric_names(self) -> list[str]:
        """Names of the daily metrics, in order (``model.metrics.metric_names``)."""
        return metric_names(self.categories.names)

    def metrics(self) -> dict[str, float]:
        """Today's metrics as a dict of floats (computed from state)."""
        if not self._metrics:
            self._metrics = compute_metrics(self)
        return dict(self._metrics)

    def step(self) -> None:
        """Advance one day (phases in the module docstring)."""
        self.day += 1
        p = self.params
        rec = DayRecord()
        self.today = rec
        self._metrics = {}
        # 1. policies begin
        for pol in self.policies:
            pol.begin_day(self)
        # 2. move-ins
        self._move_in(self.day)
        # 3. index
        if self.candidates.version != self.supply.version or self.day % p.compact_every_days == 0:
            self.candidates = self._build_index()
        # 4. needs
        rec.need_res, rec.need_cat = self._draw_needs()
        # 5. choice
        uniforms = self.streams["choices"].random(len(rec.need_res))
        rec.chosen, rec.walk_min, rec.score, rec.paid_index = run_choice(
            self, rec.need_res, rec.need_cat, uniforms)
        # 6. sales
        self._book_sales(rec)
        for pol in self.policies:
            pol.after_choice(self, rec)
        # 7. accounts and exit
        closing = settle_day(self, rec.offer_revenue)
        self.supply.close_shops(closing, self.day)
        rec.closed = closing
        # 8. satisfaction
        update_satisfaction(self.satisfaction, rec.need_res, rec.score, p.satisfaction_memory)
        # 9. entry
        if self.day % ENTRY_PERIOD_DAYS == 0:
            rec.opened = monthly_entry(self, self.streams["entry"])
        self.sync_agents()
        # 10. ledger
        for label, pol in zip(self.policy_labels, self.policies, strict=True):
            spent = float(pol.spend_today(self))
            rec.spend_by_policy[label] = spent
            self.ledger[label] += spent
        # 11. metrics
        self._metrics = compute_metrics(self)
        self.datacollector.collect(self)

    # --- grids for users and the visualization --------------------------------------------
    def satisfaction_grid(self) -> np.ndarray:
        """Mean satisfaction of residents per cell (NaN where nobody lives)."""
        return self._per_cell(self.satisfaction[self.present_idx])

    def coverage_grid(self, category: str | None = None) -> np.ndarray:
        """Share of residents per cell whose own walk reaches a category (NaN: nobody lives).

        Args:
            category: a category name; ``None`` asks for every basic category at once.
        """
        cov = coverage_matrix(self)
        if category is None:
            reached = cov[:, self.categories.basic].all(axis=1)
        else:
            reached = cov[:, self.categories.index[category]]
        return self._per_cell(reached.astype(float))

    def _per_cell(self, values: np.ndarray) -> np.ndarray:
        homes = self.population.home[self.present_idx]
        n_homes = len(self.city.home_xy)
        total = np.bincount(homes, weights=values, minlength=n_homes)
        count = np.bincount(homes, minlength=n_homes)
        out = np.full((self.city.width, self.city.height), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[self.city.home_xy[:, 0], self.city.home_xy[:, 1]] = np.where(
                count > 0, total / np.maximum(count, 1), np.nan)
        return out

    # --- internals -------------------------------------------------------------------------
    def _move_in(self, day: int) -> None:
        arrived = self.population.move_in(day)
        self.present_idx = np.flatnonzero(self.population.present)
        if len(arrived):
            xy = self.city.home_xy[self.population.home[arrived]]
            for r, (x, y) in zip(arrived.tolist(), xy.tolist(), strict=True):
                agent = Resident(self, r)
                agent.cell = self.grid[(x, y)]
                self.resident_agents[r] = agent

    def sync_agents(self) -> None:
        """Give every open shop a Mesa agent at its cell; remove the agents of closed shops."""
        shops = self.supply.shops
        for sid in np.flatnonzero(shops.open).tolist():
            if sid not in self.shop_agents:
                agent = Shop(self, sid)
                x, y = self.supply.site_xy[shops.site[sid]].tolist()
                agent.cell = self.grid[(x, y)]
                self.shop_agents[sid] = agent
        for sid in [s for s in self.shop_agents if not shops.open[s]]:
            self.shop_agents.pop(sid).remove()

    def _build_index(self) -> CandidateIndex:
        return CandidateIndex(self.supply, len(self.city.home_xy), self.categories.k,
                              list(self.extra_candidates.values()))

    def _draw_needs(self) -> tuple[np.ndarray, np.ndarray]:
        idx = self.present_idx
        u = self.streams["needs"].random((len(idx), self.categories.k), dtype=np.float32)
        return needs_from_draws(u, self.categories.freq, self.population.group, idx)

    def _book_sales(self, rec: DayRecord) -> None:
        offers = self.supply.offers
        met = rec.chosen >= 0
        unit = self.categories.spend[rec.need_cat] * self.spend_mult[
            self.population.income[rec.need_res]]
        rec.resident_paid = np.where(met, unit * rec.paid_index, 0.0)
        served = rec.chosen[met]
        rec.list_value = np.zeros(len(met))
        rec.list_value[met] = unit[met] * offers.price[served]
        rec.delivery_fees = np.zeros(len(met))
        rec.delivery_fees[met] = unit[met] * offers.fee[served]
        # providers receive the list price: a discount given to a resident is paid by the
        # policy that grants it (booked in its spend), and delivery fees go to the couriers,
        # so resident payments + discount subsidies = provider revenue + delivery fees
        rec.offer_revenue = np.bincount(served, weights=rec.list_value[met], minlength=len(offers))
        # crowding reads recent load, smoothed so that shops do not flip between full and
        # empty on alternate days (yesterday's load alone makes a cobweb)
        visits = np.bincount(served, minlength=len(offers)).astype(np.float64)
        offers.load = LOAD_SMOOTHING * offers.load + (1.0 - LOAD_SMOOTHING) * visits


def _reporter(name: str):
    return lambda m: m.metrics()[name]


def simulate(scenario: str | Path | Scenario = "baseline", seed: int = 0, days: int = 365,
             overrides: dict[str, Any] | None = None) -> pd.DataFrame:  # noqa: F821
    """Run one scenario for ``days`` and return the daily metrics (column ``day`` = 1..days).

    Args:
        scenario: name, path or Scenario.
        seed: the model's seed.
        days: days to simulate.
        overrides: parameter overrides (see ``load_scenario``).
    """
    import pandas as pd

    model = CommerceModel(scenario=scenario, rng=seed, overrides=overrides)
    model.run_for(days)
    df = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    df.insert(0, "day", np.arange(1, len(df) + 1))
    return pd.DataFrame(df)


__all__ = ["CommerceModel", "DayRecord", "simulate"]
