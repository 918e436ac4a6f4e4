"""The policy lifecycle: when (start/end day), who (eligibility), what, and at what cost.

A policy is a small dataclass. The model calls, each day, in the order of
``CommerceModel.step`` (policies in canonical order: by kind, then by parameters):

* ``setup(model)`` once, when the model is built (place stops, plan routes, add sites);
* ``begin_day(model)`` before needs are drawn; the base class switches the policy on at
  ``start_day`` (``activate``) and off after ``end_day`` (``deactivate``), then calls
  ``apply(model)`` on active days;
* ``after_choice(model, record)`` with today's DayRecord of choices and sales;
* ``rent_shares(model)`` when the shops' accounts are settled: the share of each shop's rent
  the policy offers to pay today (the economy caps the sum at the whole rent and tells each
  policy what it paid, in ``record.relief_paid``); shops a policy underwrites have their
  deficits made good (``record.deficit_paid``);
* ``after_entry(model, record)`` after the monthly entry (``record.opened``: e.g. pay grants);
* ``spending(model, record)``: the yuan of public money the policy paid today. It only reads
  (what the policy recorded when it acted, and the record); the model books it to the ledger
  under the policy's label.

Entrants ask every policy what it would give them (``entry_support``: rent share and grant
per category at a site) and how much it recruits chains (``chain_recruitment``). Residents'
knowledge asks which shops a platform lists today (``platform_shops``). For people, a
policy says what it has done (``progress``), which sites it created or changed (``sites``)
and which shops it supports (``supported_shops``).

The model gives each policy its ``label`` (the kind, or ``kind#i`` when a scenario has several
of a kind) and its own random stream keyed by that label, so the order in which a file lists
its policies changes nothing. A policy prints as the call that makes it and saves as
``{kind, params}``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import ScenarioError, suggest
from ..schema import check_mapping, spec

POLICY_KINDS: dict[str, type[Policy]] = {}
DAYS_PER_YEAR = 365  # a budget year


@dataclass
class Policy:
    """Base class of all policies (see the module docstring for the lifecycle)."""

    kind: ClassVar[str] = ""
    start_day: int = spec(0, "First day the policy acts.", lo=0, hi=36_500)
    end_day: int = spec(-1, "Last day the policy acts (-1: until the end).", lo=-1, hi=36_500)

    def __post_init__(self) -> None:
        self.label = self.kind  # the model sets the ledger label and the random stream
        self.rng = np.random.default_rng(0)

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
        """Cross-field rules; raise ScenarioError naming ``where``."""
        if self.end_day >= 0 and self.end_day < self.start_day:
            raise ScenarioError(where, f"policy.{self.kind}.end_day",
                                f"{self.end_day} is before start_day {self.start_day}")

    # --- lifecycle -----------------------------------------------------------------------
    def budget_year(self, day: int) -> tuple[int, int]:
        """(budget year, day within it) of ``day``: years of 365 days from the first active day."""
        return divmod(day - max(self.start_day, 1), DAYS_PER_YEAR)

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

    def after_choice(self, model, record) -> None:
        """See today's choices and sales (``record``: the model's DayRecord)."""

    def rent_shares(self, model) -> np.ndarray | None:
        """Share of each shop's rent this policy offers to pay today (None: none)."""
        return None

    def after_entry(self, model, record) -> None:
        """See the shops that opened at this month's entry (``record.opened``)."""

    def entry_support(self, model, site: int, chain: bool) -> tuple[np.ndarray, np.ndarray]:
        """What an entrant at ``site`` would get, per category: (rent share, one-off grant)."""
        k = model.categories.k
        return np.zeros(k), np.zeros(k)

    def platform_shops(self, model) -> np.ndarray | None:
        """Shop ids listed on a platform this policy runs today (known to its users), or None."""
        return None

    def chain_recruitment(self, model) -> float:
        """Multiplier on would-be chain entrants this month (1: none)."""
        return 1.0

    def spending(self, model, record) -> float:
        """Public money this policy paid today, in yuan (reads only).

        The base counts the rent relief and deficits the economy charged to it; a policy that
        pays more (grants, meals, operating deficits) adds what it recorded when it acted.
        """
        return record.relief_paid.get(self.label, 0.0) + record.deficit_paid.get(self.label, 0.0)

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


def validate_policy_spec(where: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Check a ``{kind, params}`` spec against the policy class; return a clean spec."""
    kind = spec.get("kind")
    if not isinstance(kind, str) or kind not in POLICY_KINDS:
        raise ScenarioError(where, "policy.kind", f"{kind!r} is not a policy kind"
                            + (suggest(kind, POLICY_KINDS) if isinstance(kind, str) else "")
                            + f"; known: {sorted(POLICY_KINDS)}")
    cls = POLICY_KINDS[kind]
    clean = check_mapping(where, cls, spec.get("params", {}), prefix=f"policy.{kind}.",
                          what="policy parameter")
    policy = cls(**clean)
    policy.check(where)
    return policy.spec()


def make_policy(spec: dict[str, Any]) -> Policy:
    """Build a policy object from a validated ``{kind, params}`` spec."""
    return POLICY_KINDS[spec["kind"]](**spec["params"])
