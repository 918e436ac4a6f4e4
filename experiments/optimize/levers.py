"""Levers: what a policy team controls, and how a mix of lever values becomes a scenario.

A lever is named by the key it sets:

* ``policy.<kind>.<param>`` -- a policy parameter (``policy.mobile_vendors.n_buses``); the
  policy is added to the base scenario (with its defaults) if the base lacks it;
* ``policy.<kind>`` -- the whole policy, switched on or off (type ``switch``). Off **drops the
  policy from the scenario** (``Scenario.without_policy``), so it costs nothing and acts not
  at all; on keeps it (or adds it with its defaults). Its parameter levers then do not matter
  and are shown blank. A switch of a policy the base lacks may give ``settings``: the
  parameters it is added with (``{ start_day = 61 }``), so the base -- the search's
  baseline -- stays without it;
* ``<param>`` -- a scenario parameter (``model.params.Params``), e.g. ``entry_margin``.

Types: ``integer`` (``low``..``high``), ``real`` (``low``..``high``, optionally snapped to a
``step``), ``switch`` (on/off: a policy, or a true/false parameter) and ``choice`` (one of
``values``, e.g. ``placement = ["greedy", "mclp"]``).

:func:`apply_mix` builds the scenario of a mix; the scenario's fingerprint identifies the mix
(two mixes that give the same scenario share their simulations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

LEVER_TYPES: tuple[str, ...] = ("integer", "real", "switch", "choice")
"""The kinds of lever."""

FIRST_GENERATIONS: tuple[str, ...] = ("one_at_a_time", "random")
"""How the search's first generation is made (:func:`one_at_a_time`, or all at random)."""


@dataclass(frozen=True)
class Lever:
    """One lever of a problem.

    Attributes:
        name: The key it sets (see the module docstring).
        type: One of :data:`LEVER_TYPES`.
        low: Smallest value (integer, real).
        high: Largest value (integer, real).
        step: Real levers: values are snapped to ``low + k * step`` (0: not snapped).
        values: Choice levers: the allowed values.
        description: Free text for the report.
        settings: Switch levers: ``(param, value)`` pairs of the policy when switched on.
    """

    name: str
    type: str
    low: float | None = None
    high: float | None = None
    step: float = 0.0
    values: tuple[Any, ...] = ()
    description: str = ""
    settings: tuple[tuple[str, Any], ...] = ()

    @property
    def policy_kind(self) -> str | None:
        """The policy kind a ``policy.*`` lever acts on (``None`` for a scenario parameter)."""
        parts = self.name.split(".")
        return parts[1] if parts[0] == "policy" and len(parts) in (2, 3) else None

    @property
    def param(self) -> str | None:
        """The parameter it sets (``None`` for a policy switched on/off)."""
        parts = self.name.split(".")
        if parts[0] == "policy":
            return parts[2] if len(parts) == 3 else None
        return self.name

    @property
    def is_policy_switch(self) -> bool:
        """Whether the lever switches a whole policy on or off."""
        return self.policy_kind is not None and self.param is None

    def clean(self, value: Any) -> Any:
        """A value from the optimiser as the plain Python value of this lever."""
        if self.type == "integer":
            return int(round(float(value)))
        if self.type == "real":
            v = float(value)
            if self.step > 0 and self.low is not None:
                v = self.low + round((v - self.low) / self.step) * self.step
                v = round(v, 12)
            if self.low is not None and self.high is not None:
                v = min(max(v, self.low), self.high)
            return v
        if self.type == "switch":
            return bool(value)
        return value.item() if hasattr(value, "item") else value

    def corner(self, high: bool) -> Any:
        """The lever's lowest or highest value (off/on for a switch; first/last choice)."""
        if self.type == "switch":
            return high
        if self.type == "choice":
            return self.values[-1 if high else 0]
        return self.clean(self.high if high else self.low)

    def to_dict(self) -> dict[str, Any]:
        """The lever as saved with results."""
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.type in ("integer", "real"):
            out.update(low=self.low, high=self.high)
        if self.type == "real" and self.step:
            out["step"] = self.step
        if self.type == "choice":
            out["values"] = list(self.values)
        if self.settings:
            out["settings"] = dict(self.settings)
        return out


def one_at_a_time(levers: tuple[Lever, ...]) -> list[dict[str, Any]]:
    """The do-nothing mix, then each lever alone at its highest value (the rest at their lowest).

    Every lever's lowest value (a switch off, the first choice) is the base scenario's "do
    nothing" when the levers are intensities starting at zero; each lever alone then shows
    what it buys and costs by itself, so a budget search starts from mixes that fit rather
    than from random mixes, most of which spend several budgets at once. Choice levers
    (placement) are not moved alone: they matter only together with an intensity.
    """
    low = {lv.name: lv.corner(False) for lv in levers}
    mixes = [low]
    for lv in levers:
        if lv.type != "choice":
            mixes.append({**low, lv.name: lv.corner(True)})
    return mixes


def canonical_mix(levers: tuple[Lever, ...], mix: dict[str, Any]) -> dict[str, Any]:
    """The mix with plain values, and ``None`` for levers of a policy switched off."""
    clean = {lv.name: lv.clean(mix[lv.name]) for lv in levers}
    off = {lv.policy_kind for lv in levers if lv.is_policy_switch and not clean[lv.name]}
    for lv in levers:
        if not lv.is_policy_switch and lv.policy_kind in off:
            clean[lv.name] = None
    return clean


def apply_mix(base: Any, levers: tuple[Lever, ...], mix: dict[str, Any]) -> Any:
    """The scenario of a mix: the base scenario with every lever's value set.

    Args:
        base: The base ``model.Scenario`` (fixed settings applied).
        levers: The problem's levers.
        mix: Lever name -> value (as from :func:`canonical_mix`).

    Returns:
        A validated ``model.Scenario``.

    Raises:
        ScenarioError: A value the scenario refuses (naming the key).
    """
    params: dict[str, Any] = {}
    policy_params: dict[str, dict[str, Any]] = {}
    switched: dict[str, bool] = {}
    added: dict[str, dict[str, Any]] = {}  # a switch's settings: under the parameter levers
    for lv in levers:
        value = mix[lv.name]
        if lv.is_policy_switch:
            switched[lv.policy_kind] = bool(value)
            added[lv.policy_kind] = dict(lv.settings)
        elif lv.policy_kind is not None:
            if value is not None:
                policy_params.setdefault(lv.policy_kind, {})[lv.param] = value
        else:
            params[lv.name] = value
    scenario = base.with_overrides(params) if params else base
    for kind in sorted(set(policy_params) | set(switched)):
        if switched.get(kind, True):
            scenario = scenario.with_policy(kind, **{**added.get(kind, {}),
                                                     **policy_params.get(kind, {})})
        else:
            scenario = scenario.without_policy(kind)
    return scenario


def describe_mix(levers: tuple[Lever, ...], mix: dict[str, Any]) -> str:
    """A mix in one line (``mobile_vendors.n_buses=2, elderly_canteen=off``)."""
    parts = []
    for lv in levers:
        v = mix.get(lv.name)
        if v is None:
            continue
        label = lv.name.removeprefix("policy.")
        if isinstance(v, bool):
            text = "on" if v else "off"
        elif isinstance(v, float):
            text = (str(v) if not math.isfinite(v) else f"{v:,.0f}" if abs(v) >= 1000
                    else f"{v:.3g}")
        else:
            text = str(v)
        parts.append(f"{label}={text}")
    return ", ".join(parts)
