"""How big a city is before it is built: cells, residents, candidate pairs, memory and time.

:func:`estimate` reads only the parameters (no city is built), following the layout rules of
``city.py`` (old blocks: a lane every ``old_street_spacing`` cells; new blocks: a pavement
ring, a wall ring, a residential interior) and the choice set of ``reach.py`` (offers within
``walk_cutoff_m`` of a home cell). Memory and time are linear in those counts, with
coefficients measured on this project's machine (``benchmarks/bench_footprint.py``; peak RSS
of a run at 5,000 to 320,000 residents) and rounded up. :func:`check_fits` refuses a city whose
estimate exceeds this machine's memory (``LIFECIRCLE_MAX_MEMORY_GB`` overrides the limit).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

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
SECONDS_PER_RESIDENT_DAY = 3.5e-7
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
    """Estimate cells, residents, candidate pairs, memory and time from the parameters."""
    p = params
    B = p.block_cells
    n = p.communities_x * p.communities_y
    n_old = int(round(p.share_old * n))
    n_new = n - n_old
    cells = (p.communities_x * B + 1) * (p.communities_y * B + 1)
    old_cells = (B - math.ceil(B / p.old_street_spacing)) ** 2  # non-lane cells of a block
    old_fronts = min(p.storefronts_per_block_old, old_cells)       # taken from those cells
    new_fronts = min(p.storefronts_per_block_new, 4 * max(0, B - 3))  # on the pavement ring
    old_homes, new_homes = old_cells - old_fronts, max(0, B - 5) ** 2
    home_cells = n_old * old_homes + n_new * new_homes
    residents = int(n_old * old_homes * round(p.residents_per_cell_old)
                    + n_new * new_homes * round(p.residents_per_cell_new))
    storefronts = n_old * old_fronts + n_new * new_fronts
    r = int(p.walk_cutoff_m / p.cell_size_m)
    reach_cells = min(cells, 2 * r * r + 2 * r + 1)
    offers_in_reach = min(storefronts, storefronts / cells * reach_cells) * SECONDARY_OFFERS
    pairs = int(home_cells * offers_in_reach)
    memory = (BASE_BYTES + BYTES_PER_RESIDENT * residents + BYTES_PER_CELL * cells
              + BYTES_PER_PAIR * pairs)
    per_day = 2e-3 + SECONDS_PER_RESIDENT_DAY * residents + SECONDS_PER_PAIR_DAY * pairs
    setup = 0.5 + SETUP_SECONDS_PER_RESIDENT * residents + 2e-8 * (cells + pairs)
    return Footprint(cells=cells, home_cells=home_cells, residents=residents,
                     storefronts=storefronts, candidate_pairs=pairs, memory_bytes=memory,
                     setup_seconds=setup, seconds_per_day=per_day)


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
        ScenarioError: naming ``where``, the estimate, the limit and how to override it.
    """
    fp = estimate(params)
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
