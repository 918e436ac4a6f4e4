"""The comparison report's section on graded circles (基础型、提升型、品质型).

How each scenario moves the grades of the communities' circles (the rule is
``model.grades``): the paired difference from the baseline, with intervals, of the share of
residents living in a community whose circle is at least basic (1 - ``grade_share_none``) and
of the share in a quality circle, overall and in old and new communities; the level of each of
the four grade shares per scenario; and a stacked bar of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from experiments.plan import REFERENCE_POINT
from experiments.report_doc import Doc
from experiments.report_figures import save_png
from experiments.report_tables import display_diffs
from experiments.stats import paired_differences
from model.grades import GRADES
from model.outcomes import GRADE_SUFFIXES

AT_LEAST_BASIC = "grade_share_at_least_basic"
"""A derived share: residents in a community graded basic or better (1 - ``grade_share_none``)."""
_LABELS = {"none": "below basic", "basic": "basic (基础型)", "upgraded": "upgraded (提升型)",
           "quality": "quality (品质型)"}


def grade_frame(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary with the derived ``grade_share_at_least_basic{,_old,_new}`` columns."""
    out = summary.copy()
    for sfx in GRADE_SUFFIXES:
        out[f"{AT_LEAST_BASIC}{sfx}"] = 1.0 - out[f"grade_share_none{sfx}"]
    return out


def add_grades_section(doc: Doc, out: Path, summary: pd.DataFrame, scenarios: Sequence[str],
                       others: Sequence[str], baseline: str, *, n_boot: int, level: float,
                       test: str, seed: int, point_label: bool = False) -> None:
    """Append the section (nothing if the runs carry no grade metrics).

    Args:
        point_label: label the differences by design point (experiments with factors).
    """
    if "grade_share_none" not in summary.columns:
        return
    frame = grade_frame(summary)
    metrics = [f"{base}{sfx}" for base in (AT_LEAST_BASIC, "grade_share_quality")
               for sfx in GRADE_SUFFIXES]
    doc.add("h2", "Graded circles (基础型、提升型、品质型)")
    doc.add("p", "A format counts in a community's circle where at least `grade_reach_share` of "
                 "its residents reach it within the category's standard walk; a circle is basic "
                 "with every basic format, upgraded with most quality formats too, quality with "
                 "all of them (the lines are parameters; docs/ODD.md 7.11). Shares of residents "
                 "by the grade of their community; differences from the baseline in "
                 "percentage points with 95% intervals.")
    diffs = paired_differences(frame, metrics, baseline, scenarios=list(others),
                               n_boot=n_boot, level=level, test=test, seed=seed)
    if not diffs.empty:
        doc.add("table", display_diffs(diffs, point_label))
    levels = grade_levels(frame, [s for s in scenarios if s in set(frame["scenario"])])
    doc.add("p", "Levels (post-warm-up means over replicates, % of residents):")
    doc.add("table", levels.reset_index())
    doc.add("fig", fig_grades(out, levels, "fig_grades.png"),
            "Share of residents by the grade of their community's circle")


def grade_levels(frame: pd.DataFrame, scenarios: Sequence[str]) -> pd.DataFrame:
    """Per scenario: % of residents in each grade, and at least basic in old / new communities."""
    base = frame[frame["point"].isin([0, REFERENCE_POINT])]
    cols = {f"grade_share_{g}": _LABELS[g] for g in GRADES}
    cols.update({f"{AT_LEAST_BASIC}_old": "at least basic, old",
                 f"{AT_LEAST_BASIC}_new": "at least basic, new"})
    tab = base.groupby("scenario")[list(cols)].mean() * 100
    tab = tab.reindex(list(scenarios)).rename(columns=cols)
    tab.index.name = "scenario"
    return tab


def fig_grades(root: Path, levels: pd.DataFrame, name: str) -> str:
    """Stacked horizontal bars: the four grade shares per scenario."""
    shares = levels[[_LABELS[g] for g in GRADES]]
    shares.columns = [_LABELS[g].split(" (")[0] for g in GRADES]  # the figure font has no CJK
    fig, ax = plt.subplots(figsize=(7.5, 1.2 + 0.35 * len(shares)))
    left = pd.Series(0.0, index=shares.index)
    colours = ("#bbbbbb", "#88ccee", "#44aa99", "#117733")  # colour-blind safe (Tol)
    for label, colour in zip(shares.columns, colours, strict=True):
        ax.barh(shares.index, shares[label], left=left, color=colour, label=label)
        left += shares[label].fillna(0.0)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of residents")
    ax.legend(ncols=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False,
              fontsize="small")
    fig.tight_layout()
    save_png(fig, root, name)
    plt.close(fig)
    return name
