"""The search report's figures (matplotlib/seaborn PNG), each returning its file name.

* :func:`fig_front` -- cost per year against each gain: every mix evaluated (grey: feasible,
  crosses: infeasible), the front (joined), the baseline and the budget;
* :func:`fig_levers` -- parallel coordinates of the front's levers (each axis from the lever's
  low to its high; switches off/on; choices in order), coloured by cost;
* :func:`fig_budgets` -- the best mix within each budget level: its gain over the baseline in
  sample and out of sample, with 95% intervals.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from experiments.optimize.objectives import COST_METRIC
from experiments.optimize.tables import primary_objective, stat_col
from experiments.report_figures import _save, figure_name, plt, sns


def fig_front(root: Any, problem: Any, evaluations: pd.DataFrame, pareto: pd.DataFrame
              ) -> str | None:
    """Cost per year (x) against each objective that is not the cost (y)."""
    gains = [o for o in problem.objectives if o.metric != COST_METRIC]
    search = evaluations[evaluations["role"] == "search"]
    if not gains or search.empty:
        return None
    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(1, len(gains), figsize=(5.2 * len(gains), 4.2), squeeze=False)
    base = evaluations[evaluations["role"] == "baseline"]
    budget = problem.budget
    for ax, obj in zip(axes[0], gains, strict=True):
        col = stat_col(obj.metric, obj.stat)
        ok = search[search["feasible"]]
        bad = search[~search["feasible"]]
        ax.scatter(ok["cost_per_year"], ok[col], s=18, color="0.6", label="feasible mix")
        ax.scatter(bad["cost_per_year"], bad[col], s=18, marker="x", color="0.75",
                   label="infeasible mix")
        if not pareto.empty:  # a front of several objectives: its points, not a line
            ax.scatter(pareto["cost_per_year"], pareto[col], s=34, color="tab:blue",
                       zorder=4, label="front (all objectives)")
        if not base.empty:
            ax.scatter(base["cost_per_year"], base[col], marker="*", s=140, color="tab:red",
                       zorder=5, label="baseline")
        if budget:
            ax.axvline(budget, color="tab:orange", ls="--", lw=1, label="budget")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e3:,.0f}k"))
        ax.set_xlabel("public money per year (yuan)")
        ax.set_ylabel(f"{obj.metric} ({obj.stat.label})")
        ax.set_title(f"{'maximise' if obj.sense == 'max' else 'minimise'} {obj.metric}")
    axes[0][0].legend(fontsize=8, loc="best")
    return _save(fig, root, figure_name("front"))


def _axis_values(lever: Any, values: pd.Series) -> np.ndarray:
    """A lever's values on a 0..1 axis (None -> NaN)."""
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        if lever.type == "switch":
            out[i] = float(bool(v))
        elif lever.type == "choice":
            out[i] = lever.values.index(v) / max(1, len(lever.values) - 1)
        else:
            out[i] = (float(v) - lever.low) / (lever.high - lever.low)
    return out


def fig_levers(root: Any, problem: Any, pareto: pd.DataFrame) -> str | None:
    """Parallel coordinates of the front members' levers, coloured by cost per year."""
    if pareto.empty:
        return None
    sns.set_theme(style="white")
    levers = problem.levers
    fig, ax = plt.subplots(figsize=(max(5.0, 1.6 * len(levers) + 2), 4.2))
    cost = pareto["cost_per_year"].to_numpy(dtype=float)
    lo, hi = float(np.nanmin(cost)), float(np.nanmax(cost))
    cmap = plt.get_cmap("viridis")
    x = np.arange(len(levers))
    ys = np.column_stack([_axis_values(lv, pareto[lv.name]) for lv in levers])
    jitter = (np.arange(len(pareto)) - (len(pareto) - 1) / 2) * 0.004
    for row, c, j in zip(ys, cost, jitter, strict=True):
        color = cmap(0.5 if hi == lo else (c - lo) / (hi - lo))
        ax.plot(x, row + j, "-o", color=color, alpha=0.8, ms=4)
    for i, lv in enumerate(levers):
        ax.axvline(i, color="0.8", lw=1, zorder=0)
        if lv.type == "switch":
            ends = ("off", "on")
        elif lv.type == "choice":
            ends = (str(lv.values[0]), str(lv.values[-1]))
        else:
            ends = (f"{lv.low:g}", f"{lv.high:g}")
        ax.text(i, -0.08, ends[0], ha="center", va="top", fontsize=8)
        ax.text(i, 1.08, ends[1], ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, [lv.name.removeprefix("policy.") for lv in levers], rotation=20,
                  ha="right", fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(-0.2, 1.2)
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(lo, hi if hi > lo else lo + 1))
    fig.colorbar(sm, ax=ax, label="public money per year (yuan)")
    ax.set_title(f"levers of the {len(pareto)} mixes on the front")
    return _save(fig, root, figure_name("levers"))


def fig_budgets(root: Any, problem: Any, holdout: pd.DataFrame) -> str | None:
    """The chosen mixes' gain on the primary objective, in and out of sample, with intervals."""
    obj = primary_objective(problem)
    h = holdout[holdout["metric"] == obj.metric] if not holdout.empty else holdout
    if h.empty:
        return None
    sns.set_theme(style="whitegrid")
    fig, ax = plt.subplots(figsize=(max(4.5, 1.6 * len(h) + 2), 4.0))
    labels = [f"{lvl / 1e6:.3g} M" if isinstance(lvl, float) and math.isfinite(lvl) else "best"
              for lvl in h["budget_level"]]
    x = np.arange(len(h))
    for off, kind, color in ((-0.17, "in", "tab:blue"), (0.17, "out", "tab:green")):
        mid = h[f"{kind}_gain"].to_numpy(dtype=float)
        err = np.vstack([mid - h[f"{kind}_ci_low"].to_numpy(dtype=float),
                         h[f"{kind}_ci_high"].to_numpy(dtype=float) - mid])
        ax.bar(x + off, mid, width=0.32, color=color, alpha=0.8,
               label="in sample (search seeds)" if kind == "in" else "out of sample (fresh seeds)")
        ax.errorbar(x + off, mid, yerr=np.nan_to_num(err), fmt="none", color="k", capsize=3)
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xticks(x, labels)
    ax.set_xlabel("budget per year")
    ax.set_ylabel(f"gain in {obj.metric} over the baseline")
    ax.legend(fontsize=8)
    ax.set_title("best mix within each budget")
    return _save(fig, root, figure_name("budgets"))
