"""The validation report's figures (matplotlib, PNG), written into the figure folder.

Each function draws one figure from the tables of :mod:`validation.patterns`,
:mod:`validation.calibration` or :mod:`validation.sensitivity` and returns its file name (a
fixed name: nothing derived from labels).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from experiments.report_figures import save_png  # noqa: E402
from validation.calibration import CALIBRATION_TARGETS  # noqa: E402
from validation.patterns import PATTERNS, SATISFIED_TARGET  # noqa: E402


def plot_patterns(daily: pd.DataFrame, out: Path, tag: str) -> list[str]:
    """Time series of every pattern (mean and 95% band of seeds) with the source bands."""
    first = "baseline" if "baseline" in set(daily["scenario"]) else daily["scenario"].iloc[0]
    base = daily[daily["scenario"] == first]
    pilot = daily[daily["scenario"] == "combined"]
    g = base.groupby("day")
    bands = {p.key: p for p in PATTERNS}

    def band(ax, metric, color, label):
        m = g[metric].mean()
        lo = g[metric].quantile(0.025)
        hi = g[metric].quantile(0.975)
        ax.plot(m.index, m.values, color=color, label=label, lw=1.5)
        ax.fill_between(m.index, lo.values, hi.values, color=color, alpha=0.2, lw=0)

    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
    ax = axes[0, 0]
    band(ax, "chain_rate", "C0", "baseline")
    b = bands["chain_rate"]
    ax.axhspan(b.lo, b.hi, color="green", alpha=0.08, label=f"before pilots {b.lo:.0%}-{b.hi:.0%}")
    if len(pilot):
        gp = pilot.groupby("day")["chain_rate"].mean()
        ax.plot(gp.index, gp.values, color="C9", lw=1.2, label="pilot package")
    ax.axhline(0.21, color="green", ls=":", lw=1, label="pilots 21% (2023)")
    ax.axhline(0.32, color="green", ls="--", lw=1, label="pilots 32% (seed)")
    ax.set_title("Chain rate")
    ax = axes[0, 1]
    band(ax, "residents_per_outlet", "C1", "baseline")
    b = bands["residents_per_outlet"]
    ax.axhspan(b.lo, b.hi, color="green", alpha=0.08, label=f"band {b.lo:.0f}-{b.hi:.0f}")
    if len(pilot):
        gp = pilot.groupby("day")["residents_per_outlet"].mean()
        ax.plot(gp.index, gp.values, color="C9", lw=1.2, label="pilot package")
    ax.axhline(93, color="green", ls="--", lw=1, label="pilots ~86-93")
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
    band(ax, "share_satisfied", "k", "baseline")
    band(ax, "share_satisfied_elderly", "C4", "baseline, elderly")
    if len(pilot):
        gp = pilot.groupby("day")["share_satisfied"].mean()
        ax.plot(gp.index, gp.values, color="C9", lw=1.2, label="pilot package")
    ax.axhline(SATISFIED_TARGET, color="red", ls="--", lw=1, label="pilots > 90%")
    ax.set_title("Share satisfied")
    for a in axes.flat:
        a.set_xlabel("day")
        a.legend(fontsize=7, loc="best")
    fig.suptitle("Baseline over seeds: mean and 2.5-97.5% of seeds; pilot package: mean")
    fig.tight_layout()
    name = f"patterns_{tag}.png"
    save_png(fig, out, name)
    plt.close(fig)
    return [name]


def plot_calibration(cal: dict[str, Any], out: Path) -> str:
    """Scatter of each calibration figure against each parameter."""
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
    save_png(fig, out, "calibration.png", dpi=100)
    plt.close(fig)
    return "calibration.png"


def plot_morris(mor: dict[str, Any], out: Path) -> str:
    """Bar chart of mu* (and sigma) per output."""
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
    save_png(fig, out, "morris.png", dpi=100)
    plt.close(fig)
    return "morris.png"


def plot_sobol(sob: dict[str, Any], out: Path) -> str:
    """Bar chart of Sobol S1 and ST with intervals."""
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
    save_png(fig, out, "sobol.png", dpi=100)
    plt.close(fig)
    return "sobol.png"


def plot_robustness(rob: dict[str, Any], out: Path) -> str:
    """Policy effects at the defaults and each corner."""
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
    save_png(fig, out, "robustness.png", dpi=100)
    plt.close(fig)
    return "robustness.png"
