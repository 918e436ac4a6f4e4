"""The page's set-up: scenario, seed and policy levers, and the model they build.

A lever is a slider or switch for one value of the scenario: a flat parameter of
``model.params.Params`` (the community mix), or a parameter of one policy class (the number of
vendor buses of :class:`~model.policies.MobileVendors`, ...). Its type and allowed range come
from the field's declaration (``model.schema.spec``); the lever only adds a label, the slider's
range and the *off* value that removes the policy from the scenario.

The user edits *pending* :class:`Settings`; Reset builds a model from them
(:func:`build_model`). A lever the user did not move keeps the scenario's value, read from the
scenario itself (:func:`lever_value`), so a slider always shows the value the next Reset will
use, and whether the running model uses it already.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import model.scenario as scenario_files
from model import CommerceModel, Scenario, load_scenario
from model.params import PARAM_FIELDS
from model.policies import (
    ChainPenetration,
    ElderlyCanteen,
    HomeCare,
    InstantRetail,
    MobileVendors,
    MultiFunctionStores,
    Policy,
    RentSubsidy,
    SmartPlatform,
)
from model.schema import kind_of

DEFAULT_SCENARIO = "baseline"
DEFAULT_SEED = 1


@dataclass(frozen=True)
class Lever:
    """One slider or switch of the page.

    Attributes:
        name: key in :attr:`Settings.levers` (and the CSS class ``lc-lever-<name>``).
        label: what the page calls it.
        param: the ``Params`` field, or the policy's parameter (``None``: an on/off policy).
        policy: the policy class the lever drives, or ``None`` for a flat parameter.
        lo: slider minimum; hi: slider maximum; step: slider step (numbers only).
        off: the value that removes the policy (``None`` for a flat parameter).
    """

    name: str
    label: str
    param: str | None
    policy: type[Policy] | None = None
    lo: float = 0.0
    hi: float = 1.0
    step: float = 0.05
    off: Any = None

    @property
    def kind(self) -> type:
        """``int``, ``float`` or ``bool``: the type declared for the field it sets."""
        if self.policy is None:
            return kind_of(PARAM_FIELDS[self.param])
        if self.param is None:
            return bool
        fields = {f.name: f for f in dataclasses.fields(self.policy)}
        return kind_of(fields[self.param])

    def coerce(self, value: Any) -> Any:
        """``value`` as the lever's type."""
        return self.kind(value)


LEVERS: tuple[Lever, ...] = (
    Lever("share_old", "Community mix: share of old communities", "share_old"),
    Lever("n_buses", "Mobile-vendor buses (0 = none)", "n_buses", MobileVendors, lo=0, hi=20,
          step=1, off=0),
    Lever("chain_target", "Chain target rate (0 = no chain push)", "target_chain_rate",
          ChainPenetration, off=0.0),
    Lever("rent_subsidy_share", "Rent subsidy, share of rent (0 = none)", "share", RentSubsidy,
          off=0.0),
    Lever("canteen_discount", "Elderly canteens: meal discount 60+ (0 = no canteens)",
          "discount_60", ElderlyCanteen, off=0.0),
    Lever("instant_retail", "Instant retail (online order + delivery)", None, InstantRetail,
          off=False),
    Lever("home_care_providers", "Care at home: providers (0 = none)", "n_providers", HomeCare,
          lo=0, hi=10, step=1, off=0),
    Lever("service_stores", "Stores with many services: share approached a month (0 = none)",
          "approach_share", MultiFunctionStores, off=0.0),
    Lever("consideration_sets", "Residents know only part of the shops", "consideration_sets"),
    Lever("platform_join", "Smart platform: share of shops listed (0 = none; it matters only "
          "when residents know part of the shops)", "join_share", SmartPlatform, off=0.0),
)
LEVER_BY_NAME = {lever.name: lever for lever in LEVERS}


def scenario_choices() -> list[str]:
    """The picker's entries: every scenario of ``model.scenario.SCENARIO_DIR``, baseline first."""
    names = scenario_files.scenario_names()
    return [DEFAULT_SCENARIO, *[n for n in names if n != DEFAULT_SCENARIO]]


def scenario_file(name: str) -> Scenario:
    """The named scenario in the scenario folder, as its file says."""
    return _scenario_at(scenario_files.SCENARIO_DIR / f"{name}.toml")


@lru_cache(maxsize=64)
def _scenario_at(path: Path) -> Scenario:
    """A scenario file, loaded once (files do not change under a running server)."""
    return load_scenario(path)


def same_value(a: Any, b: Any) -> bool:
    """Lever values are equal (floats within a rounding error)."""
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b),
                                                                 abs_tol=1e-9)
    return a == b


def lever_value(scenario: Scenario, lever: Lever) -> Any:
    """The value lever ``lever`` has in ``scenario`` (its off value if the policy is absent)."""
    if lever.policy is None:
        return getattr(scenario.params, lever.param)
    specs = [p for p in scenario.policies if p["kind"] == lever.policy.kind]
    if not specs:
        return lever.off
    return True if lever.param is None else specs[0]["params"][lever.param]


@dataclass(frozen=True)
class Settings:
    """What a model is built from; the page keeps a pending copy and the applied one.

    Attributes:
        scenario: a scenario name in ``SCENARIO_DIR``.
        seed: the model's seed (an integer >= 0).
        levers: the levers the user moved, as sorted ``(name, value)`` pairs.
        scenario_obj: a resolved scenario used instead of the named file (a replayed run),
            or ``None``.
    """

    scenario: str = DEFAULT_SCENARIO
    seed: int = DEFAULT_SEED
    levers: tuple[tuple[str, Any], ...] = ()
    scenario_obj: Scenario | None = None

    def moved(self) -> dict[str, Any]:
        """The levers the user moved."""
        return dict(self.levers)

    def with_lever(self, name: str, value: Any) -> Settings:
        """A copy with lever ``name`` set to ``value``."""
        levers = self.moved()
        levers[name] = LEVER_BY_NAME[name].coerce(value)
        return dataclasses.replace(self, levers=tuple(sorted(levers.items())))

    def base_scenario(self) -> Scenario:
        """The scenario before the moved levers (the file, or a replayed run's)."""
        return self.scenario_obj if self.scenario_obj is not None else scenario_file(self.scenario)

    def value(self, lever: Lever) -> tuple[Any, bool]:
        """The value the next Reset gives ``lever``, and whether the user set it."""
        moved = self.moved()
        if lever.name in moved:
            return moved[lever.name], True
        return lever_value(self.base_scenario(), lever), False

    def problems(self) -> list[str]:
        """What stops these settings from building a model (empty when fine)."""
        out = []
        if self.seed < 0:
            out.append(f"the seed must be a whole number 0 or more (not {self.seed})")
        if self.scenario_obj is None and self.scenario not in scenario_files.scenario_names():
            out.append(f"no scenario file {self.scenario!r} in {scenario_files.SCENARIO_DIR}")
        return out

    def differences(self, other: Settings | None) -> list[str]:
        """What differs from ``other`` (the running model's settings), in words."""
        if other is None:
            return []
        out = []
        if self.scenario != other.scenario or self.scenario_obj is not other.scenario_obj:
            out.append(f"scenario {other.scenario} → {self.scenario}")
        if self.seed != other.seed:
            out.append(f"seed {other.seed} → {self.seed}")
        mine, theirs = self.moved(), other.moved()
        for lever in LEVERS:
            if lever.name in mine or lever.name in theirs:
                a, b = mine.get(lever.name), theirs.get(lever.name)
                if not same_value(a, b):
                    shown = "the scenario's value" if a is None else format_value(lever, a)
                    out.append(f"{lever.label.lower()} → {shown}")
        return out


def format_value(lever: Lever, value: Any) -> str:
    """A lever's value as the page shows it ("3", "0.45", "on", "0 (off)")."""
    if lever.kind is bool:
        text = "on" if value else "off"
    elif lever.kind is int:
        text = f"{int(value)}"
    else:
        text = f"{float(value):.2f}"
    if lever.kind is not bool and lever.off is not None and same_value(value, lever.off):
        text += " (off)"
    return text


def build_scenario(settings: Settings) -> Scenario:
    """The scenario of ``settings``: its base scenario with the moved levers applied.

    A flat lever becomes an override; a policy lever adds the policy or updates its
    parameter (``Scenario.with_policy``), or removes it at its off value
    (``Scenario.without_policy``).

    Raises:
        KeyError: an unknown lever name.
        model.ScenarioError: a value the scenario refuses.
    """
    flat: dict[str, Any] = {}
    policy_levers: list[tuple[Lever, Any]] = []
    for name, value in settings.levers:
        if name not in LEVER_BY_NAME:
            raise KeyError(f"unknown lever {name!r}; known: {list(LEVER_BY_NAME)}")
        lever = LEVER_BY_NAME[name]
        value = lever.coerce(value)
        if lever.policy is None:
            flat[lever.param] = value
        else:
            policy_levers.append((lever, value))
    sc = settings.base_scenario().with_overrides(flat or None)
    for lever, value in policy_levers:
        if same_value(value, lever.off):
            sc = sc.without_policy(lever.policy.kind)
        elif lever.param is None:  # an on/off policy: keep its parameters if present
            sc = sc.with_policy(lever.policy.kind)
        else:
            sc = sc.with_policy(lever.policy.kind, **{lever.param: value})
    return sc


def build_model(settings: Settings) -> CommerceModel:
    """The model the page shows for ``settings``."""
    return CommerceModel(scenario=build_scenario(settings), rng=int(settings.seed))


def without_policies(scenario: Scenario) -> Scenario:
    """``scenario`` with every policy removed: the same city and people, no policy."""
    for kind in sorted({p["kind"] for p in scenario.policies}):
        scenario = scenario.without_policy(kind)
    return scenario
