"""Comparison report for policy teams: ``report.md`` and ``report.html`` with PNG figures.

``lifecircle compare RESULTS`` reads an experiment's results folder (verified: invalid or
foreign run files are reported and left out), compares every scenario with the baseline and
writes the report into the results folder, or into ``--out`` (a folder of its own, with the
lifecircle marker). The report is a list of blocks (:mod:`experiments.report_doc`) built
section by section below; its tables come from :mod:`experiments.report_tables`, its
figures from :mod:`experiments.report_figures`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.costs import cost_effectiveness
from experiments.lock import FolderLock
from experiments.outputs import claim_output_dir, read_marker
from experiments.plan import REFERENCE_POINT
from experiments.report_brief import effective_shares, in_brief, threshold_lines
from experiments.report_design import morris, sobol, surfaces
from experiments.report_doc import Block, Doc
from experiments.report_figures import (
    fig_cost,
    fig_coverage,
    fig_forest,
    fig_subgroups,
    fig_timeseries,
)
from experiments.report_grades import add_grades_section
from experiments.report_tables import (
    add_separation_warnings,
    at_a_glance,
    display_ce,
    display_diffs,
    subgroup_levels,
)
from experiments.stats import paired_differences
from experiments.store import ResultStore, atomic_write_bytes
from experiments.tables import assemble
from model.errors import ResultsError
from model.outcomes import LEAD_METRICS, SERIES_METRICS, SUBGROUPS

WRITER = "lifecircle compare"
REPORT_PATTERNS = ("report.md", "report.html", "fig_*.png", ".*.tmp")
"""Files a comparison writes (into the results folder or its own ``--out`` folder)."""

_DIMENSION = {"old": ("community type", "old"), "new": ("community type", "new"),
              "elderly": ("group", "elderly"), "nonelderly": ("group", "others")}
SUBGROUP_METRICS = tuple((f"{base}_{g}", *_DIMENSION.get(g, ("group", g)))
                         for base in LEAD_METRICS
                         for g in SUBGROUPS)
"""(metric, dimension, subgroup) of every subgroup metric the report breaks down."""
CI_LEVEL = 0.95
N_BOOT = 10_000


@dataclass
class _Inputs:
    """What every section reads."""

    root: Path
    out: Path
    manifest: dict[str, Any]
    definition: dict[str, Any]
    runs: pd.DataFrame
    daily: pd.DataFrame
    summary: pd.DataFrame
    points: pd.DataFrame
    baseline: str
    scenarios: list[str]
    others: list[str]
    metrics: list[str]
    factors: list[dict[str, Any]]
    method: str
    seed: int
    test: str


def write_report(results_dir: str | Path, baseline: str | None = None, *, test: str = "t",
                 out: str | Path | None = None, force: bool = False,
                 log: Any = None) -> Path:
    """Write ``report.md``, ``report.html`` and figures for a results folder.

    Args:
        results_dir: Folder written by an experiment batch.
        baseline: Scenario to compare with (default: the experiment's baseline).
        test: ``"t"`` (paired t-test) or ``"permutation"`` (sign-flip) for p-values.
        out: Folder for the report (default: the results folder itself).
        force: Replace an earlier report folder ``out`` (only one lifecircle wrote).
        log: Called with warnings (invalid or foreign run files).

    Returns:
        Path of ``report.md``.

    Raises:
        ResultsError: Not a lifecircle results folder, locked by a running batch, no
            finished run, or an unknown baseline.
        OutputError: ``out`` is refused.
    """
    root = Path(results_dir)
    if not root.is_dir() or read_marker(root) is None:
        raise ResultsError(root, "", "not a lifecircle results folder (no marker); give the "
                           "folder `lifecircle experiment` wrote")
    store = ResultStore(root)
    if store.read_manifest() is None:
        raise ResultsError(root, "manifest.json", "missing: not an experiment results folder")
    if out is not None and Path(out).resolve() == root.resolve():
        out = None
    with FolderLock(root, WRITER):
        manifest = store.read_manifest() or {}
        tables = assemble(store, manifest, log)
        target = root if out is None else claim_output_dir(out, force, WRITER, REPORT_PATTERNS)
        inputs = _inputs(root, target, manifest, tables, baseline, test)
        doc = _build(inputs)
        md_path = target / "report.md"
        atomic_write_bytes(md_path, doc.markdown().encode("utf-8"))
        name = manifest.get("experiment", root.name)
        atomic_write_bytes(target / "report.html",
                           doc.html(f"lifecircle report: {name}").encode("utf-8"))
    import matplotlib.pyplot as plt

    plt.close("all")
    return md_path


def _inputs(root: Path, out: Path, manifest: dict[str, Any], tables: dict[str, pd.DataFrame],
            baseline: str | None, test: str) -> _Inputs:
    d = manifest.get("definition") if isinstance(manifest.get("definition"), dict) else {}
    summary = tables["summary"]
    if summary.empty:
        raise ResultsError(root, "", "no finished run to compare")
    done = set(summary["scenario"])
    baseline = baseline or d.get("baseline")
    if baseline not in done:
        raise ResultsError(root, "--baseline", f"{baseline!r} has no finished run; scenarios: "
                           f"{', '.join(sorted(done))}")
    scenarios = [s[0] if isinstance(s, list) else str(s) for s in d.get("scenarios", [])]
    return _Inputs(
        root=root, out=out, manifest=manifest, definition=d, runs=tables["runs"],
        daily=tables["daily"], summary=summary, points=tables["points"], baseline=baseline,
        scenarios=scenarios, others=[s for s in scenarios if s != baseline and s in done],
        metrics=[m for m in d.get("metrics", []) if m in summary.columns],
        factors=list(d.get("factors") or []), method=str(d.get("method", "none")),
        seed=int(d.get("root_seed", 0)), test=test)


def _build(x: _Inputs) -> Doc:
    doc = Doc()
    _header(doc, x)
    glance_at = len(doc.blocks)
    screening = x.method in ("morris", "sobol")
    summary = x.summary
    if screening:
        # sampled points span the uncertainty space: compare scenarios averaged over them
        # (every scenario ran at the same points with the same seeds)
        summary = (summary[summary["point"] >= 0]
                   .groupby(["scenario", "replicate"], as_index=False)
                   .mean(numeric_only=True).assign(point=0))
    multi_point = bool(x.factors) and not screening
    diffs = _differences(doc, x, summary, multi_point, screening)
    sub = _subgroups(doc, x, summary, multi_point)
    lines = _lines(doc, x, summary) if not screening else pd.DataFrame()
    ce = _each_reference(x, summary, lambda part, ref, scens: cost_effectiveness(
        part, ref, seed=x.seed + 2))
    glance = at_a_glance(diffs, ce, x.metrics, x.points if multi_point else None)
    top: list[Block] = []
    if not multi_point and not screening and not diffs.empty:
        top += [Block("h2", "In brief"),
                Block("list", in_brief(pd.concat([diffs, sub]), ce, x.baseline, x.others,
                                       int(x.definition.get("replicates") or 0), lines,
                                       _compare_with(x)))]
    if not glance.empty:
        top += [Block("h2", "At a glance"),
                Block("p", "Difference from the baseline with its 95% interval (pp for shares, "
                           "yuan a resident a day for consumer surplus); **bold** where the "
                           "interval excludes zero. Extra public cost per year, the consumer "
                           "surplus it buys per yuan, and what 10,000 yuan a year buys in "
                           "share satisfied."),
                Block("table", glance)]
    doc.blocks[glance_at:glance_at] = top
    _costs(doc, x, ce, multi_point)
    _series_and_coverage(doc, x, summary)
    add_grades_section(doc, x.out, summary, x.scenarios, x.others, x.baseline, n_boot=N_BOOT,
                       level=CI_LEVEL, test=x.test, seed=x.seed + 3, point_label=multi_point)
    if x.factors and x.method in ("grid", "lhs"):
        surfaces(doc, x.summary, x.points, x.factors, x.metrics, x.out)
    if x.factors and x.method in ("morris", "sobol"):
        (morris if x.method == "morris" else sobol)(doc, x.summary, x.points, x.factors,
                                                    _jobs(x, 3), x.definition, x.out, x.seed)
    failed = x.runs[x.runs["status"] == "failed"]
    if not failed.empty:
        doc.add("h2", "Failed runs")
        doc.add("table", failed[["run_id", "scenario", "point", "replicate", "seed"]].assign(
            error=[(e.strip().splitlines() or [""])[-1] for e in failed["error"]]))
    return doc


def _header(doc: Doc, x: _Inputs) -> None:
    d, m = x.definition, x.manifest
    doc.add("h1", f"Experiment report: {m.get('experiment', x.root.name)}")
    config = m.get("config") if isinstance(m.get("config"), dict) else {}
    if config.get("description"):
        doc.add("p", str(config["description"]))
    counts = x.runs["status"].value_counts().to_dict()
    seeds = m.get("seeds") if isinstance(m.get("seeds"), list) else []
    shown = ", ".join(str(s) for s in seeds[:6]) + (" …" if len(seeds) > 6 else "")
    warmup, days = int(d.get("warmup", 0)), int(d.get("days", 0))
    doc.add("list", [
        f"Scenarios: {', '.join(x.scenarios)}; baseline: **{x.baseline}**",
        f"Replicates: {d.get('replicates')} per scenario and design point (common random "
        f"numbers: every scenario uses the same seeds)",
        f"Seeds: spawned from root seed {d.get('root_seed')} (numpy SeedSequence): {shown}",
        f"Days simulated: {days}; warm-up: {warmup}; days measured: {warmup + 1}–{days} "
        f"({days - warmup} days)",
        f"Runs: {counts.get('ok', 0)} finished, {counts.get('failed', 0)} failed, "
        f"{counts.get('missing', 0)} missing",
        f"Code version: {m.get('code_version')}; config hash: `{m.get('config_hash')}`",
        f"Design: {x.method}" + (f" over {len(x.factors)} factors, "
                                 f"{len(d.get('points', []))} points" if x.factors else ""),
    ])
    doc.add("p", (
        "**Method.** Each run is summarized by the mean of each metric over the measured "
        "days (cumulative public spending by its final value). Scenarios are compared with "
        "the baseline through paired differences over replicates (same seeds). Intervals "
        f"are {int(CI_LEVEL * 100)}% percentile bootstrap intervals ({N_BOOT:,} resamples of "
        "replicates); a difference counts as separated when its interval excludes zero and "
        "its Holm-adjusted p-value is below 0.05; the effect size is Cohen's d_z (mean "
        "difference / SD of differences); "
        + ("p-values come from the two-sided paired t-test" if x.test == "t" else
           "p-values come from a two-sided sign-flip permutation test (exact for n <= 16)")
        + ", adjusted with Holm's method within each table. Shares and coverages are in "
          "percentage points (pp)."))
    if counts.get("failed", 0) or counts.get("missing", 0):
        bad = x.runs[x.runs["status"] != "ok"]
        doc.add("warn", f"{len(bad)} runs did not finish ({', '.join(bad['run_id'][:8])}"
                        f"{' …' if len(bad) > 8 else ''}); comparisons use the replicates that "
                        "finished in both scenarios.")


def _differences(doc: Doc, x: _Inputs, summary: pd.DataFrame, multi_point: bool,
                 screening: bool) -> pd.DataFrame:
    doc.add("h2", "Differences from the baseline")
    if screening:
        doc.add("p", "Each replicate's value is averaged over the sampled design points, so "
                     "the differences are effects averaged over the uncertainty ranges.")
    diffs = _each_reference(x, summary, lambda part, ref, scens: paired_differences(
        part, x.metrics, ref, scenarios=scens, n_boot=N_BOOT, level=CI_LEVEL, test=x.test,
        seed=x.seed))
    for scen, ref in _compare_with(x).items():
        doc.add("p", f"**{scen}** is compared with **{ref}**, not with {x.baseline} "
                     "(`compare_with` in the experiment file): its rows below are differences "
                     f"from {ref}.")
    add_separation_warnings(doc, diffs, summary, x.metrics, x.others, x.baseline, x.seed,
                            x.factors if multi_point else [])
    doc.add("table", display_diffs(diffs, multi_point))
    if not diffs.empty:
        doc.add("fig", fig_forest(x.out, diffs, "fig_differences.png"),
                "Paired differences from the baseline with 95% bootstrap intervals")
    return diffs


def _subgroups(doc: Doc, x: _Inputs, summary: pd.DataFrame, multi_point: bool) -> pd.DataFrame:
    sub_metrics = [m for m, _, _ in SUBGROUP_METRICS if m in summary.columns]
    if not sub_metrics:
        return pd.DataFrame()
    doc.add("h2", "For whom: old / new communities, elderly / others")
    sub = _each_reference(x, summary, lambda part, ref, scens: paired_differences(
        part, sub_metrics, ref, scenarios=scens, n_boot=N_BOOT, level=CI_LEVEL, test=x.test,
        seed=x.seed + 1))
    if not sub.empty:
        lookup = {m: (dim, grp) for m, dim, grp in SUBGROUP_METRICS}
        sub.insert(3, "dimension", [lookup[m][0] for m in sub["metric"]])
        sub.insert(4, "subgroup", [lookup[m][1] for m in sub["metric"]])
        shown = display_diffs(sub, multi_point)
        shown.insert(2, "subgroup", list(sub["subgroup"]))
        doc.add("table", shown)
        doc.add("fig", fig_subgroups(x.out, sub, "fig_subgroups.png"),
                "Differences from the baseline by community type and group")
    levels = subgroup_levels(summary, [s for s in x.scenarios if s in set(summary["scenario"])])
    if not levels.empty:
        doc.add("p", "Levels (post-warm-up means over replicates, %) and gaps:")
        doc.add("table", levels)
    return sub


def _costs(doc: Doc, x: _Inputs, ce: pd.DataFrame, multi_point: bool) -> None:
    if ce.empty:
        return
    doc.add("h2", "Public cost and cost-effectiveness")
    doc.add("p", "Extra cost is public spending per year of the run (warm-up included, so "
                 "one-off set-up costs count), paired with the baseline. 'Welfare per yuan' is "
                 "the benefit-cost ratio: consumer surplus gained by all residents in a year "
                 "(`surplus_yuan_total` x 365) per yuan of extra public spending a year, with "
                 "its 95% bootstrap interval; above 1, residents gain more than the public "
                 "pays. Gains per 10,000 yuan are percentage points gained per 10,000 yuan of "
                 "extra spending a year; 'satisfied per 10k' counts extra satisfied residents. "
                 "Ratios are left blank where a policy costs nothing extra.")
    doc.add("table", display_ce(ce, multi_point))
    fig = fig_cost(x.out, ce, "fig_cost.png")
    if fig:
        doc.add("fig", fig, "Extra public cost vs. gain in share satisfied")
    shares = effective_shares(x.summary, x.scenarios)
    if not shares.empty:
        doc.add("p", "Budgeted rent subsidies pace their share over the budget year so that it "
                     "lasts the year and never exceeds the budget; the share of rent they "
                     "actually paid (`rent_subsidy_share`, mean over the measured days):")
        doc.add("table", shares)


def _lines(doc: Doc, x: _Inputs, summary: pd.DataFrame) -> pd.DataFrame:
    """Whether a change in the share satisfied rests on where the line is drawn."""
    tab = _each_reference(x, summary, lambda part, ref, scens: threshold_lines(
        part, ref, scens, n_boot=N_BOOT, level=CI_LEVEL, test=x.test, seed=x.seed + 3))
    if tab.empty:
        return tab
    config = x.manifest.get("config") if isinstance(x.manifest.get("config"), dict) else {}
    params = ((config.get("scenario_configs") or {}).get(x.baseline) or {}).get("params", {})
    thr, band = params.get("satisfied_threshold"), params.get("satisfied_threshold_band")
    where = (f" (lines at {thr - band:.2f}, {thr:.2f} and {thr + band:.2f} on the 0-1 "
             "satisfaction scale)") if thr is not None and band is not None else ""
    doc.add("h2", "How much rests on the line")
    doc.add("p", "A resident counts as satisfied when its satisfaction is at or above a line"
                 f"{where}. Each scenario's change in the share satisfied at a lower, the "
                 "default and a higher line, and the change in the distribution of "
                 "satisfaction (points on a 0-100 scale), with 95% intervals. 'Rests on the "
                 "line' marks a scenario whose verdict (better, worse, not separated) "
                 "changes with the line: read its share satisfied with care, and its "
                 "consumer surplus first.")
    doc.add("table", tab)
    return tab


def _series_and_coverage(doc: Doc, x: _Inputs, summary: pd.DataFrame) -> None:
    from model import category_names

    warmup = int(x.definition.get("warmup", 0))
    ts = [m for m in SERIES_METRICS if m in x.daily.columns]
    if not x.daily.empty and ts:
        doc.add("h2", "Time series")
        doc.add("fig", fig_timeseries(x.out, x.daily, ts, warmup, "fig_timeseries.png"),
                "Daily means over replicates with 5–95% bands across replicates "
                "(dashed: end of warm-up)")
    cov = [f"coverage_{c}" for c in category_names() if f"coverage_{c}" in summary.columns]
    if not cov:
        return
    doc.add("h2", "Coverage within each category's standard walk")
    base_pts = summary[summary["point"].isin([0, REFERENCE_POINT])]
    tab = base_pts.groupby("scenario")[cov].mean() * 100
    tab = tab.reindex([s for s in x.scenarios if s in tab.index])
    tab.columns = [c.removeprefix("coverage_") for c in tab.columns]
    doc.add("table", tab.reset_index())
    doc.add("fig", fig_coverage(x.out, tab, "fig_coverage.png"),
            "Share of residents (%) who reach each category within its standard walk "
            "(10 minutes for daily basics, 15 for quality formats) at their own speed")


def _compare_with(x: _Inputs) -> dict[str, str]:
    """Scenario -> the scenario it is compared with, where that is not the baseline."""
    table = x.definition.get("compare_with") or {}
    return {s: r for s, r in table.items() if s in x.others}


def _each_reference(x: _Inputs, summary: pd.DataFrame, table: Any) -> pd.DataFrame:
    """A table per reference, concatenated; each row says what it is compared with.

    ``table(summary part, reference, scenarios)`` is made for the baseline and its scenarios
    and for every other reference of ``compare_with`` and the scenarios compared with it.
    """
    groups: dict[str, list[str]] = {}
    refs = _compare_with(x)
    for scen in x.others:
        groups.setdefault(refs.get(scen, x.baseline), []).append(scen)
    parts = []
    for ref, scens in groups.items():
        part = table(summary[summary["scenario"].isin([ref, *scens])], ref, scens)
        if not part.empty:
            parts.append(part.assign(**{"compared with": ref}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _jobs(x: _Inputs, n_metrics: int) -> list[tuple[str, str, str | None]]:
    """(scenario, metric, baseline or None) of the sensitivity analyses to report."""
    done = set(x.summary["scenario"])
    jobs: list[tuple[str, str, str | None]] = [
        (scen, m, None) for scen in x.scenarios if scen in done for m in x.metrics[:n_metrics]]
    jobs += [(scen, x.metrics[0], x.baseline) for scen in x.others if x.metrics]
    return jobs
