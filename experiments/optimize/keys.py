"""The keys of a problem file (``lifecircle optimize FILE``), declared once with ``spec``.

Tables: the top level (:class:`ProblemKeys`), each lever (:class:`LeverKeys`), each
objective (:class:`ObjectiveKeys`), the ``[constraints]`` table (:class:`ConstraintKeys`) and
each of its ``[[constraints.bounds]]`` (:class:`BoundKeys`). ``docs/OPTIMIZE.md`` shows a
file; :mod:`experiments.optimize.problem` reads one.
"""

from __future__ import annotations

from dataclasses import dataclass

from experiments.keys import MAX_DAYS, MAX_SEED
from experiments.optimize.levers import FIRST_GENERATIONS, LEVER_TYPES
from experiments.optimize.objectives import SENSES, STATS
from model.schema import spec

MAX_EVALUATIONS = 100_000
MAX_LEVERS = 64


@dataclass(frozen=True)
class ProblemKeys:
    """Top level of a problem file."""

    name: str = spec("", "Short name (letters, digits, '_' and '-'); default: the file name.")
    description: str = spec("", "Free text.")
    scenario: str = spec("", "The base scenario: a name in scenarios/ or a TOML path.")
    settings: dict = spec(None, "Fixed overrides of the base scenario (any scenario key).")
    levers: dict = spec(None, "What the search may set: [levers.\"<key>\"] tables.")
    objectives: dict = spec(None, "Metrics to maximise or minimise: [objectives.<metric>].")
    constraints: dict = spec(None, "budget_per_year and [[constraints.bounds]].")
    replicates: int = spec(3, "Seeds every mix is evaluated on (common random numbers).",
                           lo=1, hi=1000)
    days: int = spec(365, "Days simulated per run.", lo=1, hi=MAX_DAYS)
    warmup: int = spec(0, "Days left out of the summaries (must be < days).", lo=0,
                       hi=MAX_DAYS - 1)
    root_seed: int = spec(0, "Root of the replicate seeds (numpy SeedSequence).", lo=0,
                          hi=MAX_SEED)
    seed: int = spec(1, "Seed of the search (the optimiser's own random numbers).", lo=0,
                     hi=2**32 - 1)
    evaluations: int = spec(60, "Mixes the search asks for (rounded up to whole generations; "
                            "raise it and rerun to continue a finished search).",
                            lo=1, hi=MAX_EVALUATIONS)
    population: int = spec(12, "Mixes per generation.", lo=2, hi=10_000)
    first_generation: str = spec("one_at_a_time", "The first generation: the do-nothing mix "
                                 "and each lever alone at its highest, then random mixes to "
                                 "fill it (one_at_a_time), or all at random.",
                                 choices=FIRST_GENERATIONS)
    holdout_replicates: int = spec(6, "Fresh seeds on which the chosen mixes are re-simulated "
                                   "(0: no out-of-sample check).", lo=0, hi=1000)
    budget_levels: list = spec(None, "Budgets (yuan a year) at which the report names the best "
                               "mix (default: a quarter, half and all of budget_per_year).")


@dataclass(frozen=True)
class LeverKeys:
    """One lever: ``[levers."policy.mobile_vendors.n_buses"]``."""

    type: str = spec("", "What values the lever takes.", choices=LEVER_TYPES)
    low: float = spec(None, "integer/real: smallest value.")
    high: float = spec(None, "integer/real: largest value (> low).")
    step: float = spec(0.0, "real: snap values to low + k * step (0: no snapping).", lo=0)
    values: list = spec(None, "choice: the allowed values (at least two).")
    settings: dict = spec(None, "switch of a policy the base scenario lacks: its parameters "
                          "when switched on (e.g. start_day), else its defaults.")
    description: str = spec("", "Free text.")


@dataclass(frozen=True)
class ObjectiveKeys:
    """One objective: ``[objectives.surplus_yuan]``."""

    sense: str = spec("", "Maximise or minimise.", choices=SENSES)
    stat: str = spec("mean", "Aggregation over seeds.", choices=STATS)
    percentile: float = spec(10.0, "stat = percentile: which one (0..100).", lo=0, hi=100)
    description: str = spec("", "Free text.")


@dataclass(frozen=True)
class ConstraintKeys:
    """The ``[constraints]`` table."""

    budget_per_year: float = spec(None, "Public money a mix may spend per year (yuan; "
                                  "public_spend_per_year).", lo=0, lo_open=True, hi=1e13)
    budget_stat: str = spec("mean", "Aggregation of the cost over seeds.", choices=STATS)
    budget_percentile: float = spec(90.0, "budget_stat = percentile: which one.", lo=0, hi=100)
    bounds: list = spec(None, "Metric bounds: [[constraints.bounds]] tables.")


@dataclass(frozen=True)
class BoundKeys:
    """One metric bound: ``[[constraints.bounds]]``."""

    metric: str = spec("", "A metric of the run summary.")
    stat: str = spec("mean", "Aggregation over seeds.", choices=STATS)
    percentile: float = spec(10.0, "stat = percentile: which one.", lo=0, hi=100)
    min: object = spec(None, "Lower limit: a number, or \"baseline\" (the base scenario's "
                       "value on the same seeds).")
    max: object = spec(None, "Upper limit: a number, or \"baseline\".")
