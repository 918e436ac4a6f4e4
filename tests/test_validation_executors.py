"""`lifecircle validation` runs on any executor, with the options of `lifecircle experiment`.

`--workers N`, `--scheduler ADDRESS` and `--local-cluster` become one ExecutorSpec, passed down
to every stage that runs simulations (pre-calibration, Sobol, the ranking check); a stage gives
the same results on a process pool and on a real Dask LocalCluster; contradictory options are
one error line and exit status 2, before anything runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from experiments.executors import ExecutorSpec
from lifecircle.cli import build_parser, main, validation_inputs
from validation.sensitivity import SOBOL_METRICS, run_sobol

FACTORS = [{"name": "speed_elderly_mps", "low": 0.85, "high": 1.05},
           {"name": "beta_walk_per_min", "low": 0.08, "high": 0.25}]
SMALL = {"communities_x": 2, "communities_y": 2}
KEYS = ["scenario", "point", "replicate"]


def _sobol(out: Path, spec: ExecutorSpec) -> dict:
    return run_sobol(out, FACTORS, n_base=2, days=8, warmup=2, seed=11, executor=spec,
                     settings=SMALL, log=lambda m: None)


def _table(out: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(out / f"{name}.parquet").sort_values(KEYS).reset_index(drop=True)


# SALib warns about chain_rate: over 8 days it is constant, with no variance to share out
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_the_sobol_stage_is_the_same_on_a_process_pool_and_a_dask_local_cluster(tmp_path):
    pool = _sobol(tmp_path / "pool", ExecutorSpec(workers=2))
    dask = _sobol(tmp_path / "dask", ExecutorSpec(workers=2, local_cluster=True))
    assert pool["runs"] == dask["runs"] == 2 * (len(FACTORS) + 2)
    for out in (tmp_path / "pool", tmp_path / "dask"):
        runs = _table(out, "runs")
        assert set(runs["status"]) == {"ok"}
        # the runs were made by other processes (the pool's or the cluster's workers)
        assert f":{os.getpid()}" not in " ".join(runs["worker"])
    pd.testing.assert_frame_equal(_table(tmp_path / "pool", "summary"),
                                  _table(tmp_path / "dask", "summary"), check_exact=True)
    for m in SOBOL_METRICS:
        pd.testing.assert_frame_equal(pool["indices"][m], dask["indices"][m], check_exact=True)
    # the indices are not all degenerate: the walking factor moves surplus and satisfaction
    assert pool["indices"]["surplus_yuan"]["ST"].max() > 0
    assert pool["indices"]["share_satisfied"]["ST"].max() > 0


def _inputs(*options: str):
    return validation_inputs(build_parser().parse_args(["validation", "results", *options]))


def test_validation_passes_its_executor_options_down_as_one_spec():
    assert _inputs().executor == ExecutorSpec(workers=2)
    assert _inputs("--workers", "0").executor == ExecutorSpec(workers=0)
    assert _inputs("--local-cluster", "--workers", "3").executor == \
        ExecutorSpec(workers=3, local_cluster=True)
    assert _inputs("--scheduler", "tcp://10.0.0.1:8786").executor == \
        ExecutorSpec(workers=2, scheduler="tcp://10.0.0.1:8786")


@pytest.mark.parametrize("options, named", [
    (["--scheduler", "tcp://127.0.0.1:8786", "--local-cluster"], "--local-cluster"),
    (["--workers", "0", "--local-cluster"], "--workers"),
    (["--workers", "0", "--scheduler", "tcp://127.0.0.1:8786"], "--workers"),
])
@pytest.mark.parametrize("command", ["validation", "experiment", "optimize"])
def test_contradictory_executor_options_are_one_error_and_exit_2(command, options, named,
                                                                 tmp_path, capsys):
    doc, figs = tmp_path / "V.md", tmp_path / "figs"
    extra = ["--doc", str(doc), "--fig-dir", str(figs)] if command == "validation" else []
    target = tmp_path / ("results" if command == "validation" else "file.toml")
    assert main([command, str(target), *options, *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {named}: ") and err.count("\n") == 1, err
    assert sorted(tmp_path.iterdir()) == []  # nothing written


def test_a_bad_workers_value_is_one_error_and_exit_2(tmp_path, capsys):
    for value in ("-1", "two", "5000"):
        with pytest.raises(SystemExit) as stop:
            main(["validation", str(tmp_path / "results"), "--workers", value])
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "--workers" in err and err.count("\n") == 1, err
    assert sorted(tmp_path.iterdir()) == []
