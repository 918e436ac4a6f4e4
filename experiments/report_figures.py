"""The comparison report's figures (seaborn, PNG), written into the report's folder.

Each function draws one figure and returns its file name. File names derived from labels
(scenario and metric names) go through :func:`figure_name`, so a label with ``/``, spaces or
``..`` never becomes a path outside the folder.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from experiments.outputs import inside, label_hash, safe_name  # noqa: E402
from experiments.plan import REFERENCE_POINT  # noqa: E402
from experiments.report_doc import unit  # noqa: E402
from model.outcomes import is_share  # noqa: E402


def figure_name(stem: str, *labels: str) -> str:
    """``fig_<stem>_<label>_...png``; a hash of the labels is added when any had to change."""
    safe = [safe_name(lab, 40) for lab in labels]
    tail = "" if safe == list(labels) else f"-{label_hash(*labels)}"
    return "_".join(["fig", stem, *safe]) + tail + ".png"


def save_png(fig: plt.Figure | sns.FacetGrid, root: Path, name: str, dpi: int = 110) -> str:
    """Write a figure as ``root/name`` atomically (never half a PNG); return ``name``."""
    target = inside(root, name)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        fig.savefig(tmp, dpi=dpi, format="png")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return name


def _save(fig: plt.Figure, root: Path, name: str) -> str:
    fig.tight_layout()
    save_png(fig, root, name)
    plt.close(fig)
    return name


def fig_forest(root: Path, diffs: pd.DataFrame, name: str) -> str:
    """Paired differences from the baseline with their intervals, one panel per metric."""
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
        ax.set_xlabel(f"difference from baseline ({unit(m) or 'units'})", fontsize=8)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    return _save(fig, root, name)


def fig_subgroups(root: Path, sub: pd.DataFrame, name: str) -> str:
    """Differences by community type and by age group."""
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
    save_png(g, root, name)
    plt.close(g.figure)
    return name


def fig_cost(root: Path, ce: pd.DataFrame, name: str) -> str | None:
    """Extra public cost per year against the gain in share satisfied."""
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


def fig_timeseries(root: Path, daily: pd.DataFrame, metrics: Sequence[str], warmup: int,
                    name: str) -> str:
    """Daily means over replicates with 5-95% bands, one panel per metric."""
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
    save_png(fig, root, name)
    plt.close(fig)
    return name


def fig_coverage(root: Path, tab: pd.DataFrame, name: str) -> str:
    """Heat map of coverage per category and scenario."""
    sns.set_theme(style="white")
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * tab.shape[1], 1.2 + 0.4 * tab.shape[0]))
    sns.heatmap(tab, annot=True, fmt=".0f", cmap="viridis", vmin=0, vmax=100, ax=ax,
                cbar_kws={"label": "% of residents"})
    ax.set_ylabel("")
    return _save(fig, root, name)


def fig_surface(root: Path, pm: pd.DataFrame, factors: Sequence[dict], metric: str,
                 name: str) -> str | None:
    """Response of one metric to the swept factors, one panel per scenario."""
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


def fig_morris(root: Path, mi: pd.DataFrame, name: str) -> str:
    """Morris mu* against sigma, one point per factor."""
    sns.set_theme(style="whitegrid")
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    sns.scatterplot(data=mi, x="mu_star", y="sigma", hue="role", ax=ax, s=70)
    for r in mi.itertuples():
        ax.annotate(r.factor, (r.mu_star, r.sigma), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    ax.set_xlabel("mu* (mean |elementary effect|)")
    ax.set_ylabel("sigma")
    return _save(fig, root, name)
