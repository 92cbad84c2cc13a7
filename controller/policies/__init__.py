"""Control policies: every plan mode, and the registry that chooses one for a plan.

    fixed.py        FixedTime     cycle windows from local midnight + offset
    actuated.py     Actuated      calls, passage, gap-out, max-out (NTCIP); the end of an
                                  actuated green, shared by the two below
    adaptive.py     Adaptive      loops: queues, counts, Webster maxima
    coordinated.py  Coordinated   common cycle, offset, windows; adaptive inside them
    base.py         StagePolicy   stage order, calls, minimum green

The timing core (controller/core) takes `make_policy` (or any `PolicyFactory`) from its
caller and never imports this package; these policies build on the core's interface
(`controller.core.policy`).
"""

from __future__ import annotations

from ..config.model import ACTUATED, ADAPTIVE, COORDINATED, FIXED, Intersection, Plan
from ..core.policy import Policy
from .actuated import Actuated
from .adaptive import Adaptive
from .base import StagePolicy
from .coordinated import Coordinated
from .fixed import FixedTime

# plan mode -> policy
POLICIES: dict[str, type[StagePolicy]] = {
    FIXED: FixedTime,
    ACTUATED: Actuated,
    ADAPTIVE: Adaptive,
    COORDINATED: Coordinated,
}


def make_policy(inter: Intersection, plan: Plan) -> Policy:
    """The policy for `plan` (a `controller.core.policy.PolicyFactory`)."""
    try:
        cls = POLICIES[plan.mode]
    except KeyError:
        raise ValueError(f"unknown plan mode {plan.mode!r}") from None
    return cls(inter, plan)


__all__ = ["POLICIES", "make_policy", "StagePolicy", "FixedTime", "Actuated", "Adaptive",
           "Coordinated"]
