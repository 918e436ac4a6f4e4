"""Pinned daily metrics: the regression baseline of the model's behaviour.

``CASES`` lists the (scenario, seed, days, overrides) runs whose every daily metric is kept
in ``tests/regression/pinned/``. ``tests/test_regression.py`` reruns them and compares; a
change of behaviour that is meant (a new mechanism, a recalibration) is recorded by running

    .venv/bin/python -m tests.regression.pins

and committing the rewritten files with a message that says why the numbers moved.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from model import simulate

PINNED = Path(__file__).resolve().parent / "pinned"
SMALL = {"communities_x": 3, "communities_y": 3}
DAYS = 120
CASES: list[tuple[str, int]] = [
    ("baseline", 1), ("baseline", 2), ("combined", 1), ("mobile_vendors", 1),
    ("chain_penetration", 1), ("rent_subsidy", 1), ("elderly_canteen", 1), ("instant_retail", 1),
    ("fill_gaps", 1), ("idle_space", 1), ("neighborhood_center", 1),
]


def case_file(scenario: str, seed: int) -> Path:
    """Where the pinned series of one case lives."""
    return PINNED / f"{scenario}_seed{seed}.json"


def run_case(scenario: str, seed: int) -> dict[str, list[float]]:
    """The daily metrics of one case, column by column (NaN as None for JSON)."""
    df = simulate(scenario, seed=seed, days=DAYS, overrides=SMALL)
    return {c: [None if not np.isfinite(v) else float(v) for v in df[c].to_numpy(float)]
            for c in df.columns}


def write_all() -> None:
    """Rerun every case and rewrite the pinned files."""
    PINNED.mkdir(exist_ok=True)
    for scenario, seed in CASES:
        case_file(scenario, seed).write_text(json.dumps(run_case(scenario, seed)) + "\n")
        print(f"pinned {scenario} seed {seed}")


if __name__ == "__main__":
    write_all()
