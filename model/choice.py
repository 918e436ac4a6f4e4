"""Daily choice: a multinomial logit over reachable offers plus an outside option.

For a need of category k of resident r (group g, income band b, walking speed s, own reach
R = s x 15 min), each candidate offer j with walking time t_j = walk_j / s / 60 minutes has

    v_j = beta_quality q_j - beta_price[b] (p_j - 1) - beta_walk t_j
          - beta_late max(0, t_j - reach_minutes) - beta_crowding c_j^2

where p_j is the price index the resident pays (market = 1; elderly discounts apply; an
online offer adds its delivery fee as a price index; online offers are open only to residents
who order online) and c_j yesterday's load over capacity. The
outside option (go without, or travel far) has utility ``outside_utility[k]``. One uniform
draw per need picks an option with the logit probabilities exp(v_j) / sum exp(v).

Each outcome is scored 0..1 for satisfaction: quality, price, walking beyond the resident's
own reach and crowding lower the score of a met need; the outside option scores
``outside_score``.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def choose(need_res, need_cat, home, income, orders_online, speed, age,
           ptr, cand_offer, cand_walk,
           o_today, o_online, o_price, o_fee, o_quality, o_crowd, o_discount60, o_free_age,
           beta_quality, beta_price, beta_walk, beta_late, beta_crowding, reach_min,
           outside_u, outside_score, late_score, uniforms,
           chosen, walk_min, score, paid_index):  # pragma: no cover - compiled
    """Choose for every need; write chosen offer (-1 outside), minutes, score, price paid."""
    K = outside_u.shape[0]
    buf = np.empty(4096, dtype=np.float64)
    for i in range(need_res.shape[0]):
        r = need_res[i]
        k = need_cat[i]
        row = home[r] * K + k
        a, b = ptr[row], ptr[row + 1]
        if b - a + 1 > buf.shape[0]:
            buf = np.empty(2 * (b - a + 1), dtype=np.float64)
        bp = beta_price[income[r]]
        inv_speed = 1.0 / (speed[r] * 60.0)
        total = np.exp(outside_u[k])
        for j in range(a, b):
            o = cand_offer[j]
            if not o_today[o] or (o_online[o] and not orders_online[r]):
                buf[j - a] = 0.0
                continue
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
            v = beta_quality * o_quality[o] - bp * (p - 1.0) - beta_walk * t - beta_late * late \
                - beta_crowding * c * c
            w = np.exp(v)
            buf[j - a] = w
            total += w
        u = uniforms[i] * total
        acc = np.exp(outside_u[k])
        pick = -1
        if u >= acc:
            for j in range(a, b):
                acc += buf[j - a]
                if u < acc and buf[j - a] > 0.0:
                    pick = j
                    break
            if pick < 0:  # rounding at the top end: take the last available candidate
                for j in range(b - 1, a - 1, -1):
                    if buf[j - a] > 0.0:
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
        t = cand_walk[pick] * inv_speed
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


def run_choice(model, need_res: np.ndarray, need_cat: np.ndarray, uniforms: np.ndarray):
    """Run the kernel on the model's arrays; return (chosen, walk_min, score, paid_index)."""
    pop, sup, idx, p = model.population, model.supply, model.candidates, model.params
    offers = sup.offers
    n = len(need_res)
    chosen = np.empty(n, dtype=np.int32)
    walk_min = np.empty(n, dtype=np.float32)
    score = np.empty(n, dtype=np.float32)
    paid = np.empty(n, dtype=np.float64)
    crowd = offers.load / offers.capacity
    choose(need_res, need_cat, pop.home, pop.income, model.orders_online, pop.speed_mps, pop.age,
           idx.ptr, idx.offer, idx.walk_m,
           offers.today, offers.online, offers.price, offers.fee, offers.quality, crowd,
           offers.discount60, offers.free_age,
           p.beta_quality, model.beta_price, p.beta_walk_per_min, p.beta_late_per_min,
           p.beta_crowding, p.reach_minutes, model.categories.outside_utility, p.outside_score,
           p.late_score_per_min, uniforms, chosen, walk_min, score, paid)
    return chosen, walk_min, score, paid
