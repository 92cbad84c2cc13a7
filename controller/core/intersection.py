"""The timing core of one intersection: deterministic, stepped, reading no clock.

    core = IntersectionCore(intersection, plan_id, policies=make_policy)
    out = core.step(now, Inputs(presence={"D1"}))   # every 0.1 s
    out.aspects   -> {group id: aspect code}
    out.events    -> [Event(t, intersection, code, param), ...]

Modes: start-up FLASH → ALL_RED → RUN (stages); a flash command ends the greens
through their change intervals, then flashes; a fault flashes at once; leaving flash
always goes through all red. Stage changes are signal-group based: each group ends
and starts on its own, so every intergreen is kept exactly and never more than needed.

Which stage runs next is a policy's choice: the core takes a `PolicyFactory` (policy.py)
from its caller, e.g. `controller.policies.make_policy`, and asks it for a policy at
start and at every plan change; it imports no policy itself.
"""

from __future__ import annotations

from protocols import aspects as A

from ..config.model import PARKING_BAY, PED_BUTTON, Intersection
from . import events as E
from .inputs import NO_INPUTS, Inputs, Output
from .permissive import PermissivePairs
from .policy import Policy, PolicyFactory
from .preempt import Preemption
from .priority import TransitPriority
from .signal_group import INF, NEVER, GroupTimer, ds
from .view import PolicyView

FLASH, ALL_RED, RUN, TO_FLASH = "flash", "all-red", "run", "to-flash"

# Non-red aspects: a TS2 monitor counts each as right of way (green, walk, amber,
# red+amber, pedestrian clearance); never on two conflicting groups at once.
RIGHT_OF_WAY = (A.GREEN, A.FLASH_GREEN, A.AMBER, A.RED_AMBER, A.FLASH_RED)


class IntersectionCore(PolicyView):
    def __init__(self, inter: Intersection, plan: str | None = None, start: float = 0.0, *,
                 policies: PolicyFactory):
        self.inter = inter
        self.id = inter.id
        self.groups = {g.id: GroupTimer(g) for g in inter.groups}
        for a, ga in self.groups.items():
            for b, gb in self.groups.items():
                if inter.conflicting(a, b):
                    ga.conflicts.append((gb, ds(inter.intergreen[(b, a)]),
                                         ds(inter.intergreen[(a, b)])))
        self.permissive = PermissivePairs(inter, self.groups)
        self._held: list[GroupTimer] = []       # entering, waiting for the permissive rules
        self._restart: list[GroupTimer] = []    # protected turns that end, then rejoin
        self._transition_t = 0
        self.stage_groups = {s.id: s.groups for s in inter.stages}
        self.detectors = {d.id: d for d in inter.detectors if d.kind != PARKING_BAY}
        self.passage = {d.id: ds(d.passage_s) for d in self.detectors.values()}
        self.extenders = {s.id: [d for d in self.detectors.values()
                                 if set(d.extends) & set(s.groups)] for s in inter.stages}
        self.plan = inter.plans[plan or next(iter(inter.plans))]
        self.make_policy = policies
        self.policy: Policy = policies(inter, self.plan)
        self.flash_aspect = A.FLASH_RED if inter.flash_aspect == "red" else A.FLASH_AMBER
        self.startup_flash = ds(inter.startup_flash_s)
        self.all_red = ds(inter.startup_all_red_s)

        self.t = ds(start)
        self.mode = FLASH
        self.mode_since = self.t
        self.flash_reason = E.FLASH_STARTUP
        self.stage: str = self.plan.main_stage
        self.stage_start = self.t
        self.entering: list[GroupTimer] = []
        self.leaving: list[GroupTimer] = []
        self.in_transition = False
        self._target = self.stage
        self._conflict_call_since: int | None = None
        self.present: set[str] = set()
        self.faulty: set[str] = set()
        self.last_on: dict[str, int] = {d: NEVER for d in self.detectors}
        self.on_since: dict[str, int] = {}       # detectors present now: since when
        self.volume: dict[str, int] = {d: 0 for d in self.detectors}   # vehicles counted
        self._counted: set[str] = set()          # detectors whose counts come as inputs
        self.calls: set[str] = set()         # vehicle calls by group
        self.ped_calls: set[str] = set()     # pedestrian calls by group
        self._pending = [(E.FLASH_STATUS, E.FLASH_STARTUP)]
        self._flags = (False, False)
        self._last_presence: frozenset[str] | set[str] = frozenset()
        self._last_faults: frozenset[str] | set[str] = frozenset()
        self._due = self.t          # earliest group deadline
        self._policy_due = self.t
        self._dirty = True          # requests were made: tick the groups now
        for g in self.groups.values():
            g.to_flash(self.t, self.flash_aspect)
        self._aspects = {gid: g.aspect for gid, g in self.groups.items()}
        # preemption and transit priority (preempt.py, priority.py), when configured
        self.preempt = Preemption(self) if inter.preempts else None
        self.priority = TransitPriority(self) if inter.priorities else None

    # -- stepping ---------------------------------------------------------------------
    def step(self, now: float, inputs: Inputs = NO_INPUTS, plan: str | None = None) -> Output:
        """Advance to `now` (s) with these inputs; returns aspects and events.

        Work is done only where something can change: detector edges, due timers and
        the policy's own deadline. The returned aspects dict is shared until the next
        change: read it, do not modify it.
        """
        t = self.t = ds(now)
        out: list[tuple[int, int]] = self._pending
        self._pending = []
        mode0 = self.mode
        if inputs.counts:
            for did, n in inputs.counts.items():
                if did in self.volume:
                    self.volume[did] += n
                    self._counted.add(did)
        if inputs.presence != self._last_presence or inputs.faults != self._last_faults:
            self._detectors(t, inputs, out)
        if plan is not None and plan != self.plan.id:
            self._change_plan(plan, out)
        preempted = self.preempt is not None and self.preempt.step(t, inputs, out)
        if self.priority is not None:
            self.priority.inputs(t, inputs, out)

        if inputs.fault_flash and self.mode != FLASH:
            self._enter_flash(t, E.FLASH_FAULT, out)
        elif self.mode == FLASH:
            if not (inputs.flash or inputs.fault_flash) and t - self.mode_since >= self.startup_flash:
                self.mode, self.mode_since = ALL_RED, t
                for g in self.groups.values():
                    g.to_red(t)
                out.append((E.FLASH_STATUS, E.FLASH_NOT))
        elif self.mode == ALL_RED:
            if inputs.flash:
                self._enter_flash(t, E.FLASH_MANUAL, out)
            elif t - self.mode_since >= self.all_red and not inputs.hold_all_red:
                self.mode, self.mode_since = RUN, t
                self.stage = ""
                self._begin_transition(self.plan.main_stage, t)
                if self.preempt is not None:    # a call that waited through the start-up
                    preempted = self.preempt.step(t, inputs, out)
        elif self.mode == RUN:
            if inputs.flash:
                self.mode, self.mode_since = TO_FLASH, t
            elif not (preempted or self.in_transition) and (
                    out or self._dirty or t >= self._policy_due):
                self._run(t, out)
        if self.mode == TO_FLASH:
            self._wind_down(t)

        moved = self.mode != mode0
        if self.mode in (RUN, TO_FLASH) and (self._dirty or moved or t >= self._due):
            moved = self._tick_groups(t, out) or moved
            if preempted:                   # a phase that began with this tick's changes
                self.preempt.settle(t, out)
        if moved:
            # held presence and failed detectors call again once the groups have moved
            self._held_calls(out)
            self._aspects = {gid: g.aspect for gid, g in self.groups.items()}
        if out or moved:
            self._update_conflicting_call(t)
            if self.mode == RUN and not self.in_transition:
                self._policy_due = self._next_decision()
        self._flags = (inputs.flash, inputs.fault_flash)
        if not out:
            return Output(self._aspects, [])
        now_s = t / 10
        return Output(self._aspects, [E.Event(now_s, self.id, code, p) for code, p in out])

    def _tick_groups(self, t: int, out: list) -> bool:
        """Start the held groups the permissive rules now let go, tick every group, finish
        the transition or the entry into flash, audit; True if a group changed at `t`."""
        held = self._held
        if held:
            may_start = self.permissive.may_start
            for g in [g for g in held if may_start(g, held) <= t]:
                g.request_start()
                held.remove(g)
        for g in self.groups.values():
            g.tick(t, out)
        if self.mode == TO_FLASH:
            # flash once every group is red and every red clearance has run
            if all(g.aspect == A.RED and g.clear_until is None for g in self.groups.values()):
                self._enter_flash(t, E.FLASH_MANUAL, out)
        elif self.in_transition:
            self._check_transition_done(t)
        if self.mode != FLASH and not self._audit(t):
            self._enter_flash(t, E.FLASH_FAULT, out)
        self._due = min(g.deadline(t) for g in self.groups.values())
        held = self._held
        if held:
            first = min(self.permissive.may_start(g, held) for g in held)
            if first < INF:
                self._due = min(self._due, max(first, t + 1))
        self._dirty = False
        return any(g.since == t for g in self.groups.values())

    def next_deadline(self) -> float:
        """The time (s) before which the outputs cannot change unless the inputs do.

        Stepping the core only at these times and at input changes gives exactly what
        stepping it every 0.1 s gives: the simulator uses this to run days in seconds.
        """
        t, mode = self.t, self.mode
        if mode == FLASH:
            nxt = INF if any(self._flags) else max(self.mode_since + self.startup_flash, t + 1)
        elif mode == ALL_RED:
            nxt = self.mode_since + self.all_red
        else:
            nxt = self._due
            if mode == RUN and not self.in_transition:
                nxt = min(nxt, self._policy_due)
        if self.preempt is not None:
            nxt = min(nxt, self.preempt.deadline())
        if self.priority is not None:
            nxt = min(nxt, self.priority.deadline())
        return max(nxt, t + 1) / 10

    # -- inputs -----------------------------------------------------------------------
    def _detectors(self, t: int, inputs: Inputs, out: list) -> None:
        presence, faults = inputs.presence, inputs.faults
        self._last_presence, self._last_faults = presence, faults
        dets = self.detectors
        for did in (self.present ^ presence) & dets.keys():
            d = dets[did]
            ped = d.kind == PED_BUTTON
            if did in presence:
                self.present.add(did)
                self.on_since[did] = t
                if did not in self._counted:
                    self.volume[did] += 1
                out.append((90 if ped else E.DETECTOR_ON, d.number))
                for gid in d.calls:
                    self._call(gid, ped, out)
            else:
                self.present.discard(did)
                self.on_since.pop(did, None)
                self.last_on[did] = t
                out.append((89 if ped else E.DETECTOR_OFF, d.number))
        for did in (self.faulty ^ faults) & dets.keys():
            d = dets[did]
            if did in faults:
                self.faulty.add(did)
                out.append((E.DETECTOR_FAULT, d.number))
                # a failed detector keeps calling: its movement is never starved
                for gid in d.calls:
                    self._call(gid, d.kind == PED_BUTTON, out)
            else:
                self.faulty.discard(did)
                out.append((E.DETECTOR_RESTORED, d.number))

    def _held_calls(self, out: list) -> None:
        for did in self.present | self.faulty:
            d = self.detectors[did]
            for gid in d.calls:
                self._call(gid, d.kind == PED_BUTTON, out)

    def _update_conflicting_call(self, t: int) -> None:
        if self.mode != RUN or self.in_transition:
            return
        if not any(s != self.stage and self.policy.called(s, self) for s in self.policy.order):
            self._conflict_call_since = None
        elif self._conflict_call_since is None:
            self._conflict_call_since = t

    def _call(self, gid: str, ped: bool, out: list) -> None:
        g = self.groups[gid]
        if g.aspect == A.GREEN and self.mode == RUN:
            return
        calls = self.ped_calls if ped else self.calls
        if gid not in calls:
            calls.add(gid)
            out.append((E.PED_CALL if ped else E.CALL_REGISTERED, g.number))

    def _change_plan(self, plan_id: str, out: list) -> None:
        old, new = self.plan, self.inter.plans[plan_id]
        previous = self.policy
        self.plan, self.policy = new, self.make_policy(self.inter, new)
        self.policy.take_over(previous, self)      # e.g. continue the running cycle
        self._dirty = True
        out.append((E.PATTERN_CHANGE, list(self.inter.plans).index(plan_id) + 1))
        if new.cycle_s != old.cycle_s:
            out.append((E.CYCLE_CHANGE, int(new.cycle_s or 0)))
        if new.offset_s != old.offset_s:
            out.append((E.OFFSET_CHANGE, int(new.offset_s)))

    def resync(self, ref: int) -> None:
        """Civil time runs `ref` tenths ahead of t now: the policy moves its cycle smoothly."""
        self.policy.resync(ref, self, smooth=self.mode in (RUN, TO_FLASH))
        if self.mode == RUN and not self.in_transition:
            self._policy_due = self._next_decision()

    def _next_decision(self) -> int:
        due = self.policy.deadline(self)
        return due if self.priority is None else min(due, self.priority.deadline())

    def reload(self, inter: Intersection, plan: str) -> None:
        """New timing plans only: `plan` takes over as at a scheduled change (events 131-133)."""
        same = inter.plans[plan] == self.plan
        self.inter, self.plan = inter, inter.plans[plan] if same else self.plan
        if not same:
            self._change_plan(plan, self._pending)

    # -- stages -----------------------------------------------------------------------
    def _run(self, t: int, out: list) -> None:
        if self.in_transition:
            return
        decision = self.policy.decide(self)
        if self.priority is not None:
            decision = self.priority.adjust(decision, out)
        if decision is None:
            return
        nxt, reason = decision
        for gid in self.stage_groups.get(self.stage, ()):
            if gid not in self.stage_groups[nxt] and self.groups[gid].showing_green:
                out.append((reason, self.groups[gid].number))
        self._begin_transition(nxt, t)

    def _serves(self, gid: str) -> bool:
        g = self.groups[gid]
        if not g.ped or self.plan.mode == "fixed":
            return True
        sp = self.plan.stages.get(self._target)
        return gid in self.ped_calls or (sp is not None and sp.recall == "ped")

    def _begin_transition(self, target: str, t: int) -> None:
        self._target = target
        tgt = set(self.stage_groups[target])
        leaving = [g for g in self.groups.values() if g.showing_green and g.id not in tgt]
        entering = [self.groups[gid] for gid in self.stage_groups[target]
                    if not self.groups[gid].showing_green and self._serves(gid)]
        est_end = {g.id: max(t, g.earliest_end()) + g.flash_green for g in leaving}
        start_at = {}
        for b in entering:
            at = t
            for c, ig_in, _ in b.conflicts:
                at = max(at, est_end.get(c.id, c.green_end) + ig_in)
            start_at[b.id] = at
        pairs = self.permissive
        restart = pairs.protected_to_permissive(entering, tgt) if pairs.yielders else []
        for a in leaving + restart:
            latest = [start_at[b.id] - ig_out for b, _, ig_out in a.conflicts if b.id in start_at]
            a.request_end(max(t, min(latest) - a.flash_green) if latest else t)
        entering += [a for a in restart if self._serves(a.id)]
        for b in entering:
            if pairs.gated(b.id):
                self._held.append(b)
            else:
                b.request_start()
        self._restart, self._transition_t = restart, t
        self.stage, self.entering, self.leaving = target, entering, leaving
        self.in_transition = True
        self._dirty = True
        self._conflict_call_since = None

    def _check_transition_done(self, t: int) -> None:
        if self._restart and any(g.green_end < self._transition_t for g in self._restart):
            return                      # a protected turn has not ended yet
        if all(g.served for g in self.entering) and not any(
                g.showing_green for g in self.leaving if g not in self._restart):
            self.in_transition = False
            self.stage_start = t
            for g in self.entering:
                self.calls.discard(g.id)
                self.ped_calls.discard(g.id)

    # -- flash ------------------------------------------------------------------------
    def _wind_down(self, t: int) -> None:
        """Controlled entry into flash: every green ends through its change interval."""
        self._dirty = True
        self._held.clear()
        for g in self.groups.values():
            if g.aspect == A.RED:
                g.want_start = False
            elif g.aspect in (A.GREEN, A.RED_AMBER):
                g.request_end(t)

    def _enter_flash(self, t: int, reason: int, out: list) -> None:
        self.mode, self.mode_since, self.flash_reason = FLASH, t, reason
        self.in_transition = False
        self._held.clear()
        for g in self.groups.values():
            g.to_flash(t, self.flash_aspect)
        out.append((E.FLASH_STATUS, reason))

    # -- the core's own safety check (the monitor and the node check again) -----------
    def _audit(self, t: int) -> bool:
        """No two conflicting groups non-red at once (RIGHT_OF_WAY), and no green before
        its intergreens: False sends the intersection to flash at once."""
        for g in self.groups.values():
            if g.aspect not in RIGHT_OF_WAY:
                continue
            for other, ig_in, _ in g.conflicts:
                if other.aspect in RIGHT_OF_WAY:
                    return False
                if g.aspect == A.GREEN and g.since == t and t - other.green_end < ig_in:
                    return False
        return True

    @property
    def aspects(self) -> dict[str, int]:
        return self._aspects

    # -- status -----------------------------------------------------------------------
    @property
    def state(self) -> dict:
        return {"mode": self.mode, "stage": self.stage if self.mode == RUN else None,
                "plan": self.plan.id, "in_transition": self.in_transition,
                "calls": sorted(self.calls | self.ped_calls),
                **({"preempt": self.preempt.state} if self.preempt else {}),
                **({"priority": self.priority.state} if self.priority else {})}

