"""Graded circles (基础型、提升型、品质型): the grade of a hand-built circle matches the rule.

The rule (``model/grades.py``): a format is present in a community's circle when at least
``grade_reach_share`` of its residents reach it within the category's standard walk at their
own speed; basic = every basic format present; upgraded = basic and at least
ceil(0.8 x 5) = 4 of the 5 quality formats; quality = basic and all 5 (the defaults).
Here the residents' reach is recomputed by hand from the city's walking distances, not from
the model's candidate index or coverage.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from model import CommerceModel, ScenarioError
from model.grades import GRADES, grade_from_formats
from model.outcomes import GRADE_SUFFIXES

from .conftest import SMALL

TINY = {"communities_x": 1, "communities_y": 1, "share_old": 1.0,
        "storefront_occupancy_old": 0.0, "entrants_per_vacancy_month": 0.0}


def tiny_circle(sites_of: dict[str, list[int]] | None = None, **params) -> CommerceModel:
    """One old community, no market; shops opened by hand.

    Args:
        sites_of: category -> storefront indices that serve it (default: every category at
            every storefront).
    """
    m = CommerceModel(rng=1, **TINY, **params)
    sup, cats = m.supply, m.categories
    sites = sup.vacant_storefronts()
    if sites_of is None:
        sites_of = {name: list(range(len(sites))) for name in cats.names}
    for i, site in enumerate(sites.tolist()):
        ks = [cats.index[name] for name, where in sites_of.items() if i in where]
        if not ks:
            continue
        n = len(ks)
        shop = sup.open_shops(0, np.array([site]), np.array([ks[0]], dtype=np.int16),
                              np.array([False]), price=np.ones(1), quality=np.full(1, 0.6),
                              cash=np.full(1, 1e6), rent_day=np.zeros(1), staff_day=np.zeros(1),
                              capacity=np.full(1, 1e6), margin=np.full(1, 0.2))
        if n > 1:
            sup.add_offers(shop=np.full(n - 1, shop[0]), site=np.full(n - 1, site),
                           category=np.array(ks[1:]), price=1.0, quality=0.6,
                           capacity=1e6, margin=0.2)
    m.candidates = m._build_index()
    return m


def reach_share_by_hand(m: CommerceModel, storefronts: list[int], category: str) -> float:
    """Share of present residents who walk to one of these storefronts within the standard."""
    sup, city, pop = m.supply, m.city, m.population
    sites = np.flatnonzero(sup.site_storefront)
    src, home, dist = city.distances_from(sup.site_xy[sites[storefronts]], 1e9)
    nearest = np.full(len(city.home_xy), np.inf)
    np.minimum.at(nearest, home, dist)
    std_m = 60.0 * m.categories.standard_min[m.categories.index[category]]
    r = m.present_idx
    return float((nearest[pop.home[r]] <= pop.speed_mps[r].astype(float) * std_m).mean())


def grade_by_hand(m: CommerceModel, sites_of: dict[str, list[int]], reach_share: float) -> str:
    cats = m.categories
    present = {name: reach_share_by_hand(m, where, name) >= reach_share if where else False
               for name, where in sites_of.items()}
    basic = [n for n in cats.names if cats.basic[cats.index[n]]]
    quality = [n for n in cats.names if not cats.basic[cats.index[n]]]
    if not all(present.get(n, False) for n in basic):
        return "none"
    got = sum(present.get(n, False) for n in quality)
    if got >= math.ceil(m.params.grade_quality_share * len(quality) - 1e-9):
        return "quality"
    if got >= math.ceil(m.params.grade_upgraded_share * len(quality) - 1e-9):
        return "upgraded"
    return "basic"


def _everywhere(m: CommerceModel) -> dict[str, list[int]]:
    n = int(m.supply.site_storefront.sum())
    return {name: list(range(n)) for name in m.categories.names}


@pytest.mark.parametrize(("quality_kept", "lines", "expected"), [
    (5, {}, "quality"), (4, {}, "upgraded"), (3, {}, "basic"), (0, {}, "basic"),
    (4, {"grade_quality_share": 0.8}, "quality"),
    (2, {"grade_upgraded_share": 0.4, "grade_quality_share": 0.8}, "upgraded"),
    (1, {"grade_upgraded_share": 0.4, "grade_quality_share": 0.8}, "basic")])
def test_the_grade_of_a_hand_built_circle_follows_its_quality_formats(quality_kept, lines,
                                                                      expected):
    probe = CommerceModel(rng=1, **TINY)
    sites_of = _everywhere(probe)
    quality = [n for n in probe.categories.names if not probe.categories.basic[probe.categories.index[n]]]
    for name in quality[quality_kept:]:
        sites_of[name] = []
    m = tiny_circle(sites_of, **lines)
    assert grade_by_hand(m, sites_of, 0.8) == expected
    assert GRADES[int(m.community_grades()[0])] == expected
    metrics = m.metrics()
    for name in GRADES:
        assert metrics[f"grade_share_{name}"] == (1.0 if name == expected else 0.0)
        assert metrics[f"grade_share_{name}_old"] == metrics[f"grade_share_{name}"]
        assert np.isnan(metrics[f"grade_share_{name}_new"])  # no new community here


def test_a_basic_format_reached_by_too_few_residents_is_missing_and_the_circle_below_basic():
    probe = CommerceModel(rng=1, **TINY)
    sites_of = _everywhere(probe)
    n = len(sites_of["repair"])
    shares = [reach_share_by_hand(probe, [i], "repair") for i in range(n)]
    corner = int(np.argmin(shares))  # the one repair point reaches the fewest residents
    s = shares[corner]
    assert 0.05 < s < 0.95, shares
    sites_of["repair"] = [corner]
    for line, expected in ((s - 0.01, "quality"), (s + 0.01, "none")):
        m = tiny_circle(sites_of, grade_reach_share=line)
        assert reach_share_by_hand(m, [corner], "repair") == pytest.approx(s)
        assert grade_by_hand(m, sites_of, line) == expected
        assert GRADES[int(m.community_grades()[0])] == expected
        grid = m.grade_grid()
        lived = ~np.isnan(grid)
        assert lived.sum() == len(np.unique(m.population.home[m.present_idx]))
        assert np.all(grid[lived] == GRADES.index(expected))


def test_grade_rule_on_format_rows():
    basic = np.array([True, True, False, False, False, False, False])  # 2 basic, 5 quality
    rows = np.array([[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 0, 0, 0, 0],
                     [1, 1, 0, 0, 0, 0, 0], [0, 1, 1, 1, 1, 1, 1]], dtype=bool)
    assert grade_from_formats(rows, basic, 0.4, 0.8).tolist() == [3, 2, 1, 1, 0]
    assert grade_from_formats(rows, basic, 0.6, 0.6).tolist() == [3, 3, 1, 1, 0]


def test_grade_shares_add_up_and_the_grid_shows_each_communitys_grade():
    m = CommerceModel(scenario="combined", rng=2, **SMALL)
    m.run_for(40)
    x = m.metrics()
    for suffix in GRADE_SUFFIXES:
        assert sum(x[f"grade_share_{g}{suffix}"] for g in GRADES) == pytest.approx(1.0)
    grades = m.community_grades()
    grid = m.grade_grid()
    homes = np.unique(m.population.home[m.present_idx])
    xy = m.city.home_xy[homes]
    assert np.array_equal(grid[xy[:, 0], xy[:, 1]], grades[m.city.home_community[homes]])
    counts = np.bincount(m.population.community[m.present_idx], minlength=len(grades))
    for g, name in enumerate(GRADES):
        assert x[f"grade_share_{name}"] == pytest.approx(counts[grades == g].sum() / counts.sum())


def test_a_quality_line_below_the_upgraded_line_is_refused():
    with pytest.raises(ScenarioError, match="grade_quality_share"):
        CommerceModel(rng=1, **SMALL, grade_upgraded_share=0.6, grade_quality_share=0.4)


def test_a_policy_that_fills_a_missing_basic_format_lifts_circles_out_of_below_basic():
    """No repair point anywhere: every circle is below basic; convenience stores that take
    repair on lift communities to basic or better where repair was all they lacked (common
    random numbers; no market entry, so the stores' services are the only difference)."""
    from .test_policies import paired

    scarce = {"categories.repair.initial_share": 0.0, "entrants_per_vacancy_month": 0.0}
    lifted = []
    for base, mf in paired("multi_function_stores", 35, scarce, services="repair",
                           approach_share=1.0):
        assert base.metrics()["grade_share_none"] == 1.0
        assert base.metrics()["coverage_repair"] == 0.0
        x = mf.metrics()
        assert x["coverage_repair"] > 0.5
        lifted.append(1.0 - x["grade_share_none"])
        # a community's grade never falls when a format is added
        assert np.all(mf.community_grades() >= base.community_grades())
    assert max(lifted) > 0.2 and np.mean(lifted) > 0


def test_the_reports_grade_levels_add_up_and_at_least_basic_is_one_minus_below_basic():
    from experiments.report_grades import AT_LEAST_BASIC, grade_frame, grade_levels

    rng = np.random.default_rng(0)
    rows = []
    for scenario in ("baseline", "policy"):
        for rep in range(3):
            shares = {}
            for sfx in GRADE_SUFFIXES:
                w = rng.dirichlet(np.ones(4))
                shares.update({f"grade_share_{g}{sfx}": w[i] for i, g in enumerate(GRADES)})
            rows.append({"scenario": scenario, "point": 0, "replicate": rep, **shares})
    import pandas as pd

    frame = grade_frame(pd.DataFrame(rows))
    for sfx in GRADE_SUFFIXES:
        assert np.allclose(frame[f"{AT_LEAST_BASIC}{sfx}"], 1 - frame[f"grade_share_none{sfx}"])
    levels = grade_levels(frame, ["baseline", "policy"])
    assert np.allclose(levels.iloc[:, :4].sum(axis=1), 100.0)
    assert list(levels.index) == ["baseline", "policy"]
    old = frame[frame["scenario"] == "policy"][f"{AT_LEAST_BASIC}_old"].mean() * 100
    assert levels.loc["policy", "at least basic, old"] == pytest.approx(old)
