"""Shops at day 0, and the monthly entry of independents and chains at vacant storefronts.

**Shop economics.** A shop's gross margin on its sales follows from its price and its cost of
goods: ``1 - (1 - margin_k) (1 - d) / price`` where ``margin_k`` is the category's margin at the
market price and d the purchasing discount (``chain_cogs_discount`` for chains, 0 for
independents); chains also pay a royalty (``chain_royalty_share`` of sales) and a rent premium
on the sites they bid for, price at ``chain_price_index``, draw their quality from the same mean
as independents with a small spread (steadier, not better), and open with head-office backing
(``chain_cash_days`` of fixed costs). So chains earn their edge through costs and scale, and
lose outlets when the backing runs out.

**Who comes.** Each month a Poisson number of would-be independents,
``entrants_per_vacancy_month`` per vacant storefront (so an emptied city draws many and a full
one few), and of would-be chain outlets (a share ``chain_entrant_share`` of that rate, times any
recruitment by policies). Each has a format: a category drawn in proportion to the formats'
shares of the market (``initial_share``; for chains times ``chain_share``), and looks at
``entry_candidates`` vacant storefronts drawn at random.

**What they expect.** For each storefront an entrant estimates the daily sales it would
capture: for each home cell within walking reach and each resident group, the
expected daily spending on the category times the logit share a new outlet of average quality
at its price would win against the offers already there (the group's walking speed, middle
income, today's crowding, each category's standard walk) and the outside option, at most its
capacity. Its
estimate is off by a lognormal error of mean 1 (``entry_error_sd``: unbiased) times
``entry_optimism`` (1: none). It counts the rent relief and grants that policies would give it
(grants spread over ``entry_horizon_days``). It opens at the best storefront if the
expected profit exceeds ``entry_margin`` x fixed costs; a chain also needs expected sales of at
least ``chain_min_revenue`` x its break-even sales (a minimum catchment). Where no storefront
clears its hurdle, the would-be entrant does not open.
"""

from __future__ import annotations

import numba
import numpy as np

from .city import OLD


def shop_margin(model, category: np.ndarray, chain: np.ndarray, price: np.ndarray) -> np.ndarray:
    """Gross margin on sales of shops of these categories, chain flags and price indices."""
    p = model.params
    cost = (1.0 - model.categories.margin[category]) * np.where(chain, 1.0 - p.chain_cogs_discount, 1.0)
    return 1.0 - cost / price - np.where(chain, p.chain_royalty_share, 0.0)


def shop_terms(model, rng: np.random.Generator, category: np.ndarray, chain: np.ndarray,
               site: np.ndarray) -> dict[str, np.ndarray]:
    """Draw price and quality and compute margin, rent, staff, capacity and cash for new shops."""
    p, cats = model.params, model.categories
    n = len(category)
    price = np.where(chain, p.chain_price_index,
                     np.clip(1.0 + rng.normal(0.0, p.independent_price_sd, n), 0.85, 1.3))
    quality = np.where(chain, np.clip(rng.normal(p.independent_quality, p.chain_quality_sd, n), 0, 1),
                       np.clip(rng.normal(p.independent_quality, p.independent_quality_sd, n),
                               0.05, 1))
    parcel = cats.index.get("parcel", -1)
    conv = cats.index.get("convenience", -2)
    secondary = np.where((category == conv) & (rng.random(n) < p.parcel_in_convenience),
                         parcel, -1)
    rent = cats.floor_m2[category] * model.supply.site_rent[site] * \
        np.where(chain, p.chain_rent_premium, 1.0)
    staff = cats.staff[category] + np.where(secondary >= 0,
                                            p.secondary_staff_share * cats.staff[parcel], 0.0)
    cash_days = np.where(chain, p.chain_cash_days, p.initial_cash_days)
    has_second = secondary >= 0
    second_margin = np.zeros(n)
    if has_second.any():
        second_margin[has_second] = shop_margin(model, np.full(has_second.sum(), parcel),
                                                chain[has_second], price[has_second])
    return {"price": price, "quality": quality, "rent_day": rent, "staff_day": staff,
            "cash": cash_days * (rent + staff), "capacity": cats.capacity[category],
            "margin": shop_margin(model, category, chain, price), "secondary": secondary,
            "secondary_capacity": np.where(has_second, cats.capacity[max(parcel, 0)], 0.0),
            "secondary_margin": second_margin}


def open_initial_shops(model, rng: np.random.Generator) -> None:
    """Let storefronts at day 0: occupancy by community type, categories by initial share."""
    p, cats, sup, city = model.params, model.categories, model.supply, model.city
    sites = np.flatnonzero(sup.site_storefront)
    kind = city.community_kind[city.storefront_community[sites]]
    occ = np.where(kind == OLD, p.storefront_occupancy_old, p.storefront_occupancy_new)
    sites = sites[rng.random(len(sites)) < occ]
    category = rng.choice(cats.k, size=len(sites), p=cats.initial_share).astype(np.int16)
    chain = rng.random(len(sites)) < cats.chain_share[category]
    terms = shop_terms(model, rng, category, chain, sites)
    fixed = terms["rent_day"] + terms["staff_day"]
    terms["cash"] = np.where(chain, p.chain_cash_days, p.incumbent_cash_days) * fixed
    sup.open_shops(0, sites, category, chain, entrant=False, **terms)


def expected_demand(model) -> np.ndarray:
    """Expected daily spending units per (group, home cell, category) of today's residents.

    One unit is one visit at the category's spend and market price, scaled by the resident's
    income multiplier.
    """
    pop, cats = model.population, model.categories
    idx = model.present_idx
    mult = model.spend_mult[pop.income[idx]]
    n_homes = len(model.city.home_xy)
    key = pop.group[idx].astype(np.int64) * n_homes + pop.home[idx]
    per_gh = np.bincount(key, weights=mult, minlength=4 * n_homes).reshape(4, n_homes)
    return per_gh[:, :, None] * cats.freq[:, None, :]  # (groups, homes, K)


def group_speeds(model) -> np.ndarray:
    """Walking speed (m/s) of each resident group: worker, family, 60-79, 80+."""
    p = model.params
    return np.array([p.speed_worker_mps, p.speed_family_mps, p.speed_elderly_mps,
                     p.speed_80plus_mps])


def attraction_sums(model) -> np.ndarray:
    """Sum of exp(utility) per (group, home, category) at the group's speed, incl. outside.

    A middle-income resident of each group (its walking speed, the category's standard walk,
    today's crowding); the outside option included.
    """
    p, sup, idx, cats = model.params, model.supply, model.candidates, model.categories
    offers = sup.offers
    # per-offer part of the utility, then one pass over the index rows (no pair temporaries)
    v_offer = (p.beta_quality * offers.quality - p.beta_price_mid * (offers.price - 1.0)
               - p.beta_crowding * (offers.load / offers.capacity) ** 2)
    usable = offers.today & ~offers.online
    out = np.empty((4, idx.n_homes, cats.k))
    for g, speed in enumerate(group_speeds(model)):
        sums = _row_sums(idx.ptr, idx.offer, idx.walk_m, v_offer, usable, 1.0 / (speed * 60.0),
                         cats.standard_min.astype(np.float64), p.beta_walk_per_min,
                         p.beta_late_per_min)
        out[g] = sums.reshape(idx.n_homes, cats.k) + np.exp(cats.outside_utility)[None, :]
    return out


@numba.njit(cache=True)
def _row_sums(ptr, offer, walk_m, v_offer, usable, inv_speed, std_min, beta_walk,
              beta_late):  # pragma: no cover - compiled
    K = std_min.shape[0]
    out = np.zeros(ptr.shape[0] - 1)
    for row in range(ptr.shape[0] - 1):
        std = std_min[row % K]
        acc = 0.0
        for j in range(ptr[row], ptr[row + 1]):
            o = offer[j]
            if usable[o]:
                t = walk_m[j] * inv_speed
                late = max(0.0, t - std)
                acc += np.exp(v_offer[o] - beta_walk * t - beta_late * late)
        out[row] = acc
    return out


def site_sales(model, site: int, price: float, demand: np.ndarray, attraction: np.ndarray,
               k: int, quality: float | None = None,
               capacity: float | None = None) -> tuple[float, np.ndarray, np.ndarray]:
    """Expected daily sales of a new outlet of category ``k`` at ``site`` (at most its capacity).

    Args:
        quality: the outlet's quality (default: the mean, ``independent_quality``).
        capacity: its visits a day (default: the category's).

    Returns:
        ``(sales, homes, weights)``: the sales; the homes in walking reach and the new
        outlet's exp(utility) per (group, home) there (added to ``attraction`` once it opens).
    """
    p, cats, sup = model.params, model.categories, model.supply
    a, b = sup.site_ptr[site], sup.site_ptr[site + 1]
    homes, dist = sup.pair_home[a:b], sup.pair_dist[a:b]
    if len(homes) == 0:
        return 0.0, homes, np.zeros((4, 0))
    q = p.independent_quality if quality is None else quality
    cap = cats.capacity[k] if capacity is None else capacity
    t = dist[None, :] / (group_speeds(model)[:, None] * 60.0)  # (groups, homes)
    late = np.maximum(0.0, t - cats.standard_min[k])
    e = np.exp(p.beta_quality * q - p.beta_price_mid * (price - 1.0)
               - p.beta_walk_per_min * t - p.beta_late_per_min * late)
    share = e / (attraction[:, homes, k] + e)
    visits = min(float((demand[:, homes, k] * share).sum()), np.floor(cap + 1e-9))
    return visits * cats.spend[k] * price, homes, e


def entry_support(model, site: int, chain: bool) -> tuple[np.ndarray, np.ndarray]:
    """Rent share (capped at 1) and one-off grants per category that policies would give."""
    K = model.categories.k
    share, grant = np.zeros(K), np.zeros(K)
    for pol in model.policies:
        s, g = pol.entry_support(model, site, chain)
        share += s
        grant += g
    return np.minimum(share, 1.0), grant


def sales_error(rng: np.random.Generator, sigma: float, optimism: float,
                shape: tuple[int, ...]) -> np.ndarray:
    """Entrants' multiplicative errors: lognormal with mean ``optimism`` (1: unbiased)."""
    return optimism * np.exp(rng.normal(-0.5 * sigma * sigma, sigma, shape))


def monthly_entry(model, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """Would-be entrants evaluate vacant storefronts and open where profitable.

    Returns:
        ``(shop ids opened, number of would-be entrants)``.
    """
    p, cats, sup = model.params, model.categories, model.supply
    vacant = sup.vacant_storefronts()
    rate = p.entrants_per_vacancy_month * len(vacant)
    recruit = float(np.prod([pol.chain_recruitment(model) for pol in model.policies])) \
        if model.policies else 1.0
    n_indep = rng.poisson(rate * (1.0 - p.chain_entrant_share))
    n_chain = rng.poisson(rate * p.chain_entrant_share * recruit)
    kinds = rng.permutation(np.r_[np.zeros(n_indep, bool), np.ones(n_chain, bool)])
    if len(kinds) == 0 or len(vacant) == 0:
        return np.zeros(0, dtype=np.int64), len(kinds)
    demand = expected_demand(model)
    attraction = attraction_sums(model)
    sigma = p.entry_error_sd
    mix = {False: cats.initial_share, True: cats.initial_share * cats.chain_share}
    opened: list[int] = []
    taken: set[int] = set()
    for chain in kinds.tolist():
        free = np.array([s for s in vacant if s not in taken], dtype=np.int64)
        if len(free) == 0 or mix[chain].sum() <= 0:
            break
        k = int(rng.choice(cats.k, p=mix[chain] / mix[chain].sum()))  # the entrant's format
        cand = rng.choice(free, size=min(p.entry_candidates, len(free)), replace=False)
        price = p.chain_price_index if chain else 1.0
        margin = shop_margin(model, np.array([k]), np.array([chain]), np.array([price]))[0]
        rent = cats.floor_m2[k] * sup.site_rent[cand] * (p.chain_rent_premium if chain else 1.0)
        fixed = rent + cats.staff[k]
        error = sales_error(rng, sigma, p.entry_optimism, len(cand))
        best = None
        for ci, site in enumerate(cand):
            expected, homes, e = site_sales(model, int(site), price, demand, attraction, k)
            if len(homes) == 0:
                continue
            sales = expected * error[ci]
            relief, grant = entry_support(model, int(site), chain)
            profit = sales * margin - (rent[ci] * (1.0 - relief[k]) + cats.staff[k]) \
                + grant[k] / p.entry_horizon_days
            ok = profit > p.entry_margin * fixed[ci]
            if chain:
                ok &= sales * margin >= p.chain_min_revenue * fixed[ci]
            if ok and (best is None or profit > best[0]):
                best = (profit, int(site), homes, e, expected)
        if best is None:
            continue
        _, site, homes, e, expected = best
        terms = shop_terms(model, rng, np.array([k], dtype=np.int16), np.array([chain]),
                           np.array([site]))
        ids = sup.open_shops(model.day, np.array([site]), np.array([k], dtype=np.int16),
                             np.array([chain]), **terms)
        sup.shops.expected_sales[ids] = expected  # the estimate before the entrant's error
        attraction[:, homes, k] += e  # later entrants this month see this one
        taken.add(site)
        opened.extend(ids.tolist())
    return np.array(opened, dtype=np.int64), len(kinds)
