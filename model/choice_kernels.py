"""Compiled kernels of the daily choice (``model.choice`` documents the rule they compute).

``_first_factored`` draws the first choices from the factored weights (two look-ups and a
multiply per candidate), ``_first_direct`` computes ``exp(v - M)`` per candidate where the
factorization does not apply, ``_ration`` serves offers up to their capacity in queue order
and lets the needs turned away choose again, and ``_distinct_speeds`` tells which kernel
applies. All are ``numba`` functions that release the GIL; ``model.reference`` recomputes
every one of them in plain Python.
"""

from __future__ import annotations

import numba
import numpy as np

from .knowledge import pair_uniform, resident_hash
from .reach import WALK_BITS
from .supply import ACCESS_PLATFORM, AUDIENCE_MASK, N_AUDIENCE

WALK_MASK = (1 << WALK_BITS) - 1

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
