"""The category table: needs, frequencies, spend and shop economics per category (data).

The table lives in ``scenarios/categories.toml``; a scenario may override single fields with
``[categories.<name>]``. ``CategoryTable`` turns it into arrays indexed by category.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

GROUPS = ("worker", "family", "elderly", "elderly80")
"""Resident groups: worker, family with a young child, aged 60-79, aged 80+."""


@dataclass(frozen=True)
class Category:
    """One row of the category table (see ``scenarios/categories.toml`` for units)."""

    name: str
    tier: str
    spend: float
    freq_worker: float
    freq_family: float
    freq_elderly: float
    freq_80plus: float
    deliverable: bool
    margin: float
    floor_m2: float
    staff_yuan_day: float
    capacity: float
    outside_utility: float
    initial_share: float
    chain_share: float


CATEGORY_FIELDS = {f.name: f for f in fields(Category) if f.name != "name"}
_RANGES: dict[str, tuple[float | None, float | None]] = {
    "spend": (0, None), "margin": (0, 1), "floor_m2": (0, None), "staff_yuan_day": (0, None),
    "capacity": (1e-9, None), "initial_share": (0, None), "chain_share": (0, 1),
    "outside_utility": (None, None), "freq_worker": (0, 1), "freq_family": (0, 1),
    "freq_elderly": (0, 1), "freq_80plus": (0, 1),
}


def make_category(where: str, name: str, values: dict[str, Any]) -> Category:
    """Validate one category's fields (ignoring its ``sources`` table) and build it."""
    from .params import check_range, coerce_value, suggest
    from .scenario import ScenarioError

    clean: dict[str, Any] = {}
    for key, value in values.items():
        if key == "sources":
            continue
        if key not in CATEGORY_FIELDS:
            raise ScenarioError(where, f"categories.{name}.{key}",
                                "unknown category field" + suggest(key, list(CATEGORY_FIELDS)))
        kind = {"str": str, "float": float, "bool": bool}[CATEGORY_FIELDS[key].type]
        v = coerce_value(where, f"categories.{name}.{key}", value, kind)
        if key in _RANGES:
            check_range(where, f"categories.{name}.{key}", v, *_RANGES[key])
        if key == "tier" and v not in ("basic", "quality"):
            raise ScenarioError(where, f"categories.{name}.tier",
                                f"{v!r} is not allowed; use 'basic' or 'quality'")
        clean[key] = v
    missing = [k for k in CATEGORY_FIELDS if k not in clean]
    if missing:
        raise ScenarioError(where, f"categories.{name}", f"missing fields {missing}")
    return Category(name=name, **clean)


class CategoryTable:
    """Categories as arrays indexed by category number (order of the table)."""

    def __init__(self, categories: list[Category]):
        self.categories = list(categories)
        self.names = [c.name for c in categories]
        self.index = {n: i for i, n in enumerate(self.names)}
        self.k = len(categories)
        self.basic = np.array([c.tier == "basic" for c in categories])
        self.spend = np.array([c.spend for c in categories])
        self.freq = np.array([[c.freq_worker, c.freq_family, c.freq_elderly, c.freq_80plus]
                              for c in categories]).T.copy()  # (group, category)
        self.deliverable = np.array([c.deliverable for c in categories])
        self.margin = np.array([c.margin for c in categories])
        self.floor_m2 = np.array([c.floor_m2 for c in categories])
        self.staff = np.array([c.staff_yuan_day for c in categories])
        self.capacity = np.array([c.capacity for c in categories])
        self.outside_utility = np.array([c.outside_utility for c in categories])
        share = np.array([c.initial_share for c in categories])
        self.initial_share = share / share.sum() if share.sum() > 0 else share
        self.chain_share = np.array([c.chain_share for c in categories])
