"""The daily metrics equal a plain recomputation from the model's state, exactly.

``model/tallies.py`` counts in compiled chunks (coverage decided once per home and walking
speed; a resident with a speed beyond the first ``SPEED_CLASSES`` on its own) and sums the
day's surplus in one ordered pass. Here the same figures are recomputed the plain way: coverage
from ``coverage_matrix`` (one comparison per resident and category), counts with numpy, and
every floating-point sum as a Python loop in resident (or need) order, so any change of order
or of rule shows in the last bit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from model import CommerceModel
from model.city import OLD
from model.grades import GRADES
from model.metrics import coverage_matrix
from model.outcomes import SUBGROUPS
from model.population import ELDERLY
from model.tallies import SPEED_CLASSES

from .conftest import SMALL


def _model(distinct_speeds: int | None) -> CommerceModel:
    m = CommerceModel(scenario="combined", rng=3, **SMALL)
    if distinct_speeds is not None:  # more walking speeds than the per-home tally holds
        pop = m.population
        step = (np.arange(pop.n) % distinct_speeds).astype(np.float32)
        pop.speed_mps = (pop.speed_mps * (np.float32(1.0) + np.float32(0.01) * step)).astype(
            np.float32)
        m.__dict__.pop("_coverage_cache", None)
    m.run_for(12)
    return m


def _ordered_sum(values) -> float:
    total = 0.0
    for x in values:
        total += float(x)
    return total


@pytest.mark.parametrize("distinct_speeds", [None, 4 * SPEED_CLASSES])
def test_counts_and_sums_equal_a_plain_recomputation(distinct_speeds):
    m = _model(distinct_speeds)
    idx, pop, day = m.present_idx, m.population, m.today
    if distinct_speeds is not None:
        assert len(np.unique(pop.speed_mps[idx])) > SPEED_CLASSES  # both paths are taken
    x = m.metrics()
    cov = np.asarray(coverage_matrix(m))
    basic_all = cov[:, m.categories.basic].all(axis=1)
    groups = {"old": pop.kind[idx] == OLD, "new": pop.kind[idx] != OLD,
              "elderly": pop.group[idx] >= ELDERLY, "nonelderly": pop.group[idx] < ELDERLY}
    assert list(groups) == list(SUBGROUPS)
    n = len(idx)
    for k, name in enumerate(m.categories.names):
        assert x[f"coverage_{name}"] == int(cov[:, k].sum()) / n, name
    assert x["coverage_basic_all"] == int(basic_all.sum()) / n
    sat = m.satisfaction[idx]
    rated = ~np.isnan(sat)
    line = m.params.satisfied_threshold
    assert x["share_satisfied"] == int((sat[rated] >= line).sum()) / int(rated.sum())
    for name, mask in groups.items():
        assert x[f"coverage_basic_all_{name}"] == int(basic_all[mask].sum()) / int(mask.sum())
        r = rated & mask
        assert x[f"share_satisfied_{name}"] == int((sat[r] >= line).sum()) / int(r.sum())
    # the day's surplus: each resident's needs added in order, residents in order
    per_resident: dict[int, float] = {}
    for r, s in zip(day.need_res.tolist(), day.surplus_yuan.tolist(), strict=True):
        per_resident[r] = per_resident.get(r, 0.0) + s
    surplus = np.array([per_resident.get(r, 0.0) for r in idx.tolist()])
    assert x["surplus_yuan_total"] == _ordered_sum(surplus)
    assert x["surplus_yuan"] == _ordered_sum(surplus) / n
    for name, mask in groups.items():
        assert x[f"surplus_yuan_{name}"] == _ordered_sum(surplus[mask]) / int(mask.sum()), name
    walked = (day.chosen >= 0) & (day.walk_min > 0)
    assert x["mean_walk_min"] == _ordered_sum(day.walk_min[walked]) / int(walked.sum())
    assert x["unmet_rate"] == int((day.chosen < 0).sum()) / len(day.chosen)
    # circle grades: each resident's community's grade, shares overall and old / new
    grade = m.community_grades()[pop.community[idx]]
    for code, name in enumerate(GRADES):
        assert x[f"grade_share_{name}"] == int((grade == code).sum()) / n
        assert x[f"grade_share_{name}_old"] == \
            int((grade[groups["old"]] == code).sum()) / int(groups["old"].sum())
    assert not math.isnan(x["gini_access"])
