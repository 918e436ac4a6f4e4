"""Behaviour is pinned: every daily metric of a set of runs equals the recorded one.

A refactoring must leave these numbers exactly as they are. A change of behaviour that is
meant is recorded with ``python -m tests.regression.pins`` (see that module).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.regression.pins import CASES, case_file, run_case


@pytest.mark.parametrize(("scenario", "seed"), CASES, ids=[f"{s}-{k}" for s, k in CASES])
def test_daily_metrics_equal_the_pinned_run(scenario, seed):
    pinned = json.loads(case_file(scenario, seed).read_text())
    now = run_case(scenario, seed)
    assert sorted(now) == sorted(pinned), "metric names changed"
    for name, values in pinned.items():
        a = np.array([np.nan if v is None else v for v in values])
        b = np.array([np.nan if v is None else v for v in now[name]])
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=name)
