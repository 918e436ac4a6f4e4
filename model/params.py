"""The typed, validated parameter set of one scenario.

Every field carries its unit, its allowed range and its source (``docs/ODD.md`` repeats the
sources). ``Params`` is frozen: a running model never changes its parameters; a policy that
scales a parameter keeps its own copy of the original and works on the model's live value.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from typing import Any


def _p(default: Any, doc: str, source: str, lo: float | None = None, hi: float | None = None,
       lo_open: bool = False) -> Any:
    """Declare a parameter with its documentation, source and allowed range."""
    return field(default=default, metadata={"doc": doc, "source": source, "min": lo, "max": hi,
                                            "min_open": lo_open})


@dataclass(frozen=True)
class Params:
    """Flat parameter set of the model (one scenario, after ``extends`` and overrides)."""

    # --- space -------------------------------------------------------------------------
    cell_size_m: float = _p(50.0, "Side of one grid cell in metres.",
                            "assumption (resolution; one building or shopfront)", 0, None, True)
    block_cells: int = _p(12, "Side of one community block in cells (12 x 50 m = 600 m).",
                          "assumption; GB 50180-2018 5-minute circle ~300 m radius", 8, 60)
    communities_x: int = _p(4, "Community blocks along x.", "assumption (4 x 4 ~ 20,000 people)",
                            1, 400)
    communities_y: int = _p(4, "Community blocks along y.", "assumption", 1, 400)
    share_old: float = _p(0.5, "Share of communities that are old (the most central ones).",
                          "assumption (city grows outward)", 0, 1)
    old_street_spacing: int = _p(3, "Old communities: a street every N cells (fine grid).",
                                 "assumption; lanes ~150 m apart in old quarters", 2, 10)
    new_gates: int = _p(2, "New gated superblocks: number of gates in the compound wall.",
                        "assumption; gated estates have few gates", 1, 8)
    residents_per_cell_old: float = _p(30.0, "Residents per residential cell at full occupancy, old.",
                                       "assumption (~12,000 per km2, 6-storey walk-ups)", 0, 2000, True)
    residents_per_cell_new: float = _p(75.0, "Residents per residential cell at full occupancy, new.",
                                       "assumption (~30,000 per km2, high-rise)", 0, 2000, True)
    storefronts_per_block_old: int = _p(22, "Storefront cells per old community block.",
                                        "assumption; ~1 outlet per 90 residents (sources)", 0, 1000)
    storefronts_per_block_new: int = _p(24, "Storefront cells per new community block.",
                                        "assumption; street-facing podium shops", 0, 1000)
    storefront_occupancy_old: float = _p(0.9, "Share of old storefronts let at day 0.",
                                         "source: few vacant storefronts in old areas (seed)", 0, 1)
    storefront_occupancy_new: float = _p(0.35, "Share of new storefronts let at day 0.",
                                         "source: new areas' commercial space not yet let (seed)",
                                         0, 1)
    # --- residents ---------------------------------------------------------------------
    occupancy_old: float = _p(0.95, "Occupancy of old communities (constant).",
                              "source: old areas near full (DESIGN)", 0, 1)
    occupancy_new_start: float = _p(0.35, "Occupancy of new communities at day 0.",
                                    "source: low occupancy of new areas (seed); value assumption",
                                    0, 1)
    occupancy_new_target: float = _p(0.9, "Occupancy new communities approach.", "assumption", 0, 1)
    occupancy_new_fill_days: float = _p(730.0, "Time constant (days) of new communities filling.",
                                        "assumption", 0, None, True)
    share_elderly_old: float = _p(0.30, "Share aged 60+ in old communities.",
                                  "source: DESIGN (old communities ~30% aged 60+)", 0, 1)
    share_elderly_new: float = _p(0.12, "Share aged 60+ in new communities.", "assumption", 0, 1)
    share_80plus_of_elderly: float = _p(0.14, "Share of the 60+ who are 80+.",
                                        "source: 7th census 2020 (35.8 M of 264 M)", 0, 1)
    share_family_old: float = _p(0.15, "Share in families with a young child, old communities.",
                                 "assumption", 0, 1)
    share_family_new: float = _p(0.30, "Share in families with a young child, new communities.",
                                 "assumption", 0, 1)
    speed_worker_mps: float = _p(1.3, "Walking speed of workers (m/s).",
                                 "source: adults 1.25-1.3 m/s (DESIGN)", 0, 3, True)
    speed_family_mps: float = _p(1.2, "Walking speed with a young child (m/s).", "assumption",
                                 0, 3, True)
    speed_elderly_mps: float = _p(0.97, "Walking speed aged 60-79 (m/s).",
                                  "source: 65+ 0.95-1.0 m/s (DESIGN)", 0, 3, True)
    speed_80plus_mps: float = _p(0.8, "Walking speed aged 80+ (m/s).",
                                 "source: older-old slower (DESIGN); value assumption", 0, 3, True)
    share_low_income: float = _p(0.3, "Share of residents in the low-income band.", "assumption",
                                 0, 1)
    share_high_income: float = _p(0.2, "Share of residents in the high-income band.",
                                  "assumption", 0, 1)
    spend_mult_low: float = _p(0.8, "Spend per visit of the low-income band, times the category's.",
                               "assumption", 0, None, True)
    spend_mult_high: float = _p(1.3, "Spend per visit of the high-income band, times the category's.",
                                "assumption", 0, None, True)
    digital_worker: float = _p(0.92, "Digital adoption (online ordering), workers and families.",
                               "source: CNNIC 2023 internet penetration ~77% overall, higher <60",
                               0, 1)
    digital_elderly: float = _p(0.5, "Digital adoption, aged 60-79.",
                                "source: CNNIC 2023 (~half of 60+ online)", 0, 1)
    digital_80plus: float = _p(0.15, "Digital adoption, aged 80+.", "assumption", 0, 1)
    # --- choice ------------------------------------------------------------------------
    walk_cutoff_m: float = _p(1800.0, "Longest useful walk (network metres) for any choice.",
                              "assumption (~23 min at 1.3 m/s)", 0, None, True)
    reach_minutes: float = _p(15.0, "A resident's own reach: minutes of walking.",
                              "source: 15-minute living circle (seed)", 0, 120, True)
    beta_quality: float = _p(2.0, "Utility per unit of quality (0..1).", "assumption", 0, None)
    beta_price_low: float = _p(6.0, "Utility lost per unit of price index, low income.",
                               "assumption", 0, None)
    beta_price_mid: float = _p(4.0, "Utility lost per unit of price index, middle income.",
                               "assumption", 0, None)
    beta_price_high: float = _p(2.0, "Utility lost per unit of price index, high income.",
                                "assumption", 0, None)
    beta_walk_per_min: float = _p(0.15, "Utility lost per minute of walking (exponential decay).",
                                  "source: exponential decay fits walking (DESIGN); value assumption",
                                  0, None)
    beta_late_per_min: float = _p(0.25, "Extra utility lost per minute beyond own reach.",
                                  "assumption", 0, None)
    beta_crowding: float = _p(1.5, "Utility lost per (recent load / capacity) squared.",
                              "assumption", 0, None)
    # --- satisfaction ------------------------------------------------------------------
    satisfaction_memory: float = _p(0.05, "Weight of one need's outcome in the moving average.",
                                    "assumption (~20 needs of memory)", 0, 1, True)
    satisfaction_initial: float = _p(0.75, "Satisfaction at day 0.", "assumption", 0, 1)
    satisfied_threshold: float = _p(0.7, "Satisfaction above which a resident is 'satisfied'.",
                                    "assumption (survey 'satisfied' answers)", 0, 1)
    outside_score: float = _p(0.15, "Outcome score of a need met by going without or far away.",
                              "assumption", 0, 1)
    late_score_per_min: float = _p(0.03, "Outcome score lost per minute beyond own reach.",
                                   "assumption", 0, 1)
    # --- shops -------------------------------------------------------------------------
    rent_old_yuan_m2_day: float = _p(6.0, "Storefront rent in old communities (yuan/m2/day).",
                                     "assumption (community street shops ~180 yuan/m2/month)", 0, None)
    rent_new_yuan_m2_day: float = _p(3.5, "Storefront rent in new communities (yuan/m2/day).",
                                     "assumption (peripheral ~105 yuan/m2/month)", 0, None)
    chain_rent_premium: float = _p(1.15, "Chains pay this multiple of the rent.",
                                   "source: chains pay more rent (DESIGN); value assumption",
                                   0, None, True)
    chain_price_index: float = _p(0.95, "Chain price relative to market (1.0).",
                                  "source: chains 3-10% below independents", 0, 5, True)
    chain_quality: float = _p(0.75, "Mean quality of chain outlets (0..1).",
                              "source: chains offer steadier quality; value assumption", 0, 1)
    chain_quality_sd: float = _p(0.04, "Spread of chain quality.", "assumption", 0, 1)
    independent_quality: float = _p(0.6, "Mean quality of independents (0..1).", "assumption",
                                    0, 1)
    independent_quality_sd: float = _p(0.15, "Spread of independents' quality.", "assumption", 0, 1)
    independent_price_sd: float = _p(0.05, "Spread of independents' price index.", "assumption",
                                     0, 1)
    initial_cash_days: float = _p(50.0, "New independents start with this many days of fixed costs.",
                                  "calibrated: docs/VALIDATION.md (was 30, assumption)", 0, None)
    incumbent_cash_days: float = _p(120.0, "Independents open at day 0 (established) hold this many "
                                    "days of fixed costs.", "assumption", 0, None)
    quit_after_days: int = _p(180, "A new independent also quits when its profit, averaged over "
                              "about this many days (moving average), is negative (0: only when "
                              "broke).",
                              "source: sustained losses end small shops (DESIGN); value assumption",
                              0, 3650)
    chain_review_days: int = _p(90, "Chains review an outlet every N days; close if it lost money.",
                                "source: chains close by periodic review (DESIGN)", 1, 3650)
    chain_loss_tolerance: float = _p(0.1, "Chains close at review if losses exceed this share of "
                                     "fixed costs over the review period.",
                                     "calibrated: docs/VALIDATION.md (was 0.2, assumption)", 0, None)
    parcel_in_convenience: float = _p(0.35, "Share of convenience stores with a parcel point.",
                                      "source: multi-function convenience stores (seed)", 0, 1)
    secondary_staff_share: float = _p(0.3, "Staff cost of a secondary category, as share of its "
                                      "stand-alone cost.", "assumption", 0, 1)
    # --- entry -------------------------------------------------------------------------
    entrants_per_10k_month: float = _p(3.0, "Would-be entrants per 10,000 residents per month.",
                                       "assumption", 0, None)
    chain_entrant_share: float = _p(0.25, "Share of would-be entrants that are chains.",
                                    "calibrated: docs/VALIDATION.md (was 0.4); source: pilot chain "
                                    "rate 32%", 0, 1)
    entry_candidates: int = _p(12, "Vacant storefronts each would-be entrant evaluates.",
                               "assumption", 1, 10000)
    entry_margin: float = _p(0.25, "Expected profit must exceed this share of fixed costs.",
                             "assumption (hurdle)", 0, None)
    chain_min_revenue: float = _p(1.2, "Chains open only where expected revenue exceeds this "
                                  "multiple of an independent's break-even.",
                                  "source: chains prefer dense locations; value assumption", 0, None)
    entry_optimism_sd: float = _p(1.1, "Spread (log) of entrants' error in expected revenue.",
                                  "calibrated: docs/VALIDATION.md (was 0.7); assumption (why many "
                                  "new shops fail)", 0, 5)
    # --- run ---------------------------------------------------------------------------
    compact_every_days: int = _p(30, "Rebuild the candidate index every N days (closed outlets "
                                 "are skipped in between).", "implementation", 1, 3650)


PARAM_FIELDS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(Params)}


def _type_name(t: type) -> str:
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}[t]


def coerce_value(where: str, key: str, value: Any, kind: type) -> Any:
    """Return ``value`` as ``kind`` or raise a ScenarioError naming ``where`` and ``key``."""
    from .scenario import ScenarioError

    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif kind is str:
        if isinstance(value, str):
            return value
    raise ScenarioError(where, key, f"{value!r} is not {_type_name(kind)}")


def check_range(where: str, key: str, value: float, lo: float | None, hi: float | None,
                lo_open: bool = False) -> None:
    """Raise a ScenarioError if ``value`` is outside ``[lo, hi]`` (or ``(lo, hi]``)."""
    from .scenario import ScenarioError

    if value != value:  # NaN
        raise ScenarioError(where, key, "NaN is not allowed")
    bad_lo = lo is not None and (value <= lo if lo_open else value < lo)
    bad_hi = hi is not None and value > hi
    if bad_lo or bad_hi:
        left = "(" if lo_open else "["
        allowed = f"{left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
        raise ScenarioError(where, key, f"{value!r} is out of range; allowed {allowed}")


def suggest(key: str, known: list[str]) -> str:
    """Return a " (did you mean ...?)" hint, or an empty string."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def make_params(where: str, values: dict[str, Any]) -> Params:
    """Validate ``values`` (a partial mapping) and build a ``Params``.

    Raises:
        ScenarioError: unknown key, wrong type or out-of-range value.
    """
    from .scenario import ScenarioError

    clean: dict[str, Any] = {}
    for key, value in values.items():
        if key not in PARAM_FIELDS:
            raise ScenarioError(where, key, "unknown parameter" + suggest(key, list(PARAM_FIELDS)))
        f = PARAM_FIELDS[key]
        kind = {"int": int, "float": float, "bool": bool, "str": str}[f.type]
        v = coerce_value(where, key, value, kind)
        if kind in (int, float):
            check_range(where, key, v, f.metadata["min"], f.metadata["max"], f.metadata["min_open"])
        clean[key] = v
    params = Params(**clean)
    if params.share_low_income + params.share_high_income > 1:
        raise ScenarioError(where, "share_high_income",
                            "share_low_income + share_high_income must be <= 1")
    if params.share_old > 0 and params.share_old < 1 and params.communities_x * params.communities_y < 2:
        raise ScenarioError(where, "communities_x",
                            "a mix of old and new needs at least 2 communities")
    if params.old_street_spacing >= params.block_cells - 1:
        raise ScenarioError(where, "old_street_spacing",
                            f"{params.old_street_spacing} must be < block_cells - 1 "
                            f"({params.block_cells - 1})")
    return params
