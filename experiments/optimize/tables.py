"""From per-run summaries to one row per mix, the optimiser's F and G, and the front.

A mix's row (``evaluations.parquet``) holds its levers, for each metric an objective or bound
reads the value on every search seed (``<metric>__r<replicate>``) and the robust statistic
over them (``<metric>__<stat>``), its difference from the baseline with the same statistic
(``..__vs_baseline``), each constraint's value (``g_<name>``, met when <= 0), ``feasible``
and the cost per year. Column names are made here only.

The **front** (``pareto.parquet``) is the feasible mixes that no other feasible mix of the
search dominates (at least as good in every objective, better in one), over everything
evaluated -- not only the optimiser's last population.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from experiments.optimize.levers import describe_mix
from experiments.optimize.objectives import COST_METRIC, INFEASIBLE, Statistic

PENALTY = 1e12
"""Objective value (minimised) given to a mix whose runs failed or whose metric is not a number."""

VALID = "g_runs_ok"
"""Constraint column: every run of the mix finished and every objective is a number."""


def stat_col(metric: str, stat: Statistic) -> str:
    """Column of a metric's robust statistic over the search seeds."""
    return f"{metric}__{stat.label}"


def rep_col(metric: str, replicate: int) -> str:
    """Column of a metric's value on one replicate seed."""
    return f"{metric}__r{replicate}"


def cost_stat(problem: Any) -> Statistic:
    """The statistic the cost is read with: the budget's, else the mean."""
    for b in problem.bounds:
        if b.name == "budget_per_year":
            return b.stat
    return Statistic()


def cost_col(problem: Any) -> str:
    """The cost-per-year column of the tables."""
    return stat_col(COST_METRIC, cost_stat(problem))


def metrics_read(problem: Any) -> list[tuple[str, Statistic]]:
    """Every (metric, statistic) the tables carry: objectives, bounds, cost; in that order."""
    out: list[tuple[str, Statistic]] = []
    for m, s in ([(o.metric, o.stat) for o in problem.objectives]
                 + [(b.metric, b.stat) for b in problem.bounds]
                 + [(COST_METRIC, cost_stat(problem))]):
        if (m, s) not in out:
            out.append((m, s))
    return out


def mix_row(problem: Any, entry: Any, per_seed: Sequence[dict[str, float] | None],
            baseline: Sequence[dict[str, float] | None] | None, errors: list[str]
            ) -> dict[str, Any]:
    """One mix's row (see the module docstring).

    Args:
        problem: The problem.
        entry: The mix (``candidate``, ``role``, ``mix``, ``generation``, ``first_ask``,
            ``times_asked``).
        per_seed: Each search seed's run summary (``None``: the run failed).
        baseline: The baseline's summaries on the same seeds (for gains and baseline bounds).
        errors: Last lines of the failed runs' errors.
    """
    row: dict[str, Any] = {"candidate": entry.candidate, "role": entry.role,
                           "generation": entry.generation, "first_ask": entry.first_ask,
                           "times_asked": entry.times_asked,
                           "mix": describe_mix(problem.levers, entry.mix) or "(base scenario)"}
    for lv in problem.levers:
        row[lv.name] = entry.mix.get(lv.name)
    ok = all(s is not None for s in per_seed)
    base_ok = baseline is not None and all(s is not None for s in baseline)
    for metric in dict.fromkeys(m for m, _ in metrics_read(problem)):
        for rep, s in enumerate(per_seed):
            row[rep_col(metric, rep)] = s.get(metric, math.nan) if s is not None else math.nan
    for metric, stat in metrics_read(problem):
        vals = [row[rep_col(metric, r)] for r in range(len(per_seed))]
        row[stat_col(metric, stat)] = stat(vals) if ok else math.nan
        base_val = (stat([s.get(metric, math.nan) for s in baseline])  # type: ignore[union-attr]
                    if base_ok else math.nan)
        row[stat_col(metric, stat) + "__vs_baseline"] = row[stat_col(metric, stat)] - base_val
    for b in problem.bounds:
        base_val = (b.stat([s.get(b.metric, math.nan) for s in baseline])  # type: ignore[union-attr]
                    if base_ok else math.nan)
        row[f"g_{b.name}"] = b.violation(row[stat_col(b.metric, b.stat)], base_val) \
            if ok else INFEASIBLE
    objectives_ok = ok and all(math.isfinite(row[stat_col(o.metric, o.stat)])
                               for o in problem.objectives)
    row[VALID] = 0.0 if objectives_ok else INFEASIBLE
    row["feasible"] = bool(all(row[f"g_{b.name}"] <= 0 for b in problem.bounds)
                           and objectives_ok)
    row["cost_per_year"] = row[cost_col(problem)]
    row["runs_failed"] = sum(s is None for s in per_seed)
    row["error"] = "; ".join(errors)
    return row


def objectives_and_constraints(problem: Any, row: dict[str, Any]) -> tuple[list[float],
                                                                           list[float]]:
    """The optimiser's view of a row: minimised objectives F and constraints G (<= 0 met)."""
    valid = row[VALID] <= 0
    f = [o.minimised(row[stat_col(o.metric, o.stat)]) if valid else PENALTY
         for o in problem.objectives]
    g = [row[f"g_{b.name}"] for b in problem.bounds] + [row[VALID]]
    return f, g


def non_dominated(f: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``f`` (minimised) that no other row dominates."""
    n = len(f)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        no_worse = np.all(f <= f[i], axis=1)
        better = np.any(f < f[i], axis=1)
        if np.any(no_worse & better):
            keep[i] = False
    return keep


def front(problem: Any, evaluations: pd.DataFrame) -> pd.DataFrame:
    """The feasible, non-dominated mixes of the search (sorted by cost, then first asked)."""
    cand = evaluations[(evaluations["role"] == "search") & evaluations["feasible"]]
    if cand.empty:
        return cand.copy()
    f = np.column_stack([[o.minimised(v) for v in cand[stat_col(o.metric, o.stat)]]
                         for o in problem.objectives])
    out = cand[non_dominated(f)]
    return out.sort_values(["cost_per_year", "first_ask"]).reset_index(drop=True)


def primary_objective(problem: Any) -> Any:
    """The objective the report ranks mixes by: the first that is not the cost."""
    for o in problem.objectives:
        if o.metric != COST_METRIC:
            return o
    return problem.objectives[0]


def best_at_budgets(problem: Any, pareto: pd.DataFrame) -> pd.DataFrame:
    """For each budget level, the front member within it that is best on the primary objective.

    Returns:
        One row per budget level that some front member fits (``budget_level`` first).
    """
    obj = primary_objective(problem)
    col = stat_col(obj.metric, obj.stat)
    rows = []
    for level in problem.budget_levels:
        fits = pareto[pareto["cost_per_year"] <= level]
        if fits.empty:
            continue
        key = fits[col] if obj.sense == "max" else -fits[col]
        best = fits.loc[key.idxmax()]
        rows.append({"budget_level": level, **best.to_dict()})
    return pd.DataFrame(rows)
