"""Mechanisms behind the validation patterns (shops enter and exit; new communities fill).

The banded patterns themselves (chain rate, residents per outlet, new vs old and elderly
coverage), with tolerances in standard errors, are in tests/test_validation_patterns.py and
docs/VALIDATION.md.
"""

from __future__ import annotations


def test_many_new_shops_open_and_close(baseline_years):
    closed = [df["outlets_closed"].sum() for df in baseline_years.values()]
    opened = [df["outlets_opened"].sum() for df in baseline_years.values()]
    assert min(opened) > 0 and min(closed) > 0


def test_closure_share_is_undefined_before_two_years(baseline_years):
    # entrant_closed_2y is NaN until some entrant is 730 days old
    for df in baseline_years.values():
        assert df["entrant_closed_2y"].isna().all()


def test_new_communities_fill(baseline_years):
    for df in baseline_years.values():
        occ = df["occupancy_new"]
        assert occ.iloc[-1] > occ.iloc[0]
