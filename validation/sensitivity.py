"""Sensitivity: Morris screening, Sobol indices of the top factors, and the ranking check.

All three run through the batch machinery (resumable, verified, any executor):

* **Morris** (``validation/sensitivity.toml``, run with ``lifecircle experiment``): elementary
  effects of every uncertain parameter on the headline outcomes, in the baseline and under
  the combined package;
* **Sobol** of the most influential Morris factors: an experiment with ``method = "sobol"``
  (a Saltelli sample; first-order and total indices with bootstrap intervals), run here;
* **policy ranking**: the policy scenarios of ``experiments/policy_comparison.toml`` against
  the baseline at the defaults and at the low/high corners of the two factors that move the
  policy effects most (common random numbers), run here.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.executors import ExecutorSpec
from model.outcomes import LEAD_METRICS, is_share
from validation.calibration import experiment_definition
from validation.patterns import batch_time, mean_ci

ROOT = Path(__file__).resolve().parent.parent
SOBOL_METRICS = (*LEAD_METRICS, "chain_rate")
"""Outcomes of the Sobol analysis: the lead metrics and the chains' share of outlets."""
EFFECT_METRICS = tuple(m for m in LEAD_METRICS if is_share(m))
"""Outcomes whose policy effects are screened and ranked: the lead metrics that are shares."""


def morris(results: Path) -> dict[str, Any]:
    """Morris indices per (scenario, metric) and for each policy scenario's effect."""
    from experiments.indices import morris_indices

    exp = experiment_definition(results)
    summary = pd.read_parquet(results / "summary.parquet")
    points = pd.read_parquet(results / "points.parquet")
    factors = [f for f in exp["factors"] if f["low"] is not None]
    levels = int(exp["design"].get("levels", 4))
    seed = int(exp.get("root_seed", 0))
    scenarios = [s[0] for s in exp["scenarios"]]
    baseline = exp.get("baseline") or scenarios[0]
    tables: dict[tuple[str, str], pd.DataFrame] = {}
    for scen in scenarios:
        for m in exp["metrics"]:
            if m == "public_spend" and scen == baseline:
                continue
            tables[(scen, m)] = morris_indices(summary, points, factors, m, scen,
                                               levels=levels, seed=seed)
        if scen != baseline:
            for m in EFFECT_METRICS:
                tables[(f"{scen} - {baseline}", m)] = morris_indices(
                    summary, points, factors, m, scen, levels=levels, baseline=baseline,
                    seed=seed)
    return {"tables": tables, "factors": factors, "experiment": exp,
            "time": batch_time(results)}


def influence(tables: dict[tuple[str, str], pd.DataFrame], keys: Sequence[tuple[str, str]]
              ) -> pd.Series:
    """Mean over ``keys`` of mu* / max mu* (each output scaled to its most influential factor)."""
    parts = []
    for k in keys:
        t = tables[k].set_index("factor")["mu_star"]
        parts.append(t / t.max() if t.max() > 0 else t * 0)
    return pd.concat(parts, axis=1).mean(axis=1).sort_values(ascending=False)


def sobol_choice(tables: dict[tuple[str, str], pd.DataFrame], overall: pd.Series, k: int
                 ) -> list[str]:
    """Factors for the Sobol analysis, up to ``k``.

    The top Morris factor of each baseline outcome (share satisfied, basic coverage, chain
    rate), then the next ones by overall influence.
    """
    chosen: list[str] = []
    for m in (*EFFECT_METRICS, "chain_rate"):
        f = str(tables[("baseline", m)].iloc[0]["factor"])
        if f not in chosen:
            chosen.append(f)
    for f in overall.index:
        if len(chosen) >= k:
            break
        if f not in chosen:
            chosen.append(str(f))
    return chosen[:k]


def run_sobol(out_dir: Path, factors: Sequence[dict[str, Any]], *, n_base: int, days: int,
              warmup: int, seed: int, executor: ExecutorSpec,
              settings: dict[str, Any] | None = None,
              log: Callable[[str], None] = print) -> dict[str, Any]:
    """A Sobol experiment over ``factors`` on the baseline, run (resumable) and analysed.

    ``N (D + 2)`` runs (first-order and total indices), all with the same model seed
    (one replicate: common random numbers), summarized as post-warm-up means; run on
    ``executor`` (a process pool, a Dask LocalCluster or a scheduler: the same results).
    """
    from experiments.indices import sobol_indices
    from experiments.loading import experiment_from_dict
    from experiments.runner import run_batch

    data = {"name": f"{out_dir.name}", "scenarios": ["baseline"], "replicates": 1,
            "days": days, "warmup": warmup, "root_seed": seed, "metrics": list(SOBOL_METRICS),
            "settings": dict(settings or {}),
            "design": {"method": "sobol", "samples": n_base, "seed": seed % 2**32},
            "uncertainties": {f["name"]: {"low": float(f["low"]), "high": float(f["high"])}
                              for f in factors}}
    exp = experiment_from_dict(data, file=f"{out_dir} (Sobol design)")
    run_batch(exp, out_dir, executor, progress=False, log=log)
    summary = pd.read_parquet(out_dir / "summary.parquet")
    points = pd.read_parquet(out_dir / "points.parquet")
    fdefs = [f.to_dict() for f in exp.factors]
    indices = {m: sobol_indices(summary, points, fdefs, m, "baseline", seed=seed % 2**32)
               .set_index("factor").loc[[f["name"] for f in fdefs]].reset_index()
               for m in SOBOL_METRICS}
    spec = {"problem": {"names": [f["name"] for f in fdefs],
                        "bounds": [[f["low"], f["high"]] for f in fdefs]},
            "n_base": n_base, "days": days, "warmup": warmup, "seed": seed}
    return {"indices": indices, "spec": spec, "runs": len(summary),
            "timing": batch_time(out_dir)}


def policy_scenarios() -> list[str]:
    """The scenarios of ``experiments/policy_comparison.toml`` (baseline first)."""
    data = tomllib.loads((ROOT / "experiments" / "policy_comparison.toml").read_text())
    return list(data["scenarios"])


def run_robustness(out_dir: Path, factors: Sequence[dict[str, Any]], *, replicates: int,
                   days: int, warmup: int, root_seed: int, executor: ExecutorSpec,
                   settings: dict[str, Any] | None = None,
                   scenarios: Sequence[str] | None = None,
                   log: Callable[[str], None] = print) -> dict[str, Any]:
    """Policy effects vs baseline at the defaults and at the low/high corners of ``factors``.

    Two batch experiments through the runner (resumable, common random numbers: the same
    seeds in every scenario and at every corner): ``<out_dir>/reference`` at the defaults and
    ``<out_dir>/corners`` on the grid of the factors' low and high values. ``scenarios``
    (default: those of ``experiments/policy_comparison.toml``) must include ``baseline``.
    Run on ``executor``, any :class:`experiments.executors.ExecutorSpec`.
    """
    from experiments.loading import experiment_from_dict
    from experiments.runner import run_batch

    common = {"scenarios": list(scenarios or policy_scenarios()), "baseline": "baseline",
              "replicates": replicates, "days": days, "warmup": warmup,
              "root_seed": root_seed,
              "metrics": list(LEAD_METRICS),
              "settings": dict(settings or {})}
    ref = experiment_from_dict({**common, "name": "robustness_reference"},
                               file=f"{out_dir} (ranking check, defaults)")
    corners = experiment_from_dict({
        **common, "name": "robustness_corners", "design": {"method": "grid"},
        "uncertainties": {f["name"]: {"values": [f["low"], f["high"]]} for f in factors}},
        file=f"{out_dir} (ranking check, corners)")
    for exp, sub in ((ref, "reference"), (corners, "corners")):
        run_batch(exp, out_dir / sub, executor, progress=False, log=log)
    return robustness_tables(out_dir)


def robustness_tables(out_dir: Path) -> dict[str, Any]:
    """Mean paired effects (policy - baseline) and ranks at the defaults and each corner."""
    settings: dict[str, pd.DataFrame] = {}
    ref = pd.read_parquet(out_dir / "reference" / "summary.parquet")
    settings["defaults"] = ref
    cs = pd.read_parquet(out_dir / "corners" / "summary.parquet")
    pts = pd.read_parquet(out_dir / "corners" / "points.parquet")
    fnames = [c for c in pts.columns if c != "point"]
    labels = {}
    for _, row in pts[pts["point"] >= 0].iterrows():
        p = int(row["point"])
        label = ", ".join(f"{f}={row[f]:g}" for f in fnames)
        labels[p] = label
        settings[label] = cs[cs["point"] == p]
    effects = {}
    for m in EFFECT_METRICS:
        rows = []
        for label, s in settings.items():
            piv = s.pivot_table(index="replicate", columns="scenario", values=m)
            d = piv.drop(columns="baseline").sub(piv["baseline"], axis=0)
            for scen in d.columns:
                ci = mean_ci(d[scen].to_numpy())
                rows.append({"setting": label, "scenario": scen, "effect": ci["mean"],
                             "se": ci["se"]})
        t = pd.DataFrame(rows)
        t["rank"] = t.groupby("setting")["effect"].rank(ascending=False, method="min")
        effects[m] = t
    return {"effects": effects, "settings": list(settings), "factors": fnames}


def ranking_flips(t: pd.DataFrame, reference: str = "defaults") -> list[str]:
    """Pairs of policies whose order at some setting differs from the reference order.

    A flip is reported with whether both differences exceed 2 standard errors (a clear
    flip) or not (a flip within noise).
    """
    ref = t[t["setting"] == reference].set_index("scenario")
    notes = []
    for setting in t["setting"].unique():
        if setting == reference:
            continue
        cur = t[t["setting"] == setting].set_index("scenario")
        scen = list(ref.index)
        for i, a in enumerate(scen):
            for b in scen[i + 1:]:
                r = ref.loc[a, "effect"] - ref.loc[b, "effect"]
                c = cur.loc[a, "effect"] - cur.loc[b, "effect"]
                if np.sign(r) != np.sign(c) and r != 0 and c != 0:
                    se_r = math.hypot(ref.loc[a, "se"], ref.loc[b, "se"])
                    se_c = math.hypot(cur.loc[a, "se"], cur.loc[b, "se"])
                    clear = abs(r) > 2 * se_r and abs(c) > 2 * se_c
                    notes.append(f"{setting}: {a} vs {b} "
                                 f"({r:+.4f} at defaults, {c:+.4f} here; "
                                 f"{'clear' if clear else 'within noise'})")
    return notes


def robust_lines(t: pd.DataFrame) -> list[str]:
    """What holds at every setting: effects clear of zero (2 SE), sign flips, the top 3."""
    lines = []
    lo = t.assign(lo=t["effect"] - 2 * t["se"], hi=t["effect"] + 2 * t["se"])
    g = lo.groupby("scenario")
    pos = sorted(s for s, d in g if (d["lo"] > 0).all())
    neg = sorted(s for s, d in g if (d["hi"] < 0).all())
    flip = sorted(s for s, d in g if (d["lo"] > 0).any() and (d["hi"] < 0).any())
    sign = sorted(s for s, d in g if (d["effect"] > 0).any() and (d["effect"] < 0).any())
    lines.append("- Gain clear of zero (> 2 SE) at every setting: "
                 + (", ".join(pos) if pos else "none") + ".")
    lines.append("- Loss clear of zero at every setting: " + (", ".join(neg) if neg else "none")
                 + ".")
    lines.append("- Effect changes sign between settings: " + (
        ", ".join(f"{s}{' (clearly: > 2 SE both ways)' if s in flip else ' (within noise)'}"
                  for s in sign) if sign else "none") + ".")
    tops = {s: tuple(d.sort_values("effect", ascending=False)["scenario"].head(3))
            for s, d in t.groupby("setting", sort=False)}
    same = {frozenset(v) for v in tops.values()}
    if len(same) == 1:
        lines.append("- The top three policies are the same set at every setting: "
                     + ", ".join(next(iter(tops.values()))) + ".")
    else:
        lines.append("- The top three differ between settings: " + "; ".join(
            f"{k}: {', '.join(v)}" for k, v in tops.items()) + ".")
    return lines
