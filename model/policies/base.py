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

A policy prints as the call that makes it and saves as ``{kind, params}``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

POLICY_KINDS: dict[str, type[Policy]] = {}


def param(default: Any, doc: str, lo: float | None = None, hi: float | None = None,
          source: str = "assumption", choices: tuple[str, ...] | None = None) -> Any:
    """Declare a policy parameter with documentation, range and source."""
    return field(default=default, metadata={"doc": doc, "min": lo, "max": hi, "source": source,
                                            "choices": choices})


@dataclass
class Policy:
    """Base class of all policies (see the module docstring for the lifecycle)."""

    kind: ClassVar[str] = ""
    start_day: int = param(0, "First day the policy acts.", 0, None)
    end_day: int = param(-1, "Last day the policy acts (-1: until the end).", -1, None)

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

    def check(self, where: str) -> None:
        """Cross-field rules; raise ScenarioError naming ``where`` (none by default)."""
        from ..scenario import ScenarioError

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


def validate_policy_spec(where: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Check a ``{kind, params}`` spec against the policy class; return a clean spec."""
    from ..params import check_range, coerce_value, suggest
    from ..scenario import ScenarioError

    kind = spec.get("kind")
    if not isinstance(kind, str) or kind not in POLICY_KINDS:
        raise ScenarioError(where, "policy.kind", f"{kind!r} is not a policy kind"
                            + (suggest(kind, list(POLICY_KINDS)) if isinstance(kind, str) else "")
                            + f"; known: {sorted(POLICY_KINDS)}")
    cls = POLICY_KINDS[kind]
    fields_ = {f.name: f for f in dataclasses.fields(cls) if f.init}
    clean: dict[str, Any] = {}
    for key, value in spec.get("params", {}).items():
        name = f"policy.{kind}.{key}"
        if key not in fields_:
            raise ScenarioError(where, name, "unknown policy parameter" + suggest(key, list(fields_)))
        f = fields_[key]
        kind_t = {"int": int, "float": float, "bool": bool, "str": str}.get(str(f.type))
        if kind_t is None:  # lists (routes, stops) are checked by the policy itself
            clean[key] = value
            continue
        v = coerce_value(where, name, value, kind_t)
        if kind_t in (int, float):
            check_range(where, name, v, f.metadata.get("min"), f.metadata.get("max"))
        if f.metadata.get("choices") and v not in f.metadata["choices"]:
            raise ScenarioError(where, name, f"{v!r} is not allowed; use one of "
                                f"{list(f.metadata['choices'])}")
        clean[key] = v
    policy = cls(**clean)
    policy.check(where)
    return policy.spec()


def make_policy(spec: dict[str, Any]) -> Policy:
    """Build a policy object from a validated ``{kind, params}`` spec."""
    return POLICY_KINDS[spec["kind"]](**spec["params"])
