"""Policy levers as pluggable objects (see ``base.Policy`` for the lifecycle).

Importing this package registers every policy kind in ``POLICY_KINDS``.
"""

from .base import POLICY_KINDS, Policy, make_policy, validate_policy_spec
from .chain_penetration import ChainPenetration
from .elderly_canteen import ElderlyCanteen
from .fill_gaps import FillGaps
from .home_care import HomeCare
from .idle_space import IdleSpace
from .instant_retail import InstantRetail
from .mobile_vendors import Bus, MobileVendors
from .multi_function_stores import MultiFunctionStores
from .neighborhood_center import NeighborhoodCenter
from .rent_subsidy import RentSubsidy
from .smart_platform import SmartPlatform

__all__ = ["POLICY_KINDS", "Policy", "make_policy", "validate_policy_spec", "Bus", "ChainPenetration",
           "ElderlyCanteen", "FillGaps", "HomeCare", "IdleSpace", "InstantRetail", "MobileVendors",
           "MultiFunctionStores",
           "NeighborhoodCenter", "RentSubsidy", "SmartPlatform"]
