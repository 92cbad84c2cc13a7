"""Stage policies: when to leave the running stage, and for which one.

A policy only chooses; the signal groups below it keep every safety time whatever it
chooses. It sees the intersection through a small read-only view (`StageView`).
"""

from __future__ import annotations

from typing import Protocol

from ..config.model import ACTUATED, ADAPTIVE, COORDINATED, FIXED, Intersection, Plan
from . import events as E
from .signal_group import ds


class StageView(Protocol):
    t: int
    stage: str
    stage_start: int

    def demand(self, stage: str) -> bool: ...
    def extending(self, stage: str) -> bool: ...
    def extension_end(self, stage: str) -> int: ...
    def conflicting_call_since(self) -> int | None: ...


class Policy:
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

    def min_green_deadline(self, view: StageView) -> int | None:
        """What every policy's deadline starts with: the next tenth for a stage the plan
        does not run, the end of the minimum green while it lasts; else None."""
        if view.stage not in self.plan.stages:
            return view.t + 1
        end = view.stage_start + self.min_green[view.stage]
        return end if view.t < end else None


class FixedTime(Policy):
    """Stages follow windows on a cycle tied to local midnight, shifted by the offset.

    The main stage's green starts at cycle time 0; slack in the cycle goes to it.
    """

    def __init__(self, inter: Intersection, plan: Plan):
        super().__init__(inter, plan)
        self.cycle = ds(plan.cycle_s)
        self.offset = ds(plan.offset_s)
        order = self.order
        m = order.index(plan.main_stage)
        self.order = order = order[m:] + order[:m]
        greens = [ds(plan.stages[s].green_s) for s in order]
        inter_ = [ds(inter.interstage_s(order[i], order[(i + 1) % len(order)]))
                  for i in range(len(order))] if len(order) > 1 else [0]
        greens[0] += self.cycle - sum(greens) - sum(inter_)
        self.windows: dict[str, tuple[int, int]] = {}
        start = 0
        for s, g, i in zip(order, greens, inter_, strict=True):
            self.windows[s] = (start, start + g)
            start += g + i

    def cycle_time(self, t: int) -> int:
        return (t - self.offset) % self.cycle

    def called(self, stage: str, view: StageView) -> bool:
        return True

    def decide(self, view: StageView) -> tuple[str, int] | None:
        if view.t - view.stage_start < self.min_green.get(view.stage, 0):
            return None
        lo, hi = self.windows.get(view.stage, (0, 0))
        if lo <= self.cycle_time(view.t) < hi:
            return None
        nxt = self.next_in_order(view.stage, view)
        return (nxt, E.FORCE_OFF) if nxt else None

    def deadline(self, view: StageView) -> int:
        min_end = view.stage_start + self.min_green.get(view.stage, 0)
        if view.t < min_end:
            return min_end
        lo, hi = self.windows.get(view.stage, (0, 0))
        ct = self.cycle_time(view.t)
        if lo <= ct < hi:
            return view.t + hi - ct
        return view.t + 1


class Actuated(Policy):
    """Fully actuated: calls, extension by passage time, gap-out, max-out, recalls,
    skipping stages nobody asks for, and resting in the main stage."""

    def __init__(self, inter: Intersection, plan: Plan):
        super().__init__(inter, plan)
        self.max_green = {s: ds(p.max_green_s) for s, p in plan.stages.items()}

    def decide(self, view: StageView) -> tuple[str, int] | None:
        stage = view.stage
        if stage not in self.plan.stages:       # a stage the plan does not run: leave it
            return (self.next_in_order(stage, view) or self.plan.main_stage, E.FORCE_OFF)
        if view.t - view.stage_start < self.min_green[stage]:
            return None
        since = view.conflicting_call_since()
        # NTCIP: the maximum times from the first conflicting call (or green start).
        maxed = since is not None and \
            view.t - max(since, view.stage_start) >= self.max_green[stage]
        recall = self.plan.stages[stage].recall
        extending = recall == "max" or view.extending(stage)
        if extending and not maxed:
            return None
        nxt = self.next_in_order(stage, view)
        if nxt is None:
            # nobody else asks: rest here if this is the main stage, else go and rest there
            if stage == self.plan.main_stage:
                return None
            nxt = self.plan.main_stage
        return nxt, (E.MAX_OUT if maxed else E.GAP_OUT)

    def deadline(self, view: StageView) -> int:
        first = self.min_green_deadline(view)
        if first is not None:
            return first
        stage = view.stage
        nxt = 10**12
        since = view.conflicting_call_since()
        if since is not None:
            nxt = max(since, view.stage_start) + self.max_green[stage]
        if self.plan.stages[stage].recall != "max":
            nxt = min(nxt, view.extension_end(stage))
        return max(nxt, view.t + 1)


def make_policy(inter: Intersection, plan: Plan) -> Policy:
    if plan.mode == FIXED:
        return FixedTime(inter, plan)
    if plan.mode == ACTUATED:
        return Actuated(inter, plan)
    if plan.mode == ADAPTIVE:           # smart strategies live with the control layer
        from ..control.adaptive import Adaptive

        return Adaptive(inter, plan)
    if plan.mode == COORDINATED:
        from ..control.coordinated import Coordinated

        return Coordinated(inter, plan)
    raise ValueError(f"unknown plan mode {plan.mode!r}")
