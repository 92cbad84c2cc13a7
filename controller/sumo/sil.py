"""Software-in-the-loop: the unchanged timing core drives SUMO's traffic lights.

Every SUMO step (1 s in the benchmark) the bridge reads SUMO's induction loops (and
lane-area detectors) as the core's detectors (presence, and the vehicles counted, as a
node's loop card and count registers report them; a detector SUMO restricts to vehicle
types with `vTypes`, such as a preempt receiver that sees only emergency vehicles or a bus
check-in loop, is just another input), steps each intersection's core at that time,
turns the core's group aspects into SUMO's signal state (`setRedYellowGreenState`) and
feeds the lamps to the independent monitor, exactly as `simulate.py` does with its own traffic model.

The core is stepped at SUMO's steps only, so everything it times is a whole number of
steps (never shorter than configured); the monitor judges what SUMO shows.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

from monitor import SignalMonitor, Violation
from protocols import aspects as A

from ..config.model import GroupConfig, Intersection
from ..config.monitor_table import monitor_table
from ..core import Inputs
from ..core.events import Event
from ..engine import GroupCore
from . import SumoError
from .network import Network

# SUMO signal characters per aspect (vehicle heads); 'G'/'g' decided per link
SUMO_CHAR = {A.DARK: "O", A.RED: "r", A.RED_AMBER: "u", A.AMBER: "y", A.FLASH_AMBER: "o",
             A.FLASH_RED: "s"}
GREENS = (A.GREEN, A.FLASH_GREEN)
FLASHING = (A.FLASH_GREEN, A.FLASH_AMBER, A.FLASH_RED)


class SilError(SumoError):
    """The configuration does not fit the SUMO network; the message says why."""


def sumo_binary() -> str:
    """The `sumo` of the eclipse-sumo wheel (importing `sumo` also sets SUMO_HOME)."""
    import sumo

    return os.path.join(sumo.SUMO_HOME, "bin", "sumo")


class SignalStates:
    """A SUMO state string from the core's group aspects.

    A permissive link (it gives way to a partner group) shows 'g' while its partner has
    right of way or is still clearing (amber, then its red clearance); otherwise 'G'.
    """

    def __init__(self, inter: Intersection, size: int, yielding: dict[tuple[str, str], list[int]]):
        sm = inter.sumo
        self.size = size
        self.links = sm.links
        self.peds = {g.id for g in inter.groups if g.is_pedestrian}
        self.yielding = yielding
        self.clear = {}          # red clearance after each group's amber
        for g in inter.groups:
            outs = [v for (a, _), v in inter.intergreen.items() if a == g.id]
            self.clear[g.id] = max(outs, default=0.0) - g.change_s
        self.red_since: dict[str, float] = {}
        self.char = ["r"] * size

    def state(self, aspects: dict[str, int], now: float) -> str:
        for gid, a in aspects.items():
            if a == A.RED:
                self.red_since.setdefault(gid, now)
            else:
                self.red_since.pop(gid, None)
        char = self.char
        for gid, idx in self.links.items():
            a = aspects[gid]
            c = "G" if a in GREENS else SUMO_CHAR[a]
            if gid in self.peds and a not in GREENS:
                c = "r"             # don't walk, flashing don't walk, dark: do not start
            for i in idx:
                char[i] = c
        for (a, b), idx in self.yielding.items():
            if aspects[a] in GREENS and self._active(b, aspects[b], now):
                for i in idx:
                    char[i] = "g"
        return "".join(char)

    def _active(self, gid: str, aspect: int, now: float) -> bool:
        if aspect != A.RED:
            return True
        return now - self.red_since.get(gid, now) < self.clear[gid]

    def next_change(self, now: float) -> float:
        """When a 'g' may turn 'G' without an aspect change (a partner's clearance ends)."""
        ends = [self.red_since[b] + self.clear[b] for (_, b) in self.yielding
                if b in self.red_since and self.red_since[b] + self.clear[b] > now]
        return min(ends, default=float("inf"))


def yielding_links(inter: Intersection, net: Network | None) -> dict[tuple[str, str], list[int]]:
    """Per permissive pair (yielding group, partner): the yielding group's links that give
    way to a partner link in SUMO's right-of-way logic (all its links without a network)."""
    sm = inter.sumo
    sig = None
    if net is not None:
        sig = next((s for s in net.signals if s.id == sm.tls), None)
    out = {}
    for a, b in sorted(inter.permissive):
        la, lb = sm.links.get(a, ()), set(sm.links.get(b, ()))
        if sig is None:
            out[(a, b)] = list(la)
        else:
            out[(a, b)] = [i for i in la if any((i, j) in sig.yields for j in lb)]
    return out


@dataclass
class _Bridge:
    inter: Intersection
    tls: str
    loops: list[tuple[str, str, object]]     # (detector id, SUMO detector id, its reader)
    states: SignalStates
    monitor: SignalMonitor
    prev_ids: dict[str, tuple] = field(default_factory=dict)
    presence: frozenset = frozenset()
    counts: dict[str, int] = field(default_factory=dict)
    aspects: dict | None = None
    state: str = ""
    flashing: bool = False
    g_due: float = float("inf")


@dataclass
class SilResult:
    config: GroupConfig
    events: list[Event]
    violations: list[Violation]
    steps: int
    sim_end_s: float
    wall_s: float
    arrived: int
    warnings: list[str]


def check_fit(config: GroupConfig, tls_links: dict[str, int], loops: set[str]) -> list[str]:
    """Raise SilError where the configuration cannot drive this network; return warnings."""
    warnings = []
    for inter in config.intersections:
        sm = inter.sumo
        if sm is None:
            raise SilError(f"intersection {inter.id} has no [intersection.sumo] table naming "
                           "its SUMO traffic light and links (import-sumo writes one)")
        if sm.tls not in tls_links:
            raise SilError(f"intersection {inter.id}: SUMO has no traffic light {sm.tls!r} "
                           f"(it has {', '.join(sorted(tls_links)) or 'none'})")
        n = tls_links[sm.tls]
        used = set()
        for g, idx in sm.links.items():
            for i in idx:
                if i >= n:
                    raise SilError(f"intersection {inter.id}: group {g} names SUMO link {i}, "
                                   f"but traffic light {sm.tls} has links 0-{n - 1}")
                used.add(i)
        missing = sorted(set(range(n)) - used)
        if missing:
            warnings.append(f"intersection {inter.id}: SUMO links {missing} of {sm.tls} belong "
                            "to no signal group and stay red")
        for d in inter.detectors:
            loop = sm.loops.get(d.id, d.id)
            if loop not in loops and d.kind not in ("parking_bay", "ped_button"):
                warnings.append(f"intersection {inter.id}: detector {d.id} has no SUMO loop "
                                f"{loop!r}; it never reports")
    return warnings


def run(config: GroupConfig, sumo_args: list[str], *, net: Network | None = None,
        start_s: float = 7 * 3600.0, end_s: float = 7200.0, last_depart: float = 0.0,
        keep_events: bool = True, epoch: float | None = None, on_step=None) -> SilResult:
    """Run SUMO (`sumo_args` without the binary) with the core driving every light.

    The core's time is `start_s` + SUMO time, seconds since `epoch` (the Unix seconds of
    the local midnight the run's day began: config.civil.run_clock; None: a Monday).
    Stops at `end_s` (SUMO time) or once the network is empty after `last_depart`.
    `on_step(t, libsumo, group_core)`, if given, is called after every step (diagnostics).
    """
    import libsumo as ls

    t_wall = time.perf_counter()
    try:
        ls.start([sumo_binary(), *sumo_args])
    except Exception as e:          # SUMO refuses its inputs: say why, no traceback
        raise SilError(f"SUMO did not start: {str(e).strip() or type(e).__name__}") from None
    try:
        tls_links = {t: len(ls.trafficlight.getControlledLinks(t))
                     for t in ls.trafficlight.getIDList()}
        readers = _readers(ls)
        warnings = check_fit(config, tls_links, set(readers))
        t = ls.simulation.getTime()
        group = GroupCore(config, start=start_s + t, epoch=epoch)
        bridges = _bridges(config, net, tls_links, readers)
        events: list[Event] | None = [] if keep_events else None
        set_state = ls.trafficlight.setRedYellowGreenState
        steps = 0
        arrived = 0
        min_expected = ls.simulation.getMinExpectedNumber
        cores = group.cores
        while True:
            now = start_s + t
            plan = group.plan_for(now)
            for b in bridges:
                changed = _read_loops(b) if steps else False
                _drive(b, cores[b.inter.id], now, plan, changed, events, set_state)
            if on_step is not None:
                on_step(t, ls, group)
            if t >= end_s or (t >= last_depart and steps and min_expected() == 0):
                break
            ls.simulationStep()
            steps += 1
            arrived += ls.simulation.getArrivedNumber()
            t = ls.simulation.getTime()
        for b in bridges:       # (a flashing head was last sampled half a step later)
            b.monitor.finish(start_s + t + (0.5 if b.flashing else 0.0))
        violations = [v for b in bridges for v in b.monitor.violations]
    except (ls.TraCIException, ls.FatalTraCIError) as e:
        raise SilError(f"SUMO stopped: {str(e).strip() or type(e).__name__}") from None
    finally:
        ls.close()
    return SilResult(config, events or [], violations, steps, t, time.perf_counter() - t_wall,
                     arrived, warnings)


def _readers(ls) -> dict:
    """SUMO detector id -> what reads the vehicles on it in the last step: induction loops
    (E1) and lane-area detectors (E2, e.g. a preempt receiver's range). Either may be
    restricted to vehicle types in SUMO (`vTypes`): a detector that sees only emergency
    vehicles or buses feeds the core like the node input it stands for."""
    out = {d: ls.lanearea.getLastStepVehicleIDs for d in ls.lanearea.getIDList()}
    out.update({d: ls.inductionloop.getLastStepVehicleIDs for d in ls.inductionloop.getIDList()})
    return out


def _bridges(config: GroupConfig, net: Network | None, tls_links: dict[str, int],
             readers: dict) -> list[_Bridge]:
    """One bridge per intersection: its SUMO light, the detectors SUMO has, its monitor."""
    bridges = []
    for inter in config.intersections:
        sm = inter.sumo
        loops = [(d.id, sm.loops.get(d.id, d.id), readers[sm.loops.get(d.id, d.id)])
                 for d in inter.detectors if sm.loops.get(d.id, d.id) in readers]
        states = SignalStates(inter, tls_links[sm.tls], yielding_links(inter, net))
        bridges.append(_Bridge(inter, sm.tls, loops, states,
                               SignalMonitor(monitor_table(inter))))
    return bridges


def _read_loops(b: _Bridge) -> bool:
    """Presence and new vehicles on the bridge's detectors in the last step; True if the
    presence changed."""
    on = []
    prev = b.prev_ids
    counts = b.counts
    for did, loop, get_ids in b.loops:
        ids = get_ids(loop)
        if ids:
            on.append(did)
            old = prev.get(did)
            n = len(ids) if not old else sum(1 for v in ids if v not in old)
            if n:
                counts[did] = counts.get(did, 0) + n
            prev[did] = ids
        elif did in prev:
            del prev[did]
    if len(on) != len(b.presence) or not b.presence.issuperset(on):
        b.presence = frozenset(on)
        return True
    return False


def _drive(b: _Bridge, core, now: float, plan, changed: bool, events: list[Event] | None,
           set_state) -> None:
    """Step the core when its inputs changed or a deadline is due, show its aspects in
    SUMO and feed the monitor (a flashing head at both halves of the step)."""
    lamps = A.lamps
    asp = b.aspects
    if changed or asp is None or now >= core.next_deadline():
        out = core.step(now, Inputs(b.presence, counts=b.counts or None), plan)
        b.counts = {}
        if events is not None and out.events:
            events.extend(out.events)
        asp = out.aspects
    fed = False
    if asp is not b.aspects or now >= b.g_due:
        new = asp is not b.aspects
        b.aspects = asp
        st = b.states.state(asp, now)
        b.g_due = b.states.next_change(now)
        if st != b.state:
            set_state(b.tls, st)
            b.state = st
        if new:
            b.flashing = any(a in FLASHING for a in asp.values())
            b.monitor.feed(now, {g: lamps(a, int(now * 1000)) for g, a in asp.items()})
            fed = True
    if b.flashing:       # the flasher: both halves of the step
        if not fed:
            b.monitor.feed(now, {g: lamps(a, int(now * 1000)) for g, a in asp.items()})
        half = now + 0.5
        b.monitor.feed(half, {g: lamps(a, int(half * 1000)) for g, a in b.aspects.items()})


def warn(messages: list[str]) -> None:
    for m in messages:
        print(f"warning: {m}", file=sys.stderr)
