"""The timing core wired to the standard control policies: what the simulator, the SUMO
bridge, the cabinet service and the tests run.

The core (controller/core) takes a policy factory and imports no policy; the policies
(controller/policies) build on the core's interface. This module, above both, puts them
together: `IntersectionCore` and `GroupCore` here are the core's, with
`controller.policies.make_policy` unless another factory is given.
"""

from __future__ import annotations

from .config.model import GroupConfig, Intersection
from .core import ALL_RED, FLASH, RUN, STEP_S, TO_FLASH, Inputs, Output, PolicyFactory
from .core import GroupCore as _GroupCore
from .core import IntersectionCore as _IntersectionCore
from .policies import make_policy


class IntersectionCore(_IntersectionCore):
    def __init__(self, inter: Intersection, plan: str | None = None, start: float = 0.0, *,
                 policies: PolicyFactory = make_policy):
        super().__init__(inter, plan, start, policies=policies)


class GroupCore(_GroupCore):
    def __init__(self, config: GroupConfig, start: float = 0.0, epoch: float | None = None,
                 *, policies: PolicyFactory = make_policy):
        super().__init__(config, start, epoch, policies=policies)


__all__ = ["IntersectionCore", "GroupCore", "Inputs", "Output", "STEP_S", "FLASH", "ALL_RED",
           "RUN", "TO_FLASH", "make_policy"]
