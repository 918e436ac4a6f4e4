"""The keys of an experiment file, declared once with ``model.schema.spec``.

Three small tables: the file's top level (:class:`ExperimentKeys`), its ``[design]`` table
(:class:`DesignKeys`) and each factor of ``[levers.*]`` / ``[uncertainties.*]``
(:class:`FactorKeys`). :func:`check_table` checks a parsed table against one of them with
``model.schema.check_mapping`` (unknown keys get a "did you mean", numbers must be finite and
in range), raising :class:`~model.errors.ExperimentError` naming the file and the key. Lists and
tables (``scenarios``, ``settings``, ...) are declared here too and checked by
:mod:`experiments.loading`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.errors import ExperimentError
from model.schema import check_mapping, spec

DESIGN_METHODS: tuple[str, ...] = ("grid", "lhs", "morris", "sobol")
MAX_SEED = 2**63 - 1
MAX_DAYS = 36_500


@dataclass(frozen=True)
class ExperimentKeys:
    """Top level of an experiment file."""

    name: str = spec("", "Short name (letters, digits, '_' and '-'); default: the file name.")
    description: str = spec("", "Free text.")
    scenarios: list = spec(None, "Scenario names or scenario file paths (at least one).")
    baseline: str = spec("", "The scenario the others are compared with (default: the first).")
    compare_with: dict = spec(None, "Scenarios the report compares with another scenario than "
                              "the baseline: {scenario = \"reference\"} (e.g. a platform with "
                              "the world it works in).")
    replicates: int = spec(10, "Replicates per (scenario, point); seeds shared by all.",
                           lo=1, hi=100_000)
    days: int = spec(365, "Days simulated per run.", lo=1, hi=MAX_DAYS)
    warmup: int = spec(0, "Days left out of the summaries (must be < days).", lo=0,
                       hi=MAX_DAYS - 1)
    root_seed: int = spec(0, "Root of the replicate seeds (numpy SeedSequence).", lo=0,
                          hi=MAX_SEED)
    metrics: list = spec(None, "Metrics compared in the report (any the model reports).")
    settings: dict = spec(None, "Fixed overrides applied to every run (any scenario key).")
    design: dict = spec(None, "How factors are sampled: method, samples, trajectories, ...")
    levers: dict = spec(None, "Factors a policy maker controls.")
    uncertainties: dict = spec(None, "Factors nobody controls.")


@dataclass(frozen=True)
class DesignKeys:
    """The ``[design]`` table."""

    method: str = spec("grid", "How points are chosen.", choices=DESIGN_METHODS)
    samples: int = spec(None, "lhs: number of points; sobol: base sample N (a power of 2).",
                        lo=2, hi=100_000)
    trajectories: int = spec(None, "morris: number of trajectories.", lo=2, hi=10_000)
    levels: int = spec(None, "morris: number of grid levels (even).", lo=2, hi=100)
    second_order: bool = spec(None, "sobol: also second-order indices (more runs).")
    seed: int = spec(None, "Seed of the design sampling (default: root_seed).", lo=0,
                     hi=2**32 - 1)


@dataclass(frozen=True)
class FactorKeys:
    """One factor (``[levers.<key>]`` or ``[uncertainties.<key>]``)."""

    values: list = spec(None, "grid: explicit values.")
    low: float = spec(None, "Lower bound.")
    high: float = spec(None, "Upper bound (> low).")
    steps: int = spec(None, "grid with low/high: evenly spaced values.", lo=2, hi=1000)
    description: str = spec("", "Free text.")


#: Default of each method's size key.
DESIGN_DEFAULTS: dict[str, dict[str, Any]] = {
    "grid": {}, "lhs": {"samples": 10}, "morris": {"trajectories": 10, "levels": 4},
    "sobol": {"samples": 16, "second_order": False},
}
#: The design keys each method uses (others are refused).
DESIGN_USES: dict[str, tuple[str, ...]] = {
    "grid": ("method", "seed"), "lhs": ("method", "samples", "seed"),
    "morris": ("method", "trajectories", "levels", "seed"),
    "sobol": ("method", "samples", "second_order", "seed"),
}


def check_table(file: str, cls: type, table: Any, prefix: str = "") -> dict[str, Any]:
    """Check a parsed table against a key class; return the clean values.

    Raises:
        ExperimentError: ``table`` is not a table, a key is unknown, or a value is of the
            wrong type, not finite, out of range or not one of its choices.
    """
    if not isinstance(table, dict):
        raise ExperimentError(file, prefix.rstrip(".") or "(file)", "must be a table")
    return check_mapping(file, cls, table, prefix=prefix, what="key", error=ExperimentError)
