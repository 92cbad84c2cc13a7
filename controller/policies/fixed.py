"""Fixed time: stages on windows of a cycle tied to local midnight (cycle.py)."""

from __future__ import annotations

from ..config.model import Intersection, Plan
from ..core import events as E
from ..core.policy import Policy, StageView
from ..core.signal_group import ds
from .base import StagePolicy
from .cycle import CycleClock


class FixedTime(StagePolicy):
    """Stages follow windows on a cycle tied to local midnight, shifted by the offset.

    The main stage's green starts at cycle time 0; slack in the cycle goes to it. When
    civil time moves (`resync`), the windows move at most a fifth of a cycle per cycle,
    at the end of the main stage's window.
    """

    def __init__(self, inter: Intersection, plan: Plan):
        super().__init__(inter, plan)
        self.cycle = ds(plan.cycle_s)
        self.offset = ds(plan.offset_s)
        self.clock = CycleClock(self.cycle, self.offset)
        self._main_seen: int | None = None
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
        return self.clock.time(t)

    def take_over(self, old: Policy, view: StageView) -> None:
        super().take_over(old, view)
        self.clock.ref = self.ref            # a new fixed-time plan starts on its windows

    def resync(self, ref: int, view: StageView, smooth: bool = True) -> None:
        super().resync(ref, view, smooth)
        self.clock.resync(ref, smooth)

    def _main_ends(self, view: StageView) -> bool:
        """Once per main-stage green, when its window is over: absorb a part of a
        civil-time shift there (a step back lengthens this green, a step forward
        shortens the next one); True if the window goes on."""
        if view.stage != self.plan.main_stage or self._main_seen == view.stage_start \
                or not self.clock.shift:
            return False
        self._main_seen = view.stage_start
        self.clock.absorb()
        lo, hi = self.windows[view.stage]
        return lo <= self.cycle_time(view.t) < hi

    def called(self, stage: str, view: StageView) -> bool:
        return True

    def decide(self, view: StageView) -> tuple[str, int] | None:
        if view.t - view.stage_start < self.min_green.get(view.stage, 0):
            return None
        lo, hi = self.windows.get(view.stage, (0, 0))
        if lo <= self.cycle_time(view.t) < hi or self._main_ends(view):
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
