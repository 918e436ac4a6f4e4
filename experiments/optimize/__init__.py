"""The best policy mix for a budget: a many-objective search over policy levers (issue 13).

A **problem file** (TOML, :mod:`experiments.optimize.problem`) names a base scenario, the
levers a policy team controls (policy parameters, whole policies switched on or off, scenario
parameters), the objectives (metrics to maximise or minimise, each aggregated over seeds by a
stated robustness statistic), the constraints (a budget per year, metric bounds such as
"elderly coverage at least the baseline's") and how many replicates, days and evaluations.

``lifecircle optimize FILE`` searches with pymoo's genetic algorithm for mixed variables and
NSGA-II's rank-and-crowding survival (:mod:`experiments.optimize.search`), one generation at a
time: every mix of a generation is simulated on the same seeds (common random numbers)
through the project's executors and stored as each run finishes in the verified results
store; then the generation is told to the optimiser in the order it was asked. The search is
therefore a deterministic function of its seed and the simulations, whatever the executor
or the order in which runs finish, and a killed search resumes without redoing finished runs.

The folder then holds ``evaluations.parquet`` (every mix), ``pareto.parquet`` (the feasible,
non-dominated mixes), the chosen mixes re-simulated on fresh seeds (:mod:`.holdout`) and
``report.md`` / ``report.html`` with figures (:mod:`.report`). docs/OPTIMIZE.md is the guide.
"""
