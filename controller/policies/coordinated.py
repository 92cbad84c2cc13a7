"""Coordinated-actuated control: a common cycle, an offset, splits, actuated inside them.

A plan in mode "coordinated" ties its main (coordinated) stage to a cycle that every
intersection of the group shares: the main stage's green starts at cycle time 0 after
`offset_s` (local midnight reference, as fixed time), so that with offsets from the
travel times between the intersections a platoon released at one arrives on green at
the next (a green wave). The other stages have windows at the end of the cycle, as long
as their `max_green_s` (their splits); they are served only when called (protected turns
only on queue evidence, as in adaptive plans), end when their traffic has gone (gap-out)
or at their window's end (force-off), and the time they leave goes to the main stage.
The main stage holds its green to its yield point whatever the detectors say.

Changing plans is smooth: the new plan takes over the running cycle and moves to its
own offset by lengthening or shortening each cycle by at most a fifth (the core logs the
pattern, cycle and offset changes, events 131-133). A move of civil time (a daylight-
saving change, a step of the cabinet's clock) is absorbed the same way (cycle.py).
"""

from __future__ import annotations

from ..config.model import Intersection, Plan
from ..core import events as E
from ..core.policy import Policy, StageView
from ..core.signal_group import ds
from .adaptive import Adaptive
from .cycle import CycleClock

STEP = 10


class Coordinated(Adaptive):
    max_reason = E.FORCE_OFF        # a side stage's green ends at its window's end
    # fixed windows cannot follow demand: oversaturated after two failing cycles, not
    # three; back to the windows after five clear ones (its cycles are short)
    enter_cycles, leave_cycles = 2, 5
    # arrivals come in platoons from the neighbours: saturated flow is 3 vehicles over the
    # stop bar within 8 s (0.4 veh/s), not 2 within 6 s (measured on the shared corridor)
    sat_window, sat_count = 80, 3

    def __init__(self, inter: Intersection, plan: Plan):
        super().__init__(inter, plan)
        self.cycle = ds(plan.cycle_s)
        self.offset = ds(plan.offset_s)
        self.clock = CycleClock(self.cycle, self.offset)
        order = self.order
        m = order.index(plan.main_stage)
        self.cycle_order = order[m:] + order[:m]
        # windows of the other stages, packed at the end of the cycle: (start, end) cycle time
        self.window: dict[str, tuple[int, int]] = {}
        end = self.cycle
        for i in range(len(self.cycle_order) - 1, 0, -1):
            s = self.cycle_order[i]
            nxt = self.cycle_order[(i + 1) % len(self.cycle_order)]
            end -= ds(inter.interstage_s(s, nxt))
            start = end - self.max_green[s]
            self.window[s] = (start, end)
            end = start
        first = self.cycle_order[1] if len(self.cycle_order) > 1 else plan.main_stage
        self.yield_point = end - ds(inter.interstage_s(plan.main_stage, first)) \
            if len(self.cycle_order) > 1 else self.cycle
        self.main_until: int | None = None
        self._main_seen: int | None = None

    # -- the cycle ------------------------------------------------------------------------
    def cycle_time(self, t: int) -> int:
        return self.clock.time(t)

    def take_over(self, old: Policy, view: StageView) -> None:
        """Continue the running cycle of the plan before (or where this one stands)."""
        super().take_over(old, view)
        self.clock.ref = self.ref
        if isinstance(old, Coordinated):
            # keep the old cycle's position, scaled to this cycle
            self.clock.stand_at(old.cycle_time(view.t) * self.cycle // old.cycle, view.t)

    def resync(self, ref: int, view: StageView, smooth: bool = True) -> None:
        super().resync(ref, view, smooth)
        self.clock.resync(ref, smooth)

    def _room(self, stage: str, frm: str, t: int) -> int:
        """Tenths of green `stage` would get if `frm` ended now; -1 before its window may
        begin (the main stage keeps the time of stages nobody called) or after it ends."""
        lo, hi = self.window[stage]
        ct = self.cycle_time(t)
        begin = ct + ds(self.inter.interstage_s(frm, stage))
        if not (self.yield_point <= ct < hi) or (frm == self.plan.main_stage and begin < lo):
            return -1
        return hi - begin

    def _next(self, stage: str, view: StageView) -> str | None:
        """The next stage in cycle order after `stage` that is called and still fits."""
        i = self.cycle_order.index(stage) if stage in self.cycle_order else 0
        for s in self.cycle_order[i + 1:]:
            if self.called(s, view) and self._room(s, stage, view.t) >= self.min_green[s]:
                return s
        return None

    # -- the decision (gap-out and force-off: Actuated, with Adaptive's loops) -----------
    def end_of_green(self, stage: str, view: StageView) -> tuple[str, int] | None:
        if stage != self.plan.main_stage or self.overloaded:   # oversaturated: acyclic
            return super().end_of_green(stage, view)
        # the main stage holds its green to the yield point whatever the loops say
        if self._main_seen != view.stage_start:
            self._main_seen = view.stage_start
            # a shift is absorbed in the main stage's green, before its yield point: the
            # side stages keep their windows (a step forward never costs them a cycle)
            ct = self.cycle_time(view.stage_start)
            room = (self.yield_point - ct) % self.cycle - self.min_green[stage]
            self.clock.absorb(max_forward=max(room, 0))
            ct = self.cycle_time(view.stage_start)
            self.main_until = view.stage_start + (self.yield_point - ct) % self.cycle
        if view.t < self.main_until:
            return None
        nxt = self._next(stage, view)
        if nxt is None:
            return None
        self.green_end(stage, True)          # the yield point is the main stage's maximum
        return nxt, E.FORCE_OFF

    def maxed_out(self, stage: str, view: StageView) -> bool:
        """Forced off: the cycle is outside the stage's window."""
        if self.overloaded:
            return super().maxed_out(stage, view)
        return not (self.yield_point <= self.cycle_time(view.t) < self.window[stage][1])

    def extended(self, stage: str, view: StageView) -> bool:
        if self.overloaded:
            return super().extended(stage, view)
        return self.extending(stage, view)      # the window, not a recall, bounds it

    def successor(self, stage: str, view: StageView) -> str | None:
        if self.overloaded:
            return super().successor(stage, view)
        return self._next(stage, view) or self.plan.main_stage

    def ended(self, stage: str, maxed: bool, view: StageView) -> None:
        """The window is the maximum: no dynamic maximum to adjust (oversaturated: the
        queue-balanced maxima of `Adaptive`)."""
        if self.overloaded:
            super().ended(stage, maxed, view)
        else:
            self.green_end(stage, maxed)

    def deadline(self, view: StageView) -> int:
        if self.overloaded:
            return super().deadline(view)
        first = self.min_green_deadline(view)
        if first is not None:
            return first
        stage = view.stage
        if stage == self.plan.main_stage and self.main_until is not None \
                and self._main_seen == view.stage_start and view.t < self.main_until:
            return self.main_until
        min_end = view.stage_start + self.min_green[stage]
        return view.t + STEP - (view.t - min_end) % STEP
