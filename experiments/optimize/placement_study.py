"""Greedy cover against the exact MCLP on a city: residents reached per site, then the simulation.

``python -m experiments.optimize.placement_study`` (or ``main(days, seeds, workers)``) prints
the Markdown tables of docs/OPTIMIZE.md ("Where to put things"):

1. **At placement** (day 0): for canteens (elderly residents without a canteen within its
   standard walk) and bus stops (residents without fresh food within its standard walk), the
   residents the chosen sites reach, in total and per site, by greedy cover and by MCLP.
2. **Once shops compete**: the same policies simulated (policies from day 61, measured over
   their first year, the same seeds for both methods): the category's coverage, the
   elderly's and everyone's consumer surplus, and the public money per year.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from experiments.definition import replicate_seeds
from experiments.executors import ExecutorSpec
from experiments.outputs import label_hash
from experiments.report_doc import Doc

CASES = (("elderly_canteen", "n_canteens", (1, 2, 3), "canteen"),
         ("mobile_vendors", "n_buses", (1, 2), "fresh_food"))
WARMUP = 60


def _placement_row(kind: str, param: str, n: int, category: str) -> dict[str, Any]:
    from model import CommerceModel, load_scenario
    from model.policies.placement import cover, coverage_pairs, lacking, walkable_road_cells
    from model.population import ELDERLY, ELDERLY80

    model = CommerceModel(load_scenario("baseline"), rng=1)
    if kind == "elderly_canteen":
        cand = model.supply.site_xy[model.supply.vacant_storefronts()]
        who = np.isin(model.population.group[model.present_idx], (ELDERLY, ELDERLY80))
        need, sites = lacking(model, category, who=who), n
    else:
        cand, need, sites = walkable_road_cells(model), lacking(model, category), n * 6
    count, src, home, within = coverage_pairs(model, cand, need, category)
    row: dict[str, Any] = {"policy": kind, param: n, "sites": sites, "lacking": len(need)}
    for method in ("greedy", "mclp"):
        picked = cover(model, cand, need, sites, category, method)
        hit = np.zeros_like(count, dtype=bool)
        sel = np.isin(src, picked)
        np.logical_or.at(hit, home[sel], within[sel])
        reached = float((count * hit).sum())
        row[f"{method} reached"] = reached
        row[f"{method} per site"] = reached / sites
    return row


def _task(args: tuple[str, str, int, str, int, int]) -> dict[str, Any]:
    from experiments.execute import simulate_run
    from experiments.summary import summarize_run
    from model import load_scenario

    kind, param, n, method, seed, days = args
    sc = load_scenario("baseline").with_policy(kind, **{param: n, "placement": method,
                                                        "start_day": WARMUP + 1})
    _, daily = simulate_run(sc, seed, days)
    return {"status": "ok", "summary": summarize_run(daily, WARMUP)}


def simulate(days: int, seeds: list[int], spec: ExecutorSpec) -> pd.DataFrame:
    """Every case by both methods on every seed; one row per (case, method) with means."""
    from experiments.dispatch import run_all

    tasks = [(kind, param, n, method, seed, days) for kind, param, ns, _ in CASES for n in ns
             for method in ("greedy", "mclp") for seed in seeds]
    got: dict[str, dict[str, float]] = {}
    run_all(_task, tasks, spec, lambda t, r: got.__setitem__(label_hash(*t), r["summary"]))
    rows = []
    for kind, param, ns, category in CASES:
        for n in ns:
            for method in ("greedy", "mclp"):
                s = pd.DataFrame([got[label_hash(kind, param, n, method, seed, days)]
                                  for seed in seeds]).mean()
                rows.append({"policy": kind, param: n, "placement": method,
                             f"coverage_{category}": s[f"coverage_{category}"],
                             "surplus_yuan_elderly": s["surplus_yuan_elderly"],
                             "surplus_yuan": s["surplus_yuan"],
                             "yuan / year": s["public_spend_per_year"]})
    return pd.DataFrame(rows)


def main(days: int = WARMUP + 365, seeds: int = 2, workers: int = 2) -> None:
    """Print the tables as Markdown (``seeds`` replicate seeds, ``workers`` processes)."""
    doc = Doc()
    sim = simulate(days, replicate_seeds(7, seeds), ExecutorSpec(workers=workers))
    for kind, param, ns, category in CASES:
        doc.add("h3", f"{kind}: residents reached at placement")
        doc.add("table", pd.DataFrame([_placement_row(kind, param, n, category)
                                       for n in ns]).drop(columns="policy").astype(
                                           {param: str, "sites": str, "lacking": str}))
        doc.add("h3", f"{kind}: simulated, {seeds} seeds, policies' first year")
        part = sim[sim["policy"] == kind].dropna(axis=1, how="all").drop(columns="policy")
        part[param] = part[param].astype(int).astype(str)
        doc.add("table", part[[param, *[c for c in part.columns if c != param]]])
    print(doc.markdown())


if __name__ == "__main__":
    main()
