"""Pinned daily metrics: the regression baseline of the model's behaviour.

``CASES`` lists the (scenario, seed, days, overrides) runs whose every daily metric is kept
in ``tests/regression/pinned/``. ``tests/test_regression.py`` reruns them and compares; a
change of behaviour that is meant (a new mechanism, a recalibration) is recorded by running

    .venv/bin/python -m tests.regression.pins

and committing the rewritten files with a message that says why the numbers moved. New
metrics added without changing any pinned one (a new policy kind's ``spend_<kind>``, a new
measure) are pinned by

    .venv/bin/python -m tests.regression.pins --add-new

which reruns every case, refuses (and writes nothing) if a pinned metric moved or went
missing, and adds only the new metrics' series, keeping the pinned values as they were.
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
    ("home_care", 1), ("multi_function_stores", 1), ("smart_platform", 1),
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


def add_new() -> None:
    """Pin the metrics not pinned yet; refuse if any pinned metric moved (see module)."""
    out: dict[Path, dict[str, list[float | None]]] = {}
    for scenario, seed in CASES:
        path = case_file(scenario, seed)
        pinned = json.loads(path.read_text())
        now = run_case(scenario, seed)
        missing = sorted(set(pinned) - set(now))
        if missing:
            raise SystemExit(f"{path.name}: pinned metrics missing now: {missing}; nothing written")
        for name, values in pinned.items():
            a = np.array([np.nan if v is None else v for v in values])
            b = np.array([np.nan if v is None else v for v in now[name]])
            if a.shape != b.shape or not np.allclose(b, a, rtol=1e-9, atol=1e-12, equal_nan=True):
                raise SystemExit(f"{path.name}: pinned metric {name} moved; behaviour changed, "
                                 "nothing written (re-record on purpose with no flag)")
        out[path] = {name: pinned.get(name, now[name]) for name in now}
        print(f"{path.name}: adds {sorted(set(now) - set(pinned))}")
    for path, series in out.items():
        path.write_text(json.dumps(series) + "\n")


if __name__ == "__main__":
    import sys

    if "--add-new" in sys.argv[1:]:
        add_new()
    else:
        write_all()
