"""Who supplies what, where: sites, shops and offers as arrays owned by the model.

* A **site** is a place a provider can stand: every storefront cell, plus places policies add
  (bus stops, idle space turned into storefronts). Walking distances from home cells to sites
  are computed once per site (``City.distances_from``).
* A **shop** occupies one site and has a primary category; it pays rent and staff and keeps
  cash. Shops never leave the arrays: a closed shop keeps its history.
* An **offer** is one category served by one provider at one site: a shop has one offer per
  category it serves (a convenience store with a parcel point has two); a mobile-vendor stop
  or an online (delivery) offer is an offer too. Choice runs over offers. An offer delivered to
  the home (``online``: a delivery, care at home) has no walk-in customers; its ``audience``
  says which residents may use it (``ACCESS_*`` bits: those who order online, those eligible
  for care at home).

The supply keeps its own ``version``: every change that alters who can reach what (sites or
offers added, offers opened or closed, extra candidate pairs set) bumps it, so the candidate
index knows to rebuild. Availability on a day (``today``: a bus stops here today) does not.
"""

from __future__ import annotations

import numpy as np

SRC_SHOP, SRC_VENDOR, SRC_ONLINE, SRC_HOME = 0, 1, 2, 3

# Who may use an offer: an offer's ``audience`` bits must all be among the resident's
# ``CommerceModel.access`` bits (audience 0: everyone).
ACCESS_ONLINE = 1  # orders online today (instant retail sets it); online offers require it
ACCESS_HOME_CARE = 2  # eligible for care at home (home care sets it); home-care offers require it
ACCESS_PLATFORM = 4  # uses the smart platform: changes what a resident knows, not what it may use
AUDIENCE_MASK = ACCESS_ONLINE | ACCESS_HOME_CARE
N_AUDIENCE = AUDIENCE_MASK + 1  # availability classes: values of ``access & AUDIENCE_MASK``

_SHOP_COLUMNS = {
    "site": np.int32, "category": np.int16, "chain": bool, "open": bool, "opened_day": np.int32,
    "closed_day": np.int32, "cash": np.float64, "rent_day": np.float64, "staff_day": np.float64,
    "profit_window": np.float64, "profit_avg": np.float64, "review_day": np.int32,
    "revenue_total": np.float64, "sales_avg": np.float64, "expected_sales": np.float64,
    "entrant": bool, "owner": np.int16, "underwritten": bool,
}
_OFFER_COLUMNS = {
    "shop": np.int32, "site": np.int32, "category": np.int16, "price": np.float64,
    "quality": np.float64, "capacity": np.float64, "open": bool, "today": bool, "online": bool,
    "source": np.int8, "fee": np.float64, "load": np.float64, "discount60": np.float64,
    "free_age": np.float64, "margin": np.float64,
    "owner": np.int16, "audience": np.uint8,
}


class Columns:
    """A table of equally long numpy columns that grows by appending batches."""

    def __init__(self, spec: dict[str, type]):
        self._spec = spec
        for name, dtype in spec.items():
            setattr(self, name, np.zeros(0, dtype=dtype))

    def __len__(self) -> int:
        return len(getattr(self, next(iter(self._spec))))

    def append(self, **values: np.ndarray) -> np.ndarray:
        """Append rows (every column given or defaulted to zero); return their indices."""
        n = len(np.atleast_1d(next(iter(values.values()))))
        start = len(self)
        for name, dtype in self._spec.items():
            col = getattr(self, name)
            new = np.broadcast_to(np.asarray(values.get(name, 0), dtype=dtype), (n,))
            setattr(self, name, np.concatenate([col, new]))
        return np.arange(start, start + n)


class Supply:
    """Sites, shops, offers and the home-to-site walking distances."""

    def __init__(self, city, storefront_rent: np.ndarray, max_walk_m: float):
        self.city = city
        self.max_walk_m = max_walk_m
        self.site_xy = np.zeros((0, 2), dtype=np.int32)
        self.site_rent = np.zeros(0)  # yuan / m2 / day
        self.site_storefront = np.zeros(0, dtype=bool)
        self.site_occupant = np.zeros(0, dtype=np.int32)  # shop id or -1
        self.pair_site = np.zeros(0, dtype=np.int32)
        self.pair_home = np.zeros(0, dtype=np.int32)
        self.pair_dist = np.zeros(0, dtype=np.float32)
        self.site_ptr = np.zeros(1, dtype=np.int64)
        self.shops = Columns(_SHOP_COLUMNS)
        self.offers = Columns(_OFFER_COLUMNS)
        self.version = 0  # bumped whenever reach changes, so indexes know to rebuild
        # extra (home, offer, walk) candidate pairs by owner, e.g. delivery from a store
        self.extra_candidates: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self.add_sites(city.storefront_xy, storefront_rent, storefront=True)

    # --- sites ---------------------------------------------------------------------------
    def add_sites(self, xy: np.ndarray, rent: np.ndarray, storefront: bool) -> np.ndarray:
        """Add sites and their walking distances; return their ids."""
        xy = np.asarray(xy, dtype=np.int32).reshape(-1, 2)
        start = len(self.site_xy)
        src, home, dist = self.city.distances_from(xy, self.max_walk_m)
        self.site_xy = np.concatenate([self.site_xy, xy])
        self.site_rent = np.concatenate([self.site_rent, np.broadcast_to(rent, (len(xy),))])
        self.site_storefront = np.concatenate([self.site_storefront, np.full(len(xy), storefront)])
        self.site_occupant = np.concatenate([self.site_occupant, np.full(len(xy), -1, np.int32)])
        self.pair_site = np.concatenate([self.pair_site, (src + start).astype(np.int32)])
        self.pair_home = np.concatenate([self.pair_home, home])
        self.pair_dist = np.concatenate([self.pair_dist, dist])
        counts = np.bincount(self.pair_site, minlength=len(self.site_xy))
        self.site_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.version += 1
        return np.arange(start, start + len(xy))

    def vacant_storefronts(self) -> np.ndarray:
        """Ids of storefront sites without an open shop."""
        return np.flatnonzero(self.site_storefront & (self.site_occupant < 0))

    # --- shops and offers ----------------------------------------------------------------
    def open_shops(self, day: int, site: np.ndarray, category: np.ndarray, chain: np.ndarray,
                   price: np.ndarray, quality: np.ndarray, cash: np.ndarray,
                   rent_day: np.ndarray, staff_day: np.ndarray, capacity: np.ndarray,
                   margin: np.ndarray, secondary: np.ndarray | None = None,
                   secondary_capacity: np.ndarray | None = None,
                   secondary_margin: np.ndarray | None = None,
                   entrant: bool = True, owner: int = -1, underwritten: bool = False) -> np.ndarray:
        """Open shops (one primary offer each, plus an optional secondary category).

        Args:
            secondary: per shop a second category served, or -1.
            owner: index of the policy that opened the shop, or -1 (the market).
            underwritten: the owning policy covers the shop's losses, so it never goes broke.

        Returns:
            The new shop ids.
        """
        site = np.asarray(site, dtype=np.int32)
        if np.any(self.site_occupant[site] >= 0):
            raise ValueError("a site is already occupied")
        if len(np.unique(site)) != len(site):
            raise ValueError("two shops opened at one site")
        ids = self.shops.append(site=site, category=category, chain=chain, open=True,
                                opened_day=day, closed_day=-1, cash=cash, rent_day=rent_day,
                                staff_day=staff_day, review_day=day, entrant=entrant,
                                owner=owner, underwritten=underwritten)
        self.site_occupant[site] = ids
        self.add_offers(shop=ids, site=site, category=category, price=price, quality=quality,
                        capacity=capacity, margin=margin)
        if secondary is not None:
            has = np.asarray(secondary) >= 0
            if has.any():
                self.add_offers(shop=ids[has], site=site[has], category=np.asarray(secondary)[has],
                                price=np.asarray(price)[has], quality=np.asarray(quality)[has],
                                capacity=np.asarray(secondary_capacity)[has],
                                margin=np.asarray(secondary_margin)[has])
        return ids

    def add_offers(self, shop: np.ndarray, site: np.ndarray, category: np.ndarray,
                   price: np.ndarray, quality: np.ndarray, capacity: np.ndarray,
                   margin: np.ndarray | float, source: int = SRC_SHOP, online: bool = False,
                   owner: int = -1, discount60: float = 0.0, free_age: float = 0.0,
                   fee: float = 0.0, is_open: bool = True,
                   audience: int | None = None) -> np.ndarray:
        """Add offers (open and available today unless ``is_open`` is False); return their ids.

        Args:
            audience: ``ACCESS_*`` bits a resident needs to use them (default: an online offer
                needs ``ACCESS_ONLINE``, others none).
        """
        if audience is None:
            audience = ACCESS_ONLINE if online else 0
        ids = self.offers.append(shop=shop, site=site, category=category, price=price,
                                 quality=quality, capacity=capacity, margin=margin, open=is_open,
                                 today=is_open, online=online, source=source, owner=owner,
                                 fee=fee, discount60=discount60, free_age=free_age,
                                 audience=audience)
        self.version += 1
        return ids

    def set_open(self, offer_ids: np.ndarray, is_open: np.ndarray | bool) -> None:
        """Open or close offers (and their availability today); reach changes, so the version."""
        offer_ids = np.asarray(offer_ids, dtype=np.int64)
        flags = np.broadcast_to(np.asarray(is_open, dtype=bool), offer_ids.shape)
        if len(offer_ids) and np.any(self.offers.open[offer_ids] != flags):
            self.version += 1
        self.offers.open[offer_ids] = flags
        self.offers.today[offer_ids] = flags

    def set_today(self, offer_ids: np.ndarray, available: np.ndarray | bool) -> None:
        """Which of these open offers are available today (a bus stops there today)."""
        offer_ids = np.asarray(offer_ids, dtype=np.int64)
        self.offers.today[offer_ids] = np.asarray(available, dtype=bool) & self.offers.open[offer_ids]

    def set_extra_candidates(self, key: str,
                             pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> None:
        """Set (or with None drop) the extra ``(home, offer, walk)`` pairs owned by ``key``."""
        if pairs is None:
            if self.extra_candidates.pop(key, None) is not None:
                self.version += 1
            return
        old = self.extra_candidates.get(key)
        if old is None or any(len(a) != len(b) or not np.array_equal(a, b)
                              for a, b in zip(old, pairs, strict=True)):
            self.extra_candidates[key] = pairs
            self.version += 1

    def record_demand(self, attempts: np.ndarray, memory: float) -> None:
        """Fold today's attempted visits into each offer's recent demand, on days it was open."""
        offers = self.offers
        was_open = offers.today
        offers.load = np.where(was_open, memory * offers.load + (1.0 - memory) * attempts,
                               offers.load)

    def close_shops(self, shop_ids: np.ndarray, day: int) -> None:
        """Close shops: free their sites, close their offers (indexes skip closed offers)."""
        shop_ids = np.asarray(shop_ids, dtype=np.int64)
        if len(shop_ids) == 0:
            return
        self.shops.open[shop_ids] = False
        self.shops.closed_day[shop_ids] = day
        self.site_occupant[self.shops.site[shop_ids]] = -1
        closing = np.flatnonzero(np.isin(self.offers.shop, shop_ids)
                                 & (self.offers.source != SRC_VENDOR))
        self.set_open(closing, False)

    def open_shop_ids(self) -> np.ndarray:
        """Ids of shops open now."""
        return np.flatnonzero(self.shops.open)

    def fixed_cost_day(self) -> np.ndarray:
        """Rent plus staff per shop per day (before any rent relief)."""
        return self.shops.rent_day + self.shops.staff_day

    def shop_community(self, city) -> np.ndarray:
        """Community id of every shop's site."""
        xy = self.site_xy[self.shops.site]
        return city.community[xy[:, 0], xy[:, 1]]
