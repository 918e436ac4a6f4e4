"""Policies that act through shops leave a trace on the map: exactly the shops they supported.

Rent subsidy, fill-the-gaps and the chain push create no site of their own; the map outlines
the shops they support. Each runs on a small city (seeds fixed) long enough to act, and the
cells the painter outlined for it must be exactly those of the shops that the *model's state*
says it supported, found without asking the policy: the shops whose rent the economy paid a
share of today, the shops the supply table says the policy owns, and the independents that
became chains plus the chains that entered since day 0 (the ledger holding one grant each).
Each ring is also read back from the picture.
"""

from __future__ import annotations

import io

import numpy as np
import PIL.Image
import pytest

from model import CommerceModel
from model.policies import ChainPenetration, FillGaps, RentSubsidy
from viz.inspector import supporting_policies
from viz.legend import legend_html
from viz.mapview import MapPainter

from .conftest import SMALL


def outlined_cells(model: CommerceModel, label: str) -> tuple[MapPainter, list[tuple[int, int]]]:
    """Draw the plain map; the cells outlined for policy ``label`` (rings read back too)."""
    painter = MapPainter(model)
    img = np.asarray(PIL.Image.open(io.BytesIO(painter.png())).convert("RGB"))
    cells = sorted(painter.outlined.get(label, []))
    m = max(2, painter.px // 4)
    for xy in cells:  # the ring's black outer line, left of the cell, at mid-height
        x0, y0 = painter.corner(xy)
        assert tuple(img[y0 + painter.px // 2, x0 - m]) == (0, 0, 0), xy
    legend = legend_html(painter.drawn, model.categories)
    assert ("site or shop a policy made" in legend) == bool(cells)  # only policy here
    painter.png(policy_sites=False)
    assert painter.outlined == {} and "policy-site" not in painter.drawn
    return painter, cells


def cells_of(model: CommerceModel, shops: np.ndarray) -> list[tuple[int, int]]:
    sup = model.supply
    return sorted(tuple(xy) for xy in sup.site_xy[sup.shops.site[shops]].tolist())


def only_policy(model: CommerceModel, kind: type) -> tuple[str, object]:
    assert len(model.policies) == 1 and isinstance(model.policies[0], kind)
    return model.policy_labels[0], model.policies[0]


def test_rent_subsidy_outlines_the_shops_whose_rent_it_pays():
    model = CommerceModel(scenario="rent_subsidy", rng=4, **SMALL)
    model.run_for(2)
    label, _ = only_policy(model, RentSubsidy)
    shops = model.supply.shops
    share = model.today.rent_share  # what the economy charged today, per shop
    relieved = np.flatnonzero((share > 0) & shops.open[:len(share)])
    assert len(relieved) > 10 and model.today.relief_paid[label] > 0
    # the scenario's rule: basic-format shops (open before today; none is underwritten here)
    basic = np.flatnonzero(shops.open & model.categories.basic[shops.category]
                           & (shops.opened_day < model.day))
    np.testing.assert_array_equal(relieved, basic)
    _, cells = outlined_cells(model, label)
    assert cells == cells_of(model, relieved)
    assert supporting_policies(model, int(relieved[0])) == ["rent subsidy"]


def test_fill_gaps_outlines_the_shops_it_opened():
    model = CommerceModel(scenario="fill_gaps", rng=4, **SMALL)
    model.run_for(89)
    label, policy = only_policy(model, FillGaps)
    assert outlined_cells(model, label)[1] == []  # nothing before its first round (day 90)
    model.run_for(2)
    shops = model.supply.shops
    owned = np.flatnonzero((shops.owner == model.policies.index(policy)) & shops.open)
    assert len(owned) == policy.per_round
    assert (shops.opened_day[owned] == 90).all() and shops.entrant[owned].all()
    assert model.categories.basic[shops.category[owned]].all()  # it fills basic formats
    assert model.ledger[label] >= policy.per_round * policy.grant_yuan
    _, cells = outlined_cells(model, label)
    assert cells == cells_of(model, owned)
    assert supporting_policies(model, int(owned[0])) == ["fill gaps"]


def test_chain_penetration_outlines_the_shops_it_converted_or_granted():
    model = CommerceModel(scenario="chain_penetration", rng=4, **SMALL)
    shops = model.supply.shops
    n0, chain0 = len(shops), shops.chain.copy()
    model.run_for(31)  # its first monthly round of franchise offers is on day 30
    label, policy = only_policy(model, ChainPenetration)
    shops = model.supply.shops
    converted = np.flatnonzero(shops.chain[:n0] & ~chain0)
    entered = n0 + np.flatnonzero(shops.chain[n0:])
    assert len(converted) >= 1 and len(entered) >= 1
    # one grant each: the ledger holds exactly the conversions and chain entries found here
    assert model.ledger[label] == pytest.approx(
        len(converted) * policy.grant_per_conversion + len(entered) * policy.grant_per_chain_entry)
    supported = np.union1d(converted, entered)
    supported = supported[shops.open[supported]]
    _, cells = outlined_cells(model, label)
    assert cells == cells_of(model, supported)
    assert supporting_policies(model, int(converted[0])) == ["chain penetration"]
