"""Transit signal priority of one intersection (`Intersection.priorities`; shared/DOMAIN.md).

A bus checks in (its `priority` detector's rising edge, or `Inputs.priority_calls` gaining
its id; event 112) and out (the check-out detector's rising edge, or the id leaving
`priority_calls`; 115). While it is checked in, the favoured stage is called, and the
policy's decisions are adjusted within bounds, never past them:

- early green (113): a running stage that is not the favoured one ends once its minimum
  green has run and it is within `max_early_s` of its maximum (117 for each green cut);
  the next stage is the next one in the plan's order that is called or favoured, so no
  called stage is skipped;
- green extension (114): when the policy ends the favoured stage, the end is put off for
  at most `max_extend_s`, or until the check-out.

A service (118 … 119) ends at the check-out, when its extension runs out or its stage
ends; at most `per_cycle` services per cycle (from one start of the plan's main stage to
the next). A check-in never checked out within `max_presence_s` is a fault (84 on the
check-in detector): the request is dropped. Preemption cancels a running service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..config.model import Priority
from . import events as E
from .signal_group import INF, ds

if TYPE_CHECKING:
    from .inputs import Inputs

# The IntersectionCore that owns this (intersection.py imports this module, not the reverse).
Core = Any


class TransitPriority:
    def __init__(self, core: Core):
        self.core = core
        self.items = core.inter.priorities
        dets = core.detectors
        self.number = {d: dets[d].number for q in self.items
                       for d in (q.checkin, q.checkout) if d is not None and d in dets}
        self.checked_in: dict[str, int] = {}      # priority id -> check-in time
        self.used: dict[str, int] = {}            # services this cycle
        self.serving: Priority | None = None
        self.reached = False                      # the favoured stage ran in this service
        self.hold_since: int | None = None        # the policy first ended the favoured stage
        self._on: set[str] = set()                # check-in/out detectors on at the last step
        self._ext: frozenset[str] | set[str] = frozenset()
        self._cycle = -1                          # the main stage's start of this cycle

    # -- check-in, check-out ----------------------------------------------------------
    def inputs(self, t: int, inputs: Inputs, out: list) -> None:
        core = self.core
        on = {d for d in self.number if d in core.present and d not in core.faulty}
        rising, self._on = on - self._on, on
        ext, was = inputs.priority_calls, self._ext
        self._ext = ext
        for q in self.items:
            if q.checkin in rising or (q.id in ext and q.id not in was):
                if q.id not in self.checked_in:
                    self.checked_in[q.id] = t
                    out.append((E.TSP_CHECK_IN, q.number))
                    for gid in core.stage_groups[q.stage]:
                        if not core.groups[gid].ped:
                            core._call(gid, False, out)
            elif q.id in self.checked_in and (q.checkout in rising or (
                    q.id in was and q.id not in ext)):
                self._check_out(q, t, out)
            elif q.id in self.checked_in and t - self.checked_in[q.id] >= ds(q.max_presence_s):
                out.append((E.DETECTOR_FAULT, self.number[q.checkin]))   # no check-out came
                self._check_out(q, t, out)
        if core.stage == core.plan.main_stage and not core.in_transition \
                and core.stage_start != self._cycle:
            self._cycle = core.stage_start
            self.used.clear()

    def _check_out(self, q: Priority, t: int, out: list) -> None:
        del self.checked_in[q.id]
        out.append((E.TSP_CHECK_OUT, q.number))
        if self.serving is q:
            self._end(t, out)

    def _end(self, t: int, out: list) -> None:
        q = self.serving
        if q is not None:
            out.append((E.TSP_SERVICE_END, q.number))
            self.used[q.id] = self.used.get(q.id, 0) + 1
            self.checked_in.pop(q.id, None)     # served: a new request needs a new check-in
        self.serving, self.reached, self.hold_since = None, False, None

    def cancel(self, t: int, out: list) -> None:
        """Preemption takes the intersection: a running service ends."""
        if self.serving is not None:
            self._end(t, out)

    def _candidate(self) -> Priority | None:
        if self.serving is not None:
            return self.serving
        plan = self.core.plan
        waiting = [q for q in self.items if q.id in self.checked_in and q.stage in plan.stages
                   and self.used.get(q.id, 0) < q.per_cycle]
        return min(waiting, key=lambda q: (self.checked_in[q.id], q.number), default=None)

    # -- adjusting the policy's decision ---------------------------------------------
    def adjust(self, decision: tuple[str, int] | None, out: list) -> tuple[str, int] | None:
        core = self.core
        t = core.t
        if self.serving is not None and self.reached and core.stage != self.serving.stage:
            self._end(t, out)                   # the favoured stage has ended
        q = self._candidate()
        if q is None:
            return decision
        if core.stage == q.stage:
            self.reached = True
            if decision is None:
                return None
            if self.hold_since is None:
                self.hold_since = t
                self._start(q, out)
                out.append((E.TSP_EXTEND_GREEN, q.number))
            if t - self.hold_since < ds(q.max_extend_s):
                return None
            self._end(t, out)                   # the extension has run out
            return decision
        if decision is not None:
            return decision
        cut = self._early_at(q)
        if cut is None or t < cut:
            return None
        nxt = self._next(q)
        self._start(q, out)
        out.append((E.TSP_EARLY_GREEN, q.number))
        return nxt, E.TSP_EARLY_FORCE_OFF

    def _start(self, q: Priority, out: list) -> None:
        if self.serving is None:
            self.serving = q
            out.append((E.TSP_SERVICE_START, q.number))

    def _early_at(self, q: Priority) -> int | None:
        """When the running stage may end early for `q` (None: it may not)."""
        core = self.core
        sp = core.plan.stages.get(core.stage)
        if sp is None or q.max_early_s <= 0:
            return None
        longest = sp.green_s if sp.green_s is not None else sp.max_green_s
        keep = max(ds(sp.min_green_s), ds(longest) - ds(q.max_early_s))
        return core.stage_start + keep

    def _next(self, q: Priority) -> str:
        """The next stage in the plan's order that is called or favoured (none skipped)."""
        core = self.core
        order = core.policy.order
        i = order.index(core.stage) if core.stage in order else -1
        for k in range(1, len(order) + 1):
            s = order[(i + k) % len(order)]
            if s == q.stage or core.policy.called(s, core):
                return s
        return q.stage

    def deadline(self) -> int:
        """The next tenth at which an adjustment or a check-in's max presence runs out."""
        core = self.core
        nxt = INF
        for q in self.items:
            since = self.checked_in.get(q.id)
            if since is not None:
                nxt = min(nxt, since + ds(q.max_presence_s))
        q = self._candidate()
        if q is not None and core.stage != q.stage:
            cut = self._early_at(q)
            if cut is not None:
                nxt = min(nxt, cut)
        if self.hold_since is not None and self.serving is not None:
            nxt = min(nxt, self.hold_since + ds(self.serving.max_extend_s))
        return max(nxt, core.t + 1)

    @property
    def state(self) -> dict:
        return {"checked_in": sorted(self.checked_in),
                "serving": self.serving.id if self.serving else None}
