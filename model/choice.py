"""Daily choice: a multinomial logit over reachable offers plus an outside option.

For a need of category k of resident r (group g, income band b, walking speed s, own reach
R = s x 15 min), each candidate offer j with walking time t_j = walk_j / s / 60 minutes has

    v_j = beta_quality q_j - beta_price[b] (p_j - 1) - beta_walk t_j
          - beta_late max(0, t_j - reach_minutes) - beta_crowding c_j^2

where p_j is the price index the resident pays (market = 1; elderly discounts apply; an
online offer adds its delivery fee as a price index; online offers are open only to residents
who order online) and c_j the offer's recent load (smoothed visits) over capacity. The
outside option (go without, or travel far) has utility ``outside_utility[k]``. One uniform
draw per need picks an option with the logit probabilities exp(v_j) / sum exp(v).

Each outcome is scored 0..1 for satisfaction: quality, price, walking beyond the resident's
own reach and crowding lower the score of a met need; the outside option scores
``outside_score``.

Implementation. Utility depends on the resident only through its home cell and its *type*
(income band, walking speed, age class -- which of 60 and the offers' ``free_age`` values it
has reached -- and whether it orders online today), and walking distances are whole cells,
so each weight factors as

    exp(v_j) = offer_w[offer, income x age class x online] * walk_w[speed, walk]

(quality, price and crowding terms per offer and resident type; walking and lateness terms
per distinct speed and distinct walk). Both tables are computed once per day (offers not
available today, and online offers for those not ordering online, get weight 0), so the
per-candidate work is two look-ups and a multiply instead of an ``exp``. The draw itself is
unchanged: the outside option first, then the candidates in index order, the first cumulative
weight above ``u x total``. Large days run on ``numba.get_num_threads()`` threads (chunks
of needs; the kernel releases the GIL); every need uses its own pre-drawn uniform, so
results do not depend on the number of threads. Where the factorization does not apply
(many distinct speeds or walks) the direct kernel ``choose`` runs instead.
"""

from __future__ import annotations

import itertools
import threading

import numba
import numpy as np

from .reach import WALK_BITS

WALK_MASK = (1 << WALK_BITS) - 1


@numba.njit(cache=True, nogil=True, inline="always")
def _outcome(price, fee, free_age, discount60, age, t, quality, crowd, reach_min,
             late_score):  # pragma: no cover - compiled
    """(minutes, score 0..1, price index paid) of a need met by one offer."""
    p = price
    if free_age > 0 and age >= free_age:
        p = 0.0
    elif age >= 60.0:
        p = p * (1.0 - discount60)
    p += fee
    late = t - reach_min
    if late < 0.0:
        late = 0.0
    q = 0.5 + 0.5 * quality
    pf = min(1.15, max(0.5, 1.0 - 1.5 * (p - 1.0)))
    tf = max(0.0, 1.0 - late_score * late)
    cf = 1.0 if crowd <= 1.0 else max(0.5, 1.0 - 0.5 * (crowd - 1.0))
    return t, min(1.0, max(0.0, q * pf * tf * cf)), p


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
        t, sc, p = _outcome(o_price[o], o_fee[o], o_free_age[o], o_discount60[o], age[r],
                            cand_walk[pick] * inv_speed, o_quality[o], o_crowd[o], reach_min,
                            late_score)
        chosen[i] = o
        walk_min[i] = t
        score[i] = sc
        paid_index[i] = p


@numba.njit(cache=True, nogil=True)
def _choose_range(lo, hi, need_res, need_cat, home, income, orders_online, speed, age,
                  speeds, age_thr, ptr, cand_offer, cand_walk, cand_packed, offer_w, walk_w,
                  outside_w, o_price, o_fee, o_quality, o_crowd, o_discount60, o_free_age,
                  reach_min, outside_score, late_score, uniforms,
                  chosen, walk_min, score, paid_index):  # pragma: no cover - compiled
    """The factored kernel on needs ``lo:hi`` (see the module docstring)."""
    K = outside_w.shape[0]
    n_age = age_thr.shape[0] + 1
    n_ty = offer_w.shape[1]
    n_walk = walk_w.shape[1]
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
        ty = (income[r] * n_age + ac) * 2 + (1 if orders_online[r] else 0)
        sr = speed[r]
        s = 0
        for t in range(n_speed):
            if speeds[t] == sr:
                s = t
                break
        ws = s * n_walk
        out_w = outside_w[k]
        total = out_w
        for j in range(a, b):
            pk = cand_packed[j]  # offer << WALK_BITS | walk code
            total += flat_ow[(pk >> WALK_BITS) * n_ty + ty] * flat_ww[ws + (pk & WALK_MASK)]
            buf[j - a] = total  # cumulative weight, summed in candidate order
        u = uniforms[i] * total
        pick = -1
        if u >= out_w:
            # the first candidate whose cumulative weight exceeds u (it has weight > 0: the
            # cumulative sum rose past u there); cumulative weights never decrease, so its
            # position is the count of those not above u (a branch-free, vectorized count)
            below = 0
            for j in range(b - a):
                below += buf[j] <= u
            if below < b - a:
                pick = a + below
            else:  # rounding at the top end: take the last available candidate
                for j in range(b - 1, a - 1, -1):
                    pk = cand_packed[j]
                    if flat_ow[(pk >> WALK_BITS) * n_ty + ty] * \
                            flat_ww[ws + (pk & WALK_MASK)] > 0.0:
                        pick = j
                        break
        if pick < 0:
            chosen[i] = -1
            walk_min[i] = 0.0
            score[i] = outside_score
            paid_index[i] = 0.0
            continue
        o = cand_offer[pick]
        t, sc, p = _outcome(o_price[o], o_fee[o], o_free_age[o], o_discount60[o], ar,
                            cand_walk[pick] * (1.0 / (sr * 60.0)), o_quality[o], o_crowd[o],
                            reach_min, late_score)
        chosen[i] = o
        walk_min[i] = t
        score[i] = sc
        paid_index[i] = p


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


MAX_SPEEDS = 64  # distinct walking speeds the factored kernel tabulates
PARALLEL_MIN_NEEDS = 20_000  # below this, one thread (thread start-up costs more)
CHUNKS_PER_THREAD = 4


def _run_chunked(n: int, args: tuple) -> None:
    """Run ``_choose_range`` over ``n`` needs on ``numba.get_num_threads()`` threads.

    The kernel releases the GIL (``nogil``), so plain Python threads run the chunks in
    parallel; they take chunks from a shared counter, so a thread slowed by other load does
    less. Threads block (no spinning) and are started per call (fork-safe). Each need has
    its own uniform, so the outcome does not depend on the threads or the chunking.
    """
    threads = numba.get_num_threads()
    if n < PARALLEL_MIN_NEEDS or threads <= 1:
        _choose_range(0, n, *args)
        return
    n_chunks = threads * CHUNKS_PER_THREAD
    bounds = np.linspace(0, n, n_chunks + 1).astype(np.int64).tolist()
    counter = itertools.count()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while (c := next(counter)) < n_chunks:
                _choose_range(bounds[c], bounds[c + 1], *args)
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


def choice_tables(model, speeds: np.ndarray, walk_values: np.ndarray):
    """Per-day tables of the factored rule: ``exp(v) = offer_w[o, type] * walk_w[speed, walk]``.

    Args:
        speeds: the distinct walking speeds (m/s) to tabulate.
        walk_values: the distinct walks (m) of the candidate index.

    Returns:
        ``(offer_w, walk_w, outside_w, age_thr)``: ``offer_w`` is (offers, 3 x age classes
        x 2), indexed ``(income * n_age + age class) * 2 + orders online``, zero for offers
        not available today and for online offers when not ordering online; ``walk_w`` is
        (speeds, walks); ``age_thr`` the sorted age thresholds (60 and every ``free_age``).
    """
    p, offers = model.params, model.supply.offers
    free = offers.free_age[offers.free_age > 0]
    age_thr = np.unique(np.concatenate([[60.0], free])).astype(np.float64)
    rep_age = np.concatenate([[0.0], age_thr])  # one age in each class
    n_age = len(rep_age)
    crowd = offers.load / offers.capacity
    base = p.beta_quality * offers.quality
    crowding = p.beta_crowding * crowd * crowd
    is_free = offers.free_age > 0
    offer_w = np.empty((len(offers), 3, n_age, 2))
    for c, a in enumerate(rep_age):
        price = offers.price
        if a >= 60.0:
            price = price * (1.0 - offers.discount60)
        price = np.where(is_free & (a >= offers.free_age), 0.0, price) + offers.fee
        for b in range(3):
            offer_w[:, b, c, 0] = np.exp(base - model.beta_price[b] * (price - 1.0) - crowding)
    offer_w[:, :, :, 1] = offer_w[:, :, :, 0]
    offer_w[~offers.today] = 0.0
    offer_w[offers.online, :, :, 0] = 0.0
    t = walk_values[None, :] * (1.0 / (speeds.astype(np.float64)[:, None] * 60.0))
    walk_w = np.exp(-p.beta_walk_per_min * t
                    - p.beta_late_per_min * np.maximum(0.0, t - p.reach_minutes))
    return (offer_w.reshape(len(offers), 3 * n_age * 2), np.ascontiguousarray(walk_w),
            np.exp(model.categories.outside_utility), age_thr)


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
    speeds, n_speeds = _distinct_speeds(need_res, pop.speed_mps, MAX_SPEEDS)
    offer_walk = getattr(idx, "offer_walk", None)
    if n_speeds < 0 or offer_walk is None:
        choose(need_res, need_cat, pop.home, pop.income, model.orders_online, pop.speed_mps,
               pop.age, idx.ptr, idx.offer, idx.walk_m,
               offers.today, offers.online, offers.price, offers.fee, offers.quality, crowd,
               offers.discount60, offers.free_age,
               p.beta_quality, model.beta_price, p.beta_walk_per_min, p.beta_late_per_min,
               p.beta_crowding, p.reach_minutes, model.categories.outside_utility,
               p.outside_score, p.late_score_per_min, uniforms, chosen, walk_min, score, paid)
        return chosen, walk_min, score, paid
    if n_speeds == 0:
        speeds = pop.speed_mps[:1]
    offer_w, walk_w, outside_w, age_thr = choice_tables(model, speeds, idx.walk_values)
    args = (need_res, need_cat, pop.home, pop.income, model.orders_online, pop.speed_mps,
            pop.age, speeds, age_thr, idx.ptr, idx.offer, idx.walk_m, offer_walk, offer_w,
            walk_w, outside_w, offers.price, offers.fee, offers.quality, crowd,
            offers.discount60, offers.free_age, float(p.reach_minutes), float(p.outside_score),
            float(p.late_score_per_min), uniforms, chosen, walk_min, score, paid)
    _run_chunked(n, args)
    return chosen, walk_min, score, paid


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
