"""One run's summary: the one rule that turns a daily series into one number per metric.

The rule (used by ``lifecircle run``, by every experiment and by the validation):

* every metric is averaged over the **measured days** (``warmup + 1 .. days``): shares,
  rates and levels of a day are comparable day by day, so their mean is the run's level;
* a **cumulative** metric (``model.CUMULATIVE_METRICS``: ``public_spend``, yuan spent to
  date, and ``spend_<kind>``, its part per policy kind) is not averaged -- the mean
  of a running total depends on when the money was spent, not on how much. It is summarized
  by its **final value** (everything the run spent, warm-up included, so one-off set-up costs
  count); ``public_spend_measured`` is what was spent within the measured window,
  ``public_cost_per_year`` the final value per 365 days of the run, and ``<metric>_per_year``
  the money of the measured window per 365 measured days (a yearly budget's measure);
* stocks (``model.outcomes.STOCK_METRICS``) also keep their final value as ``<metric>_final``.
"""

from __future__ import annotations

import math

import pandas as pd

from model import CUMULATIVE_METRICS
from model.outcomes import STOCK_METRICS
from model.policies.base import DAYS_PER_YEAR

__all__ = ["CUMULATIVE_METRICS", "summarize_run"]


def summarize_run(daily: pd.DataFrame, warmup: int) -> dict[str, float]:
    """Summarize one run's daily series (see the module docstring for the rule).

    Args:
        daily: One run's daily frame: a ``day`` column (1..days) and metric columns; any
            other non-numeric column is ignored.
        warmup: Days left out of the means (``0``: none). At least the last day is measured.

    Returns:
        Metric name -> value, plus ``public_cost``, ``public_cost_per_year``,
        ``public_spend_measured``, ``<stock>_final`` and ``days_measured``.
    """
    ordered = daily.sort_values("day")
    last_day = int(ordered["day"].iloc[-1]) if len(ordered) else 0
    warmup = max(0, min(int(warmup), last_day - 1))
    measured = ordered[ordered["day"] > warmup]
    metrics = [c for c in ordered.columns
               if c != "day" and pd.api.types.is_numeric_dtype(ordered[c])]
    out: dict[str, float] = {m: float(measured[m].mean()) for m in metrics}
    for m in CUMULATIVE_METRICS:
        if m not in ordered.columns:
            continue
        end = float(ordered[m].iloc[-1]) if len(ordered) else 0.0
        before = ordered.loc[ordered["day"] <= warmup, m]
        out[m] = end
        out[f"{m}_measured"] = end - (float(before.iloc[-1]) if len(before) else 0.0)
        out[f"{m}_per_year"] = (out[f"{m}_measured"] / len(measured) * DAYS_PER_YEAR
                                if len(measured) else math.nan)
        if m == "public_spend":
            out["public_cost"] = end
            out["public_cost_per_year"] = end / last_day * 365.0 if last_day else math.nan
    for m in STOCK_METRICS:
        if m in ordered.columns:
            out[f"{m}_final"] = float(ordered[m].iloc[-1]) if len(ordered) else math.nan
    out["days_measured"] = float(len(measured))
    return out
