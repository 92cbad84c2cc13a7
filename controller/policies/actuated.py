"""Actuated control, and the end of an actuated green that every actuated policy shares.

The end of a green is written once, here, for `Actuated`, `Adaptive` and `Coordinated`:

1. a stage the plan does not run is left at once for the main stage (force-off);
2. the minimum green always runs;
3. then the green ends at max-out (`maxed_out`: the maximum after the first
   conflicting call, NTCIP) or, while nothing extends it (`extended`: a max recall, or
   a detector within its passage time), at gap-out;
4. for the stage `successor` names; with none, the main stage rests in green and any
   other stage goes to rest there.

Subclasses refine the questions (what extends, where the maximum stands, which stage
follows, what a max-out is called), never this sequence.
"""

from __future__ import annotations

from ..config.model import Intersection, Plan
from ..core import events as E
from ..core.policy import StageView
from ..core.signal_group import INF, ds
from .base import StagePolicy


class Actuated(StagePolicy):
    """Fully actuated: calls, extension by passage time, gap-out, max-out, recalls,
    skipping stages nobody asks for, and resting in the main stage."""

    max_reason = E.MAX_OUT          # the event a green that reaches its maximum ends with

    def __init__(self, inter: Intersection, plan: Plan):
        super().__init__(inter, plan)
        self.max_green = {s: ds(p.max_green_s) for s, p in plan.stages.items()}

    def decide(self, view: StageView) -> tuple[str, int] | None:
        stage = view.stage
        if stage not in self.plan.stages:       # a stage the plan does not run: leave it
            return self.plan.main_stage, E.FORCE_OFF
        if view.t - view.stage_start < self.min_green[stage]:
            return None
        return self.end_of_green(stage, view)

    def end_of_green(self, stage: str, view: StageView) -> tuple[str, int] | None:
        """Max-out or gap-out after the minimum green: None while the green holds."""
        maxed = self.maxed_out(stage, view)
        if not maxed and self.extended(stage, view):
            return None
        nxt = self.successor(stage, view)
        if nxt is None:
            return None
        self.ended(stage, maxed, view)
        return nxt, (self.max_reason if maxed else E.GAP_OUT)

    # -- the questions subclasses refine -------------------------------------------------
    def max_out_at(self, stage: str, view: StageView) -> int | None:
        """When the running green maxes out (None while nobody else calls). NTCIP: the
        maximum times from the first conflicting call, or from the start of green if the
        call was there first."""
        since = view.conflicting_call_since()
        if since is None:
            return None
        return max(since, view.stage_start) + self.max_green[stage]

    def maxed_out(self, stage: str, view: StageView) -> bool:
        at = self.max_out_at(stage, view)
        return at is not None and view.t >= at

    def extended(self, stage: str, view: StageView) -> bool:
        """Whether the green holds unless maxed out: a max recall, or the detectors."""
        return self.plan.stages[stage].recall == "max" or self.extending(stage, view)

    def extending(self, stage: str, view: StageView) -> bool:
        """The detectors extend the green: one is occupied or within its passage time."""
        return view.extending(stage)

    def successor(self, stage: str, view: StageView) -> str | None:
        """The stage that follows a gap-out or max-out; None: rest in this one."""
        nxt = self.next_in_order(stage, view)
        if nxt is None and stage != self.plan.main_stage:
            return self.plan.main_stage      # nobody else asks: go and rest in the main stage
        return nxt

    def ended(self, stage: str, maxed: bool, view: StageView) -> None:
        """Told when the green of `stage` ends by max-out (`maxed`) or gap-out."""

    def deadline(self, view: StageView) -> int:
        first = self.min_green_deadline(view)
        if first is not None:
            return first
        stage = view.stage
        nxt = self.max_out_at(stage, view)
        if nxt is None:
            nxt = INF
        if self.plan.stages[stage].recall != "max":
            nxt = min(nxt, view.extension_end(stage))
        return max(nxt, view.t + 1)
