"""Daily choice: a multinomial logit over reachable offers plus an outside option, with capacity.

For a need of category k of resident r (income band b, walking speed s), each candidate offer
j with walking time t_j = walk_j / s / 60 minutes has the utility

    v_j = beta_quality q_j - beta_price[b] (p_j - 1) - beta_walk t_j
          - beta_late max(0, t_j - S_k) - beta_crowding c_j^2

where S_k is the category's standard walk in minutes (``standard_walk_min``: 10 for the daily
basics of the 2023-25 plan, 15 for quality formats), p_j the price index the resident pays
(market = 1; elderly discounts apply; a delivery adds its fee as a price index) and c_j the
offer's recent demand (attempted visits, smoothed over the days it was open) over its capacity.
An offer with an ``audience`` is open only to residents with those access bits: online offers
to residents who order online, care at home to the residents eligible for it. The outside option (go
without, or travel far) has utility ``v_0 = outside_utility[k]``.

**First choice.** One uniform per need picks an option with probabilities
exp(v_j) / sum exp(v); a second uniform is the need's place in today's queue.

**Capacity binds.** An offer serves at most ``floor(capacity)`` visits a day. Offers serve the
needs that chose them first, in queue order; the needs turned away choose again, in queue
order, among the outside option and the offers that still have room (same utilities; the
uniform of the re-choice is the first draw rescaled within the interval of the option it
had picked, so no new draws are needed), so no offer ever serves more than its capacity.

**Outcome score** (satisfaction). The score of an outcome with utility v is
sigma(v - r_k) = exp(v) / (exp(v) + exp(r_k)), the chance a resident prefers it to the
category's *standard provision* r_k = beta_quality q_ref - beta_walk S_k (a shop of reference
quality at market price, exactly the standard walk away, not crowded). Going without scores
sigma(v_0 - r_k). So the score ranks outcomes as the choice does: a delivery that saves a
walk counts as convenience and its fee as a price; a resident's satisfaction above 0.5 means
its needs were met, on average, at least as well as the plan's standard.

**Consumer surplus.** The expected consumer surplus of a need is
(log sum_j exp(v_j) + exp(v_0)) - v_0) / beta_price[b] in price-index units, times the visit's
spend in yuan (Small & Rosen 1981), over the first-choice set: relative to going without,
never negative, and it cannot fall when an option is added.

Implementation. All weights are exp(v - M) with one shift M (the largest utility any option
can have today), so no exponent overflows (log-sum-exp). Utility depends on the resident only
through its home cell and its *type* (income band, age class -- which of 60 and the offers'
``free_age`` values it has reached -- and its access class: whether it orders online today and
whether it is eligible for care at home), and walks are whole
cells, so each first-choice weight factors as

    exp(v_j - M) = offer_w[offer, type] * walk_w[speed, standard class, walk]

computed once a day; the per-candidate work is two look-ups and a multiply. First choices run
on ``numba.get_num_threads()`` threads in chunks (each need has its own uniforms, so results do
not depend on the threads); rationing and re-choices run in one sequential pass. Where the
factorization does not apply (many distinct speeds or walks) a direct kernel computes
exp(v - M) per candidate instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .choice_kernels import _distinct_speeds, _first_direct, _first_factored, _ration
from .knowledge import KnowledgeTerms
from .supply import AUDIENCE_MASK, N_AUDIENCE
from .threads import CHUNKS_PER_THREAD, PARALLEL_MIN_ITEMS, chunk_bounds, run_tasks, thread_count

MAX_SPEEDS = 64  # distinct walking speeds the factored kernel tabulates


@dataclass
class ChoiceResult:
    """One day's choices, per need and per offer.

    Attributes:
        chosen: offer served (-1: outside option / unmet).
        walk_min: minutes walked (0 for the outside option and deliveries).
        score: outcome score 0..1.
        paid_index: price index paid (0 for the outside option).
        surplus_yuan: expected consumer surplus of the need's choice set, in yuan.
        turned_away: the need's first choice was full (it chose again).
        attempts: per offer, visits attempted today (first choices plus re-choices).
        served: per offer, visits served today (at most its capacity).
    """

    chosen: np.ndarray
    walk_min: np.ndarray
    score: np.ndarray
    paid_index: np.ndarray
    surplus_yuan: np.ndarray
    turned_away: np.ndarray
    attempts: np.ndarray
    served: np.ndarray



def _run_chunked(n: int, args: tuple) -> None:
    """Run ``_first_factored`` over ``n`` needs in chunks on ``model.threads``' threads.

    Each need has its own uniform, so the outcome does not depend on the threads or the
    chunking.
    """
    if n < PARALLEL_MIN_ITEMS or thread_count() <= 1:
        _first_factored(0, n, *args)
        return
    bounds = chunk_bounds(n, thread_count() * CHUNKS_PER_THREAD)
    run_tasks(len(bounds) - 1, lambda c: _first_factored(bounds[c], bounds[c + 1], *args))


@dataclass
class Coefficients:
    """The day's utility terms as arrays (what both kernels and the reference read).

    Attributes:
        beta_quality, beta_walk, beta_late, beta_crowding: utility coefficients.
        beta_price: (3,) per income band.
        std_min: (K,) standard walk in minutes per category.
        outside_u: (K,) utility of the outside option.
        ref_u: (K,) utility of the standard provision (the score's reference).
        money_per_util: (3, K) yuan per unit of utility (spend x income multiplier / beta_price).
        crowd: per offer, recent demand over capacity.
        shift: M, the largest utility any option can have (from the parameters alone).
    """

    beta_quality: float
    beta_walk: float
    beta_late: float
    beta_crowding: float
    beta_price: np.ndarray
    std_min: np.ndarray
    outside_u: np.ndarray
    ref_u: np.ndarray
    money_per_util: np.ndarray
    crowd: np.ndarray
    shift: float


def coefficients(model) -> Coefficients:
    """The day's utility terms of ``model`` (see ``Coefficients``)."""
    p, cats, offers = model.params, model.categories, model.supply.offers
    crowd = offers.load / offers.capacity
    bq, bc = p.beta_quality, p.beta_crowding
    beta_price = model.beta_price.astype(np.float64)
    ref_u = bq * p.independent_quality - p.beta_walk_per_min * cats.standard_min
    # the largest utility any option can have (quality <= 1, nothing cheaper than free, no walk,
    # no crowding): from the parameters alone, so adding or removing offers never changes it
    shift = max(bq + float(beta_price.max()), float(cats.outside_utility.max()),
                float(ref_u.max()))
    money = cats.spend[None, :] * model.spend_mult[:, None] / beta_price[:, None]
    return Coefficients(bq, p.beta_walk_per_min, p.beta_late_per_min, bc, beta_price,
                        cats.standard_min.astype(np.float64), cats.outside_utility.astype(np.float64),
                        ref_u.astype(np.float64), money, crowd, shift)


def choice_tables(model, c: Coefficients, speeds: np.ndarray, walk_values: np.ndarray):
    """Per-day tables of the factored rule: ``exp(v - M) = offer_w[o, type] * walk_w[s, std, walk]``.

    Args:
        model: the CommerceModel.
        c: the day's coefficients.
        speeds: the distinct walking speeds (m/s) to tabulate.
        walk_values: the distinct walks (m) of the candidate index.

    Returns:
        ``(offer_w, walk_w, std_class, age_thr)``: ``offer_w`` is (offers, 3 x age classes x
        N_AUDIENCE), indexed ``(income * n_age + age class) * N_AUDIENCE + access class`` (the
        resident's ``access & AUDIENCE_MASK``), zero for offers not available today and for
        offers whose audience the access class lacks; ``walk_w`` is
        (speeds, distinct standards, walks); ``std_class`` maps a category to its standard;
        ``age_thr`` the sorted age thresholds (60 and every ``free_age``).
    """
    offers = model.supply.offers
    free = offers.free_age[offers.free_age > 0]
    age_thr = np.unique(np.concatenate([[60.0], free])).astype(np.float64)
    rep_age = np.concatenate([[0.0], age_thr])  # one age in each class
    n_age = len(rep_age)
    base = c.beta_quality * offers.quality - c.beta_crowding * c.crowd * c.crowd - c.shift
    is_free = offers.free_age > 0
    offer_w = np.empty((len(offers), 3, n_age, N_AUDIENCE))
    for a_cls, a in enumerate(rep_age):
        price = offers.price
        if a >= 60.0:
            price = price * (1.0 - offers.discount60)
        price = np.where(is_free & (a >= offers.free_age), 0.0, price) + offers.fee
        for b in range(3):
            offer_w[:, b, a_cls, 0] = np.exp(base - c.beta_price[b] * (price - 1.0))
    for a in range(1, N_AUDIENCE):
        offer_w[:, :, :, a] = offer_w[:, :, :, 0]
    offer_w[~offers.today] = 0.0
    for a in range(N_AUDIENCE):  # offers needing an access bit this class lacks
        offer_w[(offers.audience & np.uint8(AUDIENCE_MASK & ~a)) != 0, :, :, a] = 0.0
    standards, std_class = np.unique(c.std_min, return_inverse=True)
    t = walk_values[None, :] * (1.0 / (speeds.astype(np.float64)[:, None] * 60.0))
    late = np.maximum(0.0, t[:, None, :] - standards[None, :, None])
    walk_w = np.exp(-c.beta_walk * t[:, None, :] - c.beta_late * late)
    return (offer_w.reshape(len(offers), 3 * n_age * N_AUDIENCE), np.ascontiguousarray(walk_w),
            std_class.astype(np.int64), age_thr)


def run_choice(model, need_res: np.ndarray, need_cat: np.ndarray,
               uniforms: np.ndarray) -> ChoiceResult:
    """First choices, rationing and re-choices of one day (see the module docstring).

    Args:
        model: the CommerceModel (its offers, index and residents today).
        need_res: resident per need.
        need_cat: category per need.
        uniforms: ``(needs, 2)``: the choice draw and the queue place of every need.
    """
    pop, sup, idx = model.population, model.supply, model.candidates
    offers = sup.offers
    n = len(need_res)
    c = coefficients(model)
    chosen = np.empty(n, dtype=np.int32)
    pos = np.empty(n, dtype=np.int64)
    walk_min = np.empty(n, dtype=np.float64)
    score = np.empty(n, dtype=np.float64)
    paid = np.empty(n, dtype=np.float64)
    surplus = np.empty(n, dtype=np.float64)
    u_again = np.empty(n, dtype=np.float64)
    u_choice = np.ascontiguousarray(uniforms[:, 0])
    priority = np.ascontiguousarray(uniforms[:, 1])
    speeds, n_speeds = _distinct_speeds(need_res, pop.speed_mps, MAX_SPEEDS)
    offer_walk = idx.offer_walk
    kt: KnowledgeTerms = model.knowledge.terms(model)
    miss_home = kt.miss_home if kt.on else np.ones(1)
    direct_args = (pop.home, pop.income, model.access, pop.speed_mps, pop.age, idx.ptr,
                   idx.offer, idx.walk_m, offers.today, offers.audience, offers.price, offers.fee,
                   offers.quality, c.crowd, offers.discount60, offers.free_age, kt.on, kt.salt,
                   kt.sight_m, kt.miss_offer, kt.listed, miss_home)
    betas = (c.beta_quality, c.beta_price, c.beta_walk, c.beta_late, c.beta_crowding,
             c.std_min, c.outside_u, c.ref_u, c.shift)
    if n_speeds < 0 or offer_walk is None:
        _first_direct(need_res, need_cat, *direct_args, *betas, c.money_per_util, u_choice,
                      chosen, pos, walk_min, score, paid, surplus, u_again)
    else:
        if n_speeds == 0:
            speeds = pop.speed_mps[:1]
        offer_w, walk_w, std_class, age_thr = choice_tables(model, c, speeds, idx.walk_values)
        args = (need_res, need_cat, pop.home, pop.income, model.access, pop.speed_mps,
                pop.age, speeds, age_thr, std_class, idx.ptr, idx.offer, idx.walk_m, offer_walk,
                offer_w, walk_w, np.exp(c.outside_u - c.shift), np.exp(c.ref_u - c.shift),
                c.money_per_util, offers.price, offers.fee, offers.discount60, offers.free_age,
                kt.on, kt.salt, idx.walk_values <= kt.sight_m, kt.miss_offer,
                np.where(kt.listed, 0.0, kt.miss_offer), miss_home, u_choice, chosen, pos,
                walk_min, score, paid, surplus, u_again)
        _run_chunked(n, args)
    turned = np.zeros(n, dtype=bool)
    attempts = np.zeros(len(offers))
    served = np.zeros(len(offers))
    cap = np.floor(offers.capacity + 1e-9)
    _ration(need_res, need_cat, *direct_args, cap, *betas, priority, chosen, walk_min, score,
            paid, u_again, turned, attempts, served)
    return ChoiceResult(chosen, walk_min, score, paid, surplus, turned, attempts, served)
