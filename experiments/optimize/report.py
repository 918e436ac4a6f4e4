"""The search report: report.md and report.html (same blocks), with figures, in the folder.

Sections: the problem (base scenario, levers, objectives, constraints, seeds); the front
(figure: cost against each gain; table of its mixes); the best mix within each budget level
and its gains re-simulated on fresh seeds beside the in-sample gains; the front's levers
(parallel coordinates); what was evaluated (feasible, infeasible, failed runs).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.optimize.figures import fig_budgets, fig_front, fig_levers
from experiments.optimize.objectives import COST_METRIC
from experiments.optimize.tables import primary_objective, stat_col
from experiments.report_doc import Doc
from experiments.store import atomic_write_bytes

MAX_FRONT_ROWS = 40


def _yuan(v: float) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{v:,.0f}"


def _interval(mid: float, lo: float, hi: float) -> str:
    if mid is None or not math.isfinite(mid):
        return "–"
    # one format for the three numbers, so an interval reads on the scale of its middle
    fmt = "{:,.0f}" if abs(mid) >= 100 else "{:+.3f}" if abs(mid) >= 0.001 else "{:+.2e}"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return fmt.format(mid)
    return f"{fmt.format(mid)} [{fmt.format(lo)}, {fmt.format(hi)}]"


def _problem(doc: Doc, p: Any, evaluations: pd.DataFrame) -> None:
    base = evaluations[evaluations["role"] == "baseline"]
    doc.add("p", f"Base scenario **{Path(p.scenario).name}** ({p.base.name}); every mix is "
            f"simulated for {p.days} days on the same {p.replicates} seeds (common random "
            f"numbers), measured after a warm-up of {p.warmup} days. Search: pymoo's "
            f"mixed-variable genetic algorithm with NSGA-II survival, population "
            f"{p.population}, seed {p.seed}, {p.evaluations} evaluations asked; "
            + ("the first generation opens with the do-nothing mix and each lever alone at "
               "its highest." if p.first_generation == "one_at_a_time"
               else "the first generation is random."))
    levers = pd.DataFrame([{"lever": lv.name, "type": lv.type,
                            "range": (f"{lv.low:g} .. {lv.high:g}" if lv.type in
                                      ("integer", "real") else
                                      ("off / on" if lv.type == "switch" else
                                       " / ".join(map(str, lv.values))))}
                           for lv in p.levers])
    doc.add("table", levers)
    doc.add("list", [f"objective: {'maximise' if o.sense == 'max' else 'minimise'} "
                     f"`{o.metric}` ({o.stat.label} over seeds)" for o in p.objectives]
            + [f"constraint: `{b.describe()}`" for b in p.bounds])
    if not base.empty and p.budget:
        doc.add("p", f"The baseline spends {_yuan(float(base['cost_per_year'].iloc[0]))} yuan "
                f"a year (`{COST_METRIC}`); the budget is {_yuan(p.budget)} yuan a year.")


def _front_table(p: Any, pareto: pd.DataFrame) -> pd.DataFrame:
    """The front, one row per distinct result.

    Mixes that differ only in levers that did not matter (a placement with nothing to place)
    give the same numbers: the first asked is shown, with their count.
    """
    cols = {"mix": "mix", "cost_per_year": "yuan / year"}
    for o in p.objectives:
        if o.metric != COST_METRIC:
            cols[stat_col(o.metric, o.stat)] = f"{o.metric} ({o.stat.label})"
            cols[stat_col(o.metric, o.stat) + "__vs_baseline"] = "vs baseline"
    values = [c for c in cols if c != "mix"]
    table = pareto[list(cols)].copy()
    table["same results"] = table.groupby(values, dropna=False)["mix"].transform("size")
    table = table.drop_duplicates(subset=values).rename(columns=cols)
    return table.head(MAX_FRONT_ROWS)


def _budgets(doc: Doc, p: Any, holdout: pd.DataFrame) -> None:
    if holdout.empty:
        doc.add("p", "No feasible mix: nothing to choose at any budget level.")
        return
    obj = primary_objective(p)
    doc.add("p", f"The best mix within each budget (by `{obj.metric}`, {obj.stat.label} over "
            "the search seeds) was simulated again on "
            f"{p.holdout_replicates} fresh seeds the search never saw. Gains are mean paired "
            "differences from the baseline with 95% bootstrap intervals; a gain that shrinks "
            "out of sample was partly the search fitting noise (the winner's curse)."
            if p.holdout_replicates else
            f"The best mix within each budget (by `{obj.metric}`). No out-of-sample check "
            "(holdout_replicates = 0).")
    cheapest = holdout["budget_level"].min()
    missed = [lvl for lvl in p.budget_levels if lvl < cheapest]
    if missed:
        doc.add("p", "No mix on the front fits a budget of "
                f"{' or '.join(_yuan(v) for v in missed)} yuan a year.")
    rows = []
    for _, r in holdout.iterrows():
        lvl = r["budget_level"]
        rows.append({"budget / year": _yuan(lvl) if isinstance(lvl, float) else lvl,
                     "mix": r["mix"], "metric": r["metric"],
                     "gain in sample": _interval(r["in_gain"], r["in_ci_low"], r["in_ci_high"]),
                     "gain out of sample": _interval(r["out_gain"], r["out_ci_low"],
                                                     r["out_ci_high"]),
                     "seeds in / out": f"{r['n_in']} / {r['n_out']}"})
    doc.add("table", pd.DataFrame(rows))


def build_report(problem: Any, root: Path, evaluations: pd.DataFrame, pareto: pd.DataFrame,
                 holdout: pd.DataFrame) -> Doc:
    """The report's blocks (figures are written into ``root``)."""
    p = problem
    doc = Doc()
    doc.add("h1", f"Policy mix search: {p.name}")
    if p.description:
        doc.add("p", p.description)
    _problem(doc, p, evaluations)
    search = evaluations[evaluations["role"] == "search"]
    n_feasible = int(search["feasible"].sum()) if not search.empty else 0
    doc.add("h2", "The front")
    doc.add("p", f"{len(search)} distinct mixes evaluated, {n_feasible} feasible; "
            f"{len(pareto)} on the front (feasible, and no other feasible mix is at least as "
            "good in every objective and better in one).")
    fig = fig_front(root, p, evaluations, pareto)
    if fig:
        doc.add("fig", fig, "Cost per year against each gain: every mix, the front, the "
                "baseline and the budget")
    doc.add("table", _front_table(p, pareto))
    doc.add("p", "`same results`: mixes of the front with identical numbers (they differ only "
            "in a lever that did not matter, such as the placement of zero buses); the first "
            "asked is shown.")
    if len(pareto) > MAX_FRONT_ROWS:
        doc.add("p", f"(first {MAX_FRONT_ROWS} of {len(pareto)}; all in pareto.parquet)")
    doc.add("h2", "Best mix within each budget, and out of sample")
    _budgets(doc, p, holdout)
    fig = fig_budgets(root, p, holdout)
    if fig:
        doc.add("fig", fig, "Gain of the best mix within each budget, in and out of sample")
    doc.add("h2", "Levers of the front")
    fig = fig_levers(root, p, pareto)
    if fig:
        doc.add("fig", fig, "Parallel coordinates of the front's levers, coloured by cost")
    failed = int(search["runs_failed"].gt(0).sum()) if not search.empty else 0
    if failed:
        doc.add("warn", f"{failed} mixes had runs that failed (the model refused the mix, or "
                "a run crashed); they count as infeasible. Errors are in evaluations.parquet "
                "and runs/<run_id>.json.")
    doc.add("h2", "Files")
    doc.add("list", ["`evaluations.parquet`: every mix, its levers, each metric per seed and "
                     "aggregated, gains over the baseline, constraints, feasibility",
                     "`pareto.parquet`: the front", "`holdout.parquet`: the chosen mixes in "
                     "and out of sample", "`runs/`: every simulation's daily metrics "
                     "(verified store)", "`manifest.json`: the problem, seeds, code version"])
    return doc


def write_report(problem: Any, root: Path, evaluations: pd.DataFrame, pareto: pd.DataFrame,
                 holdout: pd.DataFrame) -> Path:
    """Write report.md and report.html into ``root``; return the Markdown file's path."""
    doc = build_report(problem, root, evaluations, pareto, holdout)
    md = root / "report.md"
    atomic_write_bytes(md, doc.markdown().encode("utf-8"))
    atomic_write_bytes(root / "report.html",
                       doc.html(f"lifecircle: policy mix search {problem.name}").encode("utf-8"))
    return md
