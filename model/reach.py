"""Who can reach what: the candidate index over (home cell, category) -> offers.

Built from the home-to-site walking distances and the offers standing at each site, plus the
supply's extra pairs (delivery offers reach homes within the delivery radius with no walk). It
is rebuilt when the supply's version says reach changed (or every ``compact_every_days``);
closed offers stay in it and are skipped by their ``open`` / ``today`` flags until then.

The build is two passes in numba (count the candidates of every (home, category) row, then
fill the rows in order), so it needs no temporaries over the expanded pairs beyond the
output arrays themselves. Within a row the candidates are in the order the supply lists the
(home, site) pairs (by site), then by offer id within a site, then the extra pairs in the
order they are given.
"""

from __future__ import annotations

import numba
import numpy as np

from .supply import Supply

WALK_BITS = 12  # low bits of ``offer_walk``: the walk code; high bits: the offer
MAX_WALK_CODES = 1 << WALK_BITS  # distinct walking distances the choice kernel tabulates
MAX_PACKED_OFFERS = 1 << (32 - WALK_BITS)


@numba.njit(cache=True, nogil=True)
def _count_rows(pair_home, pair_site, site_start, site_offer, offer_cat, K,
                counts):  # pragma: no cover - compiled
    for p in range(pair_home.shape[0]):
        s = pair_site[p]
        base = np.int64(pair_home[p]) * K
        for q in range(site_start[s], site_start[s + 1]):
            counts[base + offer_cat[site_offer[q]]] += 1


@numba.njit(cache=True, nogil=True)
def _count_extra(home, offer, offer_cat, K, counts):  # pragma: no cover - compiled
    for i in range(home.shape[0]):
        counts[np.int64(home[i]) * K + offer_cat[offer[i]]] += 1


@numba.njit(cache=True, nogil=True)
def _fill_rows(pair_home, pair_site, pair_dist, site_start, site_offer, offer_cat, K,
               cursor, out_offer, out_walk):  # pragma: no cover - compiled
    for p in range(pair_home.shape[0]):
        s = pair_site[p]
        base = np.int64(pair_home[p]) * K
        d = pair_dist[p]
        for q in range(site_start[s], site_start[s + 1]):
            o = site_offer[q]
            row = base + offer_cat[o]
            j = cursor[row]
            out_offer[j] = o
            out_walk[j] = d
            cursor[row] = j + 1


@numba.njit(cache=True, nogil=True)
def _fill_extra(home, offer, walk, offer_cat, K, cursor, out_offer,
                out_walk):  # pragma: no cover - compiled
    for i in range(home.shape[0]):
        o = offer[i]
        row = np.int64(home[i]) * K + offer_cat[o]
        j = cursor[row]
        out_offer[j] = o
        out_walk[j] = walk[i]
        cursor[row] = j + 1


@numba.njit(cache=True, nogil=True)
def _pack_walks(offer, walk, max_codes, packed, values):  # pragma: no cover - compiled
    """Code every walk by its distinct value and pack ``offer << WALK_BITS | code``.

    Returns the number of distinct walks (-1: more than ``max_codes``).
    """
    lut = np.full(65536, -1, dtype=np.int32)  # whole metres 0..65535: direct look-up
    n = 0
    for j in range(walk.shape[0]):
        w = walk[j]
        whole = w >= 0.0 and w < 65536.0 and w == np.floor(w)
        c = -1
        if whole:
            c = lut[np.int64(w)]
        else:
            for t in range(n):
                if values[t] == w:
                    c = t
                    break
        if c < 0:  # a walk not seen before gets the next code
            if n >= max_codes:
                return -1
            c = n
            values[n] = w
            n += 1
            if whole:
                lut[np.int64(w)] = c
        packed[j] = (np.uint32(offer[j]) << np.uint32(WALK_BITS)) | np.uint32(c)
    return n


class CandidateIndex:
    """CSR arrays: candidates of (home h, category k) are ``ptr[h*K+k]:ptr[h*K+k+1]``.

    Attributes:
        ptr: int64 offsets, length ``n_homes * K + 1``.
        offer: offer id per candidate (int32).
        walk_m: walking metres per candidate (float32; 0 for delivery).
        offer_walk: per candidate ``offer << WALK_BITS | walk code`` (uint32), the walk code
            indexing ``walk_values``; None when there are more than ``MAX_WALK_CODES``
            distinct walks or ``MAX_PACKED_OFFERS`` offers (the choice kernel then falls back
            to its direct form).
        walk_values: the distinct walks (float64).
        version: the supply version it was built from.
    """

    def __init__(self, supply: Supply, n_homes: int, n_categories: int):
        offers = supply.offers
        K = n_categories
        live = np.flatnonzero(offers.open & ~offers.online)
        # live offers grouped by site (by offer id within a site)
        site_offer = live[np.argsort(offers.site[live], kind="stable")].astype(np.int32)
        n_sites = len(supply.site_xy)
        site_start = np.zeros(n_sites + 1, dtype=np.int64)
        np.cumsum(np.bincount(offers.site[site_offer], minlength=n_sites), out=site_start[1:])
        cat = offers.category
        parts = [(np.ascontiguousarray(h), np.ascontiguousarray(o), np.ascontiguousarray(w))
                 for h, o, w in supply.extra_candidates.values()]
        counts = np.zeros(n_homes * K, dtype=np.int64)
        _count_rows(supply.pair_home, supply.pair_site, site_start, site_offer, cat, K, counts)
        for h, o, _ in parts:
            _count_extra(h, o, cat, K, counts)
        self.ptr = np.zeros(n_homes * K + 1, dtype=np.int64)
        np.cumsum(counts, out=self.ptr[1:])
        del counts
        n = int(self.ptr[-1])
        self.offer = np.empty(n, dtype=np.int32)
        self.walk_m = np.empty(n, dtype=np.float32)
        cursor = self.ptr[:-1].copy()
        _fill_rows(supply.pair_home, supply.pair_site, supply.pair_dist, site_start, site_offer,
                   cat, K, cursor, self.offer, self.walk_m)
        for h, o, w in parts:
            _fill_extra(h, o, w.astype(np.float32, copy=False), cat, K, cursor, self.offer,
                        self.walk_m)
        del cursor
        self.offer_walk: np.ndarray | None = None
        values = np.empty(MAX_WALK_CODES, dtype=np.float64)
        n_codes = -1
        if len(offers) <= MAX_PACKED_OFFERS:
            packed = np.empty(n, dtype=np.uint32)
            n_codes = _pack_walks(self.offer, self.walk_m, MAX_WALK_CODES, packed, values)
            self.offer_walk = packed if n_codes >= 0 else None
            del packed
        self.walk_values = values[:max(n_codes, 0)].copy()
        self.n_homes, self.k = n_homes, K
        self.version = supply.version
        self._min_walk_key: tuple | None = None
        self._min_walk: np.ndarray | None = None

    def min_walk(self, supply: Supply) -> np.ndarray:
        """Shortest walk (m) per (home, category) to an open physical offer; inf if none.

        The result is cached on this index, keyed on the offers' ``open`` and ``online``
        flags (compared in full), so repeated calls on an unchanged supply are free. The
        returned array is read-only.
        """
        offers = supply.offers
        usable = offers.open & ~offers.online
        key = (supply.version, len(usable))
        if self._min_walk is not None and self._min_walk_key is not None \
                and self._min_walk_key[0] == key and np.array_equal(self._min_walk_key[1], usable):
            return self._min_walk
        out = np.full(self.n_homes * self.k, np.inf, dtype=np.float32)
        _row_min(self.ptr, self.offer, self.walk_m, usable, out)
        out = out.reshape(self.n_homes, self.k)
        out.flags.writeable = False
        self._min_walk_key = (key, usable)
        self._min_walk = out
        return out


@numba.njit(cache=True, nogil=True)
def _row_min(ptr, offer, walk, usable, out):  # pragma: no cover - compiled
    for row in range(ptr.shape[0] - 1):
        best = np.inf
        for j in range(ptr[row], ptr[row + 1]):
            if usable[offer[j]] and walk[j] < best:
                best = walk[j]
        out[row] = best
