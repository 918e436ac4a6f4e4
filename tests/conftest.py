"""Shared fixtures: small cities keep the suite fast; the baseline year is run once."""

from __future__ import annotations

import pytest

from model import CommerceModel, simulate

SMALL = {"communities_x": 2, "communities_y": 2}


@pytest.fixture
def small_model() -> CommerceModel:
    """A 2 x 2-community city (~5,000 residents), seed 7."""
    return CommerceModel(rng=7, **SMALL)


@pytest.fixture(scope="session")
def baseline_years():
    """Daily metrics of the baseline over one year, for three seeds."""
    return {seed: simulate("baseline", seed=seed, days=365) for seed in (11, 12, 13)}
