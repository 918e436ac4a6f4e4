"""Mobile vendors: buses selling vegetables (Beijing's retired buses as produce shops).

Each bus has a route of stops and a timetable: on each day it serves ``stops_per_day`` stops
in turn along its route (hours ``open_hour``-``close_hour`` split between them). Residents can
buy at a stop within walking range on the days the bus is there, up to the bus's capacity
that day. Routes are given (``route_stops``, or a ``routes_file`` -- TOML with ``[[bus]] stops =
[[x, y], ...]``, read relative to the scenario file, its stops recorded in the configuration)
or planned to cover the residents who do not reach fresh food within its standard walk
(greedy cover). Public money pays the conversion of the buses once, on the first day, and
their operating deficit (operating cost minus the gross margin kept on sales).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from mesa.discrete_space import CellAgent

from ..categories import category_names
from ..errors import ScenarioError
from ..schema import spec
from ..supply import SRC_VENDOR
from .base import Policy
from .placement import PLACEMENTS, cover_then_fill, lacking, walkable_road_cells


class Bus(CellAgent):
    """A vendor bus; it moves to its stop of the day along its route."""

    def __init__(self, model, route: list[tuple[int, int]]):
        super().__init__(model)
        self.route = route
        self.cell = model.grid[route[0]]

    def move_to(self, xy: tuple[int, int]) -> None:
        """Drive to the stop at ``xy``."""
        self.cell = self.model.grid[xy]


def parse_routes(data: Any, where: str, key: str) -> list[list[tuple[int, int]]]:
    """Routes from ``[[bus]] stops = [[x, y], ...]`` data; a ScenarioError names what is wrong."""
    buses = data.get("bus") if isinstance(data, dict) else data
    if not isinstance(buses, list) or not buses:
        raise ScenarioError(where, key, "expected [[bus]] tables, each with stops = [[x, y], ...]")
    routes = []
    for i, bus in enumerate(buses):
        stops = bus.get("stops") if isinstance(bus, dict) else bus
        ok = isinstance(stops, list) and stops and all(
            isinstance(xy, list | tuple) and len(xy) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 100_000 for v in xy)
            for xy in stops)
        if not ok:
            raise ScenarioError(where, f"{key}: bus[{i}].stops",
                                "expected a non-empty list of [x, y] cell coordinates (integers)")
        routes.append([(int(x), int(y)) for x, y in stops])
    return routes


@dataclass(repr=False)
class MobileVendors(Policy):
    """Vendor buses on routes and timetables (see module docstring)."""

    kind = "mobile_vendors"
    n_buses: int = spec(2, "Number of buses when routes are planned (0: none).", lo=0, hi=500,
                        source="seed: 10 sites in months, 300 planned")
    stops_per_bus: int = spec(6, "Stops on each planned route.", lo=1, hi=100)
    stops_per_day: int = spec(2, "Stops a bus serves each day (hours split between them).",
                              lo=1, hi=24)
    open_hour: float = spec(7.0, "Opening hour.", lo=0, hi=24, source="seed: 7:00-22:00")
    close_hour: float = spec(22.0, "Closing hour.", lo=0, hi=24, source="seed: 7:00-22:00")
    price_index: float = spec(0.9, "Price relative to market.", lo=0.01, hi=5,
                              source="seed: ~10% below market")
    quality: float = spec(0.65, "Quality of produce (0..1).", lo=0, hi=1)
    capacity_per_day: float = spec(400.0, "Customers one bus serves per day.", lo=1, hi=1e6)
    operating_cost_day: float = spec(1500.0, "Operating cost per bus per day (yuan): crew of "
                                     "three, fuel, depreciation of a retired bus.", lo=0, hi=1e7)
    conversion_cost_per_bus: float = spec(100000.0, "One-off cost of converting a retired bus "
                                          "into a produce shop (yuan), paid on the first day.",
                                          lo=0, hi=1e9,
                                          source="seed: retired buses converted; value assumption")
    goods: str = spec("fresh_food", "Categories sold, comma separated.")
    placement: str = spec("greedy", "How planned stops are chosen: greedy cover, or the exact maximal "
                          "covering location model (spopt MCLP).", choices=PLACEMENTS,
                          source="implementation choice; MCLP: Church & ReVelle 1974")
    routes_file: str = spec("", "TOML file with given routes, relative to the scenario file; "
                            "empty: plan routes.")
    route_stops: list | None = spec(None, "Given routes (lists of [x, y] stops); read from "
                                    "routes_file when that is given. The number of buses is then "
                                    "the number of routes.")

    def check(self, where: str) -> None:
        """Hours ordered; goods known; a routes file read (relative to ``where``) and checked."""
        super().check(where)
        if self.close_hour <= self.open_hour:
            raise ScenarioError(where, "policy.mobile_vendors.close_hour",
                                f"{self.close_hour} must be after open_hour {self.open_hour}")
        known = category_names()
        goods = [g.strip() for g in self.goods.split(",") if g.strip()]
        if not goods or any(g not in known for g in goods) or len(set(goods)) != len(goods):
            raise ScenarioError(where, "policy.mobile_vendors.goods",
                                f"{self.goods!r}: give known categories, each once, comma "
                                f"separated; known: {known}")
        if self.routes_file:
            path = self._routes_path(where)
            key = "policy.mobile_vendors.routes_file"
            if not path.is_file():
                raise ScenarioError(where, key, f"file not found: {path}")
            try:
                data = tomllib.loads(path.read_bytes().decode("utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as err:
                raise ScenarioError(str(path), "(syntax)", f"not a routes file: {err}") from None
            self.route_stops = parse_routes(data, str(path), "bus")
        elif self.route_stops is not None:
            self.route_stops = parse_routes(self.route_stops, where,
                                            "policy.mobile_vendors.route_stops")

    def _routes_path(self, where: str) -> Path:
        """The routes file, relative to the scenario file ``where`` unless absolute."""
        path = Path(self.routes_file)
        if not path.is_absolute() and Path(where).suffix == ".toml":
            path = Path(where).resolve().parent / path
        return path

    def setup(self, model) -> None:
        """Plan or take the routes, add the stops as sites and their offers (closed until start)."""
        super().setup(model)
        goods = [g.strip() for g in self.goods.split(",") if g.strip()]
        self.routes = self._given_routes(model) if self.route_stops else self._plan_routes(model)
        stops = [xy for route in self.routes for xy in route]
        sup, cats = model.supply, model.categories
        self.stop_sites = sup.add_sites(np.array(stops, dtype=np.int32).reshape(-1, 2), 0.0,
                                        storefront=False)
        self.goods_idx = np.array([cats.index[g] for g in goods], dtype=np.int16)
        site_rep = np.repeat(self.stop_sites, len(goods))
        cat_rep = np.tile(self.goods_idx, len(self.stop_sites))
        # a stop's share of the bus's daily capacity; the margin the bus keeps selling below
        # market (its cost of goods is the market's)
        self.kept_margin = 1.0 - (1.0 - cats.margin[cat_rep]) / self.price_index
        self.offer_ids = sup.add_offers(
            shop=np.full(len(site_rep), -1), site=site_rep, category=cat_rep,
            price=self.price_index, quality=self.quality,
            capacity=self.capacity_per_day / self.stops_per_day / len(goods),
            margin=self.kept_margin, source=SRC_VENDOR, owner=model.policies.index(self),
            is_open=False)
        lengths = [len(r) for r in self.routes]
        self.offer_bus = np.repeat(np.repeat(np.arange(len(lengths)), lengths), len(goods))
        self.offer_stop = np.repeat(np.concatenate([np.arange(n) for n in lengths])
                                    if lengths else np.zeros(0, dtype=np.int64), len(goods))
        self.buses = [Bus(model, route) for route in self.routes]
        self._converted_on = -1

    def _given_routes(self, model) -> list[list[tuple[int, int]]]:
        city = model.city
        scenario = model.config.source or "scenario"
        for i, route in enumerate(self.route_stops):
            for xy in route:
                inside = 0 <= xy[0] < city.width and 0 <= xy[1] < city.height
                if not inside or not city.walkable[xy]:
                    where, key = ((str(self._routes_path(scenario)), f"bus[{i}].stops")
                                  if self.routes_file else
                                  (scenario, f"policy.mobile_vendors.route_stops: bus[{i}].stops"))
                    raise ScenarioError(where, key, f"{list(xy)} is not a street cell of the "
                                        f"city ({city.width} x {city.height} cells)")
        return [list(route) for route in self.route_stops]

    def _plan_routes(self, model) -> list[list[tuple[int, int]]]:
        n = self.n_buses * self.stops_per_bus
        if n == 0:
            return []
        cand = walkable_road_cells(model)
        first = self.goods.split(",")[0].strip()
        picked = cover_then_fill(model, cand, lacking(model, first), n, first,
                                 "policy.mobile_vendors.n_buses", self.placement)
        stops = [tuple(int(v) for v in cand[i]) for i in picked]
        # cut the stops, in nearest-neighbour order, into routes of stops_per_bus
        order = [0]
        left = set(range(1, len(stops)))
        while left:
            last = stops[order[-1]]
            nxt = min(left, key=lambda j: (abs(stops[j][0] - last[0]) + abs(stops[j][1] - last[1]), j))
            order.append(nxt)
            left.remove(nxt)
        ordered = [stops[i] for i in order]
        return [ordered[i:i + self.stops_per_bus] for i in range(0, len(ordered), self.stops_per_bus)]

    def todays_stops(self, day: int) -> np.ndarray:
        """Bool per offer: the bus stops there today."""
        today = np.zeros(len(self.offer_ids), dtype=bool)
        for b, route in enumerate(self.routes):
            served = {(day * self.stops_per_day + j) % len(route)
                      for j in range(min(self.stops_per_day, len(route)))}
            today |= (self.offer_bus == b) & np.isin(self.offer_stop, list(served))
        return today

    def activate(self, model) -> None:
        """Put the stops on the map (coverage counts a scheduled stop); convert the buses."""
        model.supply.set_open(self.offer_ids, True)
        self._converted_on = model.day

    def deactivate(self, model) -> None:
        """Take the buses off the road."""
        model.supply.set_open(self.offer_ids, False)

    def apply(self, model) -> None:
        """Drive each bus to today's stops; only those stops sell today."""
        today = self.todays_stops(model.day)
        model.supply.set_today(self.offer_ids, today)
        for b, bus in enumerate(self.buses):
            stop = int(self.offer_stop[(self.offer_bus == b) & today][0])
            bus.move_to(bus.route[stop])

    def spending(self, model, record) -> float:
        """Operating deficit plus, on the first day, the buses' conversion.

        The deficit is the running cost minus the margin kept on today's sales (selling
        ``1 - price_index`` below market, a bus keeps ``1 - (1 - margin) / price_index``).
        """
        if not self.is_active(model.day) or not self.buses:
            return 0.0
        kept = float((record.offer_revenue[self.offer_ids] * self.kept_margin).sum())
        deficit = max(0.0, len(self.buses) * self.operating_cost_day - kept)
        conversion = len(self.buses) * self.conversion_cost_per_bus \
            if model.day == self._converted_on else 0.0
        return deficit + conversion

    def progress(self, model) -> str:
        """Buses on the road and customers today."""
        visits = int(np.isin(model.today.chosen, self.offer_ids).sum()) if len(self.offer_ids) else 0
        return (f"{len(self.buses)} buses serving {len(self.stop_sites)} stops; "
                f"{visits:,} customers today")

    def sites(self, model) -> np.ndarray:
        """The bus stops."""
        return np.asarray(self.stop_sites, dtype=np.int64)
