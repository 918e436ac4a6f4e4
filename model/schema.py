"""One way to declare and check a parameter: default, doc, range, source, choices.

``spec(...)`` declares a dataclass field with its documentation, allowed range, source and
allowed choices; ``check_value`` coerces and checks one value against such a field, and
``check_mapping`` checks a whole mapping against a dataclass (unknown keys get a "did you
mean"). Scenario parameters (``params.Params``), the category table (``categories.Category``),
policy parameters (``policies.base``) and experiment files all declare their fields this way,
so every input is checked by the same rules: the right type, a finite number, inside its
range, one of its choices.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from .errors import ScenarioError, suggest

_KINDS = {"int": int, "float": float, "bool": bool, "str": str,
          int: int, float: float, bool: bool, str: str}
_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def spec(default: Any, doc: str, *, lo: float | None = None, hi: float | None = None,
         lo_open: bool = False, source: str = "assumption",
         choices: tuple[str, ...] | None = None) -> Any:
    """Declare a field with its documentation, allowed range, source and choices.

    Args:
        default: the default value.
        doc: one line: what it is, with its unit.
        lo: smallest allowed value (``None``: no bound).
        hi: largest allowed value (``None``: no bound; numbers must still be finite).
        lo_open: ``lo`` itself is not allowed.
        source: where the default comes from, or ``"assumption"``.
        choices: the allowed values of a string field.
    """
    return dataclasses.field(default=default, metadata={
        "doc": doc, "source": source, "min": lo, "max": hi, "min_open": lo_open,
        "choices": choices})


def kind_of(f: dataclasses.Field) -> type | None:
    """The scalar type of a declared field (int, float, bool, str), or None for others."""
    return _KINDS.get(f.type)


def allowed_text(f: dataclasses.Field) -> str:
    """What a field allows, in words (``"a number in (0, 3]"``, ``"one of ['a', 'b']"``)."""
    kind = kind_of(f)
    meta = f.metadata
    if meta.get("choices"):
        return f"one of {list(meta['choices'])}"
    if kind in (int, float):
        lo, hi = meta.get("min"), meta.get("max")
        if lo is None and hi is None:
            return f"{_NAMES[kind]} (finite)"
        left = "(" if meta.get("min_open") else "["
        return (f"{_NAMES[kind]} in {left}{'-inf' if lo is None else lo}, "
                f"{'inf' if hi is None else hi}{')' if hi is None else ']'}")
    return _NAMES.get(kind, "a value")


def coerce(where: str, key: str, value: Any, kind: type, error: type = ScenarioError) -> Any:
    """Return ``value`` as ``kind`` (numbers finite) or raise ``error`` naming where and key."""
    out: Any = None
    if kind is bool:
        if isinstance(value, bool):
            out = value
        elif isinstance(value, str) and value.lower() in ("true", "false"):
            out = value.lower() == "true"
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            out = value
        elif isinstance(value, float) and value.is_integer():
            out = int(value)
        elif isinstance(value, str):
            try:
                out = int(value)
            except ValueError:
                pass
    elif kind is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            out = float(value)
        elif isinstance(value, str):
            try:
                out = float(value)
            except ValueError:
                pass
        if out is not None and not math.isfinite(out):
            raise error(where, key, f"{value!r} is not a finite number")
    elif kind is str and isinstance(value, str):
        out = value
    if out is None:
        raise error(where, key, f"{value!r} is not {_NAMES[kind]}")
    return out


def check_range(where: str, key: str, value: float, lo: float | None, hi: float | None,
                lo_open: bool = False, error: type = ScenarioError) -> None:
    """Raise ``error`` if ``value`` is not finite or outside ``[lo, hi]`` (``(lo, hi]``)."""
    if not math.isfinite(value):
        raise error(where, key, f"{value!r} is not a finite number")
    bad_lo = lo is not None and (value <= lo if lo_open else value < lo)
    bad_hi = hi is not None and value > hi
    if bad_lo or bad_hi:
        left = "(" if lo_open else "["
        allowed = f"{left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
        raise error(where, key, f"{value!r} is out of range; allowed {allowed}")


def check_value(where: str, key: str, value: Any, f: dataclasses.Field,
                error: type = ScenarioError) -> Any:
    """Coerce and check one value against a declared field; return the clean value."""
    kind = kind_of(f)
    if kind is None:
        return value
    v = coerce(where, key, value, kind, error)
    meta = f.metadata
    if kind in (int, float):
        check_range(where, key, v, meta.get("min"), meta.get("max"), meta.get("min_open", False),
                    error)
    if meta.get("choices") and v not in meta["choices"]:
        raise error(where, key, f"{v!r} is not allowed; use one of {list(meta['choices'])}"
                    + suggest(str(v), meta["choices"]))
    return v


def declared_fields(cls: type) -> dict[str, dataclasses.Field]:
    """The init fields of a dataclass, by name."""
    return {f.name: f for f in dataclasses.fields(cls) if f.init}


def check_mapping(where: str, cls: type, values: dict[str, Any], prefix: str = "",
                  what: str = "parameter", error: type = ScenarioError) -> dict[str, Any]:
    """Check every key of ``values`` against the fields of ``cls``; return clean values.

    Args:
        where: the file (or argument) the values come from.
        cls: a dataclass whose fields were declared with ``spec``.
        values: the mapping to check.
        prefix: prepended to each key in messages (``"policy.rent_subsidy."``).
        what: how an unknown key is called in the message.
        error: the exception class to raise.
    """
    known = declared_fields(cls)
    clean: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            listing = f"; allowed: {', '.join(known)}" if len(known) <= 30 else ""
            raise error(where, prefix + key, f"unknown {what}" + suggest(key, known) + listing)
        clean[key] = check_value(where, prefix + key, value, known[key], error)
    return clean
