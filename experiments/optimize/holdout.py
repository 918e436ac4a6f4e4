"""Guard against optimising noise: re-simulate the chosen mixes on seeds the search never saw.

A search picks the mixes that did best on its few seeds, so their in-sample gains are biased
upwards (the winner's curse). The **chosen mixes** -- the best front member within each budget
level of the problem -- and the baseline are run again on ``holdout_replicates`` fresh seeds
(spawned from the root seed after the search's seeds, so never the same). For each chosen
mix and objective the table gives the gain over the baseline, paired by seed (common random
numbers), with a 95% bootstrap interval, in sample (search seeds) and out of sample (fresh
seeds) side by side.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from experiments.optimize.tables import best_at_budgets, primary_objective, stat_col
from experiments.stats import compare_pair

LEVEL = 0.95
N_BOOT = 4000


def chosen_mixes(problem: Any, pareto: pd.DataFrame) -> pd.DataFrame:
    """The mixes to check: best within each budget level (else the best on the primary objective)."""
    chosen = best_at_budgets(problem, pareto)
    if chosen.empty and not pareto.empty:
        obj = primary_objective(problem)
        col = stat_col(obj.metric, obj.stat)
        key = pareto[col] if obj.sense == "max" else -pareto[col]
        chosen = pd.DataFrame([{"budget_level": math.nan, **pareto.loc[key.idxmax()].to_dict()}])
    return chosen


def _gain(mix: list[dict[str, float] | None], base: list[dict[str, float] | None],
          metric: str) -> dict[str, float]:
    pairs = [(b[metric], m[metric]) for b, m in zip(base, mix, strict=True)
             if b is not None and m is not None and math.isfinite(b.get(metric, math.nan))
             and math.isfinite(m.get(metric, math.nan))]
    if not pairs:
        return {"n": 0, "gain": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    b, m = zip(*pairs, strict=True)
    st = compare_pair(list(b), list(m), n_boot=N_BOOT, level=LEVEL)
    return {"n": st["n"], "gain": st["diff"], "ci_low": st["ci_low"], "ci_high": st["ci_high"]}


def holdout_table(problem: Any, search: Any, chosen: pd.DataFrame) -> pd.DataFrame:
    """In-sample and out-of-sample gains of the chosen mixes (runs must be evaluated).

    Args:
        problem: The problem.
        search: The :class:`~experiments.optimize.search.Search` holding every run.
        chosen: From :func:`chosen_mixes`.

    Returns:
        One row per (chosen mix, objective): ``budget_level``, ``candidate``, ``mix``,
        ``metric``, ``stat``, the objective's statistic in and out of sample (``in_value``,
        ``out_value``), and the paired mean gains with intervals (``in_gain``,
        ``in_ci_low``, ``in_ci_high``, ``out_gain``, ...), ``n_in``, ``n_out``.
    """
    n_in, n_out = problem.replicates, problem.holdout_replicates
    base_in = search.per_seed(search.baseline, 0, n_in)
    base_out = search.per_seed(search.baseline, n_in, n_out)
    rows = []
    for _, c in chosen.iterrows():
        entry = search.entries[c["candidate"]]
        mix_in = search.per_seed(entry, 0, n_in)
        mix_out = search.per_seed(entry, n_in, n_out)
        for obj in problem.objectives:
            ok_out = all(s is not None for s in mix_out)
            g_in = _gain(mix_in, base_in, obj.metric)
            g_out = _gain(mix_out, base_out, obj.metric) if n_out else _gain([], [], obj.metric)
            rows.append({
                "budget_level": c["budget_level"], "candidate": c["candidate"],
                "mix": c["mix"], "metric": obj.metric, "sense": obj.sense,
                "stat": obj.stat.label,
                "in_value": c[stat_col(obj.metric, obj.stat)],
                "out_value": obj.stat([s[obj.metric] for s in mix_out])
                if n_out and ok_out else math.nan,
                "in_gain": g_in["gain"], "in_ci_low": g_in["ci_low"],
                "in_ci_high": g_in["ci_high"], "out_gain": g_out["gain"],
                "out_ci_low": g_out["ci_low"], "out_ci_high": g_out["ci_high"],
                "n_in": g_in["n"], "n_out": g_out["n"],
            })
    return pd.DataFrame(rows)
