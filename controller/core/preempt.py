"""Emergency and railroad preemption of one intersection (NTCIP 1202 preempt table, MUTCD 8C;
the configuration is `Intersection.preempts`, controller/config/preempts.py).

A call comes from the preempt's detector (presence, not failed) or from outside
(`Inputs.preempt_calls`). Once it has lasted `delay_s`, entry begins (event 105): every
green the route does not keep ends through its full change interval and intergreens (the
signal groups never shorten those), its minimum green cut at most to the preempt's floor
(116 for each green it ends). A rail preempt first shows its track clearance groups for
`track_clearance.green_s` (106; the route groups already green that are compatible with
them stay green, everything else is at rest), then the dwell shows the route (107) for at least
`min_dwell_s` and while the call lasts; then the exit (111) goes to the exit stage and the
plan's policy takes over again. Several calls: priority order (1 highest), then first
come, first served; a higher priority call takes over a running preempt at once. A call
on for `max_presence_s` is a fault (110): it is dropped until its input goes off.

Only requests are made here: the signal groups (signal_group.py) keep every safety time
and the core's audit checks them, as in any stage change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from protocols import aspects as A

from ..config.model import Preempt
from . import events as E
from .signal_group import INF, NEVER, ds

if TYPE_CHECKING:
    from .inputs import Inputs

# The IntersectionCore that owns this (intersection.py imports this module, not the reverse).
Core = Any

IDLE, ENTRY, TRACK, DWELL, EXIT = "idle", "entry", "track", "dwell", "exit"
RUN = "run"          # the core's mode in which preemption is served (intersection.RUN)


def dwell_stage(p: Preempt) -> str:
    return f"preempt:{p.id}:dwell"


def track_stage(p: Preempt) -> str:
    return f"preempt:{p.id}:track"


class Preemption:
    def __init__(self, core: Core):
        self.core = core
        self.preempts = core.inter.preempts           # by priority
        for p in self.preempts:
            core.stage_groups[dwell_stage(p)] = p.route
            if p.track is not None:
                core.stage_groups[track_stage(p)] = p.track.groups
        self.on_since: dict[str, int] = {}            # calls on, since when
        self.dropped: set[str] = set()                # over max presence: ignored until off
        self.active: Preempt | None = None
        self.phase = IDLE
        self.target = ""                              # the synthetic stage entered
        self.since = NEVER                            # when the phase began

    # -- calls ------------------------------------------------------------------------
    def _calls(self, t: int, inputs: Inputs, out: list) -> None:
        core = self.core
        for p in self.preempts:
            d = p.detector
            on = p.id in inputs.preempt_calls or (
                d is not None and d in core.present and d not in core.faulty)
            if on and p.id not in self.on_since:
                self.on_since[p.id] = t
                out.append((E.PREEMPT_CALL_ON, p.number))
            elif not on and p.id in self.on_since:
                del self.on_since[p.id]
                self.dropped.discard(p.id)
                out.append((E.PREEMPT_CALL_OFF, p.number))
            elif on and p.id not in self.dropped and \
                    t - self.on_since[p.id] >= ds(p.max_presence_s):
                self.dropped.add(p.id)          # stuck on: a fault, never a held intersection
                out.append((E.PREEMPT_MAX_PRESENCE, p.number))

    def called(self, p: Preempt) -> bool:
        return p.id in self.on_since and p.id not in self.dropped

    def _best(self, t: int) -> Preempt | None:
        ready = [p for p in self.preempts
                 if self.called(p) and t - self.on_since[p.id] >= ds(p.delay_s)]
        return min(ready, key=lambda p: (p.priority, self.on_since[p.id], p.number),
                   default=None)

    # -- stepping (before the groups tick) ----------------------------------------------
    def step(self, t: int, inputs: Inputs, out: list) -> bool:
        """Calls, entry, the phases of a running preempt; True while it has the
        intersection (the policy is not asked)."""
        self._calls(t, inputs, out)
        core = self.core
        if core.mode != RUN:
            if self.phase != IDLE:          # flash ends any preempt; served again after
                self._reset()
            return False
        best = self._best(t)
        a = self.active
        if best is not None and (self.phase in (IDLE, EXIT) or (
                best is not a and a is not None and best.priority < a.priority)):
            self._enter(best, t, out)
        if self.phase != IDLE:
            self._advance(t, out)
        return self.phase != IDLE

    def settle(self, t: int, out: list) -> None:
        """After the groups ticked: the entry or exit that they completed ends now."""
        if self.phase in (ENTRY, EXIT):
            self._advance(t, out)

    def _advance(self, t: int, out: list) -> None:
        core, p = self.core, self.active
        self._tidy(t)
        if self.phase == EXIT:
            if not core.in_transition:
                self.phase = IDLE
            return
        assert p is not None
        if self.phase == ENTRY and not core.in_transition and self._only_target():
            if p.track is not None and self.target == track_stage(p):
                self.phase, self.since = TRACK, t
                out.append((E.PREEMPT_TRACK_CLEARANCE, p.number))
            else:
                self.phase, self.since = DWELL, t
                out.append((E.PREEMPT_DWELL, p.number))
        elif self.phase == TRACK and p.track is not None and \
                t - self.since >= ds(p.track.green_s):
            self._go(dwell_stage(p), t, out, None)
            self.phase = ENTRY
        elif self.phase == DWELL and not self.called(p) and t - self.since >= ds(p.min_dwell_s):
            nxt = self._best(t)
            if nxt is not None and nxt is not p:
                self._enter(nxt, t, out)
            else:
                self._exit(p, t, out)

    def _enter(self, p: Preempt, t: int, out: list) -> None:
        core = self.core
        self.active = p
        out.append((E.PREEMPT_ENTRY, p.number))
        if core.priority is not None:
            core.priority.cancel(t, out)
        for g in core.groups.values():
            base = ds(g.group.min_green_s)
            cut = p.min_walk_s if g.ped else p.min_green_s
            g.min_green = base if cut is None or g.id in p.route else min(base, ds(cut))
        if p.track is not None:
            core.stage_groups[track_stage(p)] = p.track.groups + self._running_route(p)
        target = track_stage(p) if p.track is not None else dwell_stage(p)
        self._go(target, t, out, E.PREEMPT_FORCE_OFF)
        self.phase, self.since = ENTRY, t

    def _running_route(self, p: Preempt) -> tuple[str, ...]:
        """The route groups green (or in red+amber) at a rail entry that neither conflict
        nor pair with a track clearance group: the track clearance keeps them. They never
        cross the tracks (the dwell shows them while the train passes; `check` refuses a
        route that does), so ending them would only make the track clearance wait out their
        minimum green and clearance, and start them again for the dwell."""
        assert p.track is not None
        core, pairs = self.core, self.core.permissive
        tied = set(p.track.groups)
        for gid in p.track.groups:
            tied |= {o.id for o, _, _ in core.groups[gid].conflicts}
            tied |= {o.id for o, _ in pairs.yielders.get(gid, []) + pairs.partners.get(gid, [])}
        return tuple(gid for gid in p.route if gid not in tied
                     and core.groups[gid].aspect in (A.GREEN, A.RED_AMBER))

    def _exit(self, p: Preempt, t: int, out: list) -> None:
        core = self.core
        out.append((E.PREEMPT_EXIT, p.number))
        self._restore()
        stage = p.exit_stage
        if stage is None or stage not in core.plan.stages:
            stage = core.plan.main_stage
        self.active = None
        self._go(stage, t, out, None)
        self.phase, self.since = EXIT, t

    def _go(self, target: str, t: int, out: list, code: int | None) -> None:
        """A transition of the core to `target`, from wherever it is (even mid-way through
        another): groups waiting to start that `target` does not show stop waiting."""
        core = self.core
        keep = set(core.stage_groups[target])
        for g in core.groups.values():
            if g.id in keep:
                continue
            g.want_start = False
            if code is not None and g.showing_green:
                out.append((code, g.number))
        core._held[:] = [g for g in core._held if g.id in keep]
        for gid in keep:                # a green the target keeps is no longer ending
            g = core.groups[gid]
            if g.aspect == A.GREEN:
                g.terminate_at = None
        core._begin_transition(target, t)
        for gid in keep:                # one already in its flashing green ends, and returns
            g = core.groups[gid]
            if g.aspect == A.FLASH_GREEN and core._serves(gid):
                g.request_start()
                core.entering.append(g)
        self.target = target

    def _tidy(self, t: int) -> None:
        """A group that was already in red+amber when the target changed turns green;
        it ends as soon as its (cut) minimum allows."""
        keep = self.core.stage_groups[self.target]
        for g in self.core.groups.values():
            if g.aspect == A.GREEN and g.terminate_at is None and g.id not in keep:
                g.request_end(t)

    def _only_target(self) -> bool:
        """Every group the target does not show is at rest (red, dark): nothing else is
        still clearing when the track clearance or the dwell begins."""
        keep = self.core.stage_groups[self.target]
        return all(g.aspect in (A.RED, A.DARK) for g in self.core.groups.values()
                   if g.id not in keep)

    def _restore(self) -> None:
        for g in self.core.groups.values():
            g.min_green = ds(g.group.min_green_s)

    def _reset(self) -> None:
        self._restore()
        self.active, self.phase, self.target = None, IDLE, ""

    # -- time -------------------------------------------------------------------------
    def deadline(self) -> int:
        """The next tenth at which a call's delay or max presence, the track clearance or
        the minimum dwell runs out, or a group in red+amber turns green (INF: none)."""
        t, p = self.core.t, self.active
        nxt = INF
        for q in self.preempts:
            since = self.on_since.get(q.id)
            if since is None or q.id in self.dropped:
                continue
            for at in (since + ds(q.delay_s), since + ds(q.max_presence_s)):
                if at > t:
                    nxt = min(nxt, at)
        if p is not None:
            if self.phase == TRACK and p.track is not None:
                nxt = min(nxt, self.since + ds(p.track.green_s))
            elif self.phase == DWELL:
                nxt = min(nxt, max(self.since + ds(p.min_dwell_s), t + 1))
        if self.phase in (ENTRY, EXIT) and not self.core.in_transition:
            nxt = t + 1
        if self.phase != IDLE:
            keep = self.core.stage_groups[self.target]
            for g in self.core.groups.values():
                if g.aspect == A.RED_AMBER and g.id not in keep:
                    nxt = min(nxt, g.since + g.red_amber + 1)
        return nxt

    @property
    def state(self) -> dict:
        return {"active": self.active.id if self.active else None, "phase": self.phase,
                "calls": sorted(self.on_since), "timed_out": sorted(self.dropped)}
