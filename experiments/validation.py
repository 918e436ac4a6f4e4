r"""Pattern-oriented validation, calibration and sensitivity analysis -> docs/VALIDATION.md.

Reads the results folders of the ready-made experiments and writes ``docs/VALIDATION.md``
with PNG figures in ``docs/validation/``::

    lifecircle experiment experiments/validation.toml     # baseline, 10 seeds, 1,095 days
    lifecircle experiment experiments/calibration.toml    # Latin hypercube (entry/exit)
    lifecircle experiment experiments/sensitivity.toml    # Morris screening
    python -m experiments.validation results/validation \\
        --pre-calibration results/validation_precalibration \\
        --calibration results/calibration --sensitivity results/sensitivity

With ``--sensitivity`` the module also runs (or resumes) two follow-ups that the batch
machinery has no design for, into folders next to the sensitivity results:

* a variance-based **Sobol** analysis (SALib ``sample.sobol`` / ``analyze.sobol``, first-order
  and total indices with bootstrap 95% intervals) of the most influential Morris factors,
  run over ``model.simulate`` with a process pool (``<sensitivity>_sobol/``);
* a **policy-ranking check**: the policy scenarios against the baseline at the corners
  (low/high) of the two parameters that move the policy effects most, and at the defaults,
  with common random numbers, through the batch runner (``<sensitivity>_robustness/``).

Every pattern, target and tolerance is data at the top of this module (``PATTERNS``,
``CALIBRATION_TARGETS``) and is documented in the generated report.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import tomllib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "VALIDATION.md"
FIG_DIR = ROOT / "docs" / "validation"

# --------------------------------------------------------------------------------------
# Patterns and targets
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """A pattern's band: a source figure and the range the model must fall in."""

    key: str
    label: str
    metric: str
    days: tuple[int, ...]
    source_figure: str
    source: str
    lo: float
    hi: float
    why: str


#: Level patterns measured on one daily metric at given days (DESIGN "patterns the baseline
#: should show"; sources in /work/shared/DESIGN.md section 1 and docs/ODD.md).
PATTERNS: tuple[Band, ...] = (
    Band("chain_rate", "Chain rate of open outlets", "chain_rate", (365, 730, 1095),
         "32% (pilot average); >= 30% target",
         "People's Daily on the living-circle pilots; 2025 expansion notice",
         0.25, 0.40, "DESIGN band 25-40% around the 32% pilot average"),
    Band("residents_per_outlet", "Residents per open outlet", "residents_per_outlet",
         (365, 730, 1095),
         "~93 (42 M residents / 450,000 outlets; 2025: 168 M / 1.95 M = 86)",
         "People's Daily (pilot totals); later official totals", 70.0, 120.0,
         "DESIGN band 70-120 around 86-93"),
    Band("entrant_closed_2y", "New shops closed within two years", "entrant_closed_2y",
         (1095,),
         "about one third of new small businesses close within 2 years",
         "DESIGN section 1 (shop economics)", 0.20, 0.45,
         "about a third = 0.33; +-0.12 because the source is a rough national figure for "
         "small businesses of all sectors (restaurants fail more: >40% within 3 years) and the "
         "model's metric also counts chain entrants, which close less; measurable from day "
         "730 on, at day 1,095 it covers the shops that entered in year one"),
)

#: Calibration targets: (metric, day, target, tolerance). The distance of a design point is
#: sum(((mean over replicates - target) / tolerance)^2); a tolerance is about half the
#: half-width of the pattern's band, so a point at a band edge contributes ~4.
CALIBRATION_TARGETS: tuple[tuple[str, int, float, float], ...] = (
    ("chain_rate", 365, 0.32, 0.035),
    ("chain_rate", 1095, 0.32, 0.035),
    ("residents_per_outlet", 1095, 93.0, 12.5),
    ("entrant_closed_2y", 1095, 1.0 / 3.0, 0.06),
)

#: The defaults before calibration (the "before" table of the report is the validation
#: experiment run with these as settings; see ``run_precalibration``).
PRECALIBRATION_DEFAULTS: dict[str, float] = {
    "entry_error_sd": 0.7, "initial_cash_days": 30.0, "chain_entrant_share": 0.4,
    "chain_loss_tolerance": 0.2,
}

SATISFIED_TARGET = 0.90
HEADLINE = ("share_satisfied", "coverage_basic_all", "chain_rate", "public_spend")


# --------------------------------------------------------------------------------------
# Statistics helpers
# --------------------------------------------------------------------------------------


def mean_ci(x: Sequence[float] | np.ndarray, level: float = 0.95) -> dict[str, float]:
    """Mean over seeds with a Student-t interval of the mean, SE, SD and the seed range."""
    from scipy import stats

    a = np.asarray(x, dtype=float)
    a = a[np.isfinite(a)]
    n = len(a)
    if n == 0:
        return {"mean": math.nan, "lo": math.nan, "hi": math.nan, "se": math.nan,
                "sd": math.nan, "min": math.nan, "max": math.nan, "n": 0}
    m = float(a.mean())
    sd = float(a.std(ddof=1)) if n > 1 else 0.0
    se = sd / math.sqrt(n) if n > 1 else math.nan
    t = float(stats.t.ppf(0.5 + level / 2, n - 1)) if n > 1 else math.nan
    return {"mean": m, "lo": m - t * se, "hi": m + t * se, "se": se, "sd": sd,
            "min": float(a.min()), "max": float(a.max()), "n": n}


def load_daily(results: str | Path) -> pd.DataFrame:
    """The daily table of a results folder (finished runs only)."""
    results = Path(results)
    daily = pd.read_parquet(results / "daily.parquet")
    runs = pd.read_parquet(results / "runs.parquet")
    ok = runs[runs["status"] == "ok"]["run_id"] if "run_id" in runs else None
    if ok is not None and "run_id" in daily.columns:
        daily = daily[daily["run_id"].isin(set(ok))]
    return daily


def at_day(daily: pd.DataFrame, metric: str, day: int) -> pd.Series:
    """One value per (scenario, point, replicate) at ``day``."""
    d = daily[daily["day"] == day]
    return d.set_index(["scenario", "point", "replicate"])[metric]


def window_mean(daily: pd.DataFrame, metric: str, first: int, last: int) -> pd.Series:
    """Mean of ``metric`` over days ``first..last`` per (scenario, point, replicate)."""
    d = daily[(daily["day"] >= first) & (daily["day"] <= last)]
    return d.groupby(["scenario", "point", "replicate"])[metric].mean()


def batch_time(results: str | Path) -> dict[str, float]:
    """Wall time (first start to last finish) and summed run time of a results folder."""
    runs = pd.read_parquet(Path(results) / "runs.parquet")
    out = {"runs": float(len(runs)), "run_seconds": float(runs["runtime"].sum())}
    if {"started_at", "finished_at"} <= set(runs.columns):
        s = pd.to_datetime(runs["started_at"], utc=True, errors="coerce")
        f = pd.to_datetime(runs["finished_at"], utc=True, errors="coerce")
        out["wall_seconds"] = float((f.max() - s.min()).total_seconds())
    out["mean_run_seconds"] = float(runs["runtime"].mean())
    return out


def _fmt_minutes(sec: float) -> str:
    return f"{sec / 60:.1f} min" if np.isfinite(sec) else "n/a"


# --------------------------------------------------------------------------------------
# Pattern validation
# --------------------------------------------------------------------------------------


def _fmt(v: float, metric: str) -> str:
    if not np.isfinite(v):
        return "n/a"
    if metric == "residents_per_outlet":
        return f"{v:.1f}"
    return f"{100 * v:.1f}%"


def _verdict(ci: dict[str, float], lo: float, hi: float) -> str:
    m = ci["mean"]
    if not np.isfinite(m):
        return "n/a"
    if lo <= m <= hi:
        return "inside" if lo <= ci["lo"] and ci["hi"] <= hi else "inside (interval crosses an edge)"
    return "outside"


def validate_patterns(daily: pd.DataFrame) -> dict[str, Any]:
    """Every pattern's model figure (mean, 95% interval over seeds) and verdict."""
    base = daily[daily["scenario"] == daily["scenario"].iloc[0]]
    last = int(base["day"].max())
    rows: list[dict[str, Any]] = []
    for p in PATTERNS:
        for day in p.days:
            if day > last:
                continue
            ci = mean_ci(at_day(base, p.metric, day).to_numpy())
            rows.append({"pattern": p.label, "key": p.key, "metric": p.metric, "day": day,
                         "source": p.source_figure, "band": (p.lo, p.hi), **ci,
                         "verdict": _verdict(ci, p.lo, p.hi)})
    # Contrasts (old vs new; elderly vs others; satisfaction vs target).
    y1 = min(365, last)
    diff_new = (window_mean(base, "coverage_basic_all_new", 1, y1)
                - window_mean(base, "coverage_basic_all_old", 1, y1))
    new_old = {"old": mean_ci(window_mean(base, "coverage_basic_all_old", 1, y1)),
               "new": mean_ci(window_mean(base, "coverage_basic_all_new", 1, y1)),
               "diff": mean_ci(diff_new)}
    first30 = window_mean(base, "coverage_basic_all_new", 1, 30)
    last30 = window_mean(base, "coverage_basic_all_new", last - 29, last)
    rise = {"first30": mean_ci(first30), "last30": mean_ci(last30),
            "diff": mean_ci(last30 - first30),
            "occ_first": mean_ci(at_day(base, "occupancy_new", 1)),
            "occ_last": mean_ci(at_day(base, "occupancy_new", last)),
            "days_new_below_old_y1": mean_ci(
                base[base["day"] <= y1].assign(
                    b=lambda d: d["coverage_basic_all_new"] < d["coverage_basic_all_old"])
                 .groupby(["point", "replicate"])["b"].mean())}
    # Year-by-year old and new coverage.
    by_year = {}
    for y in range(1, last // 365 + 1):
        by_year[y] = {k: mean_ci(window_mean(base, f"coverage_basic_all_{k}", 365 * (y - 1) + 1,
                                             365 * y)) for k in ("old", "new")}
    eld = {k: mean_ci(window_mean(base, f"coverage_basic_all_{k}", 1, last))
           for k in ("elderly", "nonelderly")}
    eld["diff"] = mean_ci(window_mean(base, "coverage_basic_all_elderly", 1, last)
                          - window_mean(base, "coverage_basic_all_nonelderly", 1, last))
    s_first = max(1, last - 364)
    sat = {k: mean_ci(window_mean(base, m, s_first, last))
           for k, m in (("all", "share_satisfied"), ("elderly", "share_satisfied_elderly"),
                        ("nonelderly", "share_satisfied_nonelderly"),
                        ("old", "share_satisfied_old"), ("new", "share_satisfied_new"))}
    sat["window"] = (s_first, last)
    cr = base.groupby("day")["chain_rate"].mean()
    lo_c, hi_c = next((p.lo, p.hi) for p in PATTERNS if p.key == "chain_rate")
    outside = cr[(cr < lo_c) | (cr > hi_c)]
    chain_path = {"min": float(cr.min()), "min_day": int(cr.idxmin()),
                  "max": float(cr.max()), "max_day": int(cr.idxmax()),
                  "days_outside": int(len(outside)),
                  "last_outside": int(outside.index.max()) if len(outside) else 0}
    dist = calibration_distance(base).iloc[0].to_dict() if last >= 1095 else {}
    return {"rows": rows, "new_old": new_old, "rise": rise, "by_year": by_year,
            "distance": dist, "chain_path": chain_path,
            "elderly": eld, "satisfied": sat, "last_day": last,
            "n_seeds": int(base.groupby(["point", "replicate"]).ngroups)}


def plot_patterns(daily: pd.DataFrame, out: Path, tag: str) -> list[str]:
    """Time series of every pattern (mean and 95% band of seeds) with the source bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = daily[daily["scenario"] == daily["scenario"].iloc[0]]
    g = base.groupby("day")

    def band(ax, metric, color, label):
        m = g[metric].mean()
        lo = g[metric].quantile(0.025)
        hi = g[metric].quantile(0.975)
        ax.plot(m.index, m.values, color=color, label=label, lw=1.5)
        ax.fill_between(m.index, lo.values, hi.values, color=color, alpha=0.2, lw=0)

    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
    ax = axes[0, 0]
    band(ax, "chain_rate", "C0", "model")
    ax.axhspan(0.25, 0.40, color="green", alpha=0.08, label="band 25-40%")
    ax.axhline(0.32, color="green", ls="--", lw=1, label="pilot average 32%")
    ax.set_title("Chain rate")
    ax = axes[0, 1]
    band(ax, "residents_per_outlet", "C1", "model")
    ax.axhspan(70, 120, color="green", alpha=0.08, label="band 70-120")
    ax.axhline(93, color="green", ls="--", lw=1, label="official ~93")
    ax.set_title("Residents per open outlet")
    ax = axes[0, 2]
    d2 = base[base["day"] >= 730]
    if len(d2):
        g2 = d2.groupby("day")["entrant_closed_2y"]
        ax.plot(g2.mean().index, g2.mean().values, color="C3", label="model")
        ax.fill_between(g2.mean().index, g2.quantile(0.025).values, g2.quantile(0.975).values,
                        color="C3", alpha=0.2, lw=0)
    ax.axhspan(0.20, 0.45, color="green", alpha=0.08, label="band 20-45%")
    ax.axhline(1 / 3, color="green", ls="--", lw=1, label="about a third")
    ax.set_title("Entrants closed within 2 years (from day 730)")
    ax = axes[1, 0]
    band(ax, "coverage_basic_all_old", "C0", "old communities")
    band(ax, "coverage_basic_all_new", "C1", "new communities")
    ax2 = ax.twinx()
    ax2.plot(g["occupancy_new"].mean().index, g["occupancy_new"].mean().values, color="grey",
             ls=":", label="occupancy new (right)")
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("occupancy of new communities")
    ax.set_title("Complete basic circle: old vs new")
    ax = axes[1, 1]
    band(ax, "coverage_basic_all_elderly", "C4", "elderly (60+)")
    band(ax, "coverage_basic_all_nonelderly", "C2", "others")
    ax.set_title("Complete basic circle: elderly vs others")
    ax = axes[1, 2]
    band(ax, "share_satisfied", "k", "all")
    band(ax, "share_satisfied_elderly", "C4", "elderly")
    band(ax, "share_satisfied_nonelderly", "C2", "others")
    ax.axhline(SATISFIED_TARGET, color="red", ls="--", lw=1, label="target 90%")
    ax.set_title("Share satisfied")
    for a in axes.flat:
        a.set_xlabel("day")
        a.legend(fontsize=7, loc="best")
    fig.suptitle("Baseline over seeds: mean and 2.5-97.5% of seeds")
    fig.tight_layout()
    name = f"patterns_{tag}.png"
    fig.savefig(out / name, dpi=110)
    plt.close(fig)
    return [name]


# --------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------


def calibration_distance(daily: pd.DataFrame,
                         targets: Sequence[tuple[str, int, float, float]] = CALIBRATION_TARGETS
                         ) -> pd.DataFrame:
    """Distance of every design point to the targets.

    For each target (metric, day, target value, tolerance) the point's figure is the mean
    over its replicates of the metric at that day; its term is the squared standardized
    deviation ((figure - target) / tolerance)^2. The distance is the sum of the terms.

    Returns:
        One row per point: the figures, the terms (``z2_*``) and ``distance``, sorted by
        distance (best first).
    """
    out = None
    for metric, day, target, tol in targets:
        s = at_day(daily, metric, day).groupby(level="point").mean()
        col = f"{metric}@{day}"
        frame = pd.DataFrame({col: s, f"z2_{col}": ((s - target) / tol) ** 2})
        out = frame if out is None else out.join(frame)
    assert out is not None
    out["distance"] = out[[c for c in out.columns if c.startswith("z2_")]].sum(axis=1)
    return out.sort_values("distance").reset_index()


def calibrate(results: Path) -> dict[str, Any]:
    """Distances of the calibration design and the best point."""
    daily = load_daily(results)
    points = pd.read_parquet(results / "points.parquet")
    dist = calibration_distance(daily).merge(points, on="point", how="left")
    exp = tomllib.loads((results / "experiment.toml").read_text())
    factors = list(exp.get("uncertainties", {}))
    best = dist.iloc[0]
    return {"table": dist, "factors": factors, "best": {f: best[f] for f in factors},
            "best_point": int(best["point"]), "experiment": exp,
            "time": batch_time(results)}


def plot_calibration(cal: dict[str, Any], out: Path) -> str:
    """Scatter of each calibration figure against each parameter."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = cal["table"]
    factors = cal["factors"]
    cols = [c for c in t.columns if "@" in c and not c.startswith("z2_")]
    fig, axes = plt.subplots(len(cols), len(factors), figsize=(3.2 * len(factors),
                                                                 2.4 * len(cols)),
                             squeeze=False)
    for i, c in enumerate(cols):
        metric, day = c.split("@")
        tgt = next(x for x in CALIBRATION_TARGETS if x[0] == metric and str(x[1]) == day)
        for j, f in enumerate(factors):
            ax = axes[i, j]
            ax.scatter(t[f], t[c], c=t["distance"], cmap="viridis_r", s=18)
            ax.axhspan(tgt[2] - 2 * tgt[3], tgt[2] + 2 * tgt[3], color="green", alpha=0.1)
            ax.axhline(tgt[2], color="green", ls="--", lw=1)
            b = t.iloc[0]
            ax.scatter([b[f]], [b[c]], marker="*", s=120, color="red")
            if i == len(cols) - 1:
                ax.set_xlabel(f)
            if j == 0:
                ax.set_ylabel(c)
    fig.suptitle("Calibration design: figure vs parameter (star = best point; band = target "
                 "+- 2 tolerances)")
    fig.tight_layout()
    fig.savefig(out / "calibration.png", dpi=100)
    plt.close(fig)
    return "calibration.png"


# --------------------------------------------------------------------------------------
# Sensitivity: Morris (from the batch), Sobol and policy-ranking check (run here)
# --------------------------------------------------------------------------------------


def _factor_defs(results: Path) -> list[dict[str, Any]]:
    exp = tomllib.loads((results / "experiment.toml").read_text())
    defs = []
    for role in ("levers", "uncertainties"):
        for name, spec in exp.get(role, {}).items():
            defs.append({"name": name, "role": role[:-1] if role == "levers" else "uncertainty",
                         "low": float(spec["low"]), "high": float(spec["high"]),
                         "description": spec.get("description", "")})
    return defs


def morris(results: Path) -> dict[str, Any]:
    """Morris indices per (scenario, metric) and for the combined package's effect."""
    from experiments.stats import morris_indices

    exp = tomllib.loads((results / "experiment.toml").read_text())
    summary = pd.read_parquet(results / "summary.parquet")
    points = pd.read_parquet(results / "points.parquet")
    factors = _factor_defs(results)
    levels = int(exp["design"].get("levels", 4))
    seed = int(exp.get("root_seed", 0))
    baseline = exp.get("baseline", exp["scenarios"][0])
    tables: dict[tuple[str, str], pd.DataFrame] = {}
    for scen in exp["scenarios"]:
        for m in HEADLINE:
            if m == "public_spend" and scen == baseline:
                continue
            tables[(scen, m)] = morris_indices(summary, points, factors, m, scen,
                                               levels=levels, seed=seed)
        if scen != baseline:
            for m in ("share_satisfied", "coverage_basic_all"):
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
    for m in ("share_satisfied", "coverage_basic_all", "chain_rate"):
        f = str(tables[("baseline", m)].iloc[0]["factor"])
        if f not in chosen:
            chosen.append(f)
    for f in overall.index:
        if len(chosen) >= k:
            break
        if f not in chosen:
            chosen.append(str(f))
    return chosen[:k]


def plot_morris(mor: dict[str, Any], out: Path) -> str:
    """Bar chart of mu* (and sigma) per output."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(mor["tables"])
    n = len(keys)
    ncol = 3
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(15, 3.6 * nrow), squeeze=False)
    for ax, k in zip(axes.flat, keys, strict=False):
        t = mor["tables"][k].sort_values("mu_star")
        ax.barh(t["factor"], t["mu_star"], xerr=t["mu_star_conf"], color="C0", alpha=0.7,
                label="mu*")
        ax.plot(t["sigma"], t["factor"], "o", color="C3", ms=4, label="sigma")
        ax.set_title(f"{k[0]}: {k[1]}", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle("Morris screening: mu* (bars, 95% bootstrap) and sigma (dots); output change "
                 "per full range of the factor")
    fig.tight_layout()
    fig.savefig(out / "morris.png", dpi=100)
    plt.close(fig)
    return "morris.png"


def _summary_run(args: tuple[str, int, int, int, dict[str, Any]]) -> dict[str, float]:
    """Run one scenario with overrides; return post-warm-up summaries (top level: picklable)."""
    from experiments.storage import summarize_run
    from model import simulate

    scenario, seed, days, warmup, overrides = args
    daily = simulate(scenario, seed=seed, days=days, overrides=overrides)
    return summarize_run(daily, warmup)


def run_sobol(out_dir: Path, factors: Sequence[dict[str, Any]], *, n_base: int, days: int,
              warmup: int, seed: int, workers: int) -> dict[str, Any]:
    """Saltelli/Sobol sample over ``factors`` on the baseline, run (resumable) and analyse.

    ``N (D + 2)`` runs (first-order and total indices, no second order), all with the same
    model seed (common random numbers), each summarised as post-warm-up means.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    out_dir.mkdir(parents=True, exist_ok=True)
    problem = {"num_vars": len(factors), "names": [f["name"] for f in factors],
               "bounds": [[f["low"], f["high"]] for f in factors]}
    X = sobol_sample.sample(problem, n_base, calc_second_order=False, seed=seed)
    spec = {"problem": problem, "n_base": n_base, "days": days, "warmup": warmup,
            "seed": seed}
    spec_file = out_dir / "spec.json"
    if spec_file.exists() and json.loads(spec_file.read_text()) != spec:
        raise SystemExit(f"{out_dir} holds another Sobol design; delete it or use another folder")
    spec_file.write_text(json.dumps(spec, indent=1))
    rows_dir = out_dir / "rows"
    rows_dir.mkdir(exist_ok=True)
    todo = [i for i in range(len(X)) if not (rows_dir / f"{i:05d}.json").exists()]
    t0 = time.perf_counter()
    if todo:
        print(f"sobol: {len(todo)} of {len(X)} runs to do ({workers} workers)", flush=True)
        with ProcessPoolExecutor(max_workers=workers) as ex:
            futs = {ex.submit(_summary_run, ("baseline", seed, days, warmup,
                                             dict(zip(problem["names"], map(float, X[i]),
                                                      strict=True)))): i for i in todo}
            for k, fut in enumerate(as_completed(futs), 1):
                i = futs[fut]
                (rows_dir / f"{i:05d}.json").write_text(json.dumps(fut.result()))
                if k % 10 == 0:
                    print(f"sobol: {k}/{len(todo)}", flush=True)
        timing = {"wall_seconds": time.perf_counter() - t0, "runs": len(todo)}
        (out_dir / "timing.json").write_text(json.dumps(timing))
    timing = json.loads((out_dir / "timing.json").read_text()) if (
        out_dir / "timing.json").exists() else {}
    res = pd.DataFrame([json.loads((rows_dir / f"{i:05d}.json").read_text())
                        for i in range(len(X))])
    indices = {}
    for m in ("share_satisfied", "coverage_basic_all", "chain_rate"):
        Y = res[m].to_numpy(dtype=float)
        si = sobol_analyze.analyze(problem, Y, calc_second_order=False, conf_level=0.95,
                                   num_resamples=1000, seed=seed, print_to_console=False)
        indices[m] = pd.DataFrame({"factor": problem["names"], "S1": si["S1"],
                                   "S1_conf": si["S1_conf"], "ST": si["ST"],
                                   "ST_conf": si["ST_conf"]})
    return {"indices": indices, "spec": spec, "runs": len(X), "timing": timing,
            "outputs": res}


def plot_sobol(sob: dict[str, Any], out: Path) -> str:
    """Bar chart of Sobol S1 and ST with intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ms = list(sob["indices"])
    fig, axes = plt.subplots(1, len(ms), figsize=(4.6 * len(ms), 3.4), squeeze=False)
    for ax, m in zip(axes[0], ms, strict=True):
        t = sob["indices"][m]
        x = np.arange(len(t))
        ax.bar(x - 0.18, t["S1"], 0.36, yerr=t["S1_conf"], label="S1 (first order)")
        ax.bar(x + 0.18, t["ST"], 0.36, yerr=t["ST_conf"], label="ST (total)")
        ax.set_xticks(x, t["factor"], rotation=20, fontsize=7)
        ax.set_title(m)
        ax.axhline(0, color="k", lw=0.5)
        ax.legend(fontsize=7)
    fig.suptitle("Sobol indices with 95% bootstrap intervals (baseline)")
    fig.tight_layout()
    fig.savefig(out / "sobol.png", dpi=100)
    plt.close(fig)
    return "sobol.png"


ROBUST_SCENARIOS = ("baseline", "mobile_vendors", "chain_penetration", "rent_subsidy",
                    "elderly_canteen", "instant_retail", "fill_gaps", "idle_space",
                    "neighborhood_center", "combined")


def run_precalibration(out_dir: Path, workers: int) -> None:
    """Run (or resume) ``experiments/validation.toml`` with the pre-calibration defaults."""
    from experiments.definition import experiment_from_dict
    from experiments.executors import ExecutorSpec
    from experiments.runner import run_batch

    data = tomllib.loads((ROOT / "experiments" / "validation.toml").read_text())
    data = {**data, "name": "validation_precalibration",
            "settings": {**data.get("settings", {}), **PRECALIBRATION_DEFAULTS}}
    run_batch(experiment_from_dict(data), out_dir, ExecutorSpec(workers=workers),
              progress=False)


def run_robustness(out_dir: Path, factors: Sequence[dict[str, Any]], *, replicates: int,
                   days: int, warmup: int, root_seed: int, workers: int) -> dict[str, Any]:
    """Policy effects vs baseline at the defaults and at the low/high corners of ``factors``.

    Two batch experiments through the runner (resumable, common random numbers: the same
    seeds in every scenario and at every corner): ``<out_dir>/reference`` at the defaults and
    ``<out_dir>/corners`` on the grid of the factors' low and high values.
    """
    from experiments.definition import experiment_from_dict
    from experiments.executors import ExecutorSpec
    from experiments.runner import run_batch

    common = {"scenarios": list(ROBUST_SCENARIOS), "baseline": "baseline",
              "replicates": replicates, "days": days, "warmup": warmup,
              "root_seed": root_seed, "metrics": ["share_satisfied", "coverage_basic_all"]}
    ref = experiment_from_dict({**common, "name": "robustness_reference"})
    corners = experiment_from_dict({
        **common, "name": "robustness_corners", "design": {"method": "grid"},
        "uncertainties": {f["name"]: {"values": [f["low"], f["high"]]} for f in factors}})
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for exp, sub in ((ref, "reference"), (corners, "corners")):
        run_batch(exp, out_dir / sub, ExecutorSpec(workers=workers),
                  progress=False)
    timing_file = out_dir / "timing.json"
    if not timing_file.exists():
        timing_file.write_text(json.dumps({"wall_seconds": time.perf_counter() - t0}))
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
    for m in ("share_satisfied", "coverage_basic_all"):
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
    timing = json.loads((out_dir / "timing.json").read_text()) if (
        out_dir / "timing.json").exists() else {}
    return {"effects": effects, "settings": list(settings), "factors": fnames,
            "timing": timing}


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


def plot_robustness(rob: dict[str, Any], out: Path) -> str:
    """Policy effects at the defaults and each corner."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(15, 5))
    for ax, (m, t) in zip(axes, rob["effects"].items(), strict=True):
        order = (t[t["setting"] == "defaults"].sort_values("effect", ascending=False)
                 ["scenario"].tolist())
        settings = rob["settings"]
        w = 0.8 / len(settings)
        for k, s in enumerate(settings):
            d = t[t["setting"] == s].set_index("scenario").loc[order]
            ax.bar(np.arange(len(order)) + (k - (len(settings) - 1) / 2) * w, d["effect"], w,
                   yerr=2 * d["se"], label=s)
        ax.set_xticks(np.arange(len(order)), order, rotation=30, ha="right", fontsize=8)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(f"effect on {m} (policy - baseline, +- 2 SE)")
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "robustness.png", dpi=100)
    plt.close(fig)
    return "robustness.png"


# --------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------


def _ci_text(ci: dict[str, float], metric: str = "") -> str:
    return (f"{_fmt(ci['mean'], metric)} [{_fmt(ci['lo'], metric)}, {_fmt(ci['hi'], metric)}]")


def _pp(ci: dict[str, float]) -> str:
    return (f"{100 * ci['mean']:+.1f} pp [{100 * ci['lo']:+.1f}, {100 * ci['hi']:+.1f}]")


def _pattern_section(val: dict[str, Any], title: str) -> list[str]:
    L = ["| pattern | source figure | band | day | model: mean [95% CI of mean] | seed range "
         "| verdict |", "|---|---|---|---|---|---|---|"]
    for r in val["rows"]:
        lo, hi = r["band"]
        L.append(f"| {r['pattern']} | {r['source']} | {_fmt(lo, r['metric'])}-"
                 f"{_fmt(hi, r['metric'])} | {r['day']} | {_ci_text(r, r['metric'])} | "
                 f"{_fmt(r['min'], r['metric'])}-{_fmt(r['max'], r['metric'])} | "
                 f"**{r['verdict']}** |")
    no = val["new_old"]
    ri = val["rise"]
    el = val["elderly"]
    sat = val["satisfied"]
    v1 = "inside" if no["diff"]["hi"] < 0 else "outside"
    v2 = "inside" if ri["diff"]["lo"] > 0 else "outside"
    v3 = "inside" if el["diff"]["hi"] < 0 else "outside"
    L.append(f"| New communities' complete basic coverage below old ones' in year one | "
             f"qualitative (seed: new areas inconvenient) | new - old < 0 | 1-365 (mean) | "
             f"old {_ci_text(no['old'])}, new {_ci_text(no['new'])}; new - old {_pp(no['diff'])}"
             f"; new below old on {100 * ri['days_new_below_old_y1']['mean']:.0f}% of days | "
             f"| **{v1}** |")
    L.append(f"| ... and rising as they fill | qualitative | last 30 d - first 30 d > 0 | "
             f"1-30 vs {val['last_day'] - 29}-{val['last_day']} | new: {_ci_text(ri['first30'])}"
             f" -> {_ci_text(ri['last30'])} ({_pp(ri['diff'])}); occupancy "
             f"{_fmt(ri['occ_first']['mean'], '')} -> {_fmt(ri['occ_last']['mean'], '')} | | "
             f"**{v2}** |")
    L.append(f"| Elderly complete basic coverage below others' | qualitative (seed; DESIGN: 15 "
             f"min too far for many elderly) | elderly - others < 0 | 1-{val['last_day']} (mean)"
             f" | elderly {_ci_text(el['elderly'])}, others {_ci_text(el['nonelderly'])}; "
             f"{_pp(el['diff'])} | | **{v3}** |")
    w = sat["window"]
    meets = "meets" if sat["all"]["lo"] >= SATISFIED_TARGET else (
        "below" if sat["all"]["hi"] < SATISFIED_TARGET else "undecided")
    L.append(f"| Share satisfied (a policy *target*, not a pattern) | >= 90% target | - | "
             f"{w[0]}-{w[1]} (mean) | all {_ci_text(sat['all'])}; elderly "
             f"{_ci_text(sat['elderly'])}; others {_ci_text(sat['nonelderly'])}; old "
             f"{_ci_text(sat['old'])}; new {_ci_text(sat['new'])} | | {meets} target |")
    yr = ", ".join(f"year {y}: old {_fmt(v['old']['mean'], '')} / new {_fmt(v['new']['mean'], '')}"
                   for y, v in val["by_year"].items())
    cp = val["chain_path"]
    chain = (f"Path of the chain rate (mean over seeds): lowest {_fmt(cp['min'], '')} on day "
             f"{cp['min_day']}, highest {_fmt(cp['max'], '')} on day {cp['max_day']}; outside "
             f"the 25-40% band on {cp['days_outside']} of {val['last_day']} days")
    chain += (f", the last of them day {cp['last_outside']}." if cp["days_outside"] else ".")
    if cp["days_outside"] and cp["min"] < 0.25:
        chain += (" The dip follows the first chain review (day 90), which closes the "
                  "loss-making chain outlets placed at day 0; chain entry then rebuilds the "
                  "share.")
    return [f"### {title}", "", *L, "",
            f"Complete basic coverage by year (mean over seeds): {yr}.", "", chain, ""]


def summary_notes(cal: dict[str, Any] | None, mor: dict[str, Any] | None,
                  sob: dict[str, Any] | None, rob: dict[str, Any] | None) -> list[str]:
    """One bullet per analysis for the report's summary."""
    notes = []
    if cal is not None:
        notes.append(f"- Calibration (best of a {len(cal['table'])}-point Latin hypercube): " + ", ".join(
            f"`{f}` = {cal['best'][f]:.3g}" for f in cal["factors"])
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


def write_report(val: dict[str, Any], val_dir: Path, figs: dict[str, list[str]],
                 cal: dict[str, Any] | None, pre: dict[str, Any] | None,
                 mor: dict[str, Any] | None, sob: dict[str, Any] | None,
                 rob: dict[str, Any] | None, doc: Path, times: dict[str, str],
                 summary_notes: Sequence[str] = ()) -> None:
    """Write docs/VALIDATION.md."""
    from model.params import PARAM_FIELDS, Params

    defaults = Params()
    L: list[str] = []
    summary_notes = list(summary_notes)
    L += ["# lifecircle — validation, calibration and sensitivity", "",
          "Generated by `python -m experiments.validation` from the results of "
          "`experiments/validation.toml`, `experiments/calibration.toml` and "
          "`experiments/sensitivity.toml` (do not edit by hand; rerun). Figures are in "
          "`docs/validation/`.", "",
          "## Summary", ""]
    for r in val["rows"]:
        L.append(f"- {r['pattern']} at day {r['day']}: {_ci_text(r, r['metric'])} — "
                 f"**{r['verdict']}** (band {_fmt(r['band'][0], r['metric'])}-"
                 f"{_fmt(r['band'][1], r['metric'])}).")
    cp = val["chain_path"]
    if cp["days_outside"]:
        L.append(f"- Chain rate path: outside the band on {cp['days_outside']} of "
                 f"{val['last_day']} days (lowest {_fmt(cp['min'], '')} on day {cp['min_day']}, "
                 f"highest {_fmt(cp['max'], '')} on day {cp['max_day']}; last day outside: "
                 f"{cp['last_outside']}) — a partial miss, see below.")
    L += [f"- New communities' basic coverage below old ones' in year one: "
          f"{_pp(val['new_old']['diff'])}; rising as they fill: {_pp(val['rise']['diff'])}.",
          f"- Elderly basic coverage below others': {_pp(val['elderly']['diff'])}.",
          f"- Share satisfied (days {val['satisfied']['window'][0]}-"
          f"{val['satisfied']['window'][1]}): {_ci_text(val['satisfied']['all'])} against the "
          f">= 90% target (elderly {_ci_text(val['satisfied']['elderly'])}).", ""]
    if summary_notes:
        L += summary_notes + [""]
    L += ["## How to reproduce, and how long it takes", "",
          "```sh",
          "lifecircle experiment experiments/validation.toml     # baseline, 10 seeds x 1,095 days",
          "lifecircle experiment experiments/calibration.toml    # Latin hypercube, 16 points",
          "lifecircle experiment experiments/sensitivity.toml    # Morris screening",
          "python -m experiments.validation results/validation \\",
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
    L += ["", "## Pattern-oriented validation", "",
          f"The baseline (default living circle, ~20,000 residents in 16 communities, no "
          f"policy) run with {val['n_seeds']} seeds for {val['last_day']:,} days. Each figure "
          "is the mean over seeds with a Student-t 95% interval of that mean; the seed range "
          "(min-max) shows the spread of single runs. *Inside* means the mean is inside the "
          "band (and, unless noted, the whole interval is).", "",
          f"![patterns](validation/{figs['val'][0]})", ""]
    L += _pattern_section(val, "At the defaults the code ends up with")
    L += ["Bands and why:", ""]
    for p in PATTERNS:
        L.append(f"- **{p.label}** ({p.source}): band {_fmt(p.lo, p.metric)}-"
                 f"{_fmt(p.hi, p.metric)}; {p.why}.")
    L += ["- **New vs old, elderly vs others**: qualitative patterns; the band is the sign of "
          "the difference, and it counts as reproduced when the 95% interval of the mean "
          "difference excludes zero.",
          "- **Share satisfied**: the >= 90% figure is a policy target, not an observation; "
          "the model reports the level (and its threshold `satisfied_threshold` is itself "
          "uncertain, see the sensitivity analysis).", ""]
    if pre is not None:
        L += ["### Before calibration (the original defaults)", "",
              "The same experiment run with the defaults before calibration:", ""]
        L += _pattern_section(pre, "Original defaults")[2:]
    if cal is not None:
        t = cal["table"]
        exp = cal["experiment"]
        L += ["## Calibration", "",
              "Where the baseline missed: new shops closing within two years (too few) and "
              "the chain rate (drifting up to the top of its band by year three). The "
              "parameters that move these and that no source pins down: "
              + ", ".join(f"`{f}`" for f in cal["factors"]) + ". Design: a Latin hypercube of "
              f"{len(t)} points x {exp['replicates']} replicate(s) x {exp['days']} days "
              "(`experiments/calibration.toml`; common random numbers: every point runs with "
              "the same seed).", "",
              "Distance of a point (`calibration_distance` in `experiments/validation.py`): "
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
        L += [f"![calibration](validation/{figs['cal'][0]})", "",
              "Calibrated values (rounded; `model/params.py` defaults, sources updated to "
              "\"calibrated: docs/VALIDATION.md\"):", "",
              "| parameter | best point | default now | range searched | source |",
              "|---|---|---|---|---|"]
        for f in cal["factors"]:
            spec = exp["uncertainties"][f]
            L.append(f"| `{f}` | {cal['best'][f]:.3f} | {getattr(defaults, f)} | "
                     f"{spec['low']}-{spec['high']} | {PARAM_FIELDS[f].metadata['source']} |")
        L.append("")
    if mor is not None:
        exp = mor["experiment"]
        L += ["## Sensitivity", "", "### Morris screening", "",
              f"Elementary effects (SALib) of {len(mor['factors'])} uncertain parameters, "
              f"{exp['design']['trajectories']} trajectories, {exp['design']['levels']} levels, "
              f"{exp['replicates']} replicate, {exp['days']} days with a {exp['warmup']}-day "
              f"warm-up (short runs to keep compute modest: this screens the first half-year, "
              f"not the long run), scenarios {', '.join(exp['scenarios'])} "
              "(`experiments/sensitivity.toml`). Outputs: post-warm-up means; public spend "
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
    if sob is not None:
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
    if rob is not None:
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
    L += ["## Limits", ""]
    if cal is not None and val.get("distance"):
        b = cal["table"].iloc[0]
        gap = val["distance"]["chain_rate@365"] - b["chain_rate@365"]
        L.append(f"- Calibration used one seed per design point (common random numbers), so "
                 f"the distance is noisy: over the 10 validation seeds the calibrated chain rate "
                 f"at day 365 is {100 * gap:+.1f} pp off the calibration seed's figure. Several "
                 f"points are nearly tied (see the table); they share a low "
                 f"`chain_loss_tolerance` (<= 0.1) and a `chain_entrant_share` of ~0.25-0.35. "
                 f"A second stage with >= 3 replicates around them would centre the year-one "
                 f"chain rate better; not done within this budget.")
    L += [
          "- Seeds: the intervals are over replicate seeds of one synthetic circle; they are "
          "not intervals over real cities.",
          "- `entrant_closed_2y` counts every entrant (chains too); the source's third is "
          "about small businesses in general.",
          "- Sensitivity runs are short (the first half-year) and use one replicate per "
          "point; long-run effects (chain drift, closures) are screened by the calibration "
          "design instead.", ""]
    doc.write_text("\n".join(L), encoding="utf-8")


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: read the results, run the follow-ups, write the report."""
    ap = argparse.ArgumentParser(prog="python -m experiments.validation", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path, help="results folder of experiments/validation.toml")
    ap.add_argument("--calibration", type=Path, help="results of experiments/calibration.toml")
    ap.add_argument("--pre-calibration", type=Path,
                    help="validation results with the defaults before calibration (run here "
                         "with PRECALIBRATION_DEFAULTS as settings if the folder is empty)")
    ap.add_argument("--sensitivity", type=Path, help="results of experiments/sensitivity.toml")
    ap.add_argument("--sobol-n", type=int, default=32, help="Sobol base sample N (power of 2)")
    ap.add_argument("--sobol-factors", type=int, default=4, help="how many top factors")
    ap.add_argument("--sobol-days", type=int, default=180)
    ap.add_argument("--robust-replicates", type=int, default=6)
    ap.add_argument("--robust-days", type=int, default=180)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--doc", type=Path, default=DOC)
    ap.add_argument("--fig-dir", type=Path, default=FIG_DIR)
    args = ap.parse_args(argv)

    args.fig_dir.mkdir(parents=True, exist_ok=True)
    times: dict[str, str] = {}

    def _t(label: str, bt: dict[str, float]) -> None:
        times[label] = (f"{int(bt['runs'])} runs, {_fmt_minutes(bt.get('wall_seconds', math.nan))}"
                        f" wall, {bt['mean_run_seconds']:.0f} s per run on average")

    daily = load_daily(args.results)
    val = validate_patterns(daily)
    _t("validation (`experiments/validation.toml`)", batch_time(args.results))
    figs = {"val": plot_patterns(daily, args.fig_dir, "baseline")}
    pre = None
    if args.pre_calibration:
        if not (args.pre_calibration / "daily.parquet").exists():
            run_precalibration(args.pre_calibration, args.workers)
        pdaily = load_daily(args.pre_calibration)
        pre = validate_patterns(pdaily)
        figs["pre"] = plot_patterns(pdaily, args.fig_dir, "before_calibration")
        _t("validation before calibration", batch_time(args.pre_calibration))
    cal = None
    if args.calibration:
        cal = calibrate(args.calibration)
        figs["cal"] = [plot_calibration(cal, args.fig_dir)]
        _t("calibration (`experiments/calibration.toml`)", cal["time"])
    mor = sob = rob = None
    if args.sensitivity:
        mor = morris(args.sensitivity)
        _t("Morris screening (`experiments/sensitivity.toml`)", mor["time"])
        tabs = mor["tables"]
        mor["top"] = influence(tabs, [k for k in tabs if k[0] == "baseline"
                                      and k[1] != "public_spend"])
        eff = [k for k in tabs if " - " in k[0]]
        if eff:
            mor["top_effect"] = influence(tabs, eff)
        figs["mor"] = [plot_morris(mor, args.fig_dir)]
        byname = {f["name"]: f for f in mor["factors"]}
        top = [byname[n] for n in sobol_choice(tabs, mor["top"], args.sobol_factors)]
        exp = mor["experiment"]
        sob = run_sobol(args.sensitivity.parent / f"{args.sensitivity.name}_sobol", top,
                        n_base=args.sobol_n, days=args.sobol_days, warmup=30,
                        seed=int(exp["root_seed"]), workers=args.workers)
        times["Sobol (run by this module)"] = (
            f"{sob['runs']} runs of {args.sobol_days} days, "
            f"{_fmt_minutes(sob['timing'].get('wall_seconds', math.nan))} wall")
        figs["sob"] = [plot_sobol(sob, args.fig_dir)]
        rank_src = mor.get("top_effect", mor["top"])
        rfac = [byname[n] for n in rank_src.index[:2]]
        rdir = args.sensitivity.parent / f"{args.sensitivity.name}_robustness"
        rob = run_robustness(rdir, rfac, replicates=args.robust_replicates,
                             days=args.robust_days, warmup=30,
                             root_seed=int(exp["root_seed"]) + 1, workers=args.workers)
        rob.update(replicates=args.robust_replicates, days=args.robust_days, warmup=30)
        rt = [batch_time(rdir / s) for s in ("reference", "corners")]
        run_s = sum(x["run_seconds"] for x in rt)
        times["policy-ranking check (run by this module)"] = (
            f"{int(sum(x['runs'] for x in rt))} runs of {args.robust_days} days, "
            f"{_fmt_minutes(run_s)} of run time (~{_fmt_minutes(run_s / args.workers)} wall "
            f"on {args.workers} workers)")
        figs["rob"] = [plot_robustness(rob, args.fig_dir)]
    write_report(val, args.results, figs, cal, pre, mor, sob, rob, args.doc, times,
                 summary_notes(cal, mor, sob, rob))
    print(f"wrote {args.doc} and {len(sum(figs.values(), []))} figures in {args.fig_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
