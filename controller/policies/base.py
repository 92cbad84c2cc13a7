"""What every stage policy shares: the stage order, calls and the minimum green.

A policy only chooses; the signal groups below it keep every safety time whatever it
chooses. It sees the intersection through the core's read-only view (`StageView`).
"""

from __future__ import annotations

from ..config.model import Intersection, Plan
from ..core.policy import Policy, StageView
from ..core.signal_group import ds


class StagePolicy:
    """The base of every policy here; it implements `controller.core.policy.Policy`."""

    ref = 0         # tenths civil time runs ahead of the core's t (policies/cycle.py)

    def __init__(self, inter: Intersection, plan: Plan):
        self.inter = inter
        self.plan = plan
        self.order = list(plan.stages)
        self.min_green = {s: ds(p.min_green_s) for s, p in plan.stages.items()}

    def next_in_order(self, stage: str, view: StageView) -> str | None:
        """The next stage after `stage` that somebody asks for (skipping the rest)."""
        if stage not in self.order:
            return self.plan.main_stage
        i = self.order.index(stage)
        for k in range(1, len(self.order) + 1):
            s = self.order[(i + k) % len(self.order)]
            if s != stage and self.called(s, view):
                return s
        return None

    def called(self, stage: str, view: StageView) -> bool:
        # NTCIP recalls: min and max place a vehicle call, ped a standing pedestrian call
        return self.plan.stages[stage].recall in ("min", "max", "ped") or view.demand(stage)

    def decide(self, view: StageView) -> tuple[str, int] | None:
        raise NotImplementedError

    def deadline(self, view: StageView) -> int:
        """The next tenth at which `decide` may answer differently with the same inputs."""
        raise NotImplementedError

    def take_over(self, old: Policy, view: StageView) -> None:
        """A plan change: this policy starts afresh on the old one's civil reference (a
        coordinated one also continues the cycle)."""
        self.ref = old.ref

    def resync(self, ref: int, view: StageView, smooth: bool = True) -> None:
        """Civil time moved against the core's time (a DST change, a clock step); a policy
        without a cycle only notes it."""
        self.ref = ref

    def min_green_deadline(self, view: StageView) -> int | None:
        """What every policy's deadline starts with: the next tenth for a stage the plan
        does not run, the end of the minimum green while it lasts; else None."""
        if view.stage not in self.plan.stages:
            return view.t + 1
        end = view.stage_start + self.min_green[view.stage]
        return end if view.t < end else None
