"""The sections of docs/VALIDATION.md about the analyses: calibration, Morris, Sobol, ranking.

Each section function returns its Markdown lines from a :class:`ReportInputs` (what the
report shows);
:func:`summary_notes` gives one summary bullet per analysis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from validation.calibration import CALIBRATION_TARGETS
from validation.sensitivity import ranking_flips, robust_lines


@dataclass
class ReportInputs:
    """Everything the report shows (``None`` for an analysis that was not run)."""

    val: dict[str, Any]
    figs: dict[str, list[str]]
    cal: dict[str, Any] | None = None
    pre: dict[str, Any] | None = None
    mor: dict[str, Any] | None = None
    sob: dict[str, Any] | None = None
    rob: dict[str, Any] | None = None
    times: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def summary_notes(cal: dict[str, Any] | None, mor: dict[str, Any] | None,
                  sob: dict[str, Any] | None, rob: dict[str, Any] | None) -> list[str]:
    """One bullet per analysis for the report's summary."""
    notes = []
    if cal is not None:
        notes.append(f"- Calibration (a {len(cal['table'])}-point Latin hypercube with "
                     f"{cal['experiment']['replicates']} replicates, then a linear surrogate): "
                     + ", ".join(f"`{f}` = {cal['surrogate']['values'][f]:.3g}"
                                 for f in cal["factors"])
                     + " (rounded into the defaults; see Calibration).")
    if mor is not None and "top" in mor:
        notes.append("- Morris: most influential on the baseline's outcomes: " + ", ".join(
            f"`{k}`" for k in mor["top"].index[:4]) + (
            "; on the combined package's effect: " + ", ".join(
                f"`{k}`" for k in mor["top_effect"].index[:3]) if "top_effect" in mor else "")
            + ".")
        t = mor["tables"][("baseline", "share_satisfied")].iloc[0]
        notes.append(f"- The level of share satisfied depends most on `{t['factor']}` (mu* "
                     f"{t['mu_star']:.2f} over its full range): how it compares with the 90% "
                     f"target says as much about where 'satisfied' is drawn as about the "
                     f"model; policy *differences* are less sensitive (see the ranking check).")
    if sob is not None:
        parts = []
        for m, t in sob["indices"].items():
            r = t.sort_values("ST", ascending=False).iloc[0]
            parts.append(f"{m}: `{r['factor']}` (ST {r['ST']:.2f} +- {r['ST_conf']:.2f})")
        notes.append("- Sobol, largest total index: " + "; ".join(parts) + ".")
    if rob is not None:
        for m, t in rob["effects"].items():
            flips = ranking_flips(t)
            clear = [f for f in flips if f.endswith("clear)")]
            top = {s: t[t["setting"] == s].sort_values("effect", ascending=False)["scenario"]
                   .iloc[0] for s in rob["settings"]}
            same_top = len(set(top.values())) == 1
            notes.append(
                f"- Policy ranking on {m}: {len(flips)} pairwise order changes against the "
                f"defaults over the 4 corners, {len(clear)} of them clear (both differences "
                f"> 2 SE); the top policy is {'the same' if same_top else 'not the same'} "
                f"everywhere ({', '.join(sorted(set(top.values())))}).")
    return notes


def calibration_section(r: ReportInputs) -> list[str]:
    """The calibration design, its best points and the calibrated values."""
    val, figs, cal, pre = r.val, r.figs, r.cal, r.pre
    from model.params import PARAM_FIELDS, Params

    defaults = Params()
    L: list[str] = []
    if cal is None:
        return L
    t = cal["table"]
    exp = cal["experiment"]
    L += ["## Calibration", "",
          "The baseline's chain rate, its density of outlets and the share of new shops "
          "closing within two years depend on entry and exit parameters that no source pins "
          "down: " + ", ".join(f"`{f}`" for f in cal["factors"]) + ". Stage one: a Latin "
          f"hypercube of {len(t)} points x {exp['replicates']} replicate(s) x {exp['days']} "
          "days (`validation/calibration.toml`; common random numbers: every point runs with "
          "the same seeds). Stage two: a linear surrogate of each target figure over the "
          "design, minimised (below). The validation experiment at the new defaults is the "
          "check.", "",
          "Distance of a point (`calibration_distance` in `validation/calibration.py`): "
          "the sum of squared standardized deviations of its figures from the targets, "
          "d = sum_i ((model_i - target_i) / tol_i)^2, each figure the mean over the "
          "point's replicates at the given day:", "",
          "| metric | day | target | tolerance |", "|---|---|---|---|"]
    for m, d, tg, tol in CALIBRATION_TARGETS:
        L.append(f"| {m} | {d} | {tg:.3g} | {tol:.3g} |")
    L += ["", "A tolerance is about half of the band's half-width, so a figure at a band "
          "edge adds ~4 to the distance. Best points:", ""]
    cols = cal["factors"] + [c for c in t.columns if "@" in c and not c.startswith("z2")] + [
        "distance"]
    L.append("| point | " + " | ".join(cols) + " |")
    L.append("|---" * (len(cols) + 1) + "|")
    for _, r in t.head(6).iterrows():
        L.append(f"| {int(r['point'])} | " + " | ".join(
            f"{r[c]:.3f}" if isinstance(r[c], float) else str(r[c]) for c in cols) + " |")
    L += [""]
    if val.get("distance"):
        tcols = [f"{m}@{d}" for m, d, _, _ in CALIBRATION_TARGETS]
        L += ["The same distance on the 10-seed validation runs (mean over seeds), before "
              "and after calibration:", "",
              "| defaults | " + " | ".join(tcols) + " | distance |",
              "|---|" + "---|" * (len(tcols) + 1)]
        for lab, v in (("before calibration", (pre or {}).get("distance")),
                       ("calibrated", val["distance"])):
            if v:
                L.append(f"| {lab} | " + " | ".join(f"{v[c]:.3f}" for c in tcols)
                         + f" | {v['distance']:.2f} |")
        L.append("")
    sur = cal["surrogate"]
    L += [f"![calibration](validation/{figs['cal'][0]})", "",
          "Stage two (`surrogate_optimum` in `validation/calibration.py`): each figure fitted "
          "by least squares as a linear function of the factors over the design ("
          + ", ".join(f"{k} R^2 {v:.2f}" for k, v in sur["r2"].items()) + "); the predicted "
          "distance plus a penalty for moving away from the defaults before calibration "
          "(each factor in units of half its range) minimised by a seeded random search. "
          "Predicted at the optimum: " + ", ".join(f"{k} {v:.3g}" for k, v in
                                                   sur["predicted"].items())
          + f" (distance {sur['distance']:.2f}).", "",
          "Calibrated values (the surrogate's optimum, rounded; `model/params.py` defaults, "
          "sources \"calibrated: docs/VALIDATION.md\"):", "",
          "| parameter | best design point | surrogate optimum | default now | range searched "
          "| source |", "|---|---|---|---|---|---|"]
    for f in cal["factors"]:
        spec = next(x for x in exp["factors"] if x["name"] == f)
        L.append(f"| `{f}` | {cal['best'][f]:.3f} | {sur['values'][f]:.3f} | "
                 f"{getattr(defaults, f)} | {spec['low']}-{spec['high']} | "
                 f"{PARAM_FIELDS[f].metadata['source']} |")
    L.append("")
    return L


def morris_section(r: ReportInputs) -> list[str]:
    """Morris screening."""
    figs, mor = r.figs, r.mor
    L: list[str] = []
    if mor is None:
        return L
    exp = mor["experiment"]
    L += ["## Sensitivity", "", "### Morris screening", "",
          f"Elementary effects (SALib) of {len(mor['factors'])} uncertain parameters, "
          f"{exp['design']['trajectories']} trajectories, {exp['design']['levels']} levels, "
          f"{exp['replicates']} replicate, {exp['days']} days with a {exp['warmup']}-day "
          f"warm-up (short runs to keep compute modest: this screens the first half-year, "
          f"not the long run), scenarios {', '.join(s[0] for s in exp['scenarios'])} "
          "(`validation/sensitivity.toml`). Outputs: post-warm-up means; public spend "
          "is the end-of-run total and only moves under a policy. mu* is the mean "
          "absolute elementary effect (the output change over a step of 2/3 of the factor's "
          "range, divided by 2/3: output units per full range), sigma its spread "
          "(non-linearity or interaction, and noise with one replicate).", "",
          "| factor | range | " + " | ".join(f"{k[0]}: {k[1]}" for k in mor["tables"])
          + " |", "|---|---|" + "---|" * len(mor["tables"])]
    for f in mor["factors"]:
        cells = []
        for t in mor["tables"].values():
            r = t.set_index("factor").loc[f["name"]]
            cells.append(f"{r['mu_star']:.3g} (#{int(r['rank'])})")
        L.append(f"| `{f['name']}` | {f['low']:g}-{f['high']:g} | " + " | ".join(cells)
                 + " |")
    L += ["", f"![morris](validation/{figs['mor'][0]})", ""]
    if "top" in mor:
        L += ["Most influential (mean of mu*/max mu* over the baseline's share satisfied, "
              "basic coverage and chain rate): " + ", ".join(
                  f"`{k}` ({v:.2f})" for k, v in mor["top"].head(6).items()) + ".", ""]
        if "top_effect" in mor:
            L += ["Most influential on the combined package's *effect* (share satisfied "
                  "and basic coverage, policy minus baseline): " + ", ".join(
                      f"`{k}` ({v:.2f})" for k, v in mor["top_effect"].head(6).items())
                  + ".", ""]
    return L


def sobol_section(r: ReportInputs) -> list[str]:
    """Sobol indices of the top factors."""
    figs, sob = r.figs, r.sob
    L: list[str] = []
    if sob is None:
        return L
    sp = sob["spec"]
    L += ["### Sobol indices of the most influential factors", "",
          f"Saltelli/Sobol sample (SALib `sample.sobol`, N = {sp['n_base']}, first-order "
          f"and total indices, {sob['runs']} runs) over "
          + ", ".join(f"`{n}` {b[0]:g}-{b[1]:g}" for n, b in
                      zip(sp["problem"]["names"], sp["problem"]["bounds"], strict=True))
          + f", baseline, {sp['days']} days ({sp['warmup']}-day warm-up), one seed for all "
          "runs (common random numbers). Intervals are 95% bootstrap intervals (1,000 "
          "resamples); with this small N they are wide — they rank the factors, they do "
          "not pin the shares down. Indices can come out slightly negative or above 1 "
          "from sampling error.", ""]
    for m, t in sob["indices"].items():
        L += [f"**{m}**", "", "| factor | S1 [95% CI] | ST [95% CI] |", "|---|---|---|"]
        for _, r in t.iterrows():
            L.append(f"| `{r['factor']}` | {r['S1']:.2f} [{r['S1'] - r['S1_conf']:.2f}, "
                     f"{r['S1'] + r['S1_conf']:.2f}] | {r['ST']:.2f} "
                     f"[{r['ST'] - r['ST_conf']:.2f}, {r['ST'] + r['ST_conf']:.2f}] |")
        L.append("")
    L += [f"![sobol](validation/{figs['sob'][0]})", ""]
    return L


def robustness_section(r: ReportInputs) -> list[str]:
    """Whether the policy ranking holds over the plausible range."""
    figs, rob = r.figs, r.rob
    L: list[str] = []
    if rob is None:
        return L
    L += ["### Does the policy ranking hold?", "",
          "Each policy scenario of `experiments/policy_comparison.toml` against the "
          "baseline (paired by seed, common random numbers), at the defaults and at the "
          "four low/high corners of the two factors that move the policy effects most ("
          + ", ".join(f"`{f}`" for f in rob["factors"]) + f"), {rob['replicates']} seeds, "
          f"{rob['days']} days ({rob['warmup']}-day warm-up). Effects are post-warm-up "
          "mean differences in percentage points; rank 1 = largest gain.", ""]
    for m, t in rob["effects"].items():
        piv = t.pivot(index="scenario", columns="setting", values="effect")
        rk = t.pivot(index="scenario", columns="setting", values="rank")
        piv = piv.loc[piv["defaults"].sort_values(ascending=False).index]
        cols = rob["settings"]
        L += [f"**{m}** (effect in pp, rank)", "",
              "| policy | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
        for s in piv.index:
            L.append(f"| {s} | " + " | ".join(
                f"{100 * piv.loc[s, c]:+.2f} ({int(rk.loc[s, c])})" for c in cols) + " |")
        flips = ranking_flips(t)
        L += ["", "What holds over the plausible range:", "", *robust_lines(t)]
        L += ["", f"Order changes against the defaults ({len(flips)}):" if flips else
              "No pair of policies changes order against the defaults.", ""]
        L += [f"- {x}" for x in flips[:40]]
        if len(flips) > 40:
            L.append(f"- ... and {len(flips) - 40} more")
        L.append("")
    L += [f"![robustness](validation/{figs['rob'][0]})", ""]
    if rob.get("summary"):
        L += [rob["summary"], ""]
    return L
