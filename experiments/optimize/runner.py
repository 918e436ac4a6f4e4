"""Run (or resume) a search into its folder: claim, lock, manifest, search, front, holdout, report.

::

    problem (validated) -> check the folder (nothing written) -> lock + claim -> manifest
    -> search, generation by generation (runs committed as they finish; evaluations.parquet
    rewritten after each generation) -> pareto.parquet -> chosen mixes on fresh seeds
    (holdout.parquet) -> report.md / report.html with figures

A folder holding another problem (its identity hash differs: another base scenario, other
levers, objectives, constraints, seeds, days, population or search seed) is refused unless
``force`` starts it over; raising ``evaluations`` continues a finished search.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.dispatch import BatchInterruptedError
from experiments.executors import ExecutorSpec, open_executor
from experiments.lock import LOCK_FILE, FolderLock
from experiments.optimize.evaluate import KEY_COLUMNS
from experiments.optimize.holdout import chosen_mixes, holdout_table
from experiments.optimize.problem import IDENTITY_EXCLUDES, Problem
from experiments.optimize.search import Search
from experiments.optimize.tables import front
from experiments.outputs import check_output_dir, claim_output_dir
from experiments.provenance import code_version, environment, now
from experiments.store import (
    RUNS_DIR,
    ResultStore,
    atomic_write_bytes,
    atomic_write_parquet,
    json_default,
)
from model.errors import ResultsError

WRITER = "lifecircle optimize"
PATTERNS = ("manifest.json", "problem.toml", "evaluations.parquet", "pareto.parquet",
            "holdout.parquet", "report.md", "report.html", "fig_*.png", LOCK_FILE, ".*.tmp",
            RUNS_DIR, f"{RUNS_DIR}/*.json", f"{RUNS_DIR}/*.parquet", f"{RUNS_DIR}/.*.tmp")
"""Files a search folder may hold (anything else is foreign: never deleted)."""


@dataclass
class OptimizeOutcome:
    """What a search did.

    Attributes:
        out_dir: The folder.
        evaluations: Every mix evaluated (the baseline first).
        pareto: The feasible, non-dominated mixes.
        holdout: The chosen mixes' in- and out-of-sample gains.
        executed: Runs simulated in this call.
        crashed: Runs that failed for another reason than the model refusing a mix.
        generations: Generations of the search.
        interrupted: Stopped by SIGINT/SIGTERM (finished runs are kept).
        report: The report's path (``None`` if interrupted).
    """

    out_dir: Path
    evaluations: pd.DataFrame = field(default_factory=pd.DataFrame)
    pareto: pd.DataFrame = field(default_factory=pd.DataFrame)
    holdout: pd.DataFrame = field(default_factory=pd.DataFrame)
    executed: list[str] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)
    generations: int = 0
    interrupted: bool = False
    report: Path | None = None


def check_folder(problem: Problem, out: Path, force: bool) -> bool:
    """Check the folder may take this search; write nothing. Returns whether it has contents.

    Raises:
        OutputError, ResultsError: A folder lifecircle did not write, or one holding another
            problem (without ``force``).
    """
    existing = check_output_dir(out, force=force, writer=WRITER, patterns=PATTERNS, reuse=True,
                                ignore=(LOCK_FILE,))
    if existing and not force:
        _check_manifest(ResultStore(out, KEY_COLUMNS), problem)
    return existing


def _check_manifest(store: ResultStore, problem: Problem) -> dict[str, Any] | None:
    manifest = store.read_manifest()
    if manifest is None:
        return None
    if manifest.get("identity_hash") == problem.identity_hash():
        return manifest
    if "identity_hash" not in manifest:
        raise ResultsError(store.root, "", "holds the results of another command (no search "
                           "in its manifest); run into another folder with --out, or pass "
                           "--force to start over")
    old = manifest.get("definition") if isinstance(manifest.get("definition"), dict) else {}
    new = json.loads(json.dumps(problem.definition(), default=json_default))
    changed = sorted(k for k in set(old) | set(new)
                     if k not in IDENTITY_EXCLUDES and old.get(k) != new.get(k))
    raise ResultsError(store.root, "", "holds another search (changed: "
                       f"{', '.join(changed) or 'code or scenario files'}). Refusing to mix "
                       "results: run into another folder with --out, or pass --force to "
                       "start over")


def _write_manifest(store: ResultStore, problem: Problem, log: Callable[[str], None]) -> None:
    manifest = _check_manifest(store, problem)
    fresh = {"identity_hash": problem.identity_hash(), "definition": problem.definition(),
             "seeds": problem.seeds, "holdout_seeds": problem.holdout_seeds,
             "base_scenario": problem.base.to_dict()}
    if manifest is None:
        manifest = {"writer": WRITER, "problem": problem.name, "created": now(),
                    "code_version": code_version(), "environment": environment(), **fresh}
    else:
        manifest.update(fresh, resumed=now())
        if manifest.get("code_version") != code_version():
            log(f"note: {store.root} was started with code {manifest.get('code_version')!r}; "
                f"now {code_version()!r}. Runs already stored are reused (they are keyed by "
                "scenario and seed, not code); pass --force to start over.")
    store.write_manifest(manifest)
    if Path(problem.file).is_file():
        atomic_write_bytes(store.root / "problem.toml", Path(problem.file).read_bytes())


def run_optimize(problem: Problem, out_dir: str | Path, executor: ExecutorSpec | None = None,
                 *, force: bool = False, progress: bool = False,
                 log: Callable[[str], None] = print, report: bool = True) -> OptimizeOutcome:
    """Run (or resume) the search of ``problem`` into ``out_dir`` (see the module docstring).

    Args:
        problem: A validated problem.
        out_dir: The results folder.
        executor: Process pool (default), Dask LocalCluster or scheduler, or ``workers=0``.
        force: Start a lifecircle folder over.
        progress: Progress bars on stderr.
        log: Where messages go.
        report: Write report.md / report.html with figures.

    Raises:
        ExperimentError, OutputError, ResultsError: Refused before anything runs.
    """
    out = Path(out_dir)
    check_folder(problem, out, force)
    out.mkdir(parents=True, exist_ok=True)
    store = ResultStore(out, KEY_COLUMNS)
    spec = executor or ExecutorSpec()
    outcome = OptimizeOutcome(out_dir=out)
    with FolderLock(out, f"{WRITER} {problem.name}") as lock:
        claim_output_dir(out, force, WRITER, PATTERNS, reuse=True, keep=(LOCK_FILE,))
        if lock.stale:
            log(f"note: took over the lock of a search that is gone (pid "
                f"{lock.stale.get('pid')} on {lock.stale.get('host')})")
        for name in store.clean_temporary():
            log(f"note: removed {name}, left by a search that is gone")
        _write_manifest(store, problem, log)
        with open_executor(spec) as ex:
            search = Search(problem, store, ex if ex is not None else ExecutorSpec(workers=0),
                            log=log, progress=progress,
                            on_generation=lambda t: atomic_write_parquet(
                                out / "evaluations.parquet", t))
            try:
                outcome.evaluations = search.run()
                outcome.pareto = front(problem, outcome.evaluations)
                chosen = chosen_mixes(problem, outcome.pareto)
                if problem.holdout_replicates and not chosen.empty:
                    entries = [search.entries[c] for c in dict.fromkeys(chosen["candidate"])]
                    search.evaluate([search.baseline, *entries], problem.holdout_seeds,
                                    problem.replicates, "out-of-sample")
                outcome.holdout = holdout_table(problem, search, chosen)
            except BatchInterruptedError:
                outcome.interrupted = True
                outcome.evaluations = search.table()
            finally:
                outcome.executed = list(search.results.executed)
                outcome.crashed = list(search.results.crashed)
                outcome.generations = search.generations
        atomic_write_parquet(out / "evaluations.parquet", outcome.evaluations)
        if outcome.interrupted:
            return outcome
        atomic_write_parquet(out / "pareto.parquet", outcome.pareto)
        atomic_write_parquet(out / "holdout.parquet", outcome.holdout)
        if report:
            from experiments.optimize.report import write_report

            outcome.report = write_report(problem, out, outcome.evaluations, outcome.pareto,
                                          outcome.holdout)
    return outcome


def planned_runs(problem: Any) -> int:
    """Runs the search plans at most: every mix and the baseline on every seed, then holdout."""
    n_gen = -(-problem.evaluations // problem.population)
    chosen = max(1, len(problem.budget_levels))
    return ((n_gen * problem.population + 1) * problem.replicates
            + (chosen + 1) * problem.holdout_replicates)


def estimate_seconds(problem: Any, workers: int) -> tuple[float, str]:
    """Wall time estimate of the whole search and the city it is for (largest mix)."""
    from experiments.optimize.levers import apply_mix
    from model.footprint import estimate

    high = apply_mix(problem.base, problem.levers,
                     {lv.name: lv.corner(True) for lv in problem.levers})
    fp = estimate(high.params)
    return planned_runs(problem) * fp.run_seconds(problem.days) / max(1, workers), fp.describe()
