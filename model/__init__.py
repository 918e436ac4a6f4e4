"""lifecircle: an agent-based model of 15-minute convenient living circles on Mesa."""

from .model import CommerceModel, simulate
from .scenario import Scenario, ScenarioError, load_scenario

__all__ = ["CommerceModel", "Scenario", "ScenarioError", "load_scenario", "simulate"]
