"""Money of one day: what residents pay, what shops earn and spend, who pays rent relief, exit.

**Sales.** A need met at an offer costs the resident ``spend[k] x income multiplier x price
index paid`` (discounts lower it, a delivery fee raises it). The provider receives the list
price (``spend x multiplier x offer price``): a discount given to a resident is paid by the
policy that grants it, and delivery fees go to the couriers, so resident payments + discount
subsidies = provider revenue + delivery fees.

**Accounts.** Each open shop books its gross margin on sales (``offer.margin``: a chain's is
higher, for it buys cheaper, less its royalty), minus rent and staff. Policies offer to pay
shares of shops' rent (``Policy.rent_shares``); the shares of all policies add up, and where
they would exceed the whole rent each policy's share is scaled down in proportion, so a shop's
rent is paid at most once and each policy books exactly what it paid, whatever the order of
the policies. A shop that a policy underwrites (a public canteen, a neighbourhood centre) has
any negative cash made good by that policy, which books it.

**Exit.** Independents close when their cash is exhausted; new independents (entrants) also
quit when their profit averaged over about ``quit_after_days`` is negative (a sustained
loss). Chain outlets close when their head-office backing (cash) is used up, and at their
periodic review when they lost more than a tolerated share of their fixed costs over the
review period. Underwritten shops never go broke.
"""

from __future__ import annotations

import numba
import numpy as np

SALES_MEMORY_DAYS = 30.0  # a shop's recent sales: moving average over ~a month (for conversions)


@numba.njit(cache=True, nogil=True)
def _book(chosen, need_cat, need_res, paid_index, income, spend, spend_mult, o_price, o_fee,
          n_offers):  # pragma: no cover - compiled
    """Per need: resident payment, list value, delivery fee; per offer: revenue."""
    n = chosen.shape[0]
    resident_paid = np.zeros(n)
    list_value = np.zeros(n)
    fees = np.zeros(n)
    revenue = np.zeros(n_offers)
    for i in range(n):
        o = chosen[i]
        if o < 0:
            continue
        unit = spend[need_cat[i]] * spend_mult[income[need_res[i]]]
        resident_paid[i] = unit * paid_index[i]
        list_value[i] = unit * o_price[o]
        fees[i] = unit * o_fee[o]
        revenue[o] += list_value[i]
    return resident_paid, list_value, fees, revenue


def book_sales(model, rec) -> None:
    """Fill today's payments and revenues into the DayRecord ``rec`` (see module docstring)."""
    offers = model.supply.offers
    rec.resident_paid, rec.list_value, rec.delivery_fees, rec.offer_revenue = _book(
        rec.chosen, rec.need_cat, rec.need_res, rec.paid_index, model.population.income,
        model.categories.spend, model.spend_mult, offers.price, offers.fee, len(offers))


def combined_rent_shares(model) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Share of each shop's rent paid today, in all and per policy label (after the cap).

    Returns:
        ``(total, by_label)``: ``total`` per shop in [0, 1]; ``by_label[label]`` per shop the
        share that policy pays (its offer, scaled down where offers exceed the whole rent).
    """
    n = len(model.supply.shops)
    offered = {label: pol.rent_shares(model)
               for label, pol in zip(model.policy_labels, model.policies, strict=True)}
    offered = {label: s for label, s in offered.items() if s is not None}
    total = np.zeros(n)
    for share in offered.values():
        total += share
    scale = np.where(total > 1.0, 1.0 / np.maximum(total, 1e-300), 1.0)
    by_label = {label: share * scale for label, share in offered.items()}
    return np.minimum(total, 1.0), by_label


def settle_day(model, rec) -> np.ndarray:
    """Book one day's accounts of the open shops; return the shops that close today.

    Fills ``rec.relief_paid`` and ``rec.deficit_paid`` (yuan per policy label) and
    ``rec.rent_share`` (share of rent paid per shop today).
    """
    sup, p, day = model.supply, model.params, model.day
    shops, offers = sup.shops, sup.offers
    n_shops = len(shops)
    rec.relief_paid = {label: 0.0 for label in model.policy_labels}
    rec.deficit_paid = {label: 0.0 for label in model.policy_labels}
    if n_shops == 0:
        rec.rent_share = np.zeros(0)
        return np.zeros(0, dtype=np.int64)
    is_shop = offers.shop >= 0
    gross = np.bincount(offers.shop[is_shop], weights=(rec.offer_revenue * offers.margin)[is_shop],
                        minlength=n_shops)
    sales = np.bincount(offers.shop[is_shop], weights=rec.offer_revenue[is_shop], minlength=n_shops)
    open_ = shops.open
    share, by_label = combined_rent_shares(model)
    rent_open = np.where(open_, shops.rent_day, 0.0)
    for label, s in by_label.items():
        rec.relief_paid[label] = float((s * rent_open).sum())
    rec.rent_share = share
    fixed = shops.rent_day * (1.0 - share) + shops.staff_day
    profit = np.where(open_, gross - fixed, 0.0)
    shops.cash += profit
    shops.profit_window += profit
    shops.revenue_total += np.where(open_, sales, 0.0)
    shops.sales_avg += np.where(open_, (sales - shops.sales_avg) / SALES_MEMORY_DAYS, 0.0)

    # an underwriting policy makes good its shops' negative cash
    short = np.flatnonzero(open_ & shops.underwritten & (shops.cash < 0))
    for sid in short.tolist():
        label = model.policy_labels[int(shops.owner[sid])]
        rec.deficit_paid[label] += float(-shops.cash[sid])
        shops.cash[sid] = 0.0

    # the owner's view of recent profit: a moving average over ~quit_after_days
    if p.quit_after_days > 0:
        shops.profit_avg += np.where(open_, (profit - shops.profit_avg) / p.quit_after_days, 0.0)
    # new owners give up on a sustained loss; established (day-0) owners ride it out on cash
    losing = (p.quit_after_days > 0) & shops.entrant & \
        (day - shops.opened_day >= p.quit_after_days) & (shops.profit_avg < 0)
    broke = open_ & ~shops.underwritten & (shops.cash < 0)
    quits = open_ & ~shops.chain & ~shops.underwritten & losing
    review = open_ & shops.chain & (day - shops.review_day >= p.chain_review_days)
    tolerated = -p.chain_loss_tolerance * (shops.rent_day + shops.staff_day) * p.chain_review_days
    chain_close = review & (shops.profit_window < tolerated)
    keep = review & ~chain_close
    shops.review_day[keep] = day
    shops.profit_window[keep] = 0.0
    return np.flatnonzero(broke | quits | chain_close)
