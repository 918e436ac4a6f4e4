"""lifecircle: an agent-based model of 15-minute convenient living circles on Mesa."""

from .categories import category_names
from .errors import LifecircleError, ScenarioError
from .model import CommerceModel, simulate
from .outcomes import HEADLINE_METRICS, cumulative_metrics, metric_names
from .policies import POLICY_KINDS
from .scenario import Scenario, load_scenario

METRIC_NAMES: tuple[str, ...] = tuple(metric_names(category_names(), sorted(POLICY_KINDS)))
"""Every daily metric the model reports (the category table is the same in every scenario)."""

CUMULATIVE_METRICS: tuple[str, ...] = cumulative_metrics(sorted(POLICY_KINDS))
"""Daily metrics that are money to date (public_spend and spend_<kind>)."""

__all__ = ["CUMULATIVE_METRICS", "HEADLINE_METRICS", "METRIC_NAMES", "CommerceModel",
           "LifecircleError", "Scenario", "ScenarioError", "load_scenario", "metric_names",
           "simulate"]
