"""The report's words: a plain-language summary written from its own numbers, and the lines.

Policy teams read the top of a report and act on it, so the summary is generated from the
same tables the report shows (never typed in): which scenario buys the most welfare and the
most satisfaction per yuan, for whom, what cannot be told apart from the baseline, and the
caveats that apply to these numbers. :func:`threshold_lines` shows whether a difference in the
share satisfied rests on where the line is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from experiments.stats import paired_differences
from model.outcomes import LEAD_METRICS, describe_metric

LINES = (("share_satisfied_low_line", "lower line"), ("share_satisfied", "default line"),
         ("share_satisfied_high_line", "higher line"))
DISTRIBUTION = (("satisfaction_p10", "10th percentile"), ("satisfaction_p50", "median"),
                ("satisfaction_p90", "90th percentile"))


def _fmt_interval(diff: float, lo: float, hi: float, k: float, digits: int = 1) -> str:
    return f"{diff * k:+.{digits}f} [{lo * k:+.{digits}f}, {hi * k:+.{digits}f}]"


def _sep(diffs: pd.DataFrame, scen: str, metric: str) -> pd.Series | None:
    rows = diffs[(diffs["scenario"] == scen) & (diffs["metric"] == metric)]
    return None if rows.empty else rows.iloc[0]


def in_brief(diffs: pd.DataFrame, ce: pd.DataFrame, baseline: str, scenarios: Sequence[str],
             n_replicates: int, lines: pd.DataFrame,
             compare_with: dict[str, str] | None = None) -> list[str]:
    """Bullet points for people, each sentence built from the report's own numbers.

    Args:
        diffs: Paired differences (``experiments.stats.paired_differences``).
        ce: Cost-effectiveness per scenario (``experiments.costs.cost_effectiveness``).
        baseline: The comparison scenario.
        scenarios: The other scenarios, in report order.
        n_replicates: Replicates per scenario.
        lines: The threshold lines table (:func:`threshold_lines`), for the caveat.
        compare_with: Scenarios compared with another scenario than the baseline.
    """
    out: list[str] = []
    refs = compare_with or {}

    def named(scen: str) -> str:
        return f"{scen} (against {refs[scen]})" if scen in refs else scen

    ce = ce[ce["point"] <= 0] if not ce.empty else ce
    if not ce.empty and "benefit_per_yuan" in ce.columns:
        paid = ce[ce["extra_cost_per_year"] > 0].dropna(subset=["benefit_per_yuan"])
        if not paid.empty:
            best = paid.sort_values("benefit_per_yuan", ascending=False).iloc[0]
            lo, hi = best["benefit_per_yuan_low"], best["benefit_per_yuan_high"]
            ci = "" if math.isnan(lo) else f" (95% interval {lo:.2f}–{hi:.2f})"
            out.append(
                f"**Most welfare per yuan: {named(best['scenario'])}.** Each yuan of extra public "
                f"money a year buys residents {best['benefit_per_yuan']:.2f} yuan of consumer "
                f"surplus{ci}; it costs {best['extra_cost_per_year']:,.0f} yuan a year more than "
                f"{refs.get(best['scenario'], baseline)}.")
            below = paid[paid["benefit_per_yuan_high"] < 1]
            if not below.empty:
                out.append("Returning less welfare than they cost (whole interval below 1 yuan per "
                           "yuan): " + ", ".join(named(s) for s in below["scenario"]) + ".")
        if "share_satisfied_per_10k" in paid.columns and not paid.empty:
            sat = paid.dropna(subset=["share_satisfied_per_10k"])
            if not sat.empty:
                top = sat.sort_values("share_satisfied_per_10k", ascending=False).iloc[0]
                out.append(f"**Most residents satisfied per yuan: {named(top['scenario'])}**, "
                           f"{top['share_satisfied_per_10k']:.3f} percentage points per 10,000 "
                           "yuan a year.")
    for metric, who in (("surplus_yuan_elderly", "residents aged 60+"),
                        ("surplus_yuan_new", "residents of new communities"),
                        ("surplus_yuan_old", "residents of old communities")):
        rows = diffs[(diffs["metric"] == metric) & diffs["separated"]]
        if not rows.empty:
            r = rows.sort_values("diff", ascending=False).iloc[0]
            out.append(f"For {who} the largest welfare gain comes with {named(r['scenario'])}: "
                       f"{r['diff']:+.2f} yuan a resident a day "
                       f"[{r['ci_low']:+.2f}, {r['ci_high']:+.2f}].")
    headline = [m for m in LEAD_METRICS if m in set(diffs["metric"])]
    if headline:
        flat = [s for s in scenarios
                if all((r := _sep(diffs, s, m)) is None or not r["separated"] for m in headline)]
        if flat:
            words = ", ".join(describe_metric(m)[0] for m in headline)
            out.append(f"**Cannot be told apart from what they are compared with** (the "
                       f"{baseline} unless noted) on {words}, with {n_replicates} replicates: "
                       f"{', '.join(named(s) for s in flat)}.")
        worse = [s for s in scenarios if (r := _sep(diffs, s, "surplus_yuan")) is not None
                 and r["separated"] and r["diff"] < 0]
        if worse:
            out.append("Residents are worse off (lower consumer surplus, interval below zero) "
                       f"with: {', '.join(named(s) for s in worse)}.")
    caveats = [
        f"The baseline is a living circle before the pilot work; differences are averages over "
        f"{n_replicates} paired replicates (same seeds) of one generated city, not forecasts "
        "for a real one.",
        "Consumer surplus is the model's welfare measure (the expected benefit of each need's "
        "choice, in yuan); its gains, not its levels, carry meaning.",
    ]
    if not lines.empty and "rests on the line" in lines.columns:
        fragile = lines.loc[lines["rests on the line"] == "yes", "scenario"].tolist()
        if fragile:
            caveats.append("The change in the share satisfied depends on where the line is "
                           f"drawn for: {', '.join(fragile)} (see 'How much rests on the line').")
    if n_replicates < 10:
        caveats.append(f"Only {n_replicates} replicates: intervals are indicative.")
    out.append("**Caveats.** " + " ".join(caveats))
    return out


def threshold_lines(summary: pd.DataFrame, baseline: str, scenarios: Sequence[str], *,
                    n_boot: int, level: float, test: str, seed: int) -> pd.DataFrame:
    """Each scenario's change in the share satisfied at three lines and in the distribution.

    A row per scenario: the paired difference (pp, with its interval) at the lower, default
    and higher satisfaction lines, and of satisfaction's 10th, 50th and 90th percentiles
    (points of the 0-100 scale); "rests on the line" says "yes" when the three lines disagree
    on whether the scenario is better, worse or not separated.
    """
    metrics = [m for m, _ in (*LINES, *DISTRIBUTION) if m in summary.columns]
    if not metrics or not scenarios:
        return pd.DataFrame()
    pointed = summary[summary["point"] <= 0]
    d = paired_differences(pointed, metrics, baseline, scenarios=list(scenarios), n_boot=n_boot,
                           level=level, test=test, seed=seed)
    if d.empty:
        return pd.DataFrame()
    rows = []
    for scen in scenarios:
        g = d[d["scenario"] == scen]
        if g.empty:
            continue
        row: dict[str, str] = {"scenario": scen}
        verdicts = set()
        for metric, label in (*LINES, *DISTRIBUTION):
            r = g[g["metric"] == metric]
            if r.empty:
                continue
            r = r.iloc[0]
            row[label] = _fmt_interval(r["diff"], r["ci_low"], r["ci_high"], 100.0)
            if metric in dict(LINES):
                verdicts.add(0 if not r["separated"] else (1 if r["diff"] > 0 else -1))
        row["rests on the line"] = "yes" if len(verdicts) > 1 else "no"
        rows.append(row)
    return pd.DataFrame(rows)


def effective_shares(summary: pd.DataFrame, scenarios: Sequence[str]) -> pd.DataFrame:
    """Mean effective share of rent paid by rent subsidies (after budget pacing), per scenario."""
    if "rent_subsidy_share" not in summary.columns:
        return pd.DataFrame()
    pointed = summary[summary["point"] <= 0]
    rows = []
    for scen in scenarios:
        v = pointed.loc[pointed["scenario"] == scen, "rent_subsidy_share"].dropna()
        if len(v):
            rows.append({"scenario": scen, "effective share of rent paid (%)": 100 * v.mean(),
                         "lowest replicate (%)": 100 * v.min(),
                         "highest replicate (%)": 100 * v.max()})
    return pd.DataFrame(rows)
