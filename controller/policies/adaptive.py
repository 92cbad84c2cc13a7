"""Adaptive stage control from what the loops measure.

A plan in mode "adaptive" runs its stages in order, skipping those nobody needs, and
decides every second after the minimum green whether the running stage still carries
traffic. Compared with plain actuation (`Actuated`, whose gap-out and max-out it keeps):

- only streams with right of way hold the green: a permissive left turn waiting for a
  gap in the opposing stream does not extend it;
- the standing queue is served exactly: the advance and stop-bar loops count the
  vehicles between them, and the green may end as soon as nobody is left there and no
  vehicle is about to arrive (the advance loops' passage time), instead of waiting for a
  gap at the stop bar (NTCIP detector switching, with counts);
- a protected-turn stage (its turns also run permissively in another stage) is called
  only when the turn's queue shows it cannot be cleared permissively: the queue reaches
  the advance loop, or the loops count more turners waiting than a permissive period
  clears;
- the maximum green follows Webster's split of the cycle for the flows counted over
  the last cycles, between the stage's min and max green.

It only chooses; the signal groups keep every safety time whatever it chooses.
"""

from __future__ import annotations

from ..config.model import COUNTING, PRESENCE, Intersection, Plan
from ..core.policy import StageView
from ..core.signal_group import ds
from .actuated import Actuated
from .overload import Oversaturation

STEP = 10                    # decide every second after the minimum green
TURN_QUEUE = 4               # turners between the loops that call a protected stage
ADVANCE_HOLD = 20            # tenths the advance loop must stay occupied: queue reached it
SAT_THROUGH = 0.5            # saturation flow per lane, veh/s (1800 veh/h)
STARTUP_LOSS = 2.0           # s lost at the start of every green
WINDOW = 9000                # tenths of counts Webster looks back on (15 min)
WEBSTER_SLACK = 1.0          # maximum green = this × Webster's green (between min and max)
CYCLE_MIN, CYCLE_MAX = 40.0, 120.0
DISCHARGE_GAP = 25           # tenths: a stop-bar gap this long ends the queue discharge
ZONE_STALE = 80              # tenths both loops of a group stay quiet: nobody is between them
BONUS_STEP = 20              # tenths a max-out over a standing queue adds to the maximum


class Adaptive(Oversaturation, Actuated):
    def __init__(self, inter: Intersection, plan: Plan):
        super().__init__(inter, plan)
        groups = {s: inter.stage(s).groups for s in self.order}
        # a group waiting for gaps in another vehicle stream does not hold the green
        # (turning traffic giving way to pedestrians does)
        peds = {g.id for g in inter.groups if g.is_pedestrian}
        self.yielding = {s: {g for g in groups[s] if any(
            (g, o) in inter.permissive and o not in peds for o in groups[s])}
            for s in self.order}
        self.priority = {s: [g for g in groups[s] if g not in self.yielding[s]]
                         for s in self.order}
        # a protected-turn stage: each of its groups also runs permissively elsewhere
        self.turn_stage = {s: bool(groups[s]) and all(
            any(g in self.yielding[o] for o in self.order if o != s) for g in groups[s])
            for s in self.order}
        self.stopbar: dict[str, list] = {}
        self.advance: dict[str, list] = {}
        for g in inter.groups:
            ds_ = [d for d in inter.detectors if g.id in d.calls or g.id in d.extends]
            self.stopbar[g.id] = [(d.id, ds(d.passage_s)) for d in ds_ if d.kind == PRESENCE]
            self.advance[g.id] = [(d.id, ds(d.passage_s)) for d in ds_ if d.kind == COUNTING]
        # what holds a stage's green: its priority groups' advance loops always; their
        # stop-bar loops only while the queue discharges (NTCIP detector switching)
        self.hold_advance = {s: [x for g in self.priority[s] for x in self.advance[g]]
                             for s in self.order}
        self.hold_stopbar = {s: [x for g in self.priority[s] for x in self.stopbar[g]]
                             for s in self.order}
        self.discharged_at: int | None = None
        self.zero: dict[str, int] = {}        # count offsets of the zone between the loops
        # Webster on rolling counts: counting loops per group (advance loops, else stop bar)
        self.flow_loops = {g: [d for d, _ in (self.advance[g] or self.stopbar[g])]
                           for g in self.stopbar}
        self.saturation = {g: max(1, len(self.stopbar[g]) or len(self.advance[g])) * SAT_THROUGH
                           for g in self.stopbar}
        self.samples: list[tuple[int, dict[str, int]]] = []
        self.served: dict[str, int] = {s: 0 for s in self.order}
        self.cycles = 0
        self.dyn_max = dict(self.max_green)
        self.bonus = {s: 0 for s in self.order}     # dynamic maximum (tenths)
        self._seen_stage = None
        self.init_overload(plan)

    # -- what the loops say -------------------------------------------------------------
    def extending(self, stage: str, view: StageView) -> bool:
        """Streams with right of way extend: advance loops, stop-bar loops while the
        standing queue discharges; oversaturated: while the queue discharges."""
        if self.overloaded:
            return self.discharging(stage, view)
        t = view.t
        for did, passage in self.hold_advance[stage]:
            if t - view.last_seen(did) < passage:
                return True
        if self.discharged_at is None:
            counted = [g for g in self.priority[stage] if self.advance[g] and self.stopbar[g]]
            if counted:
                # the loops count the vehicles between them: the queue is served when
                # nobody is left there (stale counts are re-zeroed when both loops are quiet)
                if any(self._zone(g, view) > 0 for g in counted):
                    return True
            else:
                stop = self.hold_stopbar[stage]
                if not self.hold_advance[stage] or any(
                        t - view.last_seen(did) < max(passage, DISCHARGE_GAP)
                        for did, passage in stop):
                    return any(t - view.last_seen(did) < passage for did, passage in stop)
            self.discharged_at = t        # the standing queue has gone: advance loops only
        return False

    def _zone(self, group: str, view: StageView) -> int:
        """Vehicles between the advance and the stop-bar loops of a group (≥ 0)."""
        n = self._between_loops(group, view) - self.zero.get(group, 0)
        quiet = min(view.t - view.last_seen(d) for d, _ in self.advance[group] + self.stopbar[group])
        if n < 0 or (n > 0 and quiet >= ZONE_STALE):
            self.zero[group] = self._between_loops(group, view)
            return 0
        return n

    def _between_loops(self, group: str, view: StageView) -> int:
        """Vehicles counted in at the advance loops and not yet out at the stop bar."""
        adv = sum(view.count(d) for d, _ in self.advance[group])
        stop = sum(view.count(d) for d, _ in self.stopbar[group])
        return adv - stop

    def _turn_queue(self, group: str, view: StageView) -> bool:
        t = view.t
        for did, _ in self.advance[group]:
            since = view.present_since(did)
            if since is not None and t - since >= ADVANCE_HOLD:
                return True
        return self._between_loops(group, view) >= TURN_QUEUE

    def called(self, stage: str, view: StageView) -> bool:
        if self.plan.stages[stage].recall in ("min", "max"):
            return True
        if self.turn_stage[stage]:
            return any(self._turn_queue(g, view) for g in self.inter.stage(stage).groups)
        return view.demand(stage)

    # -- Webster on rolling counts ------------------------------------------------------
    def _new_stage(self, view: StageView) -> None:
        """At the start of each stage: count it, and at the main stage re-plan the maxima."""
        stage = view.stage
        self._seen_stage = (stage, view.stage_start)
        self.discharged_at = None
        self.judge_ending(stage, view)
        if stage in self.served:
            self.served[stage] += 1
        if stage != self.plan.main_stage:
            return
        self.close_cycle()
        self.cycles += 1
        now = {g: sum(view.count(d) for d in loops) for g, loops in self.flow_loops.items()}
        self.samples.append((view.t, now))
        while len(self.samples) > 2 and view.t - self.samples[1][0] >= WINDOW:
            self.samples.pop(0)
        t0, old = self.samples[0]
        span = (view.t - t0) / 10
        if span < 120:
            return
        flow = {g: (now[g] - old[g]) / span for g in now}
        self.dyn_max = self.webster(flow)

    def webster(self, flow: dict[str, float]) -> dict[str, int]:
        """Maximum greens (tenths) from Webster's cycle and splits for these flows (veh/s)."""
        used = [s for s in self.order if not self.turn_stage[s]
                or self.served[s] > 0.2 * max(1, self.cycles)]
        y = {s: max((flow[g] / self.saturation[g] for g in self.priority[s]), default=0.0)
             for s in used}
        lost = sum(self.inter.interstage_s(used[i - 1], used[i]) + STARTUP_LOSS
                   for i in range(len(used))) if len(used) > 1 else 0.0
        total = min(sum(y.values()), 0.9)
        cycle = min(max((1.5 * lost + 5.0) / (1.0 - total), CYCLE_MIN), CYCLE_MAX)
        out = dict(self.max_green)
        for s in used:
            share = y[s] / total if total > 0 else 1.0 / len(used)
            green = (cycle - lost) * share
            out[s] = min(self.max_green[s], max(self.min_green[s], ds(WEBSTER_SLACK * green)))
        return out

    # -- the decision (gap-out and max-out: Actuated) ----------------------------------
    def decide(self, view: StageView) -> tuple[str, int] | None:
        self.observe(view)
        if self._seen_stage != (view.stage, view.stage_start):
            self._new_stage(view)
        return super().decide(view)

    def max_out_at(self, stage: str, view: StageView) -> int | None:
        """The maximum counts from the start of green: a cap from Webster's cycle
        (oversaturated: the queue-balanced maximum)."""
        if self.overloaded:
            return self.over_max_out_at(stage, view)
        if view.conflicting_call_since() is None:
            return None
        limit = min(self.max_green[stage], self.dyn_max[stage] + self.bonus[stage])
        return view.stage_start + limit

    def ended(self, stage: str, maxed: bool, view: StageView) -> None:
        """Dynamic maximum: a max-out with the queue still over the advance loops adds to
        the stage's maximum (counts under-measure a queue longer than the loops reach);
        a gap-out takes some back. Oversaturated: the queue-balanced maximum instead."""
        self.green_end(stage, maxed)
        if self.overloaded:
            if not maxed:
                self.gapped_out(stage)
            return
        if maxed and any(view.present_since(d) is not None for d, _ in self.hold_advance[stage]):
            self.bonus[stage] = min(self.bonus[stage] + BONUS_STEP, self.max_green[stage])
        elif not maxed:
            self.bonus[stage] = max(self.bonus[stage] - BONUS_STEP // 2, 0)

    def deadline(self, view: StageView) -> int:
        first = self.min_green_deadline(view)
        if first is not None:
            return first
        min_end = view.stage_start + self.min_green[view.stage]
        return view.t + STEP - (view.t - min_end) % STEP
