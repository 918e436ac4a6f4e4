"""docs/VALIDATION.md: the validation report, written from the analyses' results.

One function per section (summary, how to reproduce, patterns, calibration, Morris, Sobol,
policy ranking, limits), each returning its Markdown lines from :class:`ReportInputs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from experiments.store import atomic_write_bytes
from validation.patterns import PATTERNS, fmt
from validation.report_analyses import (
    ReportInputs,
    calibration_section,
    morris_section,
    robustness_section,
    sobol_section,
)


def write_report(r: ReportInputs, doc: Path) -> None:
    """Write the report to ``doc`` (atomically)."""
    lines: list[str] = []
    for section in (_summary, _reproduce, _patterns, calibration_section, morris_section,
                    sobol_section, robustness_section, _limits):
        lines += section(r)
    doc.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(doc, "\n".join(lines).encode("utf-8"))


def _ci_text(ci: dict[str, float], metric: str = "") -> str:
    return (f"{fmt(ci['mean'], metric)} [{fmt(ci['lo'], metric)}, {fmt(ci['hi'], metric)}]")


def _pp(ci: dict[str, float]) -> str:
    return (f"{100 * ci['mean']:+.1f} pp [{100 * ci['lo']:+.1f}, {100 * ci['hi']:+.1f}]")


def _pattern_section(val: dict[str, Any], title: str) -> list[str]:
    L = ["| pattern | scenario | source figure | band | day | model: mean [95% CI of mean] | "
         "seed range | verdict |", "|---|---|---|---|---|---|---|---|"]
    for r in val["rows"]:
        lo, hi = r["band"]
        L.append(f"| {r['pattern']} | {r['scenario']} | {r['source']} | {fmt(lo, r['metric'])}-"
                 f"{fmt(hi, r['metric'])} | {r['day']} | {_ci_text(r, r['metric'])} | "
                 f"{fmt(r['min'], r['metric'])}-{fmt(r['max'], r['metric'])} | "
                 f"**{r['verdict']}** |")
    no = val["new_old"]
    ri = val["rise"]
    el = val["elderly"]
    base = val["scenarios"][0]
    v1 = "inside" if no["diff"]["hi"] < 0 else "outside"
    v2 = "inside" if ri["diff"]["lo"] > 0 else "outside"
    v3 = "inside" if el["diff"]["hi"] < 0 else "outside"
    v4 = "inside" if el["surplus"]["diff"]["hi"] < 0 else "outside"
    L.append(f"| New communities' complete basic coverage below old ones' in year one | {base} | "
             f"qualitative (seed: new areas inconvenient) | new - old < 0 | 1-365 (mean) | "
             f"old {_ci_text(no['old'])}, new {_ci_text(no['new'])}; new - old {_pp(no['diff'])}"
             f"; new below old on {100 * ri['days_new_below_old_y1']['mean']:.0f}% of days | "
             f"| **{v1}** |")
    L.append(f"| ... and rising as they fill | {base} | qualitative | last 30 d - first 30 d > 0 "
             f"| 1-30 vs {val['last_day'] - 29}-{val['last_day']} | new: {_ci_text(ri['first30'])}"
             f" -> {_ci_text(ri['last30'])} ({_pp(ri['diff'])}); occupancy "
             f"{fmt(ri['occ_first']['mean'], '')} -> {fmt(ri['occ_last']['mean'], '')} | | "
             f"**{v2}** |")
    L.append(f"| Elderly complete basic coverage below others' | {base} | qualitative (seed; "
             f"slower walking) | elderly - others < 0 | 1-{val['last_day']} (mean)"
             f" | elderly {_ci_text(el['elderly'])}, others {_ci_text(el['nonelderly'])}; "
             f"{_pp(el['diff'])} | | **{v3}** |")
    su = el["surplus"]
    L.append(f"| Elderly consumer surplus below others' | {base} | qualitative (same) | elderly - "
             f"others < 0 | 1-{val['last_day']} (mean) | elderly {su['elderly']['mean']:.2f}, "
             f"others {su['nonelderly']['mean']:.2f} yuan a day; {su['diff']['mean']:+.2f} "
             f"[{su['diff']['lo']:+.2f}, {su['diff']['hi']:+.2f}] | | **{v4}** |")
    w = val["satisfied"]["window"]
    for scen in val["scenarios"]:
        sat = val["satisfied"][scen]
        held = "pilots > 90% (the line is set here)" if scen == "combined" else "-"
        L.append(f"| Share satisfied | {scen} | {held} | - | {w[0]}-{w[1]} (mean) | all "
                 f"{_ci_text(sat['all'])}; elderly {_ci_text(sat['elderly'])}; others "
                 f"{_ci_text(sat['nonelderly'])}; old {_ci_text(sat['old'])}; new "
                 f"{_ci_text(sat['new'])} | | {'calibration target' if scen == 'combined' else 'reported'} |")
    yr = ", ".join(f"year {y}: old {fmt(v['old']['mean'], '')} / new {fmt(v['new']['mean'], '')}"
                   for y, v in val["by_year"].items())
    cp = val["chain_path"]
    lo, hi = val["band"]
    chain = (f"Path of the baseline's chain rate (mean over seeds): lowest {fmt(cp['min'], '')} "
             f"on day {cp['min_day']}, highest {fmt(cp['max'], '')} on day {cp['max_day']}; "
             f"outside the {fmt(lo, '')}-{fmt(hi, '')} band on {cp['days_outside']} of "
             f"{val['last_day']} days")
    chain += (f", the last of them day {cp['last_outside']}." if cp["days_outside"] else ".")
    return [f"### {title}", "", *L, "",
            f"Complete basic coverage in the baseline by year (mean over seeds): {yr}.", "",
            chain, ""]


def _summary(r: ReportInputs) -> list[str]:
    """Title and summary: one line per pattern, then each analysis."""
    val = r.val
    summary_notes = list(r.notes)
    L: list[str] = []
    L += ["# lifecircle — validation, calibration and sensitivity", "",
          "Generated by `lifecircle validation` from the results of "
          "`validation/validation.toml`, `validation/calibration.toml` and "
          "`validation/sensitivity.toml` (do not edit by hand; rerun). Figures are in "
          "`docs/validation/`.", "",
          "## Summary", ""]
    for r in val["rows"]:
        L.append(f"- {r['pattern']} ({r['scenario']}) at day {r['day']}: "
                 f"{_ci_text(r, r['metric'])} — **{r['verdict']}** (band "
                 f"{fmt(r['band'][0], r['metric'])}-{fmt(r['band'][1], r['metric'])}).")
    cp = val["chain_path"]
    if cp["days_outside"]:
        L.append(f"- Chain rate path: outside the band on {cp['days_outside']} of "
                 f"{val['last_day']} days (lowest {fmt(cp['min'], '')} on day {cp['min_day']}, "
                 f"highest {fmt(cp['max'], '')} on day {cp['max_day']}; last day outside: "
                 f"{cp['last_outside']}) — a partial miss, see below.")
    L += [f"- New communities' basic coverage below old ones' in year one: "
          f"{_pp(val['new_old']['diff'])}; rising as they fill: {_pp(val['rise']['diff'])}.",
          f"- Elderly basic coverage below others': {_pp(val['elderly']['diff'])}; their "
          f"consumer surplus {val['elderly']['surplus']['diff']['mean']:+.2f} yuan a day."]
    w = val["satisfied"]["window"]
    for scen in val["scenarios"]:
        sat = val["satisfied"][scen]
        L.append(f"- Share satisfied in {scen} (days {w[0]}-{w[1]}): {_ci_text(sat['all'])} "
                 f"(elderly {_ci_text(sat['elderly'])}).")
    if "line" in val:
        ln = val["line"]
        L.append(f"- The satisfaction line at which the pilot package has 90% of its residents "
                 f"satisfied (the pilots report > 90%): {ln['line']:.3f} [{ln['lo']:.3f}, "
                 f"{ln['hi']:.3f}] over {ln['n']} seeds; `satisfied_threshold` is set to it "
                 "(rounded). So the pilot package's 90% is a calibration target, not a test; "
                 "the baseline's share, and every policy difference, are model outputs.")
    L.append("")
    if summary_notes:
        L += summary_notes + [""]
    return L


def _reproduce(r: ReportInputs) -> list[str]:
    """How to reproduce, and how long it took."""
    times = r.times
    L: list[str] = []
    L += ["## How to reproduce, and how long it takes", "",
          "```sh",
          "lifecircle experiment validation/validation.toml     # baseline, 10 seeds x 1,095 days",
          "lifecircle experiment validation/calibration.toml    # Latin hypercube, 16 points",
          "lifecircle experiment validation/sensitivity.toml    # Morris screening",
          "lifecircle validation results/validation \\",
          "    --pre-calibration results/validation_precalibration \\",
          "    --calibration results/calibration --sensitivity results/sensitivity",
          "```", "",
          "`--pre-calibration` runs the validation experiment with the original values of the "
          "calibrated parameters as settings (`PRECALIBRATION_DEFAULTS`) if the folder is "
          "empty. The calibration and sensitivity designs set all four calibrated parameters "
          "at every point, so they give the same numbers before and after the defaults "
          "changed (checked: a validation seed and the best calibration point rerun at the "
          "final code match their stored series exactly); the results folders themselves "
          "refuse a resume across the change (the baseline's configuration hash differs), so "
          "rerun them into fresh folders.", "",
          "The last command also runs (resumably) the Sobol analysis and the policy-ranking "
          "check into `results/sensitivity_sobol/` and `results/sensitivity_robustness/`. "
          "Times measured on this machine (2 cores shared with other work, 2 worker "
          "processes; wall time, first run start to last run end). The load from other "
          "jobs varied: the two validation batches are the same work and differ ~2x in "
          "time.", ""]
    L += [f"- {k}: {v}" for k, v in times.items()]
    return L


def _patterns(r: ReportInputs) -> list[str]:
    """The pattern-oriented validation at the defaults (and before calibration)."""
    val, figs, pre = r.val, r.figs, r.pre
    L: list[str] = []
    L += ["", "## Pattern-oriented validation", "",
          f"The baseline (default living circle, ~20,000 residents in 16 communities, no "
          f"policy: a circle before the pilot work) and the combined package (a pilot "
          f"circle) run with {val['n_seeds']} seeds for {val['last_day']:,} days. Each figure "
          "is the mean over seeds with a Student-t 95% interval of that mean; the seed range "
          "(min-max) shows the spread of single runs. *Inside* means the mean is inside the "
          "band (and, unless noted, the whole interval is).", "",
          f"![patterns](validation/{figs['val'][0]})", ""]
    L += _pattern_section(val, "At the defaults the code ends up with")
    L += ["Bands and why:", ""]
    for p in PATTERNS:
        L.append(f"- **{p.label}** ({p.source}): band {fmt(p.lo, p.metric)}-"
                 f"{fmt(p.hi, p.metric)}; {p.why}.")
    L += ["- **New vs old, elderly vs others**: qualitative patterns; the band is the sign of "
          "the difference, and it counts as reproduced when the 95% interval of the mean "
          "difference excludes zero.",
          "- **Share satisfied**: the pilots report more than 90% of residents satisfied. The "
          "model's satisfaction is a score on a 0-1 scale (0.5: needs met as well as the plan's "
          "standard provision); where the line 'satisfied' is drawn is set so that the pilot "
          "package has 90% satisfied (above), so that figure is a calibration target. The "
          "baseline's share and all policy differences follow from the model; the comparison "
          "report shows every difference at lines below and above too.", ""]
    if pre is not None:
        L += ["### Before calibration (the original defaults)", "",
              "The same experiment run with the defaults before calibration:", ""]
        L += _pattern_section(pre, "Original defaults")[2:]
    return L


def _limits(r: ReportInputs) -> list[str]:
    """What the validation cannot say."""
    val, cal = r.val, r.cal
    L: list[str] = []
    L += ["## Limits", ""]
    if cal is not None and val.get("distance"):
        b = cal["table"].iloc[0]
        reps = int(cal["experiment"].get("replicates", 1))
        gap = val["distance"]["chain_rate@365"] - b["chain_rate@365"]
        L.append(f"- Calibration used {reps} replicate seed(s) per design point (common random "
                 f"numbers), so the distance carries noise: over the {val['n_seeds']} validation "
                 f"seeds the calibrated chain rate at day 365 is {100 * gap:+.1f} pp off the "
                 f"best point's figure, and points close in distance are not told apart (see "
                 f"the table).")
    L += [
          "- Seeds: the intervals are over replicate seeds of one synthetic circle; they are "
          "not intervals over real cities.",
          "- `entrant_closed_2y` counts every entrant (chains too); the source's third is "
          "about small businesses in general.",
          "- Sensitivity runs are short (the first half-year) and use one replicate per "
          "point; long-run effects (chain drift, closures) are screened by the calibration "
          "design instead.", ""]
    return L
