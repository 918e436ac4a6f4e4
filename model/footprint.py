"""How big a city is before it is built: cells, residents, candidate pairs, memory and time.

:func:`estimate` does not build the city: it lays out one old and one new community block
with ``city.City`` itself (so the counts follow the layout rules wherever they change) and
multiplies by the number of blocks of each kind; the choice set (offers within
``walk_cutoff_m`` of a home cell) is estimated from the storefront density. Memory and time
are linear in those counts, with coefficients measured on this project's machine
(``benchmarks/bench_footprint.py``: peak RSS and day times at 10,000 to 1.9 M places) and
rounded up. :func:`check_fits` refuses a city whose estimate exceeds this machine's memory
(``LIFECIRCLE_MAX_MEMORY_GB`` overrides the limit); :func:`check_time` work that would take
longer than ``LIFECIRCLE_MAX_HOURS``.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

import numpy as np

from .city import NEW, OLD, City, round_half_up
from .city_layer import read_layer
from .errors import ScenarioError
from .params import Params

MEMORY_ENV = "LIFECIRCLE_MAX_MEMORY_GB"
"""Environment variable: the memory (GB) one process may plan to use (default: 80% of RAM)."""

TIME_ENV = "LIFECIRCLE_MAX_HOURS"
"""Environment variable: the longest a batch may be estimated to take (default: 168 hours)."""

BASE_BYTES = 300e6            # interpreter, numpy, numba, mesa, pandas loaded
BYTES_PER_RESIDENT = 600.0    # per place at full occupancy: arrays + thin Mesa agents
BYTES_PER_CELL = 60.0         # grid arrays and Mesa's cell objects (per grid cell)
BYTES_PER_PAIR = 16.0         # candidate index: (home cell, offer) with walk and weight
SECONDS_PER_RESIDENT_DAY = 6e-7
SECONDS_PER_PAIR_DAY = 1e-9
SETUP_SECONDS_PER_RESIDENT = 1e-5
SECONDARY_OFFERS = 1.35       # offers per storefront (secondary categories, parcel points)


@dataclass(frozen=True)
class Footprint:
    """The size of one model run, estimated from its parameters.

    Attributes:
        cells: Grid cells.
        home_cells: Residential cells.
        residents: Places for residents (every home at full occupancy: arrays are sized so).
        storefronts: Storefront cells.
        candidate_pairs: (home cell, reachable offer) pairs of the candidate index.
        memory_bytes: Estimated peak memory of one run.
        setup_seconds: Estimated time to build the model.
        seconds_per_day: Estimated time of one simulated day.
    """

    cells: int
    home_cells: int
    residents: int
    storefronts: int
    candidate_pairs: int
    memory_bytes: float
    setup_seconds: float
    seconds_per_day: float

    def run_seconds(self, days: int) -> float:
        """Estimated time of a run of ``days`` days."""
        return self.setup_seconds + days * self.seconds_per_day

    def describe(self) -> str:
        """One line for people."""
        return (f"{self.residents:,} residents on {self.cells:,} cells, ~{self.candidate_pairs:,} "
                f"candidate pairs: ~{self.memory_bytes / 1e9:.1f} GB, "
                f"~{self.seconds_per_day:.2g} s per day")


def estimate(params: Params) -> Footprint:
    """Estimate cells, residents, candidate pairs, memory and time from the parameters.

    An imported city (``city_layer``) is counted from its layer file.
    """
    p = params
    if p.city_layer:  # an imported city: its own counts
        arrays, _ = read_layer(p.city_layer)
        homes = len(arrays["home_xy"])
        residents = int(arrays["home_capacity"].sum())
        storefronts = len(arrays["storefront_xy"])
        cells = int(arrays["cell_type"].size)
    else:
        n = p.communities_x * p.communities_y
        n_old = round_half_up(p.share_old * n)
        per_kind = _one_block_of_each(p)
        homes = n_old * per_kind[OLD][0] + (n - n_old) * per_kind[NEW][0]
        residents = n_old * per_kind[OLD][1] + (n - n_old) * per_kind[NEW][1]
        storefronts = n_old * per_kind[OLD][2] + (n - n_old) * per_kind[NEW][2]
        cells = (p.communities_x * p.block_cells + 1) * (p.communities_y * p.block_cells + 1)
    r = int(p.walk_cutoff_m / p.cell_size_m)
    reach_cells = min(cells, 2 * r * r + 2 * r + 1)
    offers_in_reach = min(storefronts, storefronts / cells * reach_cells) * SECONDARY_OFFERS
    pairs = int(homes * offers_in_reach)
    memory = (BASE_BYTES + BYTES_PER_RESIDENT * residents + BYTES_PER_CELL * cells
              + BYTES_PER_PAIR * pairs)
    per_day = 2e-3 + SECONDS_PER_RESIDENT_DAY * residents + SECONDS_PER_PAIR_DAY * pairs
    setup = 0.5 + SETUP_SECONDS_PER_RESIDENT * residents + 2e-8 * (cells + pairs)
    return Footprint(cells=cells, home_cells=homes, residents=residents,
                     storefronts=storefronts, candidate_pairs=pairs, memory_bytes=memory,
                     setup_seconds=setup, seconds_per_day=per_day)


def _one_block_of_each(p: Params) -> dict[int, tuple[int, int, int]]:
    """(home cells, places, storefronts) of one old and one new block, laid out by City."""
    two = dataclasses.replace(p, communities_x=1, communities_y=2, share_old=0.5)
    city = City(two, np.random.default_rng(0))
    out = {}
    for kind in (OLD, NEW):
        cid = int(np.flatnonzero(city.community_kind == kind)[0])
        mine = city.home_community == cid
        out[kind] = (int(mine.sum()), int(city.home_capacity[mine].sum()),
                     int((city.storefront_community == cid).sum()))
    return out


def memory_limit() -> float:
    """Bytes one process may plan to use: ``LIFECIRCLE_MAX_MEMORY_GB``, else 80% of RAM.

    Raises:
        ScenarioError: The environment variable is not a positive number.
    """
    text = os.environ.get(MEMORY_ENV, "").strip()
    if text:
        try:
            gb = float(text)
        except ValueError:
            gb = float("nan")
        if not (math.isfinite(gb) and gb > 0):
            raise ScenarioError(MEMORY_ENV, "", f"{text!r} is not a positive number of GB")
        return gb * 1e9
    return 0.8 * machine_memory()


def time_limit() -> float:
    """Seconds a batch may be estimated to take: ``LIFECIRCLE_MAX_HOURS``, else 168 hours.

    Raises:
        ScenarioError: The environment variable is not a positive number.
    """
    text = os.environ.get(TIME_ENV, "").strip()
    if not text:
        return 168 * 3600.0
    try:
        hours = float(text)
    except ValueError:
        hours = float("nan")
    if not (math.isfinite(hours) and hours > 0):
        raise ScenarioError(TIME_ENV, "", f"{text!r} is not a positive number of hours")
    return hours * 3600.0


def machine_memory() -> float:
    """Total memory of this machine in bytes (``/proc/meminfo``; 8 GB if unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    return 8e9


def check_fits(params: Params, where: str, processes: int = 1) -> Footprint:
    """Refuse a city that will not fit in this machine's memory (``processes`` at once).

    Returns:
        The estimate.

    Raises:
        ScenarioError: naming ``where``, the estimate, the limit and how to override it; or
            naming ``where`` and the key when the city cannot be laid out at all.
    """
    try:
        fp = estimate(params)
    except ScenarioError as err:  # the layout's own check names "params": name the file
        if err.where != "params":
            raise
        raise ScenarioError(where, err.key, err.problem) from None
    limit = memory_limit()
    need = fp.memory_bytes * max(1, processes)
    if need > limit:
        times = f" x {processes} processes" if processes > 1 else ""
        raise ScenarioError(where, "communities_x", f"a city of {fp.describe()}{times} needs "
                            f"~{need / 1e9:.1f} GB; this machine allows {limit / 1e9:.1f} GB. "
                            "Use a smaller city (communities_x/y, block_cells, residents per "
                            f"cell), fewer workers, or set {MEMORY_ENV} to override")
    return fp


def check_time(seconds: float, where: str, key: str, what: str) -> None:
    """Refuse work estimated to take longer than :func:`time_limit`.

    Args:
        seconds: The estimate.
        where: The file or argument to name.
        key: The key to name.
        what: What takes that long, for the message ("365 days of a city of ...").

    Raises:
        ScenarioError: naming ``where``, the estimate, the limit and how to override it.
    """
    limit = time_limit()
    if seconds > limit:
        raise ScenarioError(where, key, f"{what} is estimated to take ~{seconds / 3600:,.1f} "
                            f"hours on this machine; the limit is {limit / 3600:,.3g} hours. "
                            f"Run less, or set {TIME_ENV} to override")
