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

import itertools
import threading
from dataclasses import dataclass

import numba
import numpy as np

from .knowledge import KnowledgeTerms, pair_uniform, resident_hash
from .reach import WALK_BITS
from .supply import ACCESS_PLATFORM, AUDIENCE_MASK, N_AUDIENCE

WALK_MASK = (1 << WALK_BITS) - 1
MAX_SPEEDS = 64  # distinct walking speeds the factored kernel tabulates
PARALLEL_MIN_NEEDS = 20_000  # below this, one thread (thread start-up costs more)
CHUNKS_PER_THREAD = 4


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


@numba.njit(cache=True, nogil=True, inline="always")
def _price_paid(price, fee, free_age, discount60, age):  # pragma: no cover - compiled
    """Price index a resident of ``age`` pays at an offer (discounts, then the delivery fee)."""
    p = price
    if free_age > 0 and age >= free_age:
        p = 0.0
    elif age >= 60.0:
        p = p * (1.0 - discount60)
    return p + fee


@numba.njit(cache=True, nogil=True, inline="always")
def _utility(quality, paid, t, crowd, std_min, bq, bp, bw, bl, bc):  # pragma: no cover
    """The utility of one option (see the module docstring)."""
    late = t - std_min
    if late < 0.0:
        late = 0.0
    return bq * quality - bp * (paid - 1.0) - bw * t - bl * late - bc * crowd * crowd


@numba.njit(cache=True, nogil=True, inline="always")
def _unknown(salt, r, o, in_sight, platform, listed, miss_offer, miss_home):  # pragma: no cover
    """Resident r does not know offer o (``model.knowledge``).

    Not in sight, not listed on a platform the resident uses, and the pair's fixed uniform
    below the chance of not knowing.
    """
    if in_sight or (platform and listed) or miss_offer <= 0.0:
        return False
    return pair_uniform(resident_hash(salt, r), o) < miss_offer * miss_home


@numba.njit(cache=True, nogil=True)
def _first_factored(lo, hi, need_res, need_cat, home, income, access, speed, age,
                    speeds, age_thr, std_class, ptr, cand_offer, cand_walk, cand_packed,
                    offer_w, walk_w, outside_w, ref_w, money_per_util, o_price, o_fee,
                    o_discount60, o_free_age, know, salt, code_in_sight, k_miss_offer,
                    k_miss_user, k_miss_home, u_choice,
                    chosen, pos, walk_min, score, paid, surplus, u_again):  # pragma: no cover
    """First choices of needs ``lo:hi`` with the factored weights (see the module docstring)."""
    K = outside_w.shape[0]
    n_age = age_thr.shape[0] + 1
    n_ty = offer_w.shape[1]
    n_std = walk_w.shape[1]
    n_walk = walk_w.shape[2]
    n_speed = speeds.shape[0]
    flat_ow = offer_w.ravel()
    flat_ww = walk_w.ravel()
    buf = np.empty(4096, dtype=np.float64)
    for i in range(lo, hi):
        r = need_res[i]
        k = need_cat[i]
        row = home[r] * K + k
        a, b = ptr[row], ptr[row + 1]
        if b - a > buf.shape[0]:
            buf = np.empty(2 * (b - a), dtype=np.float64)
        ar = age[r]
        ac = 0
        for t in range(age_thr.shape[0]):
            if ar >= age_thr[t]:
                ac += 1
        ty = (income[r] * n_age + ac) * N_AUDIENCE + (access[r] & AUDIENCE_MASK)
        sr = speed[r]
        s = 0
        for t in range(n_speed):
            if speeds[t] == sr:
                s = t
                break
        ws = (s * n_std + std_class[k]) * n_walk
        out_w = outside_w[k]
        total = out_w
        if know:  # only the offers the resident knows weigh (module knowledge)
            miss_h = k_miss_home[row]
            # a platform user misses no listed shop: its own per-offer chances
            miss_o = k_miss_user if (access[r] & ACCESS_PLATFORM) != 0 else k_miss_offer
            hr = resident_hash(salt, r)
            for j in range(a, b):
                pk = cand_packed[j]
                o = pk >> WALK_BITS
                code = pk & WALK_MASK
                # branch-free: whether r knows o is a coin flip the CPU cannot predict
                known = (pair_uniform(hr, o) >= miss_o[o] * miss_h) | code_in_sight[code]
                total += flat_ow[o * n_ty + ty] * flat_ww[ws + code] * known
                buf[j - a] = total
        else:
            for j in range(a, b):
                pk = cand_packed[j]  # offer << WALK_BITS | walk code
                total += flat_ow[(pk >> WALK_BITS) * n_ty + ty] * flat_ww[ws + (pk & WALK_MASK)]
                buf[j - a] = total  # cumulative weight, summed in candidate order
        surplus[i] = np.log(total / out_w) * money_per_util[income[r], k]
        target = u_choice[i] * total
        pick = -1
        if target >= out_w:
            # the first candidate whose cumulative weight exceeds the target (it has weight
            # > 0); cumulative weights never decrease, so its position is the count of those
            # not above the target (a branch-free count)
            below = 0
            for j in range(b - a):
                below += buf[j] <= target
            if below < b - a:
                pick = a + below
            else:  # rounding at the top end: take the last candidate with weight
                for j in range(b - 1, a - 1, -1):
                    lower = buf[j - a - 1] if j > a else out_w
                    if buf[j - a] > lower:
                        pick = j
                        break
        if pick < 0:
            chosen[i] = -1
            pos[i] = -1
            walk_min[i] = 0.0
            score[i] = out_w / (out_w + ref_w[k])
            paid[i] = 0.0
            u_again[i] = 0.0
            continue
        lower = buf[pick - a - 1] if pick > a else out_w
        w = buf[pick - a] - lower
        u_again[i] = min(max((target - lower) / w, 0.0), np.nextafter(1.0, 0.0))
        o = cand_offer[pick]
        chosen[i] = o
        pos[i] = pick
        walk_min[i] = cand_walk[pick] * (1.0 / (sr * 60.0))
        score[i] = w / (w + ref_w[k])
        paid[i] = _price_paid(o_price[o], o_fee[o], o_free_age[o], o_discount60[o], ar)


@numba.njit(cache=True, nogil=True)
def _first_direct(need_res, need_cat, home, income, access, speed, age, ptr,
                  cand_offer, cand_walk, o_today, o_audience, o_price, o_fee, o_quality,
                  o_crowd, o_discount60, o_free_age, know, salt, sight_m, k_miss_offer,
                  k_listed, k_miss_home, bq, beta_price, bw, bl, bc, std_min,
                  outside_u, ref_u, shift, money_per_util, u_choice,
                  chosen, pos, walk_min, score, paid, surplus, u_again):  # pragma: no cover
    """First choices with one exp(v - M) per candidate (when the factored tables do not apply)."""
    buf = np.empty(4096, dtype=np.float64)
    K = outside_u.shape[0]
    for i in range(need_res.shape[0]):
        r = need_res[i]
        k = need_cat[i]
        row = home[r] * K + k
        a, b = ptr[row], ptr[row + 1]
        if b - a > buf.shape[0]:
            buf = np.empty(2 * (b - a), dtype=np.float64)
        bp = beta_price[income[r]]
        inv_speed = 1.0 / (speed[r] * 60.0)
        out_w = np.exp(outside_u[k] - shift)
        ref_w = np.exp(ref_u[k] - shift)
        miss_h = k_miss_home[row] if know else 1.0
        platform = (access[r] & ACCESS_PLATFORM) != 0
        total = out_w
        for j in range(a, b):
            o = cand_offer[j]
            if o_today[o] and (o_audience[o] & access[r]) == o_audience[o] and not (
                    know and _unknown(salt, r, o, cand_walk[j] <= sight_m, platform, k_listed[o],
                                      k_miss_offer[o], miss_h)):
                p = _price_paid(o_price[o], o_fee[o], o_free_age[o], o_discount60[o], age[r])
                v = _utility(o_quality[o], p, cand_walk[j] * inv_speed, o_crowd[o], std_min[k],
                             bq, bp, bw, bl, bc)
                total += np.exp(v - shift)
            buf[j - a] = total
        surplus[i] = np.log(total / out_w) * money_per_util[income[r], k]
        target = u_choice[i] * total
        pick = -1
        if target >= out_w:
            below = 0
            for j in range(b - a):
                below += buf[j] <= target
            if below < b - a:
                pick = a + below
            else:
                for j in range(b - 1, a - 1, -1):
                    lower = buf[j - a - 1] if j > a else out_w
                    if buf[j - a] > lower:
                        pick = j
                        break
        if pick < 0:
            chosen[i] = -1
            pos[i] = -1
            walk_min[i] = 0.0
            score[i] = out_w / (out_w + ref_w)
            paid[i] = 0.0
            u_again[i] = 0.0
            continue
        lower = buf[pick - a - 1] if pick > a else out_w
        w = buf[pick - a] - lower
        u_again[i] = min(max((target - lower) / w, 0.0), np.nextafter(1.0, 0.0))
        o = cand_offer[pick]
        chosen[i] = o
        pos[i] = pick
        walk_min[i] = cand_walk[pick] * inv_speed
        score[i] = w / (w + ref_w)
        paid[i] = _price_paid(o_price[o], o_fee[o], o_free_age[o], o_discount60[o], age[r])


@numba.njit(cache=True, nogil=True)
def _ration(need_res, need_cat, home, income, access, speed, age, ptr, cand_offer,
            cand_walk, o_today, o_audience, o_price, o_fee, o_quality, o_crowd, o_discount60,
            o_free_age, know, salt, sight_m, k_miss_offer, k_listed, k_miss_home, o_cap, bq,
            beta_price, bw, bl, bc, std_min, outside_u, ref_u, shift, priority, chosen,
            walk_min, score, paid, u_again, turned, attempts, served):  # pragma: no cover - compiled
    """Serve first choices up to capacity in queue order; the turned away choose again."""
    n = need_res.shape[0]
    n_off = o_cap.shape[0]
    K = outside_u.shape[0]
    for i in range(n):
        o = chosen[i]
        if o >= 0:
            attempts[o] += 1.0
    over = np.zeros(n_off, dtype=np.bool_)
    any_over = False
    for o in range(n_off):
        if attempts[o] > o_cap[o]:
            over[o] = True
            any_over = True
    if not any_over:
        for o in range(n_off):
            served[o] = attempts[o]
        return
    # the needs at full offers, by offer then queue place (priority < 1 keeps offers apart)
    m = 0
    for i in range(n):
        o = chosen[i]
        if o >= 0 and over[o]:
            m += 1
    at_full = np.empty(m, dtype=np.int64)
    key = np.empty(m, dtype=np.float64)
    m = 0
    for i in range(n):
        o = chosen[i]
        if o >= 0 and over[o]:
            at_full[m] = i
            key[m] = o + priority[i]
            m += 1
    order = np.argsort(key, kind="mergesort")
    for o in range(n_off):
        served[o] = 0.0 if over[o] else attempts[o]
    away = np.empty(m, dtype=np.int64)
    n_away = 0
    for q in range(m):
        i = at_full[order[q]]
        o = chosen[i]
        if served[o] < o_cap[o]:
            served[o] += 1.0
        else:
            away[n_away] = i
            n_away += 1
    away = away[:n_away]
    away = away[np.argsort(priority[away], kind="mergesort")]
    buf = np.empty(4096, dtype=np.float64)
    for q in range(n_away):
        i = away[q]
        turned[i] = True
        r = need_res[i]
        k = need_cat[i]
        row = home[r] * K + k
        a, b = ptr[row], ptr[row + 1]
        if b - a > buf.shape[0]:
            buf = np.empty(2 * (b - a), dtype=np.float64)
        bp = beta_price[income[r]]
        inv_speed = 1.0 / (speed[r] * 60.0)
        out_w = np.exp(outside_u[k] - shift)
        ref_w = np.exp(ref_u[k] - shift)
        miss_h = k_miss_home[row] if know else 1.0
        platform = (access[r] & ACCESS_PLATFORM) != 0
        total = out_w
        for j in range(a, b):
            o = cand_offer[j]
            if o_today[o] and served[o] < o_cap[o] and (o_audience[o] & access[r]) == o_audience[o] \
                    and not (know and _unknown(salt, r, o, cand_walk[j] <= sight_m, platform,
                                               k_listed[o], k_miss_offer[o], miss_h)):
                p = _price_paid(o_price[o], o_fee[o], o_free_age[o], o_discount60[o], age[r])
                v = _utility(o_quality[o], p, cand_walk[j] * inv_speed, o_crowd[o], std_min[k],
                             bq, bp, bw, bl, bc)
                total += np.exp(v - shift)
            buf[j - a] = total
        target = u_again[i] * total
        pick = -1
        if target >= out_w:
            for j in range(a, b):
                lower = buf[j - a - 1] if j > a else out_w
                if target < buf[j - a] and buf[j - a] > lower:
                    pick = j
                    break
            if pick < 0:
                for j in range(b - 1, a - 1, -1):
                    lower = buf[j - a - 1] if j > a else out_w
                    if buf[j - a] > lower:
                        pick = j
                        break
        if pick < 0:
            chosen[i] = -1
            walk_min[i] = 0.0
            score[i] = out_w / (out_w + ref_w)
            paid[i] = 0.0
            continue
        lower = buf[pick - a - 1] if pick > a else out_w
        w = buf[pick - a] - lower
        o = cand_offer[pick]
        chosen[i] = o
        attempts[o] += 1.0
        served[o] += 1.0
        walk_min[i] = cand_walk[pick] * inv_speed
        score[i] = w / (w + ref_w)
        paid[i] = _price_paid(o_price[o], o_fee[o], o_free_age[o], o_discount60[o], age[r])


@numba.njit(cache=True, nogil=True)
def _distinct_speeds(need_res, speed, max_n):  # pragma: no cover - compiled
    """Distinct walking speeds among the residents with needs (-1 count: more than max_n)."""
    out = np.empty(max_n, dtype=speed.dtype)
    n = 0
    for i in range(need_res.shape[0]):
        s = speed[need_res[i]]
        found = False
        for t in range(n):
            if out[t] == s:
                found = True
                break
        if not found:
            if n >= max_n:
                return out[:0], -1
            out[n] = s
            n += 1
    return out[:n], n


def _run_chunked(n: int, args: tuple) -> None:
    """Run ``_first_factored`` over ``n`` needs on ``numba.get_num_threads()`` threads.

    The kernel releases the GIL (``nogil``), so plain Python threads run the chunks in
    parallel; they take chunks from a shared counter, so a thread slowed by other load does
    less. Threads block (no spinning) and are started per call (fork-safe). Each need has
    its own uniform, so the outcome does not depend on the threads or the chunking.
    """
    threads = numba.get_num_threads()
    if n < PARALLEL_MIN_NEEDS or threads <= 1:
        _first_factored(0, n, *args)
        return
    n_chunks = threads * CHUNKS_PER_THREAD
    bounds = np.linspace(0, n, n_chunks + 1).astype(np.int64).tolist()
    counter = itertools.count()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while (c := next(counter)) < n_chunks:
                _first_factored(bounds[c], bounds[c + 1], *args)
        except BaseException as exc:  # pragma: no cover - re-raised below
            errors.append(exc)

    helpers = [threading.Thread(target=work, daemon=True) for _ in range(threads - 1)]
    for t in helpers:
        t.start()
    work()
    for t in helpers:
        t.join()
    if errors:  # pragma: no cover - a kernel error
        raise errors[0]


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


@numba.njit(cache=True, nogil=True)
def _needs_from_draws(u, freq, group, idx):  # pragma: no cover - compiled
    n, K = u.shape
    count = 0
    for i in range(n):
        g = group[idx[i]]
        for k in range(K):
            if u[i, k] < freq[g, k]:
                count += 1
    need_res = np.empty(count, dtype=np.int64)
    need_cat = np.empty(count, dtype=np.int16)
    c = 0
    for i in range(n):
        g = group[idx[i]]
        r = idx[i]
        for k in range(K):
            if u[i, k] < freq[g, k]:
                need_res[c] = r
                need_cat[c] = k
                c += 1
    return need_res, need_cat


def needs_from_draws(u: np.ndarray, freq: np.ndarray, group: np.ndarray,
                     idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Needs (resident, category) where ``u[i, k] < freq[group[idx[i]], k]``, row by row.

    Equal to ``np.nonzero(u < freq[group[idx]].astype(np.float32))`` mapped through ``idx``,
    without the (residents, categories) temporaries.
    """
    return _needs_from_draws(np.ascontiguousarray(u), np.ascontiguousarray(freq, dtype=np.float32),
                             group, idx)
