"""The page's text: today's numbers, what each policy did, and how to read them.

Everything here is read from the model: the scenario's own description, each policy's
``progress`` line and its ledger, the start-up period and "satisfied" explained from the
model's parameters (``satisfaction_memory``, ``satisfied_threshold``) and their declared
documentation, and the circle grades' rule from ``model.grades`` and its parameters, never
from numbers typed into the page.
"""

from __future__ import annotations

import math

import numpy as np

from model import CommerceModel
from model.grades import grade_from_formats
from model.params import PARAM_FIELDS

from .run import Run


def pct(value: float | None) -> str:
    """A share as a whole percentage ("–" when unknown)."""
    return "–" if value is None or not math.isfinite(value) else f"{100 * value:.0f}%"


def points(diff: float) -> str:
    """A difference of shares in percentage points ("–" when unknown)."""
    return "–" if not math.isfinite(diff) else f"{100 * diff:+.1f} points"


def basic_walk(model: CommerceModel) -> str:
    """The basic formats' standard walk(s) in minutes, in words ("10 minutes")."""
    cats = model.categories
    minutes = sorted({float(m) for m in cats.standard_min[cats.basic]})
    return " to ".join(f"{m:g}" for m in minutes) + " minutes"


def needs_per_resident_day(model: CommerceModel) -> float:
    """Expected needs of a present resident per day (category frequencies by group)."""
    groups = model.population.group[model.present_idx]
    if len(groups) == 0:
        return 0.0
    per_group = model.categories.freq.sum(axis=1)  # (group,)
    return float(per_group[groups].mean())


def startup_days(model: CommerceModel) -> float:
    """Days until a typical resident's satisfaction becomes a moving average.

    A resident's first ``1 / satisfaction_memory`` outcomes are averaged with equal weight
    (``model.satisfaction``); with the expected needs per day, that many outcomes take this
    many days.
    """
    memory = model.params.satisfaction_memory
    per_day = needs_per_resident_day(model)
    if memory <= 0 or per_day <= 0:
        return math.inf
    return (1.0 / memory) / per_day


def reading_notes(model: CommerceModel) -> str:
    """How to read satisfaction: the start-up period and what "satisfied" means.

    Written from the model's parameters and their declared documentation.
    """
    p = model.params
    threshold_doc = PARAM_FIELDS["satisfied_threshold"].metadata["doc"].rstrip(".")
    outcomes = 1.0 / p.satisfaction_memory
    return (
        f"**Satisfied:** {threshold_doc}. In this run the threshold is "
        f"**{p.satisfied_threshold:.2f}**; the official target is 90% of residents satisfied."
        f"  \n**Start-up period:** a resident has no satisfaction before their first need "
        f"(day 0 shows –). Their first {outcomes:.0f} outcomes are averaged equally; after "
        f"that each new outcome weighs {p.satisfaction_memory:.0%} "
        f"(the model's satisfaction_memory), so older ones fade. With about "
        f"{needs_per_resident_day(model):.1f} needs a resident a day, read the first "
        f"~{startup_days(model):.0f} days as the model settling in: averages of few "
        f"outcomes, not a trend."
    )


def quality_formats_needed(model: CommerceModel) -> tuple[int, int, int]:
    """(quality formats, how many an upgraded circle needs, how many a quality circle needs).

    Asked of ``model.grades.grade_from_formats`` itself: a circle with every basic format and
    0, 1, 2, ... quality formats, at the model's ``grade_upgraded_share`` and
    ``grade_quality_share``.
    """
    cats, p = model.categories, model.params
    quality = np.flatnonzero(~cats.basic)
    rows = np.tile(cats.basic, (len(quality) + 1, 1))
    for q in range(1, len(quality) + 1):
        rows[q, quality[:q]] = True
    grade = grade_from_formats(rows, cats.basic, p.grade_upgraded_share, p.grade_quality_share)
    return (len(quality), int(np.argmax(grade >= 2)), int(np.argmax(grade >= 3)))


def grade_rule(model: CommerceModel) -> str:
    """The rule of the circle grades in words, with this model's thresholds and formats."""
    cats = model.categories
    basic = [n.replace("_", " ") for n, b in zip(cats.names, cats.basic, strict=True) if b]
    quality = [n.replace("_", " ") for n, b in zip(cats.names, cats.basic, strict=True) if not b]
    n_quality, up, top = quality_formats_needed(model)
    return (f"A community's circle has a format when at least "
            f"{model.params.grade_reach_share:.0%} of its residents reach it on foot within the "
            f"format's standard walk (a vendor bus stop counts on its days; deliveries and care "
            f"at home do not). "
            f"Basic: all {len(basic)} basic formats ({', '.join(basic)}). Upgraded: basic and "
            f"at least {up} of the {n_quality} quality formats ({', '.join(quality)}). "
            f"Quality: basic and {'all' if top == n_quality else f'at least {top} of the'} "
            f"{n_quality}. Otherwise below basic. The source names the three grades without a "
            f"rule; these thresholds are the model's assumptions.")


def grade_line(metrics: dict[str, float]) -> str:
    """The share of residents in a circle of each grade, best first."""
    return (f"quality {pct(metrics['grade_share_quality'])}, upgraded "
            f"{pct(metrics['grade_share_upgraded'])}, basic {pct(metrics['grade_share_basic'])}"
            f", below basic {pct(metrics['grade_share_none'])} of residents")


def policy_lines(model: CommerceModel) -> list[str]:
    """One line per policy: what it has done so far and the public money it spent."""
    out = []
    for label, policy in zip(model.policy_labels, model.policies, strict=True):
        name = label.replace("_", " ")
        if model.day < policy.start_day:
            done = f"starts on day {policy.start_day}"
        else:
            done = policy.progress(model) or "acting"
            if policy.end_day >= 0 and model.day > policy.end_day:
                done += f" (ended on day {policy.end_day})"
        out.append(f"- **{name}**: {done}; ¥{model.ledger[label]:,.0f} spent so far.")
    return out


def summary_markdown(run: Run) -> str:
    """A few sentences on the run and today's numbers."""
    model = run.model
    m = model.metrics()
    frame = run.frame()
    lines = [f"### Day {model.day}"]
    where = f"Scenario **{model.config.name}**, seed {run.settings.seed}"
    lines.append(where + (f" — {run.origin}" if run.origin else "") + ".")
    if model.config.description:
        lines.append(f"> {' '.join(model.config.description.split())}")
    change = ""
    if len(frame) >= 2:
        delta = 100 * (frame["share_satisfied"].iloc[-1] - frame["share_satisfied"].iloc[-2])
        change = f" ({delta:+.1f} points since yesterday)" if math.isfinite(delta) else ""
    lines += [
        "",
        f"- **Satisfied residents:** {pct(m['share_satisfied'])}{change}: old communities "
        f"{pct(m['share_satisfied_old'])}, new {pct(m['share_satisfied_new'])}, "
        f"elderly {pct(m['share_satisfied_elderly'])}.",
        f"- **All basic formats within the standard walk** ({basic_walk(model)}): "
        f"{pct(m['coverage_basic_all'])} of residents; fresh food alone: "
        f"{pct(m['coverage_fresh_food'])}.",
        f"- **Circle grades** (the \"Circle grade\" map layer): {grade_line(m)}.",
        f"- **Outlets open:** {m['outlets_open']:.0f}, of which chains {pct(m['chain_rate'])}.",
        f"- **Public spend so far:** ¥{m['public_spend']:,.0f}.",
    ]
    twin = run.twin
    if twin is not None:
        t = twin.metrics()
        lines.append(f"- **Compared with the baseline** (same seed, no policy, dotted lines): "
                     f"satisfied {points(m['share_satisfied'] - t['share_satisfied'])}, all "
                     f"basic formats {points(m['coverage_basic_all'] - t['coverage_basic_all'])}"
                     f", for ¥{m['public_spend'] - t['public_spend']:,.0f}.")
    pol = policy_lines(model)
    lines += ["", "**What the policies did:**" if pol else "**No policy in force.**", "", *pol]
    lines += ["", reading_notes(model), "", f"**Circle grades:** {grade_rule(model)}"]
    return "\n".join(lines)

