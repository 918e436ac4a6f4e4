"""Policy levers as pluggable objects (see ``base.Policy`` for the lifecycle)."""

from .base import POLICY_KINDS, Policy, make_policy, validate_policy_spec

__all__ = ["POLICY_KINDS", "Policy", "make_policy", "validate_policy_spec"]
