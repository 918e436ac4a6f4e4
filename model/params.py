"""The typed, validated parameter set of one scenario.

Every field carries its unit, its allowed range and its source (``docs/ODD.md`` repeats the
sources). ``Params`` is frozen: a running model never changes its parameters; a policy that
scales a parameter keeps its own copy of the original and works on the model's live value.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .errors import ScenarioError
from .schema import check_mapping, spec


@dataclass(frozen=True)
class Params:
    """Flat parameter set of the model (one scenario, after ``extends`` and overrides)."""

    # --- space -------------------------------------------------------------------------
    cell_size_m: float = spec(50.0, "Side of one grid cell in metres.",
        lo=0, lo_open=True, source="assumption (resolution; one building or shopfront)")
    block_cells: int = spec(12, "Side of one community block in cells (12 x 50 m = 600 m).",
        lo=8, hi=60, source="assumption; GB 50180-2018 5-minute circle ~300 m radius")
    communities_x: int = spec(4, "Community blocks along x.",
        lo=1, hi=400, source="assumption (4 x 4 ~ 20,000 people)")
    communities_y: int = spec(4, "Community blocks along y.", lo=1, hi=400, source="assumption")
    city_layer: str = spec("",
        "City layer file written by `lifecircle import` (relative to the scenario file that sets "
        "it); empty: the generated city of blocks below.", source="implementation")
    share_old: float = spec(0.5, "Share of communities that are old (the most central ones).",
        lo=0, hi=1, source="assumption (city grows outward)")
    old_street_spacing: int = spec(3, "Old communities: a street every N cells (fine grid).",
        lo=2, hi=10, source="assumption; lanes ~150 m apart in old quarters")
    new_gates: int = spec(2, "New gated superblocks: number of gates in the compound wall.",
        lo=1, hi=8, source="assumption; gated estates have few gates")
    residents_per_cell_old: float = spec(30.0, "Residents per residential cell at full occupancy, old.",
        lo=0, hi=2000, lo_open=True, source="assumption (~12,000 per km2, 6-storey walk-ups)")
    residents_per_cell_new: float = spec(75.0, "Residents per residential cell at full occupancy, new.",
        lo=0, hi=2000, lo_open=True, source="assumption (~30,000 per km2, high-rise)")
    storefronts_per_block_old: int = spec(22, "Storefront cells per old community block.",
        lo=0, hi=1000, source="assumption; ~1 outlet per 90 residents (sources)")
    storefronts_per_block_new: int = spec(24, "Storefront cells per new community block.",
        lo=0, hi=1000, source="assumption; street-facing podium shops")
    storefront_occupancy_old: float = spec(0.9, "Share of old storefronts let at day 0.",
        lo=0, hi=1, source="source: few vacant storefronts in old areas (seed)")
    storefront_occupancy_new: float = spec(0.35, "Share of new storefronts let at day 0.",
        lo=0, hi=1, source="source: new areas' commercial space not yet let (seed)")
    # --- residents ---------------------------------------------------------------------
    occupancy_old: float = spec(0.95, "Occupancy of old communities (constant).",
        lo=0, hi=1, source="source: old areas near full (DESIGN)")
    occupancy_new_start: float = spec(0.35, "Occupancy of new communities at day 0.",
        lo=0, hi=1, source="source: low occupancy of new areas (seed); value assumption")
    occupancy_new_target: float = spec(0.9, "Occupancy new communities approach.",
        lo=0, hi=1, source="assumption")
    occupancy_new_fill_days: float = spec(730.0, "Time constant (days) of new communities filling.",
        lo=0, lo_open=True, source="assumption")
    share_elderly_old: float = spec(0.3, "Share aged 60+ in old communities.",
        lo=0, hi=1, source="source: DESIGN (old communities ~30% aged 60+)")
    share_elderly_new: float = spec(0.12, "Share aged 60+ in new communities.",
        lo=0, hi=1, source="assumption")
    share_80plus_of_elderly: float = spec(0.14, "Share of the 60+ who are 80+.",
        lo=0, hi=1, source="source: 7th census 2020 (35.8 M of 264 M)")
    share_family_old: float = spec(0.15, "Share in families with a young child, old communities.",
        lo=0, hi=1, source="assumption")
    share_family_new: float = spec(0.3, "Share in families with a young child, new communities.",
        lo=0, hi=1, source="assumption")
    speed_worker_mps: float = spec(1.3, "Walking speed of workers (m/s).",
        lo=0, hi=3, lo_open=True, source="source: adults 1.25-1.3 m/s (DESIGN)")
    speed_family_mps: float = spec(1.2, "Walking speed with a young child (m/s).",
        lo=0, hi=3, lo_open=True, source="assumption")
    speed_elderly_mps: float = spec(0.97, "Walking speed aged 60-79 (m/s).",
        lo=0, hi=3, lo_open=True, source="source: 65+ 0.95-1.0 m/s (DESIGN)")
    speed_80plus_mps: float = spec(0.8, "Walking speed aged 80+ (m/s).",
        lo=0, hi=3, lo_open=True, source="source: older-old slower (DESIGN); value assumption")
    share_low_income: float = spec(0.3, "Share of residents in the low-income band.",
        lo=0, hi=1, source="assumption")
    share_high_income: float = spec(0.2, "Share of residents in the high-income band.",
        lo=0, hi=1, source="assumption")
    spend_mult_low: float = spec(0.8, "Spend per visit of the low-income band, times the category's.",
        lo=0, lo_open=True, source="assumption")
    spend_mult_high: float = spec(1.3, "Spend per visit of the high-income band, times the category's.",
        lo=0, lo_open=True, source="assumption")
    digital_worker: float = spec(0.92, "Digital adoption (online ordering), workers and families.",
        lo=0, hi=1, source="source: CNNIC 2023 internet penetration ~77% overall, higher <60")
    digital_elderly: float = spec(0.5, "Digital adoption, aged 60-79.",
        lo=0, hi=1, source="source: CNNIC 2023 (~half of 60+ online)")
    digital_80plus: float = spec(0.15, "Digital adoption, aged 80+.", lo=0, hi=1, source="assumption")
    # --- choice ------------------------------------------------------------------------
    walk_cutoff_m: float = spec(1800.0, "Longest useful walk (network metres) for any choice.",
        lo=0, lo_open=True, source="assumption (~23 min at 1.3 m/s)")
    reach_minutes: float = spec(15.0, "A resident's own reach: minutes of walking.",
        lo=0, hi=120, lo_open=True, source="source: 15-minute living circle (seed)")
    beta_quality: float = spec(2.0, "Utility per unit of quality (0..1).", lo=0, source="assumption")
    beta_price_low: float = spec(6.0, "Utility lost per unit of price index, low income.",
        lo=0, source="assumption")
    beta_price_mid: float = spec(4.0, "Utility lost per unit of price index, middle income.",
        lo=0, source="assumption")
    beta_price_high: float = spec(2.0, "Utility lost per unit of price index, high income.",
        lo=0, source="assumption")
    beta_walk_per_min: float = spec(0.15, "Utility lost per minute of walking (exponential decay).",
        lo=0, source="source: exponential decay fits walking (DESIGN); value assumption")
    beta_late_per_min: float = spec(0.25, "Extra utility lost per minute beyond own reach.",
        lo=0, source="assumption")
    beta_crowding: float = spec(1.5, "Utility lost per (recent load / capacity) squared.",
        lo=0, source="assumption")
    # --- satisfaction ------------------------------------------------------------------
    satisfaction_memory: float = spec(0.05, "Weight of one need's outcome in the moving average.",
        lo=0, hi=1, lo_open=True, source="assumption (~20 needs of memory)")
    satisfaction_initial: float = spec(0.75, "Satisfaction at day 0.", lo=0, hi=1, source="assumption")
    satisfied_threshold: float = spec(0.7, "Satisfaction above which a resident is 'satisfied'.",
        lo=0, hi=1, source="assumption (survey 'satisfied' answers)")
    outside_score: float = spec(0.15, "Outcome score of a need met by going without or far away.",
        lo=0, hi=1, source="assumption")
    late_score_per_min: float = spec(0.03, "Outcome score lost per minute beyond own reach.",
        lo=0, hi=1, source="assumption")
    # --- shops -------------------------------------------------------------------------
    rent_old_yuan_m2_day: float = spec(6.0, "Storefront rent in old communities (yuan/m2/day).",
        lo=0, source="assumption (community street shops ~180 yuan/m2/month)")
    rent_new_yuan_m2_day: float = spec(3.5, "Storefront rent in new communities (yuan/m2/day).",
        lo=0, source="assumption (peripheral ~105 yuan/m2/month)")
    chain_rent_premium: float = spec(1.15, "Chains pay this multiple of the rent.",
        lo=0, lo_open=True, source="source: chains pay more rent (DESIGN); value assumption")
    chain_price_index: float = spec(0.95, "Chain price relative to market (1.0).",
        lo=0, hi=5, lo_open=True, source="source: chains 3-10% below independents")
    chain_quality: float = spec(0.75, "Mean quality of chain outlets (0..1).",
        lo=0, hi=1, source="source: chains offer steadier quality; value assumption")
    chain_quality_sd: float = spec(0.04, "Spread of chain quality.", lo=0, hi=1, source="assumption")
    independent_quality: float = spec(0.6, "Mean quality of independents (0..1).",
        lo=0, hi=1, source="assumption")
    independent_quality_sd: float = spec(0.15, "Spread of independents' quality.",
        lo=0, hi=1, source="assumption")
    independent_price_sd: float = spec(0.05, "Spread of independents' price index.",
        lo=0, hi=1, source="assumption")
    initial_cash_days: float = spec(50.0, "New independents start with this many days of fixed costs.",
        lo=0, source="calibrated: docs/VALIDATION.md (was 30, assumption)")
    incumbent_cash_days: float = spec(120.0,
        "Independents open at day 0 (established) hold this many days of fixed costs.",
        lo=0, source="assumption")
    quit_after_days: int = spec(180,
        "A new independent also quits when its profit, averaged over about this many days (moving "
        "average), is negative (0: only when broke).",
        lo=0, hi=3650, source="source: sustained losses end small shops (DESIGN); value assumption")
    chain_review_days: int = spec(90, "Chains review an outlet every N days; close if it lost money.",
        lo=1, hi=3650, source="source: chains close by periodic review (DESIGN)")
    chain_loss_tolerance: float = spec(0.1,
        "Chains close at review if losses exceed this share of fixed costs over the review period.",
        lo=0, source="calibrated: docs/VALIDATION.md (was 0.2, assumption)")
    parcel_in_convenience: float = spec(0.35, "Share of convenience stores with a parcel point.",
        lo=0, hi=1, source="source: multi-function convenience stores (seed)")
    secondary_staff_share: float = spec(0.3,
        "Staff cost of a secondary category, as share of its stand-alone cost.",
        lo=0, hi=1, source="assumption")
    # --- entry -------------------------------------------------------------------------
    entrants_per_10k_month: float = spec(3.0, "Would-be entrants per 10,000 residents per month.",
        lo=0, source="assumption")
    chain_entrant_share: float = spec(0.25, "Share of would-be entrants that are chains.",
        lo=0, hi=1, source="calibrated: docs/VALIDATION.md (was 0.4); source: pilot chain rate 32%")
    entry_candidates: int = spec(12, "Vacant storefronts each would-be entrant evaluates.",
        lo=1, hi=10000, source="assumption")
    entry_margin: float = spec(0.25, "Expected profit must exceed this share of fixed costs.",
        lo=0, source="assumption (hurdle)")
    chain_min_revenue: float = spec(1.2,
        "Chains open only where expected revenue exceeds this multiple of an independent's break-"
        "even.",
        lo=0, source="source: chains prefer dense locations; value assumption")
    entry_optimism_sd: float = spec(1.1, "Spread (log) of entrants' error in expected revenue.",
        lo=0, hi=5, source="calibrated: docs/VALIDATION.md (was 0.7); assumption (why many new shops fail)")
    # --- run ---------------------------------------------------------------------------
    compact_every_days: int = spec(30,
        "Rebuild the candidate index every N days (closed outlets are skipped in between).",
        lo=1, hi=3650, source="implementation")


PARAM_FIELDS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(Params)}


def make_params(where: str, values: dict[str, Any]) -> Params:
    """Validate ``values`` (a partial mapping) and build a ``Params``.

    Raises:
        ScenarioError: unknown key, wrong type, a number that is not finite or out of range,
            or a rule across parameters broken.
    """
    params = Params(**check_mapping(where, Params, values))
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
