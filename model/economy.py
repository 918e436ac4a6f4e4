"""Shop economics of one day: sales, gross margin, rent and staff, cash, and exit.

Independents close when their cash is exhausted; new independents (entrants) also quit when
their profit averaged over the last ``quit_after_days`` or so is negative (a sustained loss).
Chains carry losses and close only at their periodic review, when the outlet lost more
than a tolerated share of its fixed costs over the review period. Shops underwritten by a
policy (public canteens, a neighbourhood centre) never go broke: their policy pays their
deficits.
"""

from __future__ import annotations

import numpy as np


def settle_day(model, offer_revenue: np.ndarray) -> np.ndarray:
    """Book one day's sales and costs to the open shops; return the shops that close today.

    Args:
        model: the CommerceModel.
        offer_revenue: yuan received per offer today (resident payment plus any subsidy).
    """
    sup, p, day = model.supply, model.params, model.day
    shops, offers = sup.shops, sup.offers
    n_shops = len(shops)
    if n_shops == 0:
        return np.zeros(0, dtype=np.int64)
    is_shop = offers.shop >= 0
    margin = model.categories.margin[offers.category]
    gross = np.bincount(offers.shop[is_shop], weights=(offer_revenue * margin)[is_shop],
                        minlength=n_shops)
    sales = np.bincount(offers.shop[is_shop], weights=offer_revenue[is_shop], minlength=n_shops)
    open_ = shops.open
    fixed = shops.rent_day * (1.0 - shops.rent_relief) + shops.staff_day
    profit = np.where(open_, gross - fixed, 0.0)
    shops.cash += profit
    shops.profit_window += profit
    shops.revenue_total += np.where(open_, sales, 0.0)

    # the owner's view of recent profit: a moving average over ~quit_after_days
    if p.quit_after_days > 0:
        shops.profit_avg += np.where(open_, (profit - shops.profit_avg) / p.quit_after_days, 0.0)
    # new owners give up on a sustained loss; established (day-0) owners ride it out on cash
    losing = (p.quit_after_days > 0) & shops.entrant & \
        (day - shops.opened_day >= p.quit_after_days) & (shops.profit_avg < 0)
    broke = open_ & ~shops.chain & ~shops.underwritten & ((shops.cash < 0) | losing)
    review = open_ & shops.chain & (day - shops.review_day >= p.chain_review_days)
    tolerated = -p.chain_loss_tolerance * (shops.rent_day + shops.staff_day) * p.chain_review_days
    chain_close = review & (shops.profit_window < tolerated)
    keep = review & ~chain_close
    shops.review_day[keep] = day
    shops.profit_window[keep] = 0.0
    return np.flatnonzero(broke | chain_close)
