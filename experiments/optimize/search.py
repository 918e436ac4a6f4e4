"""The search loop: pymoo asks for a generation, the runs are simulated and stored, pymoo is told.

**Optimiser.** pymoo's genetic algorithm for mixed variables (integer, real, on/off and choice
levers, each with its own crossover and mutation) with NSGA-II's survival (non-dominated
sorting, then crowding distance) and binary tournament selection; constraints by constraint
domination (a feasible mix beats an infeasible one; among infeasible ones, the smaller total
violation wins). Its random numbers come from its own generator seeded by the problem's
``seed``.

**Determinism.** Generation by generation: every mix of a generation is asked for, all their
runs are submitted at once, each run is committed to the store the moment it finishes (in
whatever order), and only when the whole generation is done are the objectives read -- from
the stored files -- and told to pymoo in the order it asked. So the search is a function of
its seed and the simulations alone: the same on a process pool, a Dask cluster or in-process.

**Resume.** A rerun of the same problem replays the search from its seed: each generation's
runs that the store already holds (verified: checksums, keys) are read instead of simulated,
so a killed search continues where it stopped and ends with the same front as an
uninterrupted one. Runs refused by the model (a mix the city cannot hold) are final; runs that
crashed are run again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from experiments.definition import scenario_fingerprint
from experiments.dispatch import ProgressBar, run_all
from experiments.optimize.evaluate import EvalTask, evaluate_run, run_id
from experiments.optimize.levers import Lever, apply_mix, canonical_mix, one_at_a_time
from experiments.optimize.tables import mix_row, objectives_and_constraints
from experiments.provenance import code_version
from experiments.store import ResultStore
from experiments.summary import summarize_run

MAX_GENERATIONS = 100_000


@dataclass
class Entry:
    """One distinct mix (a candidate): its scenario and where the search first asked for it."""

    candidate: str
    role: str
    mix: dict[str, Any]
    scenario: Any
    generation: int
    first_ask: int
    times_asked: int = 0


@dataclass
class RunResults:
    """Every run known so far: summaries of finished runs, errors of failed ones.

    Attributes:
        summaries: (candidate, replicate) -> the run's summary, or ``None`` if it failed.
        errors: (candidate, replicate) -> last line of a failed run's error.
        crashed: Runs that failed for another reason than the model refusing the mix.
        executed: Run ids simulated in this call.
    """

    summaries: dict[tuple[str, int], dict[str, float] | None] = field(default_factory=dict)
    errors: dict[tuple[str, int], str] = field(default_factory=dict)
    crashed: list[str] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)


def make_problem(problem: Any) -> Any:
    """The pymoo problem: one variable per lever, the objectives, the constraints."""
    from pymoo.core.problem import Problem as PymooProblem
    from pymoo.core.variable import Binary, Choice, Integer, Real

    def var(lv: Lever) -> Any:
        if lv.type == "integer":
            return Integer(bounds=(int(lv.low), int(lv.high)))
        if lv.type == "real":
            return Real(bounds=(float(lv.low), float(lv.high)))
        if lv.type == "switch":
            return Binary()
        return Choice(options=list(lv.values))

    return PymooProblem(vars={lv.name: var(lv) for lv in problem.levers},
                        n_obj=len(problem.objectives), n_ieq_constr=len(problem.bounds) + 1)


def make_algorithm(population: int, first: Sequence[dict[str, Any]] = ()) -> Any:
    """The mixed-variable genetic algorithm of pymoo, with NSGA-II selection and survival.

    ``first``: mixes that open the first generation (at most ``population`` of them); pymoo's
    random sampling fills the rest.
    """
    from pymoo.algorithms.moo.nsga2 import binary_tournament
    from pymoo.core.mixed import (
        MixedVariableDuplicateElimination,
        MixedVariableGA,
        MixedVariableMating,
        MixedVariableSampling,
    )
    from pymoo.operators.selection.tournament import TournamentSelection
    from pymoo.operators.survival.rank_and_crowding import RankAndCrowding
    from pymoo.util.display.multi import MultiObjectiveOutput

    class OpenWith(MixedVariableSampling):
        """The given mixes first, then random ones (pymoo's own sampling and random state)."""

        def _do(self, problem, n_samples, random_state=None, **kwargs):
            given = [dict(m) for m in first[:n_samples]]
            rest = n_samples - len(given)
            return given + (super()._do(problem, rest, random_state=random_state, **kwargs)
                            if rest else [])

    algorithm = MixedVariableGA(
        pop_size=population, sampling=OpenWith(), survival=RankAndCrowding(),
        output=MultiObjectiveOutput(),
        mating=MixedVariableMating(selection=TournamentSelection(func_comp=binary_tournament),
                                   eliminate_duplicates=MixedVariableDuplicateElimination()),
        eliminate_duplicates=MixedVariableDuplicateElimination(),
        advance_after_initial_infill=True)
    algorithm.tournament_type = "comp_by_dom_and_crowding"  # read by binary_tournament
    return algorithm


class Search:
    """One search into one results folder (the caller holds the folder's lock).

    Args:
        problem: The validated problem.
        store: The folder's result store (key columns ``candidate, replicate, seed``).
        executor: An open ``Executor``, or an ``ExecutorSpec`` (``workers=0``: in-process).
        log: Where messages go.
        progress: Show a progress bar per generation.
        on_generation: Called with the evaluations table after each generation.
    """

    def __init__(self, problem: Any, store: ResultStore, executor: Executor | Any,
                 log: Callable[[str], None] = print, progress: bool = False,
                 on_generation: Callable[[pd.DataFrame], None] | None = None) -> None:
        self.problem = problem
        self.store = store
        self.executor = executor
        self.log = log
        self.progress = progress
        self.on_generation = on_generation
        self.entries: dict[str, Entry] = {}
        self.results = RunResults()
        self.version = code_version()
        self.generations = 0
        base = problem.base
        self.baseline = Entry(scenario_fingerprint(base), "baseline", {}, base, 0, -1)

    # ------------------------------------------------------------------ the loop

    def run(self) -> pd.DataFrame:
        """Run (or replay and continue) the search; return the evaluations table.

        Raises:
            BatchInterruptedError: SIGINT/SIGTERM; every finished run is committed.
        """
        from pymoo.problems.static import StaticProblem

        problem = self.problem
        pymoo_problem = make_problem(problem)
        first = one_at_a_time(problem.levers) \
            if problem.first_generation == "one_at_a_time" else []
        algorithm = make_algorithm(problem.population, first)
        algorithm.setup(pymoo_problem, termination=("n_eval", problem.evaluations),
                        seed=problem.seed, verbose=False)
        asked = 0
        while algorithm.has_next() and self.generations < MAX_GENERATIONS:
            pop = algorithm.ask()
            if pop is None or len(pop) == 0:
                break
            gen = self.generations
            entries = [self._entry(dict(ind.X), gen, asked + i) for i, ind in enumerate(pop)]
            asked += len(pop)
            needed = [self.baseline] if gen == 0 else []
            self.evaluate(needed + entries, self.problem.seeds, 0, f"generation {gen}")
            rows = [self.row(e) for e in entries]
            fg = [objectives_and_constraints(problem, r) for r in rows]
            f = np.array([x[0] for x in fg], dtype=np.float64)
            g = np.array([x[1] for x in fg], dtype=np.float64)
            algorithm.evaluator.eval(StaticProblem(pymoo_problem, F=f, G=g), pop)
            algorithm.tell(infills=pop)
            self.generations += 1
            if self.on_generation is not None:
                self.on_generation(self.table())
        return self.table()

    def _entry(self, x: dict[str, Any], generation: int, ask: int) -> Entry:
        mix = canonical_mix(self.problem.levers, x)
        scenario = apply_mix(self.problem.base, self.problem.levers, mix)
        cid = scenario_fingerprint(scenario)
        entry = self.entries.get(cid)
        if entry is None:
            entry = Entry(cid, "search", mix, scenario, generation, ask)
            self.entries[cid] = entry
        entry.times_asked += 1
        return entry

    # ------------------------------------------------------------------ runs

    def evaluate(self, entries: Sequence[Entry], seeds: Sequence[int], first_replicate: int,
                 label: str) -> None:
        """Make sure every entry has a result on every seed: read the store, run the rest."""
        wanted: dict[str, EvalTask] = {}
        for e in entries:
            for i, seed in enumerate(seeds):
                rep = first_replicate + i
                if (e.candidate, rep) in self.results.summaries:
                    continue
                rid = run_id(e.candidate, rep, seed, self.problem.days)
                wanted[rid] = EvalTask(rid, e.candidate, rep, seed, self.problem.days,
                                       e.scenario)
        if not wanted:
            return
        scan = self.store.scan({rid: t.keys() for rid, t in wanted.items()})
        for rid, rec in scan.done.items():
            self._load(wanted[rid], rec)
        for rid, rec in scan.failed.items():
            if rec.get("error_kind") == "scenario" and rec.get("code_version") == self.version:
                self._load(wanted[rid], rec)  # the model refuses this mix: final
        for rid, why in scan.invalid.items():
            self.log(f"warning: runs/{rid}: {why}; running it again")
        todo = [t for rid, t in wanted.items()
                if (t.candidate, t.replicate) not in self.results.summaries]
        if not todo:
            return
        self.log(f"{label}: {len(todo)} runs to simulate ({len(wanted) - len(todo)} found in "
                 "the store)")
        bar = ProgressBar(len(todo), 0, label, self.progress)
        try:
            run_all(evaluate_run, todo, self.executor, lambda t, r: self._commit(t, r, bar))
        finally:
            bar.close()

    def _commit(self, task: EvalTask, result: dict[str, Any], bar: ProgressBar) -> None:
        rec = {"run_id": task.run_id, **task.keys(), "status": result["status"],
               "error": result["error"], "error_kind": result.get("error_kind", "crash"),
               "runtime": result["runtime"], "started_at": result["started_at"],
               "finished_at": result["finished_at"], "worker": result["worker"],
               "code_version": self.version, "days": task.days,
               "mix": self.entries[task.candidate].mix if task.candidate in self.entries
               else {}}
        written = self.store.commit(rec, result["daily"])
        self.results.executed.append(task.run_id)
        if written["status"] != "ok" and written["error_kind"] != "scenario":
            self.results.crashed.append(task.run_id)
        self._load(task, written)
        bar.update(result["status"] == "ok")

    def _load(self, task: EvalTask, rec: dict[str, Any]) -> None:
        key = (task.candidate, task.replicate)
        if rec.get("status") != "ok":
            self.results.summaries[key] = None
            lines = [ln for ln in str(rec.get("error", "")).splitlines() if ln.strip()]
            self.results.errors[key] = lines[-1] if lines else "failed"
            return
        frame = self.store.read_frame(task.run_id).drop(columns=list(self.store.key_columns))
        self.results.summaries[key] = summarize_run(frame, self.problem.warmup)

    # ------------------------------------------------------------------ tables

    def per_seed(self, entry: Entry, first_replicate: int, n: int
                 ) -> list[dict[str, float] | None]:
        """An entry's summaries on ``n`` replicates from ``first_replicate``."""
        return [self.results.summaries.get((entry.candidate, first_replicate + i))
                for i in range(n)]

    def row(self, entry: Entry) -> dict[str, Any]:
        """The entry's row of the evaluations table."""
        n = self.problem.replicates
        errors = [self.results.errors[(entry.candidate, r)] for r in range(n)
                  if (entry.candidate, r) in self.results.errors]
        return mix_row(self.problem, entry, self.per_seed(entry, 0, n),
                       self.per_seed(self.baseline, 0, n), errors)

    def table(self) -> pd.DataFrame:
        """Every mix evaluated so far (the baseline first, then in the order first asked)."""
        rows = [self.row(self.baseline)] if (self.baseline.candidate, 0) in \
            self.results.summaries else []
        rows += [self.row(e) for e in sorted(self.entries.values(), key=lambda e: e.first_ask)]
        frame = pd.DataFrame(rows)
        for lv in self.problem.levers:  # integers stay integers beside blanks (the baseline)
            if lv.type == "integer" and lv.name in frame:
                frame[lv.name] = frame[lv.name].astype("Int64")
        return frame
