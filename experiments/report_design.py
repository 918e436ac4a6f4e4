"""The report's sections for designed experiments: response surfaces, Morris and Sobol indices."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.indices import morris_indices, point_means, sobol_indices
from experiments.report_doc import Doc
from experiments.report_figures import fig_morris, fig_surface, figure_name

Job = tuple[str, str, str | None]
"""(scenario, metric, baseline or None): one sensitivity analysis to report."""


def surfaces(doc: Doc, summary: pd.DataFrame, points: pd.DataFrame,
             factors: Sequence[dict[str, Any]], metrics: Sequence[str], out: Path) -> None:
    """Means over replicates at each design point of a grid or Latin hypercube, with figures."""
    doc.add("h2", "Response surfaces")
    pm = point_means(summary[summary["point"] >= 0], points, metrics)
    doc.add("p", "Mean over replicates at each design point. Levers: "
            + (", ".join(f["name"] for f in factors if f["role"] == "lever") or "none")
            + "; uncertainties: "
            + (", ".join(f["name"] for f in factors if f["role"] == "uncertainty")
               or "none") + ".")
    for m in metrics[:4]:
        fig = fig_surface(out, pm, factors, m, figure_name("surface", m))
        if fig:
            doc.add("fig", fig, f"Response of {m} to the swept factors")
    doc.add("table", pm[["scenario", "point", *[f["name"] for f in factors], *metrics[:4]]])


def morris(doc: Doc, summary: pd.DataFrame, points: pd.DataFrame,
           factors: Sequence[dict[str, Any]], jobs: Sequence[Job], definition: dict[str, Any],
           out: Path, seed: int) -> None:
    """Morris elementary effects per job, with up to eight figures."""
    doc.add("h2", "Sensitivity screening (Morris elementary effects)")
    doc.add("p", "mu* (mean absolute elementary effect) ranks how much each factor moves the "
                 "output; sigma shows non-linearity or interactions. Outputs are means over "
                 "replicates at each trajectory point.")
    levels = int((definition.get("design") or {}).get("levels", 4))
    figs_done = 0
    for scen, m, base in jobs:
        try:
            mi = morris_indices(summary, points, factors, m, scen, levels=levels,
                                baseline=base, seed=seed)
        except ValueError as exc:
            doc.add("warn", f"{scen} / {m}: {exc}")
            continue
        title = f"{scen}: {m}" if base is None else f"effect of {scen} vs {base}: {m}"
        doc.add("h3", title)
        doc.add("table", mi)
        if figs_done < 8:
            labels = (scen, m) if base is None else (scen, m, "effect")
            doc.add("fig", fig_morris(out, mi, figure_name("morris", *labels)),
                    f"Morris mu* vs sigma: {title}")
            figs_done += 1


def sobol(doc: Doc, summary: pd.DataFrame, points: pd.DataFrame,
          factors: Sequence[dict[str, Any]], jobs: Sequence[Job], definition: dict[str, Any],
          out: Path, seed: int) -> None:
    """Sobol first-order and total indices per job."""
    del out  # no figures for Sobol indices
    doc.add("h2", "Variance-based sensitivity (Sobol indices)")
    doc.add("p", "S1 is the share of the output's variance due to the factor alone, ST the "
                 "share due to it including its interactions (SALib, Saltelli sample); "
                 "'conf' is the half-width of a 95% bootstrap interval. Sampling error can "
                 "push an index slightly below 0 or above 1.")
    second = bool((definition.get("design") or {}).get("second_order"))
    for scen, m, base in jobs:
        try:
            si = sobol_indices(summary, points, factors, m, scen, second_order=second,
                               baseline=base, seed=seed)
        except ValueError as exc:
            doc.add("warn", f"{scen} / {m}: {exc}")
            continue
        doc.add("h3", f"{scen}: {m}" if base is None else f"effect of {scen} vs {base}: {m}")
        doc.add("table", si)
