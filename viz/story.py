"""The page's text: today's numbers, what each policy did, and how to read them.

Everything here is read from the model: the scenario's own description, each policy's
``progress`` line and its ledger, and the start-up period and "satisfied" explained from the
model's parameters (``satisfaction_initial``, ``satisfaction_memory``,
``satisfied_threshold``), never from numbers typed into the page.
"""

from __future__ import annotations

import math

from model import CommerceModel

from .run import Run


def pct(value: float | None) -> str:
    """A share as a whole percentage ("–" when unknown)."""
    return "–" if value is None or not math.isfinite(value) else f"{100 * value:.0f}%"


def needs_per_resident_day(model: CommerceModel) -> float:
    """Expected needs of a present resident per day (category frequencies by group)."""
    groups = model.population.group[model.present_idx]
    if len(groups) == 0:
        return 0.0
    per_group = model.categories.freq.sum(axis=1)  # (group,)
    return float(per_group[groups].mean())


def startup_days(model: CommerceModel, forgotten: float) -> float:
    """Days until a share ``forgotten`` of the starting satisfaction has been averaged away."""
    memory = model.params.satisfaction_memory
    per_day = needs_per_resident_day(model)
    if memory <= 0 or memory >= 1 or per_day <= 0:
        return math.inf
    needs = math.log(1 - forgotten) / math.log(1 - memory)
    return needs / per_day


def reading_notes(model: CommerceModel) -> str:
    """How to read satisfaction: the start-up period and the meaning of "satisfied"."""
    p = model.params
    half, most = startup_days(model, 0.5), startup_days(model, 0.95)
    return (
        f"**Satisfied** means a resident's satisfaction (a moving average of how well their "
        f"needs were met, 0 to 1) is at least **{p.satisfied_threshold:.2f}**; the official "
        f"target is 90% of residents satisfied.  \n"
        f"**Start-up period:** everyone starts at satisfaction {p.satisfaction_initial:.2f}. "
        f"Each need moves a resident's satisfaction {p.satisfaction_memory:.0%} of the way "
        f"to that need's outcome; with about {needs_per_resident_day(model):.1f} needs a "
        f"resident a day, the starting value is half forgotten after ~{half:.0f} days and "
        f"95% after ~{most:.0f} days. Read the first ~{most:.0f} days as the model settling "
        f"in, not as a trend."
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
        change = f" ({delta:+.1f} points since yesterday)"
    lines += [
        "",
        f"- **Satisfied residents:** {pct(m['share_satisfied'])}{change}: old communities "
        f"{pct(m['share_satisfied_old'])}, new {pct(m['share_satisfied_new'])}, "
        f"elderly {pct(m['share_satisfied_elderly'])}.",
        f"- **All basic formats within their walk:** {pct(m['coverage_basic_all'])} of "
        f"residents; fresh food alone: {pct(m['coverage_fresh_food'])}.",
        f"- **Outlets open:** {m['outlets_open']:.0f}, of which chains {pct(m['chain_rate'])}.",
        f"- **Public spend so far:** ¥{m['public_spend']:,.0f}.",
    ]
    twin = run.twin
    if twin is not None:
        t = twin.metrics()
        diff = 100 * (m["share_satisfied"] - t["share_satisfied"])
        cov = 100 * (m["coverage_basic_all"] - t["coverage_basic_all"])
        lines.append(f"- **Compared with the baseline** (same seed, no policy, dotted lines): "
                     f"satisfied {diff:+.1f} points, all basic formats {cov:+.1f} points, "
                     f"for ¥{m['public_spend'] - t['public_spend']:,.0f}.")
    pol = policy_lines(model)
    lines += ["", "**What the policies did:**" if pol else "**No policy in force.**", "", *pol]
    lines += ["", reading_notes(model)]
    return "\n".join(lines)

