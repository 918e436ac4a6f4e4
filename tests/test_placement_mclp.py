"""Where to put things: the exact maximal covering location model beside greedy cover."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from model import CommerceModel, ScenarioError, load_scenario
from model.metrics import coverage_matrix
from model.policies.coverage_model import covered_weight, reduce_instance, solve_mclp
from model.policies.placement import (
    coverage_pairs,
    greedy_cover,
    lacking,
    mclp_cover,
    walkable_road_cells,
)
from model.population import ELDERLY, ELDERLY80

SMALL = {"communities_x": 2, "communities_y": 2}


def _brute_force(cover: np.ndarray, weights: np.ndarray, p: int) -> float:
    return max(covered_weight(cover, weights, list(c))
               for c in itertools.combinations(range(cover.shape[1]), p))


def test_mclp_beats_greedy_where_greedy_is_trapped():
    # demand a..f, weight 1 each; site 0 covers a-d, site 1 covers a, b, e; site 2 c, d, f.
    # Greedy takes site 0 first and then covers 5; the optimum with two sites covers all 6.
    cover = np.array([[1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1], [0, 1, 0], [0, 0, 1]],
                     dtype=bool)
    weights = np.ones(6)
    picked = solve_mclp(cover, weights, 2)
    assert sorted(picked) == [1, 2]
    assert covered_weight(cover, weights, picked) == 6.0


def test_mclp_finds_the_brute_force_optimum_on_random_instances():
    rng = np.random.default_rng(7)
    for _ in range(6):
        n_dem, n_site, p = int(rng.integers(5, 14)), int(rng.integers(3, 8)), int(rng.integers(1, 4))
        cover = rng.random((n_dem, n_site)) < 0.3
        weights = rng.integers(1, 20, n_dem).astype(float)
        picked = solve_mclp(cover, weights, p)
        assert len(picked) <= p and len(set(picked)) == len(picked)
        assert covered_weight(cover, weights, picked) == _brute_force(cover, weights, p)


def test_reducing_an_instance_keeps_its_optimum():
    rng = np.random.default_rng(3)
    cover = rng.random((12, 6)) < 0.35
    cover[:, 4] = False  # a site covering nobody is dropped
    weights = rng.integers(1, 9, 12).astype(float)
    demand, cand = np.nonzero(cover)
    merged, w, keep = reduce_instance(demand, cand, weights, 6)
    assert 4 not in keep
    assert w.sum() == weights[cover.any(axis=1)].sum()
    for p in (1, 2, 3):
        best = solve_mclp(merged, w, p)
        assert covered_weight(cover, weights, [int(keep[j]) for j in best]) == \
            _brute_force(cover, weights, p)


def test_sites_that_add_nobody_are_left_to_the_caller():
    cover = np.array([[1, 0, 0], [1, 0, 0]], dtype=bool)  # only site 0 covers anyone
    assert solve_mclp(cover, np.ones(2), 3) == [0]


def _covered(model, cand_xy, need, category, picked):
    count, src, home, within = coverage_pairs(model, cand_xy, need, category)
    hit = np.zeros_like(count, dtype=bool)
    sel = np.isin(src, picked)
    np.logical_or.at(hit, home[sel], within[sel])
    return float((count * hit).sum())


def test_mclp_covers_at_least_as_many_residents_as_greedy_in_a_city():
    model = CommerceModel(rng=1, **SMALL)
    cand = walkable_road_cells(model)
    need = lacking(model, "fresh_food")
    assert len(need) > 0
    for n in (1, 2, 3, 5):
        g = greedy_cover(model, cand, need, n, "fresh_food")
        m = mclp_cover(model, cand, need, n, "fresh_food")
        assert len(m) <= n
        cg = _covered(model, cand, need, "fresh_food", g)
        cm = _covered(model, cand, need, "fresh_food", m)
        assert cm >= cg
        if n == 1:
            assert cm == cg  # one site: greedy is already optimal


def test_policies_take_a_placement_parameter():
    for kind, params in (("elderly_canteen", {"n_canteens": 2}),
                         ("mobile_vendors", {"n_buses": 1}),
                         ("fill_gaps", {"per_round": 2})):
        sc = load_scenario("baseline", SMALL).with_policy(kind, placement="mclp", **params)
        model = CommerceModel(sc, rng=2)
        pol = model.policies[0]
        assert pol.placement == "mclp"
        model.run_for(3)
    with pytest.raises(ScenarioError, match="placement"):
        load_scenario("baseline").with_policy("elderly_canteen", placement="best")


def test_canteens_placed_by_mclp_reach_at_least_as_many_elderly():
    base = load_scenario("baseline", SMALL)
    reach = {}
    for method in ("greedy", "mclp"):
        model = CommerceModel(base.with_policy("elderly_canteen", n_canteens=2, placement=method),
                              rng=3)
        model.step()
        elderly = np.isin(model.population.group[model.present_idx], (ELDERLY, ELDERLY80))
        cov = coverage_matrix(model)[:, model.categories.index["canteen"]]
        reach[method] = int((cov & elderly).sum())
    assert reach["mclp"] >= reach["greedy"] > 0
