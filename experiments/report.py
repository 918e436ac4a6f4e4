"""Comparison report for policy teams: ``report.md`` and ``report.html`` with PNG figures.

The report is built as a list of blocks (headings, paragraphs, warnings, tables, figures)
rendered twice, to Markdown and to a self-contained HTML page; the figures (seaborn, PNG) are
written beside them in the results folder.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from experiments.definition import CATEGORIES, REFERENCE_POINT  # noqa: E402
from experiments.stats import (  # noqa: E402
    cost_effectiveness,
    is_share,
    morris_indices,
    paired_differences,
    pairwise_separation,
    point_means,
)
from experiments.storage import ResultStore  # noqa: E402

SUBGROUP_METRICS = (
    ("share_satisfied_old", "community type", "old"),
    ("share_satisfied_new", "community type", "new"),
    ("coverage_basic_all_old", "community type", "old"),
    ("coverage_basic_all_new", "community type", "new"),
    ("share_satisfied_elderly", "group", "elderly"),
    ("share_satisfied_nonelderly", "group", "others"),
    ("coverage_basic_all_elderly", "group", "elderly"),
    ("coverage_basic_all_nonelderly", "group", "others"),
)
TIME_SERIES = ("share_satisfied", "coverage_basic_all", "unmet_rate", "public_spend")
CI_LEVEL = 0.95
N_BOOT = 10_000


@dataclass
class _Block:
    kind: str  # "h1", "h2", "p", "warn", "table", "fig", "list"
    content: Any
    extra: str = ""


class _Doc:
    def __init__(self) -> None:
        self.blocks: list[_Block] = []

    def add(self, kind: str, content: Any, extra: str = "") -> None:
        self.blocks.append(_Block(kind, content, extra))

    def markdown(self) -> str:
        out: list[str] = []
        for b in self.blocks:
            if b.kind == "h1":
                out.append(f"# {b.content}\n")
            elif b.kind == "h2":
                out.append(f"## {b.content}\n")
            elif b.kind == "h3":
                out.append(f"### {b.content}\n")
            elif b.kind == "p":
                out.append(f"{b.content}\n")
            elif b.kind == "warn":
                out.append(f"> **Warning:** {b.content}\n")
            elif b.kind == "list":
                out.append("\n".join(f"- {x}" for x in b.content) + "\n")
            elif b.kind == "table":
                out.append(_md_table(b.content) + "\n")
            elif b.kind == "fig":
                out.append(f"![{b.extra}]({b.content})\n")
        return "\n".join(out)

    def html(self, title: str) -> str:
        out = [
            "<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
            f"<title>{html.escape(title)}</title>",
            "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;"
            "line-height:1.45;color:#222}table{border-collapse:collapse;margin:1em 0;"
            "font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}"
            "th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}"
            ".warn{background:#fff4e5;border-left:4px solid #f0a030;padding:0.5em 1em}"
            "img{max-width:100%}</style></head><body>",
        ]
        for b in self.blocks:
            if b.kind in ("h1", "h2", "h3"):
                out.append(f"<{b.kind}>{html.escape(str(b.content))}</{b.kind}>")
            elif b.kind == "p":
                out.append(f"<p>{_inline_html(str(b.content))}</p>")
            elif b.kind == "warn":
                out.append(f"<p class='warn'><b>Warning:</b> {_inline_html(str(b.content))}"
                           "</p>")
            elif b.kind == "list":
                items = "".join(f"<li>{_inline_html(str(x))}</li>" for x in b.content)
                out.append(f"<ul>{items}</ul>")
            elif b.kind == "table":
                out.append(_html_table(b.content))
            elif b.kind == "fig":
                out.append(f"<figure><img src='{html.escape(b.content)}' "
                           f"alt='{html.escape(b.extra)}'><figcaption>"
                           f"{html.escape(b.extra)}</figcaption></figure>")
        out.append("</body></html>")
        return "\n".join(out)


def _inline_html(text: str) -> str:
    text = html.escape(text)
    parts = text.split("`")
    for i in range(1, len(parts), 2):
        parts[i] = f"<code>{parts[i]}</code>"
    text = "".join(parts)
    parts = text.split("**")
    for i in range(1, len(parts), 2):
        parts[i] = f"<b>{parts[i]}</b>"
    return "".join(parts)


def _md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "_(no rows)_\n"
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines)


def _html_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "<p><i>(no rows)</i></p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_inline_html(_cell(v, md=False))}</td>" for v in row)
        + "</tr>"
        for row in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(v: Any, md: bool = True) -> str:
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, float | np.floating):
        if math.isnan(v):
            return "–"
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        a = abs(v)
        if a != 0 and (a < 1e-3 or a >= 1e12):
            return f"{v:.3g}"
        return f"{v:.3f}" if a < 100 else f"{v:,.0f}"
    return str(v).replace("|", "\\|") if md else str(v)


def _fmt_p(p: float) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _unit(metric: str) -> str:
    if is_share(metric):
        return "pp"
    if metric == "mean_walk_min":
        return "min"
    if metric.startswith("public"):
        return "yuan"
    return ""


def _display_diffs(df: pd.DataFrame, point_label: bool) -> pd.DataFrame:
    """Shares in percentage points; p-values formatted."""
    rows = []
    for r in df.itertuples(index=False):
        k = 100.0 if is_share(r.metric) else 1.0
        row = {"scenario": r.scenario}
        if point_label:
            row["point"] = "ref" if r.point == REFERENCE_POINT else str(r.point)
        row.update({
            "metric": r.metric, "unit": _unit(r.metric), "n": int(r.n),
            "baseline": r.baseline_mean * k, "scenario mean": r.scenario_mean * k,
            "difference": r.diff * k, "CI low": r.ci_low * k, "CI high": r.ci_high * k,
            "d_z": r.d_z, "p": _fmt_p(r.p_value), "p (Holm)": _fmt_p(r.p_holm),
            "separated": bool(r.separated),
        })
        rows.append(row)
    return pd.DataFrame(rows)


def write_report(results_dir: str | Path, baseline: str | None = None, *,
                 test: str = "t") -> Path:
    """Write ``report.md``, ``report.html`` and figures into a results folder.

    Args:
        results_dir: Folder written by an experiment batch.
        baseline: Scenario to compare with (default: the experiment's baseline).
        test: ``"t"`` (paired t-test) or ``"permutation"`` (sign-flip) for p-values.

    Returns:
        Path of ``report.md``.

    Raises:
        FileNotFoundError: When the folder has no manifest.
        ValueError: When the baseline is unknown or no run finished.

    """
    root = Path(results_dir)
    store = ResultStore(root)
    manifest = store.read_manifest()
    if manifest is None:
        raise FileNotFoundError(f"{root} has no manifest.json: not an experiment results folder")
    tables = store.load_tables(refresh=True)
    runs, daily, summary, points = (tables[k] for k in ("runs", "daily", "summary", "points"))
    d = manifest.get("definition", {})
    baseline = baseline or d.get("baseline")
    scenarios = [s[0] if isinstance(s, list) else s for s in d.get("scenarios", [])]
    if summary.empty:
        raise ValueError(f"{root}: no finished run to compare")
    if baseline not in set(summary["scenario"]):
        raise ValueError(f"baseline {baseline!r} has no finished run in {root}; scenarios: "
                         f"{', '.join(sorted(set(summary['scenario'])))}")
    others = [s for s in scenarios if s != baseline and s in set(summary["scenario"])]
    metrics = [m for m in d.get("metrics", []) if m in summary.columns]
    factors = d.get("factors", [])
    method = d.get("method", "none")
    seed = int(d.get("root_seed", 0))
    share_note = "Shares and coverages are in percentage points (pp)."

    doc = _Doc()
    name = manifest.get("experiment", root.name)
    doc.add("h1", f"Experiment report: {name}")
    desc = manifest.get("config", {}).get("description", "")
    if desc:
        doc.add("p", desc)
    counts = runs["status"].value_counts().to_dict()
    seeds = manifest.get("seeds", [])
    shown = ", ".join(str(s) for s in seeds[:6]) + (" …" if len(seeds) > 6 else "")
    warmup, days = int(d.get("warmup", 0)), int(d.get("days", 0))
    doc.add("list", [
        f"Scenarios: {', '.join(scenarios)}; baseline: **{baseline}**",
        f"Replicates: {d.get('replicates')} per scenario and design point (common random "
        f"numbers: every scenario uses the same seeds)",
        f"Seeds: spawned from root seed {d.get('root_seed')} (numpy SeedSequence): {shown}",
        f"Days simulated: {days}; warm-up: {warmup}; days measured: {warmup + 1}–{days} "
        f"({days - warmup} days)",
        f"Runs: {counts.get('ok', 0)} finished, {counts.get('failed', 0)} failed, "
        f"{counts.get('missing', 0)} missing",
        f"Code version: {manifest.get('code_version')}; config hash: "
        f"`{manifest.get('config_hash')}`",
        f"Design: {method}" + (f" over {len(factors)} factors, {len(d.get('points', []))} "
                               "points" if factors else ""),
    ])
    doc.add("p", (
        "**Method.** Each run is summarized by the mean of each metric over the measured "
        "days (cumulative public spending by its final value). Scenarios are compared with "
        "the baseline through paired differences over replicates (same seeds). Intervals "
        f"are {int(CI_LEVEL * 100)}% percentile bootstrap intervals ({N_BOOT:,} resamples of "
        "replicates); a difference counts as separated when its interval excludes zero and "
        "its Holm-adjusted p-value is below 0.05; the effect size is Cohen's d_z (mean "
        "difference / SD of differences); "
        + ("p-values come from the two-sided paired t-test" if test == "t" else
           "p-values come from a two-sided sign-flip permutation test (exact for n <= 16)")
        + ", adjusted with Holm's method within each table. " + share_note))

    glance_at = len(doc.blocks)
    if counts.get("failed", 0) or counts.get("missing", 0):
        bad = runs[runs["status"] != "ok"]
        doc.add("warn", f"{len(bad)} runs did not finish ({', '.join(bad['run_id'][:8])}"
                        f"{' …' if len(bad) > 8 else ''}); comparisons use the replicates that "
                        "finished in both scenarios.")

    # ---------------------------------------------------------------- main comparison
    doc.add("h2", "Differences from the baseline")
    full_summary = summary
    multi_point = bool(factors)
    if method == "morris":
        # screening points are samples of the uncertainty space: compare scenarios averaged
        # over them (both scenarios ran at the same points with the same seeds)
        summary = (summary[summary["point"] >= 0]
                   .groupby(["scenario", "replicate"], as_index=False)
                   .mean(numeric_only=True).assign(point=0))
        multi_point = False
        doc.add("p", "Each replicate's value is averaged over the screening points, so the "
                     "differences are effects averaged over the uncertainty ranges.")
    diffs = paired_differences(summary, metrics, baseline, scenarios=others,
                               n_boot=N_BOOT, level=CI_LEVEL, test=test, seed=seed)
    _add_separation_warnings(doc, diffs, summary, metrics, others, baseline, seed,
                             factors if multi_point else [])
    doc.add("table", _display_diffs(diffs, multi_point))
    if not diffs.empty:
        doc.add("fig", _fig_forest(root, diffs, "fig_differences.png"),
                "Paired differences from the baseline with 95% bootstrap intervals")

    # ---------------------------------------------------------------- subgroups
    sub_metrics = [m for m, _, _ in SUBGROUP_METRICS if m in summary.columns]
    if sub_metrics:
        doc.add("h2", "For whom: old / new communities, elderly / others")
        sub = paired_differences(summary, sub_metrics, baseline, scenarios=others,
                                 n_boot=N_BOOT, level=CI_LEVEL, test=test, seed=seed + 1)
        if not sub.empty:
            lookup = {m: (dim, grp) for m, dim, grp in SUBGROUP_METRICS}
            sub.insert(3, "dimension", [lookup[m][0] for m in sub["metric"]])
            sub.insert(4, "subgroup", [lookup[m][1] for m in sub["metric"]])
            shown_sub = _display_diffs(sub, multi_point)
            shown_sub.insert(2, "subgroup", list(sub["subgroup"]))
            doc.add("table", shown_sub)
            doc.add("fig", _fig_subgroups(root, sub, "fig_subgroups.png"),
                    "Differences from the baseline by community type and group")
        levels = _subgroup_levels(summary, [s for s in scenarios
                                            if s in set(summary["scenario"])])
        if not levels.empty:
            doc.add("p", "Levels (post-warm-up means over replicates, %) and gaps:")
            doc.add("table", levels)

    # ---------------------------------------------------------------- cost
    ce = cost_effectiveness(summary, baseline, seed=seed + 2)
    glance = _at_a_glance(diffs, ce, metrics, points if multi_point else None)
    if not glance.empty:
        doc.blocks[glance_at:glance_at] = [
            _Block("h2", "At a glance"),
            _Block("p", "Difference from the baseline with its 95% interval (pp for shares); "
                        "**bold** where the interval excludes zero. Extra public cost per "
                        "year and what 10,000 yuan a year of it buys in share satisfied."),
            _Block("table", glance)]
    if not ce.empty:
        doc.add("h2", "Public cost and cost-effectiveness")
        doc.add("p", "Extra cost is public spending per year of the run (warm-up included, "
                     "so one-off set-up costs count), paired with the baseline. Gains per "
                     "10,000 yuan are percentage points gained per 10,000 yuan of extra "
                     "spending a year (95% bootstrap interval); "
                     "'satisfied per 10k' counts extra satisfied residents. Ratios are left "
                     "blank where a policy costs nothing extra.")
        doc.add("table", _display_ce(ce, multi_point))
        fig = _fig_cost(root, ce, "fig_cost.png")
        if fig:
            doc.add("fig", fig, "Extra public cost vs. gain in share satisfied")

    # ---------------------------------------------------------------- time series
    if not daily.empty:
        doc.add("h2", "Time series")
        ts = [m for m in TIME_SERIES if m in daily.columns]
        doc.add("fig", _fig_timeseries(root, daily, ts, warmup, "fig_timeseries.png"),
                "Daily means over replicates with 5–95% bands across replicates "
                "(dashed: end of warm-up)")

    # ---------------------------------------------------------------- coverage per category
    cov = [f"coverage_{c}" for c in CATEGORIES if f"coverage_{c}" in summary.columns]
    if cov:
        doc.add("h2", "15-minute coverage per category")
        base_pts = summary[summary["point"].isin([0, REFERENCE_POINT])]
        tab = base_pts.groupby("scenario")[cov].mean() * 100
        tab = tab.reindex([s for s in scenarios if s in tab.index])
        tab.columns = [c.removeprefix("coverage_") for c in tab.columns]
        doc.add("table", tab.reset_index())
        doc.add("fig", _fig_coverage(root, tab, "fig_coverage.png"),
                "Share of residents (%) with each category within their own 15-minute walk")

    # ---------------------------------------------------------------- sweep
    summary = full_summary
    if factors and method in ("grid", "lhs"):
        doc.add("h2", "Response surfaces")
        pm = point_means(summary[summary["point"] >= 0], points, metrics)
        doc.add("p", "Mean over replicates at each design point. Levers: "
                + (", ".join(f["name"] for f in factors if f["role"] == "lever") or "none")
                + "; uncertainties: "
                + (", ".join(f["name"] for f in factors if f["role"] == "uncertainty")
                   or "none") + ".")
        for m in metrics[:4]:
            fig = _fig_surface(root, pm, factors, m, f"fig_surface_{m}.png")
            if fig:
                doc.add("fig", fig, f"Response of {m} to the swept factors")
        show = pm[["scenario", "point", *[f["name"] for f in factors],
                   *[m for m in metrics[:4]]]]
        doc.add("table", show)

    # ---------------------------------------------------------------- morris
    if factors and method == "morris":
        doc.add("h2", "Sensitivity screening (Morris elementary effects)")
        doc.add("p", "mu* (mean absolute elementary effect) ranks how much each factor moves "
                     "the output; sigma shows non-linearity or interactions. Outputs are means "
                     "over replicates at each trajectory point.")
        levels_n = int(d.get("design", {}).get("levels", 4))
        figs_done = 0
        jobs = [(scen, m, None) for scen in scenarios
                if scen in set(full_summary["scenario"]) for m in metrics[:3]]
        jobs += [(scen, metrics[0], baseline) for scen in others if metrics]
        for scen, m, base in jobs:
            try:
                mi = morris_indices(full_summary, points, factors, m, scen, levels=levels_n,
                                    baseline=base, seed=seed)
            except ValueError as exc:
                doc.add("warn", f"{scen} / {m}: {exc}")
                continue
            title = f"{scen}: {m}" if base is None else f"effect of {scen} vs {base}: {m}"
            doc.add("h3", title)
            doc.add("table", mi)
            if figs_done < 8:
                tag = f"{scen}_{m}" + ("" if base is None else "_effect")
                doc.add("fig", _fig_morris(root, mi, f"fig_morris_{tag}.png"),
                        f"Morris mu* vs sigma: {title}")
                figs_done += 1

    failed = runs[runs["status"] == "failed"]
    if not failed.empty:
        doc.add("h2", "Failed runs")
        doc.add("table", failed[["run_id", "scenario", "point", "replicate", "seed"]].assign(
            error=[(e.strip().splitlines() or [""])[-1] for e in failed["error"]]))

    md_path = root / "report.md"
    md_path.write_text(doc.markdown(), encoding="utf-8")
    (root / "report.html").write_text(doc.html(f"lifecircle report: {name}"), encoding="utf-8")
    plt.close("all")
    return md_path


def _add_separation_warnings(doc: _Doc, diffs: pd.DataFrame, summary: pd.DataFrame,
                             metrics: Sequence[str], others: Sequence[str], baseline: str,
                             seed: int, factors: Sequence[Any]) -> None:
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


def _at_a_glance(diffs: pd.DataFrame, ce: pd.DataFrame, metrics: Sequence[str],
                 points: pd.DataFrame | None = None) -> pd.DataFrame:
    if diffs.empty:
        return pd.DataFrame()
    keys = [m for m in ("share_satisfied", "coverage_basic_all") if m in set(diffs["metric"])]
    keys = keys or list(metrics[:2])
    factor_cols = [c for c in points.columns if c != "point"] if points is not None else []
    by_point = points.set_index("point") if factor_cols else None
    rows = []
    for (scen, point), g in diffs.groupby(["scenario", "point"], sort=False):
        row: dict[str, Any] = {"scenario": scen}
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
                if "share_satisfied_per_10k" in c.columns:
                    row["satisfied pp per 10k yuan/yr"] = float(
                        c["share_satisfied_per_10k"].iloc[0])
        rows.append(row)
    return pd.DataFrame(rows)


def _subgroup_levels(summary: pd.DataFrame, scenarios: Sequence[str]) -> pd.DataFrame:
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


def _display_ce(ce: pd.DataFrame, point_label: bool) -> pd.DataFrame:
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
    return out


# ------------------------------------------------------------------------------ figures


def _save(fig: plt.Figure, root: Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(root / name, dpi=110)
    plt.close(fig)
    return name


def _fig_forest(root: Path, diffs: pd.DataFrame, name: str) -> str:
    sns.set_theme(style="whitegrid")
    df = diffs.copy()
    k = np.where([is_share(m) for m in df["metric"]], 100.0, 1.0)
    df["diff_s"], df["lo_s"], df["hi_s"] = df["diff"] * k, df["ci_low"] * k, df["ci_high"] * k
    multi = df["point"].nunique() > 1
    df["label"] = [f"{s} @{'ref' if p == REFERENCE_POINT else p}" if multi else s
                   for s, p in zip(df["scenario"], df["point"], strict=True)]
    metrics = list(dict.fromkeys(df["metric"]))
    ncol = min(3, len(metrics))
    nrow = math.ceil(len(metrics) / ncol)
    labels = list(dict.fromkeys(df["label"]))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 0.35 * len(labels) * nrow + 1.8),
                             squeeze=False)
    palette = sns.color_palette("deep", 2)
    for ax, m in zip(axes.flat, metrics, strict=False):
        g = df[df["metric"] == m].set_index("label").reindex(labels).dropna(subset=["diff_s"])
        y = np.arange(len(g))
        colors = [palette[1] if s else palette[0] for s in g["separated"].astype(bool)]
        ax.errorbar(g["diff_s"], y, xerr=[g["diff_s"] - g["lo_s"], g["hi_s"] - g["diff_s"]],
                    fmt="none", ecolor="gray", capsize=3)
        ax.scatter(g["diff_s"], y, c=colors, zorder=3)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(y, g.index)
        ax.set_title(m, fontsize=9)
        ax.set_xlabel(f"difference from baseline ({_unit(m) or 'units'})", fontsize=8)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    return _save(fig, root, name)


def _fig_subgroups(root: Path, sub: pd.DataFrame, name: str) -> str:
    sns.set_theme(style="whitegrid")
    df = sub[sub["point"].isin([0, REFERENCE_POINT])].copy()
    if df.empty:
        df = sub.copy()
    df["difference (pp)"] = df["diff"] * 100
    df["measure"] = ["satisfied" if m.startswith("share") else "basic circle"
                     for m in df["metric"]]
    g = sns.catplot(data=df, kind="bar", x="difference (pp)", y="scenario", hue="subgroup",
                    col="measure", row="dimension", height=max(2.2, 0.45 * df["scenario"]
                                                              .nunique() + 1), aspect=1.8,
                    errorbar=None, sharex=False)
    g.set_titles("{row_name}: {col_name}")
    g.refline(x=0, color="black", lw=0.8)
    g.savefig(root / name, dpi=110)
    plt.close(g.figure)
    return name


def _fig_cost(root: Path, ce: pd.DataFrame, name: str) -> str | None:
    if "share_satisfied_diff" not in ce.columns:
        return None
    sns.set_theme(style="whitegrid")
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    sns.scatterplot(data=ce, x="extra_cost_per_year", y="share_satisfied_diff", hue="scenario",
                    ax=ax, s=70, legend=len(ce) <= 12)
    for r in ce.itertuples():
        if r.point in (0, REFERENCE_POINT):
            ax.annotate(r.scenario, (r.extra_cost_per_year, r.share_satisfied_diff),
                        fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("extra public cost per year (yuan)")
    ax.set_ylabel("gain in share satisfied (pp)")
    if ax.get_legend():
        ax.legend(fontsize=7)
    return _save(fig, root, name)


def _fig_timeseries(root: Path, daily: pd.DataFrame, metrics: Sequence[str], warmup: int,
                    name: str) -> str:
    sns.set_theme(style="whitegrid")
    df = daily[daily["point"].isin([0, REFERENCE_POINT])]
    if df.empty:
        df = daily[daily["point"] == daily["point"].min()]
    n_days = int(df["day"].max())
    if n_days > 400:  # thin long series for drawing
        df = df[df["day"] % math.ceil(n_days / 400) == 0]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.3 * len(metrics), 3.6), squeeze=False)
    for i, (ax, m) in enumerate(zip(axes.flat, metrics, strict=True)):
        g = df.groupby(["scenario", "day"])[m]
        stat = pd.DataFrame({"mean": g.mean(), "lo": g.quantile(0.05), "hi": g.quantile(0.95)})
        stat = stat.reset_index()
        palette = sns.color_palette("tab10", stat["scenario"].nunique())
        for color, (scen, s) in zip(palette, stat.groupby("scenario", sort=False), strict=True):
            ax.plot(s["day"], s["mean"], color=color, lw=1.2, label=scen)
            ax.fill_between(s["day"], s["lo"], s["hi"], color=color, alpha=0.15)
        if warmup:
            ax.axvline(warmup, color="gray", ls="--", lw=0.8)
        ax.set_title(m, fontsize=9)
        ax.set_xlabel("day")
        if i == 0:
            handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), fontsize=7,
               frameon=False)
    fig.tight_layout(rect=(0, 0.06 + 0.04 * (len(labels) // 6), 1, 1))
    fig.savefig(root / name, dpi=110)
    plt.close(fig)
    return name


def _fig_coverage(root: Path, tab: pd.DataFrame, name: str) -> str:
    sns.set_theme(style="white")
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * tab.shape[1], 1.2 + 0.4 * tab.shape[0]))
    sns.heatmap(tab, annot=True, fmt=".0f", cmap="viridis", vmin=0, vmax=100, ax=ax,
                cbar_kws={"label": "% of residents"})
    ax.set_ylabel("")
    return _save(fig, root, name)


def _fig_surface(root: Path, pm: pd.DataFrame, factors: Sequence[dict], metric: str,
                 name: str) -> str | None:
    if metric not in pm.columns:
        return None
    sns.set_theme(style="whitegrid")
    names = [f["name"] for f in factors]
    scen = list(dict.fromkeys(pm["scenario"]))
    fig, axes = plt.subplots(1, len(scen), figsize=(4.6 * len(scen), 3.8), squeeze=False)
    for ax, s in zip(axes.flat, scen, strict=True):
        g = pm[pm["scenario"] == s]
        if len(names) == 1 or g[names[1]].nunique() <= 1:
            g = g.sort_values(names[0])
            ax.errorbar(g[names[0]], g[metric], yerr=1.96 * g.get(f"{metric}_sem", 0),
                        marker="o", capsize=3)
            ax.set_xlabel(names[0])
            ax.set_ylabel(metric)
        elif g[names[0]].nunique() * g[names[1]].nunique() == len(g):
            piv = g.pivot_table(index=names[1], columns=names[0], values=metric)
            sns.heatmap(piv.sort_index(ascending=False), annot=True, fmt=".3g", cmap="viridis",
                        ax=ax, cbar_kws={"label": metric})
        else:
            sc = ax.scatter(g[names[0]], g[names[1]], c=g[metric], cmap="viridis", s=60)
            fig.colorbar(sc, ax=ax, label=metric)
            ax.set_xlabel(names[0])
            ax.set_ylabel(names[1])
        ax.set_title(s, fontsize=9)
    return _save(fig, root, name)


def _fig_morris(root: Path, mi: pd.DataFrame, name: str) -> str:
    sns.set_theme(style="whitegrid")
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    sns.scatterplot(data=mi, x="mu_star", y="sigma", hue="role", ax=ax, s=70)
    for r in mi.itertuples():
        ax.annotate(r.factor, (r.mu_star, r.sigma), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    ax.set_xlabel("mu* (mean |elementary effect|)")
    ax.set_ylabel("sigma")
    return _save(fig, root, name)
