"""Mobile vendors: buses selling vegetables (Beijing's retired buses as produce shops).

Each bus has a route of stops and a timetable: on each day it serves ``stops_per_day`` stops
in turn along its route (hours ``open_hour``-``close_hour`` split between them). Residents can
buy at a stop within their walking range on the days the bus is there. Routes come from a
file (``routes_file``: TOML with ``[[bus]] stops = [[x, y], ...]``) or are planned to cover the
residents lacking fresh food within their own 15-minute walk (greedy cover). Public money
pays the conversion of the buses once and their operating deficit (operating cost minus gross
margin on sales).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from mesa.discrete_space import CellAgent

from ..errors import ScenarioError
from ..schema import spec
from ..supply import SRC_VENDOR
from .base import Policy
from .inputs import category_list, read_routes, resolve_file
from .placement import greedy_cover, lacking, walkable_road_cells


class Bus(CellAgent):
    """A vendor bus; it moves to its stop of the day along its route."""

    def __init__(self, model, route: list[tuple[int, int]]):
        super().__init__(model)
        self.route = route
        self.cell = model.grid[route[0]]

    def move_to(self, xy: tuple[int, int]) -> None:
        """Drive to the stop at ``xy``."""
        self.cell = self.model.grid[xy]


@dataclass(repr=False)
class MobileVendors(Policy):
    """Vendor buses on routes and timetables (see module docstring)."""

    kind = "mobile_vendors"
    n_buses: int = spec(2, "Number of buses.", lo=1, hi=500, source="seed: 10 sites in months, 300 planned")
    stops_per_bus: int = spec(6, "Stops on each bus's route.", lo=1, hi=100)
    stops_per_day: int = spec(2, "Stops a bus serves each day (hours split between them).", lo=1, hi=24)
    open_hour: float = spec(7.0, "Opening hour.", lo=0, hi=24, source="seed: 7:00-22:00")
    close_hour: float = spec(22.0, "Closing hour.", lo=0, hi=24, source="seed: 7:00-22:00")
    price_index: float = spec(0.9,
                              "Price relative to market.",
                              lo=0.01, hi=5, source="seed: ~10% below market")
    quality: float = spec(0.65, "Quality of produce (0..1).", lo=0, hi=1)
    capacity_per_day: float = spec(400.0, "Customers one bus serves per day.", lo=1)
    operating_cost_day: float = spec(1500.0,
                                     "Operating cost per bus per day (yuan): crew of three, fuel, "
                                     "depreciation of a retired bus.",
                                     lo=0)
    conversion_cost_per_bus: float = spec(100000.0,
                                          "One-off cost of converting a retired bus into a produce shop "
                                          "(yuan), paid at the start.",
                                          lo=0, source="seed: retired buses converted; value assumption")
    goods: str = spec("fresh_food", "Categories sold, comma separated (deliverable ones).")
    routes_file: str = spec("", "TOML file with given routes; empty: plan routes.")

    def check(self, where: str, categories: tuple[str, ...] = ()) -> None:
        """Hours ordered; goods known categories; a routes file found and well formed."""
        super().check(where, categories)
        if self.close_hour <= self.open_hour:
            raise ScenarioError(where, "policy.mobile_vendors.close_hour",
                                f"{self.close_hour} must be after open_hour {self.open_hour}")
        category_list(where, "policy.mobile_vendors.goods", self.goods, categories)
        if self.routes_file:
            key = "policy.mobile_vendors.routes_file"
            path = resolve_file(where, key, self.routes_file)
            self.inputs["routes"] = read_routes(where, key, path)
            self.routes_file = str(path)

    def setup(self, model) -> None:
        """Plan or read routes, add the stops as sites and their offers (closed until start)."""
        super().setup(model)

        goods = category_list("policy", "policy.mobile_vendors.goods", self.goods,
                              tuple(model.categories.names))
        self.routes = self._read_routes(model) if self.routes_file else self._plan_routes(model)
        stops = [xy for route in self.routes for xy in route]
        self.stop_sites = model.supply.add_sites(np.array(stops), 0.0, storefront=False)
        cats = np.array([model.categories.index[g] for g in goods], dtype=np.int16)
        self.goods_idx = cats
        site_rep = np.repeat(self.stop_sites, len(cats))
        cat_rep = np.tile(cats, len(self.stop_sites))
        # a stop's share of the bus's daily capacity
        cap = self.capacity_per_day / self.stops_per_day / len(cats)
        self.offer_ids = model.supply.add_offers(
            shop=np.full(len(site_rep), -1), site=site_rep, category=cat_rep,
            price=self.price_index, quality=self.quality, capacity=cap, source=SRC_VENDOR,
            owner=model.policies.index(self))
        model.supply.offers.open[self.offer_ids] = False
        model.supply.offers.today[self.offer_ids] = False
        self.offer_bus = np.repeat(np.repeat(np.arange(len(self.routes)),
                                             [len(r) for r in self.routes]), len(cats))
        self.offer_stop = np.repeat(np.concatenate([np.arange(len(r)) for r in self.routes]),
                                    len(cats))
        self.buses = [Bus(model, route) for route in self.routes]
        self._converted_on = -1

    def _read_routes(self, model) -> list[list[tuple[int, int]]]:
        """The routes checked with the scenario (``inputs``); each stop must be walkable."""
        given = self.inputs.get("routes")
        if given is None:  # a policy built without validation: read the file now
            given = read_routes("policy", "policy.mobile_vendors.routes_file",
                                Path(self.routes_file))
        routes = []
        for i, stops_given in enumerate(given):
            stops = [(int(xy[0]), int(xy[1])) for xy in stops_given]
            for xy in stops:
                ok = 0 <= xy[0] < model.city.width and 0 <= xy[1] < model.city.height
                if not ok or not model.city.walkable[xy]:
                    raise ScenarioError(self.routes_file, f"bus[{i}].stops",
                                        f"{list(xy)} is not a walkable cell of the city")
            if stops:
                routes.append(stops)
        if not routes:
            raise ScenarioError(self.routes_file, "bus", "no routes with stops")
        return routes

    def _plan_routes(self, model) -> list[list[tuple[int, int]]]:
        cand = walkable_road_cells(model)
        need = lacking(model, self.goods.split(",")[0].strip())
        n = self.n_buses * self.stops_per_bus
        picked = greedy_cover(model, cand, need, n)
        if len(picked) < n:  # nobody left to cover: fill with the most populous spots
            rest = [i for i in greedy_cover(model, cand, model.present_idx, n) if i not in picked]
            picked += rest[: n - len(picked)]
        stops = [tuple(int(v) for v in cand[i]) for i in picked]
        # cut the stops, in nearest-neighbour order, into routes of stops_per_bus
        order = [0]
        left = set(range(1, len(stops)))
        while left:
            last = np.array(stops[order[-1]])
            nxt = min(left, key=lambda j: (abs(stops[j][0] - last[0]) + abs(stops[j][1] - last[1]), j))
            order.append(nxt)
            left.remove(nxt)
        ordered = [stops[i] for i in order]
        size = max(1, int(np.ceil(len(ordered) / self.n_buses)))
        return [ordered[i:i + size] for i in range(0, len(ordered), size)]

    def todays_stops(self, day: int) -> np.ndarray:
        """Bool per offer: the bus stops there today."""
        today = np.zeros(len(self.offer_ids), dtype=bool)
        for b, route in enumerate(self.routes):
            served = {(day * self.stops_per_day + j) % len(route)
                      for j in range(min(self.stops_per_day, len(route)))}
            today |= (self.offer_bus == b) & np.isin(self.offer_stop, list(served))
        return today

    def activate(self, model) -> None:
        """Put the stops on the map (coverage counts a scheduled stop)."""
        model.supply.offers.open[self.offer_ids] = True
        model.supply.version += 1  # the candidate index must take the stops in
        self._converted_on = model.day

    def deactivate(self, model) -> None:
        """Take the buses off the road."""
        model.supply.offers.open[self.offer_ids] = False
        model.supply.offers.today[self.offer_ids] = False

    def apply(self, model) -> None:
        """Drive each bus to today's stops; only those stops sell today."""
        today = self.todays_stops(model.day)
        model.supply.offers.today[self.offer_ids] = today
        for b, bus in enumerate(self.buses):
            stop = int(self.offer_stop[(self.offer_bus == b) & today][0])
            bus.move_to(bus.route[stop])

    def spend_today(self, model) -> float:
        """Operating deficit plus, on the first day, the buses' conversion.

        The deficit is the running cost minus the gross margin of today's sales.

        Selling ``1 - price_index`` below market, the buses keep a gross margin of
        ``1 - (1 - margin) / price_index`` of their sales.
        """
        if not self.is_active(model.day):
            return 0.0
        rev = model.today.offer_revenue[self.offer_ids]
        margin = model.categories.margin[model.supply.offers.category[self.offer_ids]]
        kept = 1.0 - (1.0 - margin) / self.price_index
        deficit = max(0.0, len(self.buses) * self.operating_cost_day - float((rev * kept).sum()))
        conversion = len(self.buses) * self.conversion_cost_per_bus \
            if model.day == self._converted_on else 0.0
        return deficit + conversion

    def progress(self, model) -> str:
        """Buses on the road and customers today."""
        visits = 0
        if len(model.today.chosen):
            visits = int(np.isin(model.today.chosen, self.offer_ids).sum())
        return f"{len(self.buses)} buses serving {len(self.stop_sites)} stops; {visits:,} customers today"

    def sites(self, model) -> np.ndarray:
        """The bus stops."""
        return np.asarray(self.stop_sites, dtype=np.int64)
