"""Design points: which combinations of factor values an experiment runs.

Methods: ``grid`` (every combination of each factor's values), ``lhs`` (a Latin hypercube of
``samples`` points), ``morris`` (SALib's elementary-effects trajectories) and ``sobol``
(SALib's Saltelli sample of base size ``samples``, for first-order and total -- optionally
second-order -- Sobol indices). The number of points is known from the design alone
(:func:`design_size`), so an oversized design is refused before any point is made.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_POINTS = 100_000
"""Largest number of design points an experiment may have."""


@dataclass(frozen=True)
class Factor:
    """One varied parameter of an experiment.

    Attributes:
        name: Override key (flat parameter, ``categories.<cat>.<field>`` or
            ``policy.<kind>.<param>``).
        role: ``"lever"`` or ``"uncertainty"``.
        values: Explicit grid values (or ``None`` when bounds are given).
        low: Lower bound for sampled designs.
        high: Upper bound for sampled designs.
        integer: Whether values are rounded to integers (both bounds given as integers).
        description: Free text.
    """

    name: str
    role: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    integer: bool = False
    description: str = ""

    @property
    def policy_kind(self) -> str | None:
        """The policy kind for ``policy.<kind>.<param>`` keys, else ``None``."""
        parts = self.name.split(".")
        return parts[1] if len(parts) == 3 and parts[0] == "policy" else None

    @property
    def table(self) -> str:
        """The experiment file's table the factor was declared in."""
        return "levers" if self.role == "lever" else "uncertainties"

    def probe_values(self) -> list[Any]:
        """Values that bound what the design can give (checked against the model)."""
        if self.values is not None:
            return list(self.values)
        if self.integer:
            return [int(self.low), int(self.high)]  # type: ignore[arg-type]
        return [self.low, self.high]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable description."""
        return {"name": self.name, "role": self.role,
                "values": list(self.values) if self.values is not None else None,
                "low": self.low, "high": self.high, "integer": self.integer}


def design_size(method: str, factors: Sequence[Factor], design: dict[str, Any]) -> int:
    """Number of points the design gives, computed without making them."""
    if method == "none" or not factors:
        return 1
    k = len(factors)
    if method == "grid":
        return math.prod(len(f.values or ()) for f in factors)
    if method == "lhs":
        return int(design["samples"])
    if method == "morris":
        return int(design["trajectories"]) * (k + 1)
    if method == "sobol":
        n = int(design["samples"])
        return n * (2 * k + 2) if design.get("second_order") else n * (k + 2)
    raise ValueError(f"unknown design method {method!r}")


def problem(factors: Sequence[Factor]) -> dict[str, Any]:
    """The SALib problem dict of the factors."""
    return {"num_vars": len(factors), "names": [f.name for f in factors],
            "bounds": [[f.low, f.high] for f in factors]}


def design_points(method: str, factors: Sequence[Factor], design: dict[str, Any]
                  ) -> list[dict[str, Any]]:
    """The design points, one dict factor name -> value each.

    Args:
        method: ``"none"``, ``"grid"``, ``"lhs"``, ``"morris"`` or ``"sobol"``.
        factors: The experiment's factors.
        design: Design parameters (``samples``, ``trajectories``, ``levels``,
            ``second_order``, ``seed``).

    Returns:
        ``[{}]`` without factors; otherwise the points in the method's own order (SALib's
        row order for Morris and Sobol, which their analyses need).

    Raises:
        ValueError: More than :data:`MAX_POINTS` points (checked before any is made).
    """
    size = design_size(method, factors, design)
    if size > MAX_POINTS:
        raise ValueError(f"{size:,} design points; at most {MAX_POINTS:,}")
    if method == "none" or not factors:
        return [{}]
    names = [f.name for f in factors]
    if method == "grid":
        combos = itertools.product(*(f.values for f in factors))  # type: ignore[misc]
        return [dict(zip(names, c, strict=True)) for c in combos]
    if method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(factors), rng=np.random.default_rng(design["seed"]))
        rows = []
        for row in unit.random(design["samples"]):
            point: dict[str, Any] = {}
            for f, u in zip(factors, row, strict=True):
                v = f.low + u * (f.high - f.low)  # type: ignore[operator]
                point[f.name] = int(round(v)) if f.integer else float(v)
            rows.append(point)
        return rows
    if method == "morris":
        from SALib.sample import morris as morris_sample

        X = morris_sample.sample(problem(factors), N=design["trajectories"],
                                 num_levels=design["levels"], seed=design["seed"])
    else:
        from SALib.sample import sobol as sobol_sample

        X = sobol_sample.sample(problem(factors), design["samples"],
                                calc_second_order=bool(design.get("second_order")),
                                seed=design["seed"], scramble=True)
    return [{n: float(v) for n, v in zip(names, row, strict=True)} for row in X]
