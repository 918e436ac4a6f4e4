"""Who can reach what: the candidate index over (home cell, category) -> offers.

Built from the home-to-site walking distances and the offers standing at each site, plus
extra pairs (delivery offers reach homes within the delivery radius with no walk). It is
rebuilt only when offers are added (or every ``compact_every_days``); closed offers stay in it
and are skipped by their ``open`` / ``today`` flags until the next rebuild.
"""

from __future__ import annotations

import numpy as np

from .supply import Supply


class CandidateIndex:
    """CSR arrays: candidates of (home h, category k) are ``ptr[h*K+k]:ptr[h*K+k+1]``.

    Attributes:
        ptr: int64 offsets, length ``n_homes * K + 1``.
        offer: offer id per candidate.
        walk_m: walking metres per candidate (0 for delivery).
        version: the supply version it was built from.
    """

    def __init__(self, supply: Supply, n_homes: int, n_categories: int,
                 extra: list[tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None):
        offers = supply.offers
        K = n_categories
        live = np.flatnonzero(offers.open & ~offers.online)
        # offers grouped by site, to expand (home, site) pairs into (home, offer) pairs
        live = live[np.argsort(offers.site[live], kind="stable")]
        n_sites = len(supply.site_xy)
        per_site = np.bincount(offers.site[live], minlength=n_sites)
        site_start = np.concatenate([[0], np.cumsum(per_site)])
        reps = per_site[supply.pair_site]
        pair_idx = np.repeat(np.arange(len(supply.pair_site)), reps)
        # position of each expanded row within its site's offer list
        first = np.repeat(np.cumsum(reps) - reps, reps)
        within = np.arange(len(pair_idx)) - first
        cand_offer = live[site_start[supply.pair_site[pair_idx]] + within]
        cand_home = supply.pair_home[pair_idx]
        cand_walk = supply.pair_dist[pair_idx]
        parts_h, parts_o, parts_w = [cand_home], [cand_offer], [cand_walk]
        for home, offer, walk in extra or []:
            parts_h.append(home)
            parts_o.append(offer)
            parts_w.append(walk)
        home = np.concatenate(parts_h).astype(np.int64)
        offer = np.concatenate(parts_o).astype(np.int32)
        walk = np.concatenate(parts_w).astype(np.float32)
        key = home * K + offers.category[offer]
        order = np.argsort(key, kind="stable")
        self.offer = offer[order]
        self.walk_m = walk[order]
        self.ptr = np.concatenate([[0], np.cumsum(np.bincount(key, minlength=n_homes * K))])
        self.n_homes, self.k = n_homes, K
        self.version = supply.version

    def min_walk(self, supply: Supply) -> np.ndarray:
        """Shortest walk (m) per (home, category) to an open physical offer; inf if none."""
        offers = supply.offers
        ok = offers.open[self.offer] & ~offers.online[self.offer]
        d = np.where(ok, self.walk_m, np.inf).astype(np.float32)
        out = np.full(self.n_homes * self.k, np.inf, dtype=np.float32)
        nonempty = np.flatnonzero(np.diff(self.ptr) > 0)
        if len(nonempty):
            out[nonempty] = np.minimum.reduceat(d, self.ptr[nonempty])
        return out.reshape(self.n_homes, self.k)
