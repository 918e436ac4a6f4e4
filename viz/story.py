"""The page's text: today's numbers, what each policy did, and how to read them.

Everything here is read from the model: the scenario's own description, each policy's
``progress`` line and its ledger, and the start-up period and "satisfied" explained from the
model's parameters (``satisfaction_memory``, ``satisfied_threshold``) and their declared
documentation, never from numbers typed into the page.
"""

from __future__ import annotations

import math

from model import CommerceModel
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
    lines += ["", reading_notes(model)]
    return "\n".join(lines)

