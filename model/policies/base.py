"""The policy lifecycle: when (start/end day), who (eligibility), what, and at what cost.

A policy is a small dataclass. The model calls, each day, in the order of
``CommerceModel.step``:

* ``setup(model)`` once, when the model is built (place stops, plan routes, add sites);
* ``begin_day(model)`` before needs are drawn; the base class switches the policy on at
  ``start_day`` (``activate``) and off after ``end_day`` (``deactivate``), then calls
  ``apply(model)`` on active days;
* ``after_choice(model, day)`` with today's choices (e.g. to price meals or deliveries);
* ``spend_today(model)`` after the shops' accounts: the yuan of public money the policy spent
  today, which the model books to its ledger under the policy's label.

For people, a policy also says what it has done (``progress``), which sites it created or
changed (``sites``) and which shops it supports (``supported_shops``).

A policy prints as the call that makes it and saves as ``{kind, params}``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ScenarioError, suggest
from ..schema import check_mapping, spec

POLICY_KINDS: dict[str, type[Policy]] = {}


@dataclass
class Policy:
    """Base class of all policies (see the module docstring for the lifecycle)."""

    kind: ClassVar[str] = ""
    inputs: dict[str, Any] = dataclasses.field(default_factory=dict, init=False, repr=False,
                                               compare=False)
    start_day: int = spec(0, "First day the policy acts.", lo=0, hi=36_500)
    end_day: int = spec(-1, "Last day the policy acts (-1: until the end).", lo=-1, hi=36_500)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            POLICY_KINDS[cls.kind] = cls

    # --- identity ------------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        """Parameters as a plain dict."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}

    def spec(self) -> dict[str, Any]:
        """``{kind, params}``: how the policy is saved with results."""
        return {"kind": self.kind, "params": self.params()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{self.kind}({args})"

    def check(self, where: str, categories: tuple[str, ...] = ()) -> None:
        """Cross-field rules and inputs; raise ScenarioError naming ``where``.

        Args:
            where: The scenario file the policy was declared in.
            categories: The names of the scenario's category table.
        """
        if self.end_day >= 0 and self.end_day < self.start_day:
            raise ScenarioError(where, f"policy.{self.kind}.end_day",
                                f"{self.end_day} is before start_day {self.start_day}")

    # --- lifecycle -----------------------------------------------------------------------
    def is_active(self, day: int) -> bool:
        """Whether the policy acts on ``day``."""
        return day >= self.start_day and (self.end_day < 0 or day <= self.end_day)

    def setup(self, model) -> None:
        """Prepare against the model (called once, at day 0)."""
        self._running = False

    def begin_day(self, model) -> None:
        """Switch on/off at the boundaries, then act on active days."""
        active = self.is_active(model.day)
        if active and not self._running:
            self.activate(model)
            self._running = True
        elif not active and self._running:
            self.deactivate(model)
            self._running = False
        if active:
            self.apply(model)

    def activate(self, model) -> None:
        """Start acting (save originals of anything changed)."""

    def deactivate(self, model) -> None:
        """Stop acting (restore originals)."""

    def apply(self, model) -> None:
        """Act on an active day, before needs and choices."""

    def after_choice(self, model, day) -> None:
        """See today's choices (``day`` is the model's DayRecord)."""

    def spend_today(self, model) -> float:
        """Public money spent today, in yuan."""
        return 0.0

    # --- what it did (for people: the viewer and reports) ----------------------------------
    def progress(self, model) -> str:
        """What the policy has done so far, in one short line ("2 canteens open, ...")."""
        return ""

    def sites(self, model) -> np.ndarray:
        """Site ids (``model.supply.site_xy``) the policy created or changed."""
        return np.zeros(0, dtype=np.int64)

    def supported_shops(self, model) -> np.ndarray:
        """Shop ids the policy opened, converts, subsidizes or underwrites now."""
        return np.zeros(0, dtype=np.int64)


def validate_policy_spec(where: str, spec: dict[str, Any],
                         categories: tuple[str, ...] = ()) -> dict[str, Any]:
    """Check a ``{kind, params}`` spec against the policy class; return a clean spec.

    The clean spec also carries ``inputs``: what the policy read from files while being
    checked (a routes file's stops), so that they are part of the configuration and its hash.
    """
    kind = spec.get("kind")
    if not isinstance(kind, str) or kind not in POLICY_KINDS:
        raise ScenarioError(where, "policy.kind", f"{kind!r} is not a policy kind"
                            + (suggest(kind, POLICY_KINDS) if isinstance(kind, str) else "")
                            + f"; known: {sorted(POLICY_KINDS)}")
    cls = POLICY_KINDS[kind]
    clean = check_mapping(where, cls, spec.get("params", {}), prefix=f"policy.{kind}.",
                          what="policy parameter")
    policy = cls(**clean)
    policy.check(where, tuple(categories))
    out = policy.spec()
    if policy.inputs:
        out["inputs"] = policy.inputs
    return out


def make_policy(spec: dict[str, Any]) -> Policy:
    """Build a policy object from a validated ``{kind, params}`` spec (and its inputs)."""
    policy = POLICY_KINDS[spec["kind"]](**spec["params"])
    policy.inputs = dict(spec.get("inputs", {}))
    return policy
