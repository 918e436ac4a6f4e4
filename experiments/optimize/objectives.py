"""Objectives and constraints: from each run's summary to one robust number per mix.

Every run is summarized by the one summary rule (``experiments.summary.summarize_run``):
means over the measured days, money per year over the measured window
(``public_spend_per_year``: what the run spent after the warm-up, per 365 days). A mix is
evaluated on the same seeds as every other mix (common random numbers); each objective and
each bound aggregates its metric over those seeds by a stated **robustness statistic**:

* ``mean`` (the expected value), ``median``, ``min`` / ``max`` (the worst seed), or
* ``percentile`` with ``percentile = q`` (linear interpolation): a cautious team maximising
  a gain looks at a low percentile (``q = 10``), one minimising a cost at a high one.

Constraints are bounds ``low <= statistic(metric) <= high``; ``budget_per_year = B`` is the
bound ``statistic(public_spend_per_year) <= B``, and a bound of ``"baseline"`` is the base
scenario's own value on the same seeds ("elderly coverage at least the baseline's"). A metric
that is not a number on some seed (a share of nothing) makes the mix infeasible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

STATS: tuple[str, ...] = ("mean", "median", "min", "max", "percentile")
"""Robustness statistics over a mix's seeds."""

SENSES: tuple[str, ...] = ("max", "min")
"""Whether an objective is maximised or minimised."""

COST_METRIC = "public_spend_per_year"
"""The public money a mix spends per year (measured window), as the summary rule reports it."""

BASELINE = "baseline"
"""A bound given as this word is the base scenario's value on the same seeds."""

INFEASIBLE = 1e6
"""Constraint value given to a mix whose metric is not a number (or whose runs failed)."""


@cache
def summary_names() -> tuple[str, ...]:
    """Every name the summary rule reports for a run (the objectives one may choose)."""
    import pandas as pd

    from experiments.summary import summarize_run
    from model import METRIC_NAMES

    frame = pd.DataFrame({"day": [1, 2], **{m: [0.0, 1.0] for m in METRIC_NAMES}})
    return tuple(sorted(summarize_run(frame, 1)))


@dataclass(frozen=True)
class Statistic:
    """A robustness statistic over seeds.

    Attributes:
        name: One of :data:`STATS`.
        percentile: The percentile (0..100) when ``name`` is ``"percentile"``.
    """

    name: str = "mean"
    percentile: float = 10.0

    @property
    def label(self) -> str:
        """Short name: ``mean``, ``median``, ``min``, ``max``, ``p10``."""
        return f"p{self.percentile:g}" if self.name == "percentile" else self.name

    def __call__(self, values: Sequence[float]) -> float:
        """The statistic of ``values`` (NaN if any value is NaN or there are none)."""
        v = np.asarray(values, dtype=np.float64)
        if len(v) == 0 or np.isnan(v).any():
            return math.nan
        if self.name == "mean":
            return float(v.mean())
        if self.name == "median":
            return float(np.median(v))
        if self.name == "min":
            return float(v.min())
        if self.name == "max":
            return float(v.max())
        return float(np.percentile(v, self.percentile))


@dataclass(frozen=True)
class Objective:
    """A metric to maximise or minimise, aggregated over seeds.

    Attributes:
        metric: A name the summary rule reports (:func:`summary_names`).
        sense: ``"max"`` or ``"min"``.
        stat: How seeds are aggregated.
        description: Free text for the report.
    """

    metric: str
    sense: str
    stat: Statistic = Statistic()
    description: str = ""

    @property
    def label(self) -> str:
        """``surplus_yuan (max, mean)``."""
        return f"{self.metric} ({self.sense}, {self.stat.label})"

    def minimised(self, value: float) -> float:
        """The value as the optimiser minimises it."""
        return value if self.sense == "min" else -value

    def to_dict(self) -> dict[str, Any]:
        """As saved with results."""
        return {"metric": self.metric, "sense": self.sense, "stat": self.stat.label}


@dataclass(frozen=True)
class Bound:
    """A constraint ``low <= stat(metric) <= high`` (either side may be absent).

    Attributes:
        metric: A name the summary rule reports.
        stat: How seeds are aggregated.
        low: Lower limit, :data:`BASELINE` or ``None``.
        high: Upper limit, :data:`BASELINE` or ``None``.
        name: How the constraint is called in tables (``budget_per_year``, ``bound_1``).
    """

    metric: str
    stat: Statistic = Statistic()
    low: float | str | None = None
    high: float | str | None = None
    name: str = ""

    @property
    def needs_baseline(self) -> bool:
        """Whether a limit is the baseline's value."""
        return BASELINE in (self.low, self.high)

    def limits(self, baseline_value: float = math.nan) -> tuple[float | None, float | None]:
        """The numeric limits, with :data:`BASELINE` replaced by ``baseline_value``."""
        def num(x: float | str | None) -> float | None:
            return baseline_value if x == BASELINE else (None if x is None else float(x))

        return num(self.low), num(self.high)

    def violation(self, value: float, baseline_value: float = math.nan) -> float:
        """The constraint as pymoo reads it: ``<= 0`` when met, the relative excess otherwise."""
        if not math.isfinite(value):
            return INFEASIBLE
        low, high = self.limits(baseline_value)
        worst = -math.inf
        for limit, excess in ((low, None if low is None else low - value),
                              (high, None if high is None else value - high)):
            if limit is None or excess is None:
                continue
            if not math.isfinite(limit):
                return INFEASIBLE
            worst = max(worst, excess / (abs(limit) if limit else 1.0))
        return 0.0 if worst == -math.inf else float(worst)

    def describe(self) -> str:
        """``coverage_basic_all_elderly (mean) >= baseline``."""
        def text(v: float | str) -> str:
            if isinstance(v, str):
                return v
            return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.6g}"

        parts = [f"{op} {text(v)}" for op, v in ((">=", self.low), ("<=", self.high))
                 if v is not None]
        return f"{self.metric} ({self.stat.label}) {' and '.join(parts)}"

    def to_dict(self) -> dict[str, Any]:
        """As saved with results."""
        return {"name": self.name, "metric": self.metric, "stat": self.stat.label,
                "low": self.low, "high": self.high}
