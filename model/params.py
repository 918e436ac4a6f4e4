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
    residents_per_cell_new: float = spec(230.0, "Residents per residential (tower) cell at full "
        "occupancy, new.", lo=0, hi=2000, lo_open=True,
        source="assumption (~30,000 per km2 of block, high-rise towers between estate paths)")
    storefronts_per_ha_old: float = spec(0.61, "Storefront cells per hectare of old community block.",
        lo=0, hi=100, source="assumption; 22 per 600 m block, ~1 outlet per 90 residents (sources)")
    storefronts_per_ha_new: float = spec(0.67, "Storefront cells per hectare of new community block.",
        lo=0, hi=100, source="assumption; 24 street-facing podium shops per 600 m block")
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
    share_alone_of_elderly: float = spec(0.14, "Share of residents aged 60+ who live alone.",
        lo=0, hi=1, source="source: 7th population census 2020 as reported (~37 M of the 264 M "
        "aged 60+ live in one-person households, ~14%); the same share in old and new "
        "communities and at every age: assumption")
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
        lo=0, hi=20_000, lo_open=True, source="assumption (~23 min at 1.3 m/s)")
    beta_quality: float = spec(2.0, "Utility per unit of quality (0..1).", lo=0, hi=50,
        source="assumption")
    beta_price_low: float = spec(6.0, "Utility lost per unit of price index, low income.",
        lo=0, hi=50, lo_open=True, source="assumption")
    beta_price_mid: float = spec(4.0, "Utility lost per unit of price index, middle income.",
        lo=0, hi=50, lo_open=True, source="assumption")
    beta_price_high: float = spec(2.0, "Utility lost per unit of price index, high income.",
        lo=0, hi=50, lo_open=True, source="assumption")
    beta_walk_per_min: float = spec(0.15, "Utility lost per minute of walking (exponential decay).",
        lo=0, hi=10, source="source: exponential decay fits walking (DESIGN); value assumption")
    beta_late_per_min: float = spec(0.25,
        "Extra utility lost per minute beyond the category's standard walk.",
        lo=0, hi=10, source="assumption")
    beta_crowding: float = spec(1.5, "Utility lost per (recent demand / capacity) squared.",
        lo=0, hi=50, source="assumption")
    crowding_memory: float = spec(0.7,
        "Weight of the previous recent demand when an open day's demand is added (crowding).",
        lo=0, hi=1, lo_open=False, source="assumption (~3 open days of memory)")
    # --- knowledge (consideration sets) -----------------------------------------------
    consideration_sets: bool = spec(False,
        "Residents know only part of the shops within reach and choose among those they know "
        "(model/knowledge.py); false: everyone knows every offer within reach.",
        source="issue 15; seed: the repair map makes small services 'visible and findable' "
        "(看得见、找得到). Off by default: the calibrated defaults assume full knowledge")
    know_sight_m: float = spec(100.0, "Shops within this walk are always known (passed daily).",
        lo=0, hi=20_000, source="assumption (the same street, two cells)")
    know_new_shop: float = spec(0.2,
        "Chance that a resident within reach knows a shop on its first day (signs, openings).",
        lo=0, hi=1, source="assumption")
    know_settled_shop: float = spec(0.7,
        "Chance that a resident within reach knows a long-established shop from its age alone.",
        lo=0, hi=1, source="assumption")
    know_age_days: float = spec(180.0,
        "Time constant (days) of a shop becoming known with its age (word of mouth).",
        lo=0, lo_open=True, hi=36_500, source="assumption")
    know_incumbent_age_days: float = spec(1825.0,
        "Shops open at day 0 count as this much older (established before the simulation).",
        lo=0, hi=36_500, source="assumption (five years)")
    know_visits_per_resident: float = spec(10.0,
        "Visits per resident of a home cell to a format that make 63% of its unknown providers "
        "known (1 - exp(-visits / this)).", lo=0, lo_open=True, hi=1e6, source="assumption")
    # --- satisfaction ------------------------------------------------------------------
    satisfaction_memory: float = spec(0.05,
        "Weight of one need's outcome in the moving average (after the first 1/memory outcomes, "
        "which are averaged).", lo=0, hi=1, lo_open=True, source="assumption (~20 needs of memory)")
    satisfied_threshold: float = spec(0.445,
        "Satisfaction at or above which a resident is 'satisfied' (0.5 would be needs met on "
        "average exactly as well as the plan's standard provision).", lo=0, hi=1,
        source="calibrated: the pilot package's 10th percentile of satisfaction in year three "
        "(0.446), so that 90% of its residents are satisfied, as the pilots report "
        "(docs/VALIDATION.md)")
    satisfied_threshold_band: float = spec(0.1,
        "The report also counts the satisfied at the threshold minus and plus this band.",
        lo=0, hi=0.5, source="assumption (sensitivity lines for the report)")
    # --- shops -------------------------------------------------------------------------
    rent_old_yuan_m2_day: float = spec(6.0, "Storefront rent in old communities (yuan/m2/day).",
        lo=0, hi=1000, source="assumption (community street shops ~180 yuan/m2/month)")
    rent_new_yuan_m2_day: float = spec(3.5, "Storefront rent in new communities (yuan/m2/day).",
        lo=0, hi=1000, source="assumption (peripheral ~105 yuan/m2/month)")
    independent_quality: float = spec(0.6,
        "Mean quality of independents and chains (0..1); also the quality of the standard "
        "provision that outcome scores are measured against.", lo=0, hi=1, source="assumption")
    independent_quality_sd: float = spec(0.15, "Spread of independents' quality.",
        lo=0, hi=1, source="assumption")
    independent_price_sd: float = spec(0.05, "Spread of independents' price index.",
        lo=0, hi=1, source="assumption")
    chain_quality_sd: float = spec(0.04,
        "Spread of chain quality (chains are steadier, not better on average).", lo=0, hi=1,
        source="source: chains offer steadier quality (DESIGN); value assumption")
    chain_price_index: float = spec(0.95, "Chain price relative to market (1.0).",
        lo=0, hi=5, lo_open=True, source="source: chains price 3-10% below independents (DESIGN)")
    chain_cogs_discount: float = spec(0.08,
        "Chains buy goods this much cheaper than independents (purchasing scale).", lo=0, hi=0.9,
        source="assumption; consistent with chains pricing 3-10% below independents (DESIGN)")
    chain_royalty_share: float = spec(0.02, "Share of a chain outlet's sales paid to its head office.",
        lo=0, hi=0.5, source="assumption (franchise fees of a few per cent of sales)")
    chain_rent_premium: float = spec(1.15, "Chains pay this multiple of the rent for the sites they bid for.",
        lo=0, hi=10, lo_open=True, source="source: chains pay more rent (DESIGN); value assumption")
    chain_cash_days: float = spec(180.0,
        "Chain outlets open with this many days of fixed costs of head-office backing.",
        lo=0, hi=3650, source="assumption (deeper pockets than independents)")
    initial_cash_days: float = spec(50.0, "New independents start with this many days of fixed costs.",
        lo=0, hi=3650, source="calibrated: docs/VALIDATION.md (50: the surrogate's 51, rounded)")
    incumbent_cash_days: float = spec(120.0,
        "Independents open at day 0 (established) hold this many days of fixed costs.",
        lo=0, hi=3650, source="assumption")
    quit_after_days: int = spec(180,
        "A new independent also quits when its profit, averaged over about this many days (moving "
        "average), is negative (0: only when broke).",
        lo=0, hi=3650, source="source: sustained losses end small shops (DESIGN); value assumption")
    chain_review_days: int = spec(90,
        "Chains review an outlet every N days and close it if it lost money (and at once when "
        "its backing is used up).",
        lo=1, hi=3650, source="source: chains close by periodic review (DESIGN)")
    chain_loss_tolerance: float = spec(0.13,
        "Chains close at review if losses exceed this share of fixed costs over the review period.",
        lo=0, hi=10, source="calibrated: docs/VALIDATION.md (was 0.1)")
    parcel_in_convenience: float = spec(0.35, "Share of convenience stores with a parcel point.",
        lo=0, hi=1, source="source: multi-function convenience stores (seed)")
    secondary_staff_share: float = spec(0.3,
        "Staff cost of a secondary category, as share of its stand-alone cost.",
        lo=0, hi=1, source="assumption")
    # --- entry -------------------------------------------------------------------------
    entrants_per_vacancy_month: float = spec(0.16,
        "Would-be entrants a month per vacant storefront (so entry follows the vacancies).",
        lo=0, hi=10, source="calibrated: docs/VALIDATION.md (was 0.15, assumption)")
    chain_entrant_share: float = spec(0.28, "Share of would-be entrants that are chains.",
        lo=0, hi=1, source="calibrated: docs/VALIDATION.md (was 0.35); chain rate held at the pilots' 21%")
    entry_candidates: int = spec(12, "Vacant storefronts each would-be entrant evaluates.",
        lo=1, hi=10000, source="assumption")
    entry_margin: float = spec(0.25, "Expected profit must exceed this share of fixed costs.",
        lo=0, hi=10, source="assumption (hurdle)")
    chain_min_revenue: float = spec(1.5,
        "Chains open only where expected sales exceed this multiple of the outlet's break-even "
        "sales (a minimum catchment; binds above 1 + entry_margin).",
        lo=0, hi=20, source="source: chains prefer dense locations (DESIGN); value assumption")
    entry_error_sd: float = spec(0.4,
        "Spread (log) of an entrant's error in expected sales; the error has mean 1 (unbiased).",
        lo=0, hi=3, source="calibrated: docs/VALIDATION.md (was 0.5, assumption: why many new shops fail)")
    entry_optimism: float = spec(1.0,
        "Entrants' expected sales are multiplied by this (1: no optimism).", lo=0.1, hi=5,
        source="assumption: none by default; entrepreneurs' overconfidence (Camerer & Lovallo "
        "1999) would argue for > 1")
    entry_horizon_days: float = spec(730.0,
        "Entrants spread one-off grants over this many days when they weigh a site.",
        lo=1, hi=3650, source="assumption (two years, the horizon in which a third of new shops close)")
    # --- circle grades -----------------------------------------------------------------
    grade_reach_share: float = spec(0.8,
        "A format is present in a community's circle when at least this share of its residents "
        "reach it within the category's standard walk (model/grades.py).", lo=0, hi=1,
        lo_open=True, source="assumption; the grades basic / upgraded / quality are the "
        "source's (基础型、提升型、品质型), their thresholds are not published")
    grade_upgraded_share: float = spec(0.8,
        "An upgraded circle (提升型) has every basic format and at least this share of the "
        "quality formats (rounded up: 4 of 5).", lo=0, hi=1,
        source="assumption; basic and quality formats as in the 2021 construction guide. "
        "Childcare, fitness and dining are within 15 minutes of nearly everyone in the model, "
        "so a lower line would never tell basic from upgraded")
    grade_quality_share: float = spec(1.0,
        "A quality circle (品质型) has every basic format and at least this share of the "
        "quality formats (rounded up: all five, elderly care and canteens included).", lo=0,
        hi=1, source="assumption; the source's emphasis on the elderly and the young "
        "(一老一小); formats as in the 2021 construction guide")
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
    if params.know_settled_shop < params.know_new_shop:
        raise ScenarioError(where, "know_settled_shop",
                            f"{params.know_settled_shop} must be >= know_new_shop "
                            f"({params.know_new_shop}): shops become known as they age")
    if params.grade_quality_share < params.grade_upgraded_share:
        raise ScenarioError(where, "grade_quality_share",
                            f"{params.grade_quality_share} must be >= grade_upgraded_share "
                            f"({params.grade_upgraded_share}): a quality circle is also upgraded")
    if params.old_street_spacing >= params.block_cells - 1:
        raise ScenarioError(where, "old_street_spacing",
                            f"{params.old_street_spacing} must be < block_cells - 1 "
                            f"({params.block_cells - 1})")
    return params
