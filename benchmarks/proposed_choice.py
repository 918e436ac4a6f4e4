"""A proposed faster choice kernel (benchmark prototype; the model does not use it).

Utility depends on the resident only through its home cell and its *type*: income band,
walking speed, age class (which of the thresholds 60 and the offers' ``free_age`` values it
has reached) and whether it orders online today. This kernel computes the weights of a
(home, category, type) row once and reuses them for every need of that row, drawing each
need with its own uniform over the stored cumulative weights. The weights are computed with
the same floating-point operations in the same order as ``model.choice.choose``, so with the
same uniforms it picks exactly the same offers.

Needs come grouped by home (``_draw_needs`` returns residents in ascending order and
residents are numbered by home), so a small per-home cache suffices: when the home changes
the cache is cleared. Unsorted needs stay correct, only slower. ``parallel=True`` splits the
needs at home boundaries into chunks run on all cores (``numba.prange``).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _choose_range(lo, hi, need_res, need_cat, home, income, orders_online, speed_code, speed,
                  age, age_thr, n_speed,
                  ptr, cand_offer, cand_walk,
                  o_today, o_online, o_price, o_fee, o_quality, o_crowd, o_discount60, o_free_age,
                  beta_quality, beta_price, beta_walk, beta_late, beta_crowding, reach_min,
                  outside_u, outside_score, late_score, uniforms,
                  chosen, walk_min, score, paid_index):  # pragma: no cover - compiled
    K = outside_u.shape[0]
    n_age = age_thr.shape[0] + 1
    n_types = 3 * n_speed * n_age * 2
    slot_off = np.full(K * n_types, -1, dtype=np.int64)
    slot_tot = np.zeros(K * n_types)
    touched = np.empty(K * n_types, dtype=np.int64)
    n_touched = 0
    cum = np.empty(4096)
    wts = np.empty(4096)
    used = 0
    cur_home = -1
    for i in range(lo, hi):
        r = need_res[i]
        k = need_cat[i]
        h = home[r]
        if h != cur_home:
            for t in range(n_touched):
                slot_off[touched[t]] = -1
            n_touched = 0
            used = 0
            cur_home = h
        ac = 0
        for t in range(age_thr.shape[0]):
            if age[r] >= age_thr[t]:
                ac += 1
        online = 1 if orders_online[r] else 0
        slot = k * n_types + ((income[r] * n_speed + speed_code[r]) * n_age + ac) * 2 + online
        row = h * K + k
        a, b = ptr[row], ptr[row + 1]
        off = slot_off[slot]
        if off < 0:
            if used + (b - a) > cum.shape[0]:
                new_cap = 2 * (used + (b - a))
                c2 = np.empty(new_cap)
                w2 = np.empty(new_cap)
                c2[:used] = cum[:used]
                w2[:used] = wts[:used]
                cum, wts = c2, w2
            off = used
            used += b - a
            slot_off[slot] = off
            touched[n_touched] = slot
            n_touched += 1
            bp = beta_price[income[r]]
            inv_speed = 1.0 / (speed[r] * 60.0)
            total = np.exp(outside_u[k])
            for j in range(a, b):
                o = cand_offer[j]
                if not o_today[o] or (o_online[o] and not orders_online[r]):
                    w = 0.0
                else:
                    p = o_price[o]
                    if o_free_age[o] > 0 and age[r] >= o_free_age[o]:
                        p = 0.0
                    elif age[r] >= 60.0:
                        p = p * (1.0 - o_discount60[o])
                    p += o_fee[o]
                    t = cand_walk[j] * inv_speed
                    late = t - reach_min
                    if late < 0.0:
                        late = 0.0
                    c = o_crowd[o]
                    v = beta_quality * o_quality[o] - bp * (p - 1.0) - beta_walk * t \
                        - beta_late * late - beta_crowding * c * c
                    w = np.exp(v)
                total += w
                wts[off + j - a] = w
                cum[off + j - a] = total
            slot_tot[slot] = total
        u = uniforms[i] * slot_tot[slot]
        pick = -1
        if u >= np.exp(outside_u[k]):
            for j in range(a, b):
                if u < cum[off + j - a] and wts[off + j - a] > 0.0:
                    pick = j
                    break
            if pick < 0:
                for j in range(b - 1, a - 1, -1):
                    if wts[off + j - a] > 0.0:
                        pick = j
                        break
        if pick < 0:
            chosen[i] = -1
            walk_min[i] = 0.0
            score[i] = outside_score
            paid_index[i] = 0.0
            continue
        o = cand_offer[pick]
        p = o_price[o]
        if o_free_age[o] > 0 and age[r] >= o_free_age[o]:
            p = 0.0
        elif age[r] >= 60.0:
            p = p * (1.0 - o_discount60[o])
        p += o_fee[o]
        t = cand_walk[pick] * (1.0 / (speed[r] * 60.0))
        late = t - reach_min
        if late < 0.0:
            late = 0.0
        q = 0.5 + 0.5 * o_quality[o]
        pf = 1.0 - 1.5 * (p - 1.0)
        pf = min(1.15, max(0.5, pf))
        tf = max(0.0, 1.0 - late_score * late)
        c = o_crowd[o]
        cf = 1.0 if c <= 1.0 else max(0.5, 1.0 - 0.5 * (c - 1.0))
        s = q * pf * tf * cf
        chosen[i] = o
        walk_min[i] = t
        score[i] = min(1.0, max(0.0, s))
        paid_index[i] = p


@numba.njit(cache=True, parallel=True)
def _choose_chunks(bounds, *args):  # pragma: no cover - compiled
    for c in numba.prange(bounds.shape[0] - 1):
        _choose_range(bounds[c], bounds[c + 1], *args)


def run_choice_cached(model, need_res: np.ndarray, need_cat: np.ndarray, uniforms: np.ndarray,
                      speed_code: np.ndarray, parallel: bool = False, chunks: int = 64):
    """Like ``model.choice.run_choice`` with the per-(home, category, type) cache.

    Args:
        speed_code: per resident, the index of its walking speed among the distinct speeds
            (static: compute once per population with ``np.unique(..., return_inverse=True)``).
        parallel: split the needs at home boundaries and run the chunks on all cores.
        chunks: number of chunks when parallel.
    """
    pop, sup, idx, p = model.population, model.supply, model.candidates, model.params
    offers = sup.offers
    n = len(need_res)
    chosen = np.empty(n, dtype=np.int32)
    walk_min = np.empty(n, dtype=np.float32)
    score = np.empty(n, dtype=np.float32)
    paid = np.empty(n, dtype=np.float64)
    crowd = offers.load / offers.capacity
    free = offers.free_age[offers.free_age > 0]
    age_thr = np.unique(np.concatenate([[60.0], free])).astype(np.float64)
    n_speed = int(speed_code.max()) + 1 if len(speed_code) else 1
    args = (need_res, need_cat, pop.home, pop.income, model.orders_online, speed_code,
            pop.speed_mps, pop.age, age_thr, n_speed, idx.ptr, idx.offer, idx.walk_m,
            offers.today, offers.online, offers.price, offers.fee, offers.quality, crowd,
            offers.discount60, offers.free_age,
            p.beta_quality, model.beta_price, p.beta_walk_per_min, p.beta_late_per_min,
            p.beta_crowding, p.reach_minutes, model.categories.outside_utility, p.outside_score,
            p.late_score_per_min, uniforms, chosen, walk_min, score, paid)
    if parallel and n > chunks:
        bounds = np.linspace(0, n, chunks + 1).astype(np.int64)
        _choose_chunks(bounds, *args)
    else:
        _choose_range(0, n, *args)
    return chosen, walk_min, score, paid



@numba.njit(cache=True, nogil=True)
def _choose_factored(need_res, need_cat, home, income, orders_online, speed_code, age, age_thr,
                     ptr, cand_offer, cand_wcode, o_today, o_online, offer_w, walk_w, outside_w,
                     uniforms, chosen):  # pragma: no cover - compiled
    K = outside_w.shape[0]
    n_age = age_thr.shape[0] + 1
    buf = np.empty(4096)
    for i in range(need_res.shape[0]):
        r = need_res[i]
        k = need_cat[i]
        row = home[r] * K + k
        a, b = ptr[row], ptr[row + 1]
        if b - a > buf.shape[0]:
            buf = np.empty(2 * (b - a))
        ac = 0
        for t in range(age_thr.shape[0]):
            if age[r] >= age_thr[t]:
                ac += 1
        ty = income[r] * n_age + ac
        s = speed_code[r]
        total = outside_w[k]
        for j in range(a, b):
            o = cand_offer[j]
            if not o_today[o] or (o_online[o] and not orders_online[r]):
                w = 0.0
            else:
                w = offer_w[o, ty] * walk_w[s, cand_wcode[j]]
            buf[j - a] = w
            total += w
        u = uniforms[i] * total
        acc = outside_w[k]
        pick = -1
        if u >= acc:
            for j in range(a, b):
                acc += buf[j - a]
                if u < acc and buf[j - a] > 0.0:
                    pick = j
                    break
            if pick < 0:
                for j in range(b - 1, a - 1, -1):
                    if buf[j - a] > 0.0:
                        pick = j
                        break
        chosen[i] = -1 if pick < 0 else cand_offer[pick]


def factored_tables(model, speeds: np.ndarray, walk_values: np.ndarray):
    """Per-day tables of the factored rule: exp(v) = offer_w[o, type] x walk_w[speed, walk].

    ``offer_w`` holds exp(quality, price, crowding terms) per offer and (income, age class);
    ``walk_w`` exp(walk and lateness terms) per distinct speed and distinct walking distance
    (walks are whole cells, so there are few). Returns ``(offer_w, walk_w, outside_w, age_thr)``.
    """
    p, offers = model.params, model.supply.offers
    free = offers.free_age[offers.free_age > 0]
    age_thr = np.unique(np.concatenate([[60.0], free])).astype(np.float64)
    rep_age = np.concatenate([[0.0], age_thr])  # an age in each class
    price = np.empty((len(offers), len(rep_age)))
    for c, a in enumerate(rep_age):
        fr = (offers.free_age > 0) & (a >= offers.free_age)
        price[:, c] = np.where(fr, 0.0, np.where(a >= 60.0, offers.price * (1 - offers.discount60),
                                                 offers.price)) + offers.fee
    crowd = offers.load / offers.capacity
    base = p.beta_quality * offers.quality - p.beta_crowding * crowd * crowd
    v = base[:, None, None] - model.beta_price[None, :, None] * (price[:, None, :] - 1.0)
    offer_w = np.exp(v).reshape(len(offers), -1)
    t = walk_values[None, :] / (speeds[:, None].astype(np.float64) * 60.0)
    walk_w = np.exp(-p.beta_walk_per_min * t - p.beta_late_per_min * np.maximum(0, t - p.reach_minutes))
    return offer_w, walk_w, np.exp(model.categories.outside_utility), age_thr


def run_choice_factored(model, need_res, need_cat, uniforms, speed_code, speeds, wcode, walk_values):
    """Chosen offers by the factored rule (no exp per pair; equal to the rule up to rounding).

    Args:
        speed_code / speeds: per resident the index into the distinct speeds ``speeds``.
        wcode / walk_values: per candidate the index into the distinct walks ``walk_values``
            (static between index rebuilds: ``np.unique(idx.walk_m, return_inverse=True)``).
    """
    pop, idx, offers = model.population, model.candidates, model.supply.offers
    offer_w, walk_w, outside_w, age_thr = factored_tables(model, speeds, walk_values)
    chosen = np.empty(len(need_res), dtype=np.int32)
    _choose_factored(need_res, need_cat, pop.home, pop.income, model.orders_online, speed_code,
                     pop.age, age_thr, idx.ptr, idx.offer, wcode, offers.today, offers.online,
                     offer_w, walk_w, outside_w, uniforms, chosen)
    return chosen
