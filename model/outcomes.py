"""What the model reports: every daily metric's name, its words and unit, and its kind.

Declared once and imported by every part that names metrics (the model's DataCollector,
experiments, the report, validation, the viewer): ``metric_names`` lists the daily metrics in
order; ``describe_metric`` gives each in words with its unit; ``HEADLINE_METRICS`` are read
first; ``STOCK_METRICS`` and ``cumulative_metrics`` say how a run's summary treats levels and
money to date. What each metric measures is in ``model/metrics.py`` and docs/ODD.md 7.9.
"""

from __future__ import annotations

from .grades import GRADES

SUBGROUPS = ("old", "new", "elderly", "nonelderly")
"""Subgroups of residents metrics are broken down by: old / new communities, 60+ / under 60."""

GRADE_SUFFIXES = ("", "_old", "_new")
"""Circle grade shares are reported for everyone and for old and new communities."""

PERCENTILES = (10, 50, 90)
"""Percentiles of residents' satisfaction reported daily (the distribution, not one line)."""


def metric_names(categories: list[str] | tuple[str, ...],
                 policy_kinds: list[str] | tuple[str, ...]) -> list[str]:
    """Names of the daily metrics, in order.

    Args:
        categories: the category names of the table.
        policy_kinds: every policy kind (one ``spend_<kind>`` each).
    """
    names = ["satisfaction_mean", "share_satisfied"]
    names += [f"share_satisfied_{g}" for g in SUBGROUPS]
    names += ["share_satisfied_low_line", "share_satisfied_high_line"]
    names += [f"satisfaction_p{q}" for q in PERCENTILES]
    names += ["surplus_yuan"] + [f"surplus_yuan_{g}" for g in SUBGROUPS] + ["surplus_yuan_total"]
    names += [f"coverage_{c}" for c in categories] + ["coverage_basic_all"]
    names += [f"coverage_basic_all_{g}" for g in SUBGROUPS]
    names += [f"grade_share_{grade}{suffix}" for suffix in GRADE_SUFFIXES for grade in GRADES]
    names += ["unmet_rate", "turned_away_rate", "mean_walk_min", "outlets_open", "chain_rate",
              "independents_open", "outlets_opened", "outlets_closed", "residents",
              "residents_per_outlet", "public_spend"]
    names += [f"spend_{kind}" for kind in sorted(policy_kinds)]
    names += ["rent_subsidy_share", "gini_satisfaction", "gini_access", "entrant_closed_2y",
              "occupancy_new"]
    return names


HEADLINE_METRICS = ("share_satisfied", "share_satisfied_old", "share_satisfied_new",
                    "share_satisfied_elderly", "surplus_yuan", "coverage_basic_all",
                    "coverage_basic_all_old", "coverage_basic_all_new", "coverage_fresh_food",
                    "unmet_rate", "mean_walk_min", "chain_rate", "outlets_open",
                    "residents_per_outlet", "public_spend")
"""The metrics a person reads first: printed by ``lifecircle run``; reports lead with a part."""

LEAD_METRICS = ("surplus_yuan", "share_satisfied", "coverage_basic_all")
"""The part of ``HEADLINE_METRICS`` a comparison leads with: one metric per kind of outcome
(welfare in yuan, the share satisfied, the share reaching every basic format). A subset because
the report's at-a-glance table, its brief, its subgroup breakdown and the validation's ranking
check read across every scenario, and stay readable only with a few columns."""

SERIES_METRICS = ("share_satisfied", "coverage_basic_all", "unmet_rate", "public_spend")
"""The part of ``HEADLINE_METRICS`` a comparison report draws day by day: the two shares, the
needs that went unmet and the money spent to date (one panel each)."""

_GROUP_WORDS = {"old": "in old communities", "new": "in new communities",
                "elderly": "aged 60+", "nonelderly": "under 60"}
_WORDS = {
    "satisfaction_mean": ("mean satisfaction (0-1 score)", "share"),
    "share_satisfied": ("residents satisfied", "share"),
    "share_satisfied_low_line": ("residents satisfied at the lower line", "share"),
    "share_satisfied_high_line": ("residents satisfied at the higher line", "share"),
    "satisfaction_p10": ("satisfaction of the least satisfied tenth", "share"),
    "satisfaction_p50": ("median satisfaction", "share"),
    "satisfaction_p90": ("satisfaction of the most satisfied tenth", "share"),
    "surplus_yuan": ("consumer surplus per resident a day", "yuan"),
    "surplus_yuan_total": ("consumer surplus of all residents a day", "yuan"),
    "coverage_basic_all": ("residents reaching every basic format within its standard walk",
                           "share"),
    "unmet_rate": ("needs that went unmet", "share"),
    "turned_away_rate": ("needs turned away at a full shop", "share"),
    "mean_walk_min": ("walk to the shop chosen", "minutes"),
    "outlets_open": ("outlets open", "count"),
    "chain_rate": ("outlets that are chains", "share"),
    "independents_open": ("independent outlets open", "count"),
    "outlets_opened": ("outlets opened that day", "count"),
    "outlets_closed": ("outlets closed that day", "count"),
    "residents": ("residents living in the circle", "count"),
    "residents_per_outlet": ("residents per outlet", "count"),
    "public_spend": ("public money spent to date", "yuan"),
    "rent_subsidy_share": ("share of rent the rent subsidy pays (after pacing)", "share"),
    "gini_satisfaction": ("inequality of satisfaction (Gini)", "share"),
    "gini_access": ("inequality of access (Gini)", "share"),
    "entrant_closed_2y": ("new shops closed within two years", "share"),
    "occupancy_new": ("occupancy of new communities", "share"),
    "grade_share_none": ("residents in a circle below the basic grade", "share"),
    "grade_share_basic": ("residents in a basic circle (基础型)", "share"),
    "grade_share_upgraded": ("residents in an upgraded circle (提升型)", "share"),
    "grade_share_quality": ("residents in a quality circle (品质型)", "share"),
    "grade_share_at_least_basic": ("residents in a circle of basic grade or better", "share"),
}
_UNIT_WORDS = {"share": "percentage points", "yuan": "yuan", "minutes": "minutes",
               "count": ""}


def describe_metric(name: str) -> tuple[str, str]:
    """``(words, unit)`` of a metric for people: ``("residents satisfied", "share")``.

    The unit is ``share`` (a 0..1 quantity, shown in percentage points), ``yuan``,
    ``minutes`` or ``count``. Unknown names come back as themselves with unit ``count``.
    """
    if name in _WORDS:
        return _WORDS[name]
    base, _, group = name.rpartition("_")
    if group in _GROUP_WORDS and base in _WORDS:
        words, unit = _WORDS[base]
        return f"{words}, {_GROUP_WORDS[group]}", unit
    if name.startswith("coverage_"):
        what = name.removeprefix("coverage_").replace("_", " ")
        return f"residents reaching {what} within its standard walk", "share"
    if name.startswith("spend_"):
        what = name.removeprefix("spend_").replace("_", " ")
        return f"public money spent on {what} to date", "yuan"
    return name, "count"


def metric_label(name: str) -> str:
    """A metric in words with its code name and unit: "residents satisfied (share_satisfied, pp)"."""
    words, unit = describe_metric(name)
    unit_text = {"share": "pp"}.get(unit, _UNIT_WORDS.get(unit, ""))
    return f"{words} (`{name}`{', ' + unit_text if unit_text else ''})"


def is_share(name: str) -> bool:
    """Whether a metric is a 0..1 quantity (differences shown in percentage points)."""
    return describe_metric(name)[1] == "share"


STOCK_METRICS = ("public_spend", "outlets_open", "chain_rate", "residents")
"""Metrics that are stocks (levels at a date): summaries also keep their final value."""


def cumulative_metrics(policy_kinds: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Metrics that add up from day 1: money to date.

    Summaries take them at their final value and over the measured window
    (``<name>_measured``), never as a mean of the running total.
    """
    return ("public_spend", *(f"spend_{kind}" for kind in sorted(policy_kinds)))


