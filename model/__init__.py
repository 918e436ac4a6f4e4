"""lifecircle: an agent-based model of 15-minute convenient living circles on Mesa."""

from .errors import LifecircleError, ScenarioError
from .model import CommerceModel, simulate
from .scenario import Scenario, load_scenario

__all__ = ["CommerceModel", "LifecircleError", "Scenario", "ScenarioError", "load_scenario",
           "simulate"]
