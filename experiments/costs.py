"""Public cost and what it buys: cost-effectiveness of each scenario against the baseline.

Extra cost is the paired (same seed) difference of ``public_cost_per_year`` (see
:mod:`experiments.summary` for how a run's spending is summarized); gains are paired
differences of run summaries; intervals are paired bootstrap intervals.

The benefit-cost ratio is the consumer surplus gained per year (``surplus_yuan_total``, the
day's expected surplus of all residents, averaged over the measured days, times 365) over the
extra public cost per year: yuan of residents' welfare per yuan of public money. Surplus is a
difference measure (levels are defined up to a constant), so only its gain is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from experiments.stats import paired_frame


def cost_effectiveness(summary: pd.DataFrame, baseline: str, *,
                       gains: Sequence[str] = ("share_satisfied", "satisfaction_mean",
                                               "coverage_basic_all"),
                       n_boot: int = 5_000, level: float = 0.95, seed: int = 0
                       ) -> pd.DataFrame:
    """Public cost and what it buys, per scenario (and point), paired with the baseline.

    Extra cost is the paired mean difference of ``public_cost_per_year`` (yuan spent per
    year over the measured days). A gain per 10,000 yuan is
    ``mean(diff of metric) * 100 / (extra cost / 10,000)``: percentage points (0..100 scale)
    gained per 10,000 yuan of extra public spending a year. ``satisfied_per_10k`` is the
    extra number of satisfied residents per 10,000 yuan a year. Ratios are only given when
    the extra cost is positive; their CI is a paired bootstrap of the ratio of means (NaN
    when a resample's extra cost is not positive).

    Returns:
        One row per (scenario, point): ``cost_per_year``, ``extra_cost_per_year`` and, per
        gain metric ``m``: ``m_diff``, ``m_per_10k``, ``m_per_10k_low``, ``m_per_10k_high``;
        plus ``satisfied_per_10k``.

    """
    rng = np.random.default_rng(seed)
    cost = "public_cost_per_year"
    if cost not in summary.columns:
        return pd.DataFrame()
    rows = []
    alpha = (1.0 - level) / 2.0
    for scen in [s for s in dict.fromkeys(summary["scenario"]) if s != baseline]:
        for point in sorted(summary.loc[summary["scenario"] == scen, "point"].unique()):
            pc = paired_frame(summary, cost, baseline, scen, int(point))
            if pc.empty:
                continue
            dc = pc["scen"].to_numpy() - pc["base"].to_numpy()
            total = summary.loc[(summary["scenario"] == scen) & (summary["point"] == point),
                                "public_cost"] if "public_cost" in summary.columns else None
            row: dict[str, Any] = {"scenario": scen, "point": int(point), "n": len(dc),
                                   "total_cost": float(total.mean()) if total is not None
                                   else float("nan"),
                                   "cost_per_year": float(pc["scen"].mean()),
                                   "extra_cost_per_year": float(dc.mean())}
            idx = rng.integers(0, len(dc), size=(n_boot, len(dc)))
            boot_cost = dc[idx].mean(axis=1)
            row.update(_benefit_cost(summary, baseline, scen, int(point), pc, dc, idx,
                                     boot_cost, alpha))
            extra = [*gains, "satisfied_residents"]
            for m in extra:
                if m == "satisfied_residents":
                    if not {"share_satisfied", "residents"} <= set(summary.columns):
                        continue
                    tmp = summary.assign(satisfied_residents=summary["share_satisfied"]
                                         * summary["residents"])
                    pf = paired_frame(tmp, m, baseline, scen, int(point))
                    scale = 1.0
                else:
                    if m not in summary.columns:
                        continue
                    pf = paired_frame(summary, m, baseline, scen, int(point))
                    scale = 100.0
                pf = pf.merge(pc[["replicate"]], on="replicate")
                dm = (pf["scen"].to_numpy() - pf["base"].to_numpy()) * scale
                name = "satisfied" if m == "satisfied_residents" else m
                row[f"{name}_diff"] = float(dm.mean()) if len(dm) else float("nan")
                ratio = lo = hi = float("nan")
                if len(dm) == len(dc) and dc.mean() > 0:
                    ratio = float(dm.mean() / (dc.mean() / 10_000.0))
                    if np.all(boot_cost > 0):
                        br = dm[idx].mean(axis=1) / (boot_cost / 10_000.0)
                        lo, hi = (float(x) for x in np.quantile(br, [alpha, 1 - alpha]))
                row[f"{name}_per_10k"] = ratio
                row[f"{name}_per_10k_low"] = lo
                row[f"{name}_per_10k_high"] = hi
            rows.append(row)
    return pd.DataFrame(rows)


def _benefit_cost(summary: pd.DataFrame, baseline: str, scen: str, point: int,
                  pc: pd.DataFrame, dc: np.ndarray, idx: np.ndarray, boot_cost: np.ndarray,
                  alpha: float) -> dict[str, float]:
    """Consumer surplus gained per year and per yuan of extra public money (with its CI)."""
    nan = float("nan")
    out = {"surplus_gain_per_year": nan, "benefit_per_yuan": nan, "benefit_per_yuan_low": nan,
           "benefit_per_yuan_high": nan}
    if "surplus_yuan_total" not in summary.columns:
        return out
    pf = paired_frame(summary, "surplus_yuan_total", baseline, scen, point)
    pf = pf.merge(pc[["replicate"]], on="replicate")
    gain = (pf["scen"].to_numpy() - pf["base"].to_numpy()) * 365.0
    if len(gain) != len(dc) or not len(gain):
        return out
    out["surplus_gain_per_year"] = float(gain.mean())
    if dc.mean() > 0:
        out["benefit_per_yuan"] = float(gain.mean() / dc.mean())
        if np.all(boot_cost > 0):
            ratio = gain[idx].mean(axis=1) / boot_cost
            out["benefit_per_yuan_low"], out["benefit_per_yuan_high"] = (
                float(x) for x in np.quantile(ratio, [alpha, 1 - alpha]))
    return out
