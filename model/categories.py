"""The category table: needs, frequencies, spend and shop economics per category (data).

The table lives in ``scenarios/categories.toml``; a scenario may override single fields with
``[categories.<name>]``. ``CategoryTable`` turns it into arrays indexed by category.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ScenarioError
from .schema import check_mapping, spec

#: The folder of named scenarios and of the category table (``LIFECIRCLE_SCENARIOS``
#: overrides it): the one place every part of lifecircle finds them.
SCENARIO_DIR = Path(os.environ.get("LIFECIRCLE_SCENARIOS",
                                   Path(__file__).resolve().parent.parent / "scenarios"))
CATEGORY_FILE = "categories.toml"

GROUPS = ("worker", "family", "elderly", "elderly80")
"""Resident groups: worker, family with a young child, aged 60-79, aged 80+."""


@dataclass(frozen=True)
class Category:
    """One row of the category table; each value's source is in ``scenarios/categories.toml``."""

    name: str = spec("", "Category name (the table's key).")
    tier: str = spec("basic", "Tier of the format (2021 construction guide).",
                     choices=("basic", "quality"))
    spend: float = spec(0.0, "Yuan per visit at the market price.", lo=0)
    freq_worker: float = spec(0.0, "Chance a worker has this need on a day.", lo=0, hi=1)
    freq_family: float = spec(0.0, "Chance a family member (young child) has it.", lo=0, hi=1)
    freq_elderly: float = spec(0.0, "Chance a resident aged 60-79 has it.", lo=0, hi=1)
    freq_80plus: float = spec(0.0, "Chance a resident aged 80+ has it.", lo=0, hi=1)
    deliverable: bool = spec(False, "Can be ordered online and delivered.")
    margin: float = spec(0.0, "Gross margin on sales.", lo=0, hi=1)
    floor_m2: float = spec(0.0, "Floor area of an outlet (m2).", lo=0, hi=100_000)
    staff_yuan_day: float = spec(0.0, "Staff cost of an outlet per day (yuan).", lo=0)
    capacity: float = spec(1.0, "Visits an outlet serves per day.", lo=0, lo_open=True)
    outside_utility: float = spec(0.0, "Utility of going without or travelling far.",
                                  lo=-50, hi=50)
    initial_share: float = spec(0.0, "Share of let storefronts holding it at day 0 (relative).",
                                lo=0)
    chain_share: float = spec(0.0, "Chance such an outlet is a chain (day 0, chain entrants).",
                              lo=0, hi=1)
    standard_walk_min: float = spec(15.0, "The plan's standard walk to this format (minutes).",
                                    lo=1, hi=60)


CATEGORY_FIELDS = {f.name: f for f in fields(Category) if f.name != "name"}


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; anything unreadable is a ScenarioError naming the file."""
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(str(path), "(syntax)", f"not valid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise ScenarioError(str(path), "(encoding)", f"not UTF-8 text: {err}") from None
    except RecursionError:
        raise ScenarioError(str(path), "(syntax)", "nested too deeply to be read") from None
    except OSError as err:
        raise ScenarioError(str(path), "(file)", f"cannot be read: {err.strerror or err}") from None


def category_names() -> list[str]:
    """Names of the categories of the table, in order (scenarios cannot add any)."""
    return list(read_toml(SCENARIO_DIR / CATEGORY_FILE))


def make_category(where: str, name: str, values: dict[str, Any]) -> Category:
    """Validate one category's fields (ignoring its ``sources`` table) and build it."""
    values = {k: v for k, v in values.items() if k != "sources"}
    if "name" in values:
        raise ScenarioError(where, f"categories.{name}.name", "the name is the table's key")
    clean = check_mapping(where, Category, values, prefix=f"categories.{name}.",
                          what="category field")
    missing = [k for k in CATEGORY_FIELDS if k not in clean]
    if missing:
        raise ScenarioError(where, f"categories.{name}", f"missing fields {missing}")
    return Category(name=name, **clean)


def check_table(where: str, categories: list[Category]) -> None:
    """Rules across the table: some category must be let at day 0."""
    if not any(c.initial_share > 0 for c in categories):
        raise ScenarioError(where, "categories.*.initial_share",
                            "every category has initial_share 0; at least one must be > 0")


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
        self.standard_min = np.array([c.standard_walk_min for c in categories])
        self.chain_share = np.array([c.chain_share for c in categories])
