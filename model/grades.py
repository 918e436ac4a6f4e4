"""Graded circles (基础型、提升型、品质型): each community's circle graded from the formats it reaches.

The source article says the circles are to be built "graded and classified" as basic,
upgraded and quality circles (基础型、提升型、品质型) without giving the rule; the 2021
construction guide divides the formats into basic-guarantee formats (便利店、菜市场、早餐店、
维修点 ...: the category table's tier ``basic``) and quality-improvement formats (特色餐饮、
运动健身、养老服务、幼儿托管 ...: tier ``quality``). The rule here (its thresholds are
assumptions, parameters of ``model.params``):

* a format is **present** in a community's circle when at least ``grade_reach_share`` of the
  community's present residents reach an open provider of it within the category's standard
  walk at their own speed (the coverage rule of ``model.metrics``; a vendor stop counts on
  its schedule, deliveries and care at home do not);
* the circle is **basic** (1) when every basic format is present; **upgraded** (2) when it is
  basic and at least ``ceil(grade_upgraded_share x Q)`` of the Q quality formats are present
  (4 of 5 with the defaults); **quality** (3) when it is basic and at least
  ``ceil(grade_quality_share x Q)`` are (all 5); below basic (0) otherwise;
* a community without present residents has no grade (-1).

``GRADES`` names the grades in order; the metrics report the share of present residents
living in a community of each grade, overall and in old and new communities.
"""

from __future__ import annotations

import math

import numba
import numpy as np

GRADES = ("none", "basic", "upgraded", "quality")
"""Grade names by code: 0 below basic, 1 basic (基础型), 2 upgraded (提升型), 3 quality (品质型)."""

NO_GRADE = -1  # a community without present residents


def presence_from_counts(residents: np.ndarray, hits: np.ndarray,
                         reach_share: float) -> np.ndarray:
    """(communities, categories) bool: formats present, from residents and residents covered.

    Args:
        residents: present residents per community.
        hits: (communities, categories) present residents who reach each format.
        reach_share: share of a community's residents who must reach a format.
    """
    share = hits / np.maximum(residents, 1)[:, None]
    return (residents[:, None] > 0) & (share >= reach_share - 1e-12)


@numba.njit(cache=True, nogil=True)
def _tally(community, coverage, n):  # pragma: no cover - compiled
    """Residents per community and, per (community, category), those covered (one pass)."""
    residents = np.zeros(n, dtype=np.int64)
    hits = np.zeros((n, coverage.shape[1]))
    for i in range(community.shape[0]):
        c = community[i]
        residents[c] += 1
        for k in range(coverage.shape[1]):
            if coverage[i, k]:
                hits[c, k] += 1.0
    return residents, hits


def grade_from_formats(present: np.ndarray, basic: np.ndarray, upgraded_share: float,
                       quality_share: float) -> np.ndarray:
    """Grade codes (0..3) of circles from their formats (rows of ``present``; see module)."""
    present = np.atleast_2d(present)
    n_quality = int((~basic).sum())
    has_basic = present[:, basic].all(axis=1)
    quality = present[:, ~basic].sum(axis=1)
    need_up = math.ceil(upgraded_share * n_quality - 1e-9)
    need_q = math.ceil(quality_share * n_quality - 1e-9)
    grade = np.where(has_basic, 1, 0)
    grade = np.where(has_basic & (quality >= need_up), 2, grade)
    grade = np.where(has_basic & (quality >= need_q), 3, grade)
    return grade.astype(np.int8)


def community_grades(model, coverage: np.ndarray) -> np.ndarray:
    """Grade code per community of ``model`` (``NO_GRADE`` where nobody lives yet).

    Args:
        model: the CommerceModel.
        coverage: its coverage matrix (``model.metrics.coverage_matrix``).
    """
    community = model.population.community[model.present_idx]
    residents, hits = _tally(np.ascontiguousarray(community, dtype=np.int64),
                             np.ascontiguousarray(coverage), len(model.city.community_kind))
    return grades_from_counts(model, residents, hits)


def grades_from_counts(model, residents: np.ndarray, hits: np.ndarray) -> np.ndarray:
    """Grade code per community from its present residents and those reaching each format.

    Args:
        model: the CommerceModel (its grading parameters and category tiers).
        residents: present residents per community.
        hits: (communities, categories) present residents who reach each format.
    """
    p, cats = model.params, model.categories
    present = presence_from_counts(residents, hits, p.grade_reach_share)
    grade = grade_from_formats(present, cats.basic, p.grade_upgraded_share, p.grade_quality_share)
    return np.where(residents > 0, grade, NO_GRADE).astype(np.int8)


def grade_shares(grades: np.ndarray, residents: dict[str, np.ndarray]) -> dict[str, float]:
    """Share of present residents living in a community of each grade, per group.

    Args:
        grades: grade code per community (``community_grades``).
        residents: suffix -> present residents of the group per community (``""`` for
            everyone).

    Returns:
        ``{f"grade_share_{grade}{suffix}": share}`` (NaN for an empty group).
    """
    out: dict[str, float] = {}
    for suffix, count in residents.items():
        n = int(count.sum())
        for code, name in enumerate(GRADES):
            out[f"grade_share_{name}{suffix}"] = \
                float(count[grades == code].sum() / n) if n else float("nan")
    return out
