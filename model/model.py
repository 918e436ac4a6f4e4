"""CommerceModel: residents and shops of a living circle, one step per day.

The phases of one day (``CommerceModel.step``), in this order:

1. **policies begin** -- each policy (in canonical order) switches on/off at its start/end
   day and acts (vendors stop today, rent subsidies set today's shares, grants are paid, ...);
2. **move-ins** -- new communities fill along their occupancy curve; new Resident agents;
3. **index** -- the candidate index is rebuilt if reach changed (or every
   ``compact_every_days`` to drop closed offers);
4. **needs** -- each present resident draws today's needs per category (stream ``needs``),
   and each need its two uniforms for phase 5 (stream ``choices``), in the same pass;
5. **choice** -- one logit draw per need over the reachable offers the resident knows (all
   of them unless ``consideration_sets``) and the outside option, a queue place per need
   (both from the need's uniforms); offers serve up to their capacity and the needs turned
   away choose again among the offers with room;
6. **sales** -- residents pay, offers collect revenue, today's demand enters each open offer's
   crowding memory and today's visits the homes' knowledge of their formats; then policies
   see the day's choices and sales (``after_choice``);
7. **accounts and exit** -- shops book margin, rent (less the policies' rent relief) and staff;
   underwriting policies make good their shops' deficits; broke or loss-making shops close;
8. **satisfaction** -- each resident's moving average takes today's outcome scores;
9. **entry** -- on every 30th day, would-be entrants open at vacant storefronts where they
   expect a profit (stream ``entry``); policies see them (``after_entry``);
10. **ledger** -- each policy's spending today is booked to the ledger under its label;
11. **metrics** -- computed from state and recorded by the DataCollector.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from mesa import DataCollector, Model
from mesa.discrete_space import OrthogonalMooreGrid

from .agents import Resident, Shop
from .allocator import keep_freed_memory
from .categories import CategoryTable
from .choice import run_choice
from .city import OLD
from .city_layer import LayerCity, make_city, open_layer_shops
from .economy import book_sales, settle_day
from .entry import monthly_entry, open_initial_shops
from .grades import community_grades
from .knowledge import KNOWLEDGE_SPAWN_KEY, Knowledge
from .metrics import compute_metrics, coverage_matrix
from .needs import draw_needs
from .outcomes import metric_names
from .policies import POLICY_KINDS, Policy, make_policy
from .population import Population
from .reach import CandidateIndex
from .satisfaction import update_satisfaction
from .scenario import Scenario, load_scenario
from .supply import ACCESS_ONLINE, Supply

STREAMS = ("city", "population", "shops", "needs", "choices", "entry")
ENTRY_PERIOD_DAYS = 30


def _empty(dtype: Any = np.float64):
    return field(default_factory=lambda: np.zeros(0, dtype=dtype))


@dataclass
class DayRecord:
    """What happened today (the state metrics and policies read); one entry per need."""

    need_res: np.ndarray = _empty(np.int64)
    need_cat: np.ndarray = _empty(np.int16)
    chosen: np.ndarray = _empty(np.int32)
    walk_min: np.ndarray = _empty()
    score: np.ndarray = _empty()
    paid_index: np.ndarray = _empty()
    surplus_yuan: np.ndarray = _empty()
    turned_away: np.ndarray = _empty(bool)
    resident_paid: np.ndarray = _empty()
    list_value: np.ndarray = _empty()
    delivery_fees: np.ndarray = _empty()
    offer_revenue: np.ndarray = _empty()
    offer_attempts: np.ndarray = _empty()
    offer_served: np.ndarray = _empty()
    rent_share: np.ndarray = _empty()
    opened: np.ndarray = _empty(np.int64)
    would_be_entrants: int = 0
    closed: np.ndarray = _empty(np.int64)
    relief_paid: dict[str, float] = field(default_factory=dict)
    deficit_paid: dict[str, float] = field(default_factory=dict)
    spend_by_policy: dict[str, float] = field(default_factory=dict)


def canonical_order(specs: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Policy specs sorted by kind, then by parameters: the order the model runs them in."""
    return sorted(specs, key=lambda s: (s["kind"], json.dumps(s["params"], sort_keys=True,
                                                              default=str)))


def policy_labels(policies: list[Policy]) -> list[str]:
    """``kind`` for a kind that occurs once, else ``kind#i`` (i counting within the kind)."""
    labels, seen = [], {}
    for pol in policies:
        n = sum(q.kind == pol.kind for q in policies)
        i = seen.get(pol.kind, 0)
        seen[pol.kind] = i + 1
        labels.append(pol.kind if n == 1 else f"{pol.kind}#{i}")
    return labels


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
        satisfaction: per-resident satisfaction (0..1; NaN before the first outcome).
        knowledge: what residents know (``model.knowledge``; consideration sets).
        access: per resident, ``supply.ACCESS_*`` bits (orders online, eligible for care at
            home, uses the platform) that policies set; ``orders_online`` reads one of them.
        policies: the policies in canonical order; policy_labels: their ledger labels.
        ledger: public yuan spent to date, per policy label.
        today: the DayRecord of the last day; day: days simulated.
        datacollector: the daily metrics.
    """

    def __init__(self, scenario: str | Path | Scenario = "baseline", rng: Any = None,
                 overrides: dict[str, Any] | None = None, **kw_overrides: Any):
        super().__init__(rng=rng)
        keep_freed_memory()  # glibc: freed day arrays stay for the next day (model.allocator)
        all_overrides = {**(overrides or {}), **kw_overrides}
        self.config = load_scenario(scenario, all_overrides or None)
        self.params = self.config.params
        self.categories: CategoryTable = self.config.category_table
        p = self.params
        root = np.random.SeedSequence(int(self.rng.integers(2**63)))
        self.streams = {name: np.random.default_rng(s)
                        for name, s in zip(STREAMS, root.spawn(len(STREAMS)), strict=True)}
        self.day = 0
        self.knowledge = None  # set once the city and the category table exist (below)
        self.beta_price = np.array([p.beta_price_low, p.beta_price_mid, p.beta_price_high])
        self.spend_mult = np.array([p.spend_mult_low, 1.0, p.spend_mult_high])
        self.policy_kinds = tuple(sorted(POLICY_KINDS))

        self.city = make_city(p, self.streams["city"])  # generated, or read from p.city_layer
        self.grid = OrthogonalMooreGrid((self.city.width, self.city.height), torus=False,
                                        random=self.random)
        self.population = Population(p, self.city, self.streams["population"])
        # the salt of residents' knowledge: from the root seed, drawing from no stream
        salt = np.random.SeedSequence(root.entropy, spawn_key=(KNOWLEDGE_SPAWN_KEY,)
                                      ).generate_state(1, np.uint64)[0]
        self.knowledge = Knowledge(self, salt)
        self.satisfaction = np.full(self.population.n, np.nan)
        self.outcomes_seen = np.zeros(self.population.n, dtype=np.int64)
        # what each resident may use (ACCESS_* bits: orders online, eligible for care at
        # home, uses the platform); policies set them, nobody has any without a policy
        self.access = np.zeros(self.population.n, dtype=np.uint8)
        rent = np.where(self.city.community_kind[self.city.storefront_community] == OLD,
                        p.rent_old_yuan_m2_day, p.rent_new_yuan_m2_day)
        self.supply = Supply(self.city, rent, p.walk_cutoff_m)
        self.resident_agents: dict[int, Resident] = {}
        self.shop_agents: dict[int, Shop] = {}
        self.today = DayRecord()
        self._move_in(0)
        if isinstance(self.city, LayerCity):  # an imported city lists its shops
            open_layer_shops(self, self.streams["shops"])
        else:
            open_initial_shops(self, self.streams["shops"])
        self.sync_agents()
        self.candidates = self._build_index()  # policies place things by today's coverage
        self.policies = [make_policy(spec) for spec in canonical_order(self.config.policies)]
        self.policy_labels = policy_labels(self.policies)
        self.ledger: dict[str, float] = dict.fromkeys(self.policy_labels, 0.0)
        for label, pol in zip(self.policy_labels, self.policies, strict=True):
            pol.label = label
            key = zlib.crc32(label.encode())  # the policy's stream depends on its label only
            pol.rng = np.random.default_rng(np.random.SeedSequence(
                root.entropy, spawn_key=(len(STREAMS) + 1, key)))
            pol.setup(self)
        self.candidates = self._build_index()
        self._metrics: dict[str, float] = {}
        self.datacollector = DataCollector(
            model_reporters={name: _reporter(name) for name in self.metric_names()})

    # --- public API ----------------------------------------------------------------------
    @property
    def orders_online(self) -> np.ndarray:
        """Bool per resident: orders online today (the ``ACCESS_ONLINE`` bit of ``access``)."""
        return (self.access & ACCESS_ONLINE) != 0

    @orders_online.setter
    def orders_online(self, value: np.ndarray) -> None:
        on = np.asarray(value, dtype=bool)
        self.access = (self.access & np.uint8(0xFF ^ ACCESS_ONLINE)) | \
            np.where(on, ACCESS_ONLINE, 0).astype(np.uint8)

    def metric_names(self) -> list[str]:
        """Names of the daily metrics, in order (``model.outcomes.metric_names``)."""
        return metric_names(self.categories.names, self.policy_kinds)

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
        # 4. needs (and, in the same pass, each need's two uniforms from stream "choices")
        rec.need_res, rec.need_cat, uniforms = self._draw_needs()
        # 5. choice (with capacity)
        result = run_choice(self, rec.need_res, rec.need_cat, uniforms)
        rec.chosen, rec.walk_min, rec.score = result.chosen, result.walk_min, result.score
        rec.paid_index, rec.surplus_yuan = result.paid_index, result.surplus_yuan
        rec.turned_away = result.turned_away
        rec.offer_attempts, rec.offer_served = result.attempts, result.served
        # 6. sales
        book_sales(self, rec)
        self.supply.record_demand(rec.offer_attempts, p.crowding_memory)
        self.knowledge.record(self, rec)
        for pol in self.policies:
            pol.after_choice(self, rec)
        # 7. accounts and exit
        closing = settle_day(self, rec)
        self.supply.close_shops(closing, self.day)
        rec.closed = closing
        # 8. satisfaction
        update_satisfaction(self.satisfaction, self.outcomes_seen, rec.need_res, rec.score,
                            p.satisfaction_memory)
        # 9. entry
        if self.day % ENTRY_PERIOD_DAYS == 0:
            rec.opened, rec.would_be_entrants = monthly_entry(self, self.streams["entry"])
            for pol in self.policies:
                pol.after_entry(self, rec)
        self.sync_agents()
        # 10. ledger
        for label, pol in zip(self.policy_labels, self.policies, strict=True):
            spent = float(pol.spending(self, rec))
            rec.spend_by_policy[label] = spent
            self.ledger[label] += spent
        # 11. metrics
        self._metrics = compute_metrics(self)
        self.datacollector.collect(self)

    # --- grids for users and the visualization --------------------------------------------
    def satisfaction_grid(self) -> np.ndarray:
        """Mean satisfaction of residents per cell (NaN where nobody with an outcome lives)."""
        sat = self.satisfaction[self.present_idx]
        rated = ~np.isnan(sat)
        return self._per_cell(np.where(rated, sat, 0.0), rated)

    def coverage_grid(self, category: str | None = None) -> np.ndarray:
        """Share of residents per cell who reach a category within its standard walk (NaN: nobody lives).

        Args:
            category: a category name; ``None`` asks for every basic category at once.
        """
        cov = coverage_matrix(self)
        if category is None:
            reached = cov[:, self.categories.basic].all(axis=1)
        else:
            reached = cov[:, self.categories.index[category]]
        return self._per_cell(reached.astype(float))

    def community_grades(self) -> np.ndarray:
        """Grade code of each community's circle (``model.grades``).

        0 below basic, 1 basic (基础型), 2 upgraded (提升型), 3 quality (品质型); -1 where
        nobody lives yet.
        """
        return community_grades(self, coverage_matrix(self))

    def grade_grid(self) -> np.ndarray:
        """The map layer of graded circles: per cell, the grade code of its community's circle.

        Values 0..3 (``model.grades.GRADES``) at every home cell where residents live, NaN
        elsewhere (as the other grids).
        """
        grades = self.community_grades().astype(float)
        homes = np.unique(self.population.home[self.present_idx])
        out = np.full((self.city.width, self.city.height), np.nan)
        xy = self.city.home_xy[homes]
        out[xy[:, 0], xy[:, 1]] = grades[self.city.home_community[homes]]
        return out

    def nearest_walk_m(self, home: int) -> np.ndarray:
        """Walk (m) from home cell ``home`` to the nearest open physical provider per category.

        ``inf`` where none is within ``walk_cutoff_m``; ``home`` indexes ``city.home_xy``.
        """
        return np.array(self.candidates.min_walk(self.supply)[home], dtype=np.float64)

    def _per_cell(self, values: np.ndarray, counted: np.ndarray | None = None) -> np.ndarray:
        homes = self.population.home[self.present_idx]
        n_homes = len(self.city.home_xy)
        weight = None if counted is None else counted.astype(float)
        total = np.bincount(homes, weights=values * (1.0 if weight is None else weight),
                            minlength=n_homes)
        count = np.bincount(homes, weights=weight, minlength=n_homes)
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
        return CandidateIndex(self.supply, len(self.city.home_xy), self.categories.k)

    def _draw_needs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return draw_needs(self.streams["needs"], self.streams["choices"], self.categories.freq,
                          self.population.group, self.present_idx)


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
