"""Sensitivity indices of designed experiments (Morris, Sobol) and means per design point.

The model output at each design point is the mean over replicates of the run summaries
(replicates share seeds across points -- common random numbers -- so noise partly cancels).
With a ``baseline`` the output is the paired difference from the baseline at the same point:
the sensitivity of a policy's *effect*.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def point_means(summary: pd.DataFrame, points: pd.DataFrame, metrics: Sequence[str]
                ) -> pd.DataFrame:
    """Mean and standard error over replicates per (scenario, point), with factor values.

    Used for response surfaces.
    """
    metrics = [m for m in metrics if m in summary.columns]
    g = summary.groupby(["scenario", "point"])[metrics]
    mean = g.mean()
    sem = g.sem().add_suffix("_sem")
    out = mean.join(sem).reset_index()
    return out.merge(points, on="point", how="left")


def morris_indices(summary: pd.DataFrame, points: pd.DataFrame, factors: Sequence[dict],
                   metric: str, scenario: str, *, levels: int, baseline: str | None = None,
                   seed: int = 0) -> pd.DataFrame:
    """Morris elementary-effect indices (SALib) of one metric for one scenario.

    The model output at each trajectory point is the mean over replicates of the run
    summaries (replicates share seeds across points, so noise partly cancels). With
    ``baseline`` given, the output is the paired difference from the baseline at the same
    point (the sensitivity of the policy's effect).

    Args:
        summary: Per-run summaries.
        points: Design points table (``point`` plus one column per factor), SALib order.
        factors: Factor dicts (``name``, ``low``, ``high``, ``role``).
        metric: Output metric.
        scenario: Scenario.
        levels: Morris levels used for sampling.
        baseline: Optional baseline for effect sensitivity.
        seed: Seed for SALib's bootstrap of mu* confidence.

    Returns:
        Rows per factor: ``factor``, ``role``, ``mu``, ``mu_star``, ``sigma``,
        ``mu_star_conf``, ``rank`` (1 = most influential by mu*), sorted by rank.

    Raises:
        ValueError: When some design point has no finished run.

    """
    from SALib.analyze import morris as morris_analyze

    names = [f["name"] for f in factors]
    pts, Y = _outputs(summary, points, metric, scenario, baseline)
    X = pts[names].to_numpy(dtype=float)
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[f["low"], f["high"]] for f in factors]}
    res = morris_analyze.analyze(problem, X, Y, num_levels=levels, seed=seed,
                                 print_to_console=False)
    df = pd.DataFrame({
        "factor": names,
        "role": [f.get("role", "") for f in factors],
        "mu": np.asarray(res["mu"], dtype=float),
        "mu_star": np.asarray(res["mu_star"], dtype=float),
        "sigma": np.asarray(res["sigma"], dtype=float),
        "mu_star_conf": np.asarray(res["mu_star_conf"], dtype=float),
    })
    df["rank"] = df["mu_star"].rank(ascending=False, method="min").astype(int)
    return df.sort_values("rank").reset_index(drop=True)


def _outputs(summary: pd.DataFrame, points: pd.DataFrame, metric: str, scenario: str,
             baseline: str | None) -> tuple[pd.DataFrame, np.ndarray]:
    """Design points in order and the output at each (paired with the baseline if given)."""
    pts = points[points["point"] >= 0].sort_values("point")
    s = summary[summary["scenario"] == scenario].groupby("point")[metric].mean()
    if baseline is not None:
        b = summary[summary["scenario"] == baseline].groupby("point")[metric].mean()
        s = s - b
    missing = sorted(set(pts["point"]) - set(s.dropna().index))
    if missing:
        raise ValueError(f"the analysis needs every design point; {len(missing)} points of "
                         f"{scenario!r} have no finished run (e.g. point {missing[0]})")
    return pts, s.loc[pts["point"]].to_numpy(dtype=float)


def sobol_indices(summary: pd.DataFrame, points: pd.DataFrame, factors: Sequence[dict],
                  metric: str, scenario: str, *, second_order: bool = False,
                  baseline: str | None = None, seed: int = 0,
                  num_resamples: int = 1000) -> pd.DataFrame:
    """Sobol first-order and total indices (SALib) of one metric for one scenario.

    Args:
        summary: Per-run summaries.
        points: Design points table, in SALib's Saltelli order.
        factors: Factor dicts (``name``, ``low``, ``high``, ``role``).
        metric: Output metric.
        scenario: Scenario.
        second_order: Whether the design was sampled with second-order indices.
        baseline: Optional baseline for effect sensitivity.
        seed: Seed of SALib's bootstrap of the intervals.
        num_resamples: Bootstrap resamples.

    Returns:
        Rows per factor: ``factor``, ``role``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``
        (``_conf``: half-width of the 95% bootstrap interval), sorted by ``ST``.

    Raises:
        ValueError: When some design point has no finished run.
    """
    from SALib.analyze import sobol as sobol_analyze

    names = [f["name"] for f in factors]
    _, Y = _outputs(summary, points, metric, scenario, baseline)
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[f["low"], f["high"]] for f in factors]}
    res = sobol_analyze.analyze(problem, Y, calc_second_order=second_order, conf_level=0.95,
                                num_resamples=num_resamples, seed=seed,
                                print_to_console=False)
    df = pd.DataFrame({"factor": names, "role": [f.get("role", "") for f in factors],
                       "S1": res["S1"], "S1_conf": res["S1_conf"], "ST": res["ST"],
                       "ST_conf": res["ST_conf"]})
    return df.sort_values("ST", ascending=False).reset_index(drop=True)
