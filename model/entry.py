"""Shops at day 0, and the monthly entry of independents and chains at vacant storefronts.

Each month a Poisson number of would-be entrants (``entrants_per_10k_month`` per 10,000
residents; a share ``chain_entrant_share`` of them chains) each look at ``entry_candidates``
vacant storefronts drawn at random. For every (storefront, category) they estimate the daily
revenue they would capture: for each home cell within walking reach, the expected daily
spending on the category times the logit share a new outlet with their price and quality would
win against the offers already there (a representative resident: worker speed, middle income,
with today's crowding) and the outside option. Entrants misjudge that revenue by a lognormal
error (``entry_optimism_sd``), which is why many new shops fail. They open at the best option
if its expected profit exceeds ``entry_margin`` x fixed costs; chains also need revenue of at
least ``chain_min_revenue`` x break-even, so they prefer dense, well-off places.
"""

from __future__ import annotations

import numba
import numpy as np

from .city import OLD


def shop_terms(model, rng: np.random.Generator, category: np.ndarray, chain: np.ndarray,
               site: np.ndarray) -> dict[str, np.ndarray]:
    """Draw price and quality and compute rent, staff, capacity and cash for new shops."""
    p, cats = model.params, model.categories
    n = len(category)
    price = np.where(chain, p.chain_price_index,
                     np.clip(1.0 + rng.normal(0.0, p.independent_price_sd, n), 0.8, 1.3))
    quality = np.where(chain, np.clip(rng.normal(p.chain_quality, p.chain_quality_sd, n), 0, 1),
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
    cash = np.where(chain, 0.0, p.initial_cash_days * (rent + staff))
    return {"price": price, "quality": quality, "rent_day": rent, "staff_day": staff,
            "cash": cash, "capacity": cats.capacity[category], "secondary": secondary,
            "secondary_capacity": np.where(secondary >= 0, cats.capacity[parcel], 0.0)}


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
    terms["cash"] = np.where(chain, 0.0, p.incumbent_cash_days * (terms["rent_day"] + terms["staff_day"]))
    sup.open_shops(0, sites, category, chain, entrant=False, **terms)


def expected_demand(model) -> np.ndarray:
    """Expected daily spending units per (home cell, category) of today's residents.

    One unit is one visit at the category's spend and market price, scaled by the resident's
    income multiplier.
    """
    pop, cats = model.population, model.categories
    idx = model.present_idx
    mult = model.spend_mult[pop.income[idx]]
    n_homes = len(model.city.home_xy)
    key = pop.home[idx].astype(np.int64) * 4 + pop.group[idx]
    per_hg = np.bincount(key, weights=mult, minlength=n_homes * 4).reshape(n_homes, 4)
    return per_hg @ cats.freq  # (homes, K)


def attraction_sums(model) -> np.ndarray:
    """Sum of exp(utility) per (home, category) for a representative resident, incl. outside."""
    p, sup, idx = model.params, model.supply, model.candidates
    offers = sup.offers
    # per-offer part of the utility, then one pass over the index rows (no pair temporaries)
    v_offer = (p.beta_quality * offers.quality - p.beta_price_mid * (offers.price - 1.0)
               - p.beta_crowding * (offers.load / offers.capacity) ** 2)
    usable = offers.today & ~offers.online
    sums = _row_sums(idx.ptr, idx.offer, idx.walk_m, v_offer, usable,
                     1.0 / (p.speed_worker_mps * 60.0), p.reach_minutes, p.beta_walk_per_min,
                     p.beta_late_per_min)
    K = model.categories.k
    return sums.reshape(idx.n_homes, K) + np.exp(model.categories.outside_utility)[None, :]


@numba.njit(cache=True)
def _row_sums(ptr, offer, walk_m, v_offer, usable, inv_speed, reach_min, beta_walk,
              beta_late):  # pragma: no cover - compiled
    out = np.zeros(ptr.shape[0] - 1)
    for row in range(ptr.shape[0] - 1):
        acc = 0.0
        for j in range(ptr[row], ptr[row + 1]):
            o = offer[j]
            if usable[o]:
                t = walk_m[j] * inv_speed
                late = max(0.0, t - reach_min)
                acc += np.exp(v_offer[o] - beta_walk * t - beta_late * late)
        out[row] = acc
    return out


def monthly_entry(model, rng: np.random.Generator) -> np.ndarray:
    """Would-be entrants evaluate vacant storefronts and open where profitable; return shop ids."""
    p, cats, sup = model.params, model.categories, model.supply
    n_res = len(model.present_idx)
    n_entrants = rng.poisson(p.entrants_per_10k_month * n_res / 10_000.0)
    vacant = sup.vacant_storefronts()
    if n_entrants == 0 or len(vacant) == 0:
        return np.zeros(0, dtype=np.int64)
    demand = expected_demand(model)
    attraction = attraction_sums(model)
    opened: list[int] = []
    taken: set[int] = set()
    for _ in range(n_entrants):
        chain = bool(rng.random() < p.chain_entrant_share)
        free = np.array([s for s in vacant if s not in taken], dtype=np.int64)
        if len(free) == 0:
            break
        cand = rng.choice(free, size=min(p.entry_candidates, len(free)), replace=False)
        allowed = cats.chain_share > 0 if chain else np.ones(cats.k, dtype=bool)
        price = p.chain_price_index if chain else 1.0
        quality = p.chain_quality if chain else p.independent_quality
        best = None
        noise = np.exp(rng.normal(0.0, p.entry_optimism_sd, (len(cand), cats.k)))
        for ci, site in enumerate(cand):
            a, b = sup.site_ptr[site], sup.site_ptr[site + 1]
            homes, dist = sup.pair_home[a:b], sup.pair_dist[a:b]
            if len(homes) == 0:
                continue
            t = dist / (p.speed_worker_mps * 60.0)
            late = np.maximum(0.0, t - p.reach_minutes)
            e = np.exp(p.beta_quality * quality - p.beta_price_mid * (price - 1.0)
                       - p.beta_walk_per_min * t - p.beta_late_per_min * late)
            share = e[:, None] / (attraction[homes] + e[:, None])
            visits = (demand[homes] * share).sum(axis=0)
            visits = np.minimum(visits, 1.2 * cats.capacity)
            revenue = visits * cats.spend * price * noise[ci]
            rent = cats.floor_m2 * sup.site_rent[site] * (p.chain_rent_premium if chain else 1.0)
            fixed = rent + cats.staff
            profit = revenue * cats.margin - fixed
            ok = allowed & (profit > p.entry_margin * fixed)
            if chain:
                ok &= revenue * cats.margin >= p.chain_min_revenue * fixed
            if not ok.any():
                continue
            k = int(np.argmax(np.where(ok, profit, -np.inf)))
            if best is None or profit[k] > best[0]:
                best = (profit[k], int(site), k, homes, e)
        if best is None:
            continue
        _, site, k, homes, e = best
        terms = shop_terms(model, rng, np.array([k], dtype=np.int16), np.array([chain]),
                           np.array([site]))
        ids = sup.open_shops(model.day, np.array([site]), np.array([k], dtype=np.int16),
                             np.array([chain]), **terms)
        attraction[homes, k] += e  # later entrants this month see this one
        taken.add(site)
        opened.extend(ids.tolist())
    return np.array(opened, dtype=np.int64)
