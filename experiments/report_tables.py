"""The comparison report's tables: differences, subgroup levels, costs, at a glance.

Each function turns statistics (:mod:`experiments.stats`, :mod:`experiments.costs`) into a
table for people: shares in percentage points, p-values formatted, points labelled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from experiments.plan import REFERENCE_POINT
from experiments.report_doc import Doc, fmt_p, unit
from experiments.stats import pairwise_separation
from model.outcomes import LEAD_METRICS, describe_metric, is_share


def display_diffs(df: pd.DataFrame, point_label: bool) -> pd.DataFrame:
    """Shares in percentage points; p-values formatted; what each row is compared with."""
    rows = []
    for r in df.to_dict("records"):
        k = 100.0 if is_share(r["metric"]) else 1.0
        row = {"scenario": r["scenario"]}
        if "compared with" in r:
            row["compared with"] = r["compared with"]
        if point_label:
            row["point"] = "ref" if r["point"] == REFERENCE_POINT else str(r["point"])
        row.update({
            "what": describe_metric(r["metric"])[0], "metric": r["metric"],
            "unit": unit(r["metric"]), "n": int(r["n"]),
            "baseline": r["baseline_mean"] * k, "scenario mean": r["scenario_mean"] * k,
            "difference": r["diff"] * k, "CI low": r["ci_low"] * k, "CI high": r["ci_high"] * k,
            "d_z": r["d_z"], "p": fmt_p(r["p_value"]), "p (Holm)": fmt_p(r["p_holm"]),
            "separated": bool(r["separated"]),
        })
        rows.append(row)
    return pd.DataFrame(rows)


def add_separation_warnings(doc: Doc, diffs: pd.DataFrame, summary: pd.DataFrame,
                             metrics: Sequence[str], others: Sequence[str], baseline: str,
                             seed: int, factors: Sequence[Any]) -> None:
    """Warn about few replicates, comparisons not separated and pairs not told apart."""
    if diffs.empty:
        return
    unsep = diffs[~diffs["separated"]]
    n_max = int(diffs["n"].max())
    if n_max < 10:
        doc.add("warn", f"Only {n_max} replicates: percentile bootstrap intervals are too "
                        "narrow with so few; treat differences as indicative and rely on the "
                        "Holm-adjusted p-values ('separated' requires both).")
    if not unsep.empty:
        need = unsep["replicates_needed"].dropna()
        hint = (f" Roughly {int(need.median())} replicates (median over those comparisons) "
                "would narrow the intervals to the observed differences." if len(need) else "")
        items = ", ".join(f"{r.scenario}/{r.metric}" for r in unsep.head(12).itertuples())
        doc.add("warn", f"{len(unsep)} of {len(diffs)} comparisons are not separated (interval "
                        "includes zero or Holm-adjusted p >= 0.05): these scenarios cannot be "
                        "told apart from the baseline on those metrics "
                        f"with {int(diffs['n'].max())} replicates ({items}"
                        f"{' …' if len(unsep) > 12 else ''}).{hint}")
    if factors or len(others) < 2 or not metrics:
        return
    key = metrics[0]
    pw = pairwise_separation(summary, key, [baseline, *others], seed=seed)
    pw = pw[(~pw["separated"]) & (pw["a"] != baseline)]
    if not pw.empty:
        pairs = "; ".join(f"{r.a} vs {r.b}" for r in pw.head(15).itertuples())
        doc.add("warn", f"On {key}, these scenario pairs cannot be told apart (95% interval of "
                        f"their paired difference includes zero): {pairs}"
                        f"{' …' if len(pw) > 15 else ''}.")


def at_a_glance(diffs: pd.DataFrame, ce: pd.DataFrame, metrics: Sequence[str],
                 points: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per scenario (and point): headline differences, extra cost, gain per yuan."""
    if diffs.empty:
        return pd.DataFrame()
    keys = [m for m in LEAD_METRICS if m in set(diffs["metric"])]
    keys = keys or list(metrics[:2])
    factor_cols = [c for c in points.columns if c != "point"] if points is not None else []
    by_point = points.set_index("point") if factor_cols else None
    rows = []
    for (scen, point), g in diffs.groupby(["scenario", "point"], sort=False):
        row: dict[str, Any] = {"scenario": scen}
        if "compared with" in g.columns:
            row["compared with"] = g["compared with"].iloc[0]
        if by_point is not None:
            row["point"] = "ref" if point == REFERENCE_POINT else str(point)
            for c in factor_cols:
                v = by_point.loc[point, c] if point in by_point.index else float("nan")
                row[c.split(".")[-1]] = v
        for m in keys:
            r = g[g["metric"] == m]
            if r.empty:
                continue
            r = r.iloc[0]
            k = 100.0 if is_share(m) else 1.0
            text = f"{r['diff'] * k:+.2f} [{r['ci_low'] * k:+.2f}, {r['ci_high'] * k:+.2f}]"
            row[m] = f"**{text}**" if r["separated"] else text
        if not ce.empty:
            c = ce[(ce["scenario"] == scen) & (ce["point"] == point)]
            if not c.empty:
                row["extra cost/yr (yuan)"] = float(c["extra_cost_per_year"].iloc[0])
                if "benefit_per_yuan" in c.columns:
                    row["welfare per yuan"] = float(c["benefit_per_yuan"].iloc[0])
                if "share_satisfied_per_10k" in c.columns:
                    row["satisfied pp per 10k yuan/yr"] = float(
                        c["share_satisfied_per_10k"].iloc[0])
        rows.append(row)
    return pd.DataFrame(rows)


def subgroup_levels(summary: pd.DataFrame, scenarios: Sequence[str]) -> pd.DataFrame:
    """Levels (%) of old/new and elderly/others per scenario, and the gaps between them."""
    pairs = [("share_satisfied_old", "share_satisfied_new", "satisfied old−new"),
             ("share_satisfied_elderly", "share_satisfied_nonelderly",
              "satisfied elderly−others"),
             ("coverage_basic_all_old", "coverage_basic_all_new", "basic circle old−new"),
             ("coverage_basic_all_elderly", "coverage_basic_all_nonelderly",
              "basic circle elderly−others")]
    pairs = [p for p in pairs if p[0] in summary.columns and p[1] in summary.columns]
    if not pairs:
        return pd.DataFrame()
    sub = summary[summary["point"].isin([0, REFERENCE_POINT])]
    rows = []
    for s in scenarios:
        g = sub[sub["scenario"] == s]
        row: dict[str, Any] = {"scenario": s}
        for a, b, label in pairs:
            row[a.replace("share_satisfied_", "satisfied ").replace(
                "coverage_basic_all_", "basic circle ")] = g[a].mean() * 100
            row[b.replace("share_satisfied_", "satisfied ").replace(
                "coverage_basic_all_", "basic circle ")] = g[b].mean() * 100
            row[label] = (g[a] - g[b]).mean() * 100
        rows.append(row)
    return pd.DataFrame(rows)


def display_ce(ce: pd.DataFrame, point_label: bool) -> pd.DataFrame:
    """The cost-effectiveness table for people."""
    out = pd.DataFrame({"scenario": ce["scenario"]})
    if point_label:
        out["point"] = ["ref" if p == REFERENCE_POINT else str(p) for p in ce["point"]]
    out["spent in run (yuan)"] = ce["total_cost"]
    out["cost/yr (yuan)"] = ce["cost_per_year"]
    out["extra cost/yr"] = ce["extra_cost_per_year"]
    for m, label in (("share_satisfied", "satisfied"), ("coverage_basic_all", "basic circle"),
                     ("satisfaction_mean", "satisfaction")):
        if f"{m}_diff" in ce.columns:
            out[f"{label} gain (pp)"] = ce[f"{m}_diff"]
            out[f"{label} pp per 10k"] = ce[f"{m}_per_10k"]
            out[f"{label} per 10k CI"] = [
                "–" if math.isnan(lo) else f"[{lo:.3g}, {hi:.3g}]"
                for lo, hi in zip(ce[f"{m}_per_10k_low"], ce[f"{m}_per_10k_high"],
                                  strict=True)]
    if "satisfied_per_10k" in ce.columns:
        out["satisfied residents per 10k"] = ce["satisfied_per_10k"]
    if "benefit_per_yuan" in ce.columns:
        out["surplus gain/yr (yuan)"] = ce["surplus_gain_per_year"]
        out["welfare per yuan"] = ce["benefit_per_yuan"]
        out["welfare per yuan CI"] = [
            "–" if math.isnan(lo) else f"[{lo:.2f}, {hi:.2f}]"
            for lo, hi in zip(ce["benefit_per_yuan_low"], ce["benefit_per_yuan_high"],
                              strict=True)]
    return out


# ------------------------------------------------------------------------------ figures
