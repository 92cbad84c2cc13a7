"""Run an intersection group in simulated time with seeded traffic and the monitor watching.

The run starts at an aware local date-time (`start`, default 07:00 on a Monday in the
group's zone); the core's time counts seconds from that day's local midnight and the
schedule is read on the zone's wall clock (config/civil.py), so a run across a
daylight-saving change switches plans at the right wall-clock times.

The timing core is stepped every 0.1 s; its aspects become lamp states exactly as a
node would light them (flashing included), and those lamps, not the core's intentions,
are what the independent monitor judges.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from monitor import SignalMonitor, Violation
from protocols import aspects as A

from .config import civil
from .config.model import PARKING_BAY, GroupConfig
from .config.monitor_table import monitor_table
from .core import STEP_S, Inputs
from .core.events import Event
from .engine import GroupCore
from .traffic import TrafficGenerator


@dataclass
class Trace:
    """What a timing diagram needs: aspect changes and detector actuations."""
    aspects: dict[str, list[tuple[float, int]]] = field(default_factory=lambda: defaultdict(list))
    detectors: dict[str, list[tuple[float, float]]] = field(
        default_factory=lambda: defaultdict(list))


@dataclass
class SimResult:
    config: GroupConfig
    start_s: float               # the core's time at the start: s since `epoch`
    epoch: float                 # Unix seconds of the local midnight the run's day began
    duration_s: float
    seed: int
    events: list[Event]
    violations: list[Violation]
    green_s: dict[str, dict[str, float]]
    stages_served: dict[str, dict[str, int]]
    actuations: int
    trace: Trace | None

    @property
    def start(self) -> dt.datetime:
        return self.config.zone.local(self.epoch + self.start_s)

    @property
    def start_plan(self) -> str:
        """The plan the schedule runs at the start."""
        return self.config.plan_at(self.epoch + self.start_s)

    def to_json(self) -> dict:
        return {
            "group": self.config.name,
            "start": self.start.isoformat(),
            "timezone": self.config.zone.key,
            "plan_at_start": self.start_plan,
            "duration_s": self.duration_s,
            "seed": self.seed,
            "events": len(self.events),
            "detector_actuations": self.actuations,
            "violations": [v._asdict() for v in self.violations],
            "green_s": self.green_s,
            "stages_served": self.stages_served,
        }


@dataclass(frozen=True)
class Call:
    """A scripted outside call: preempt `id` called (kind "preempt"), or a bus checked in
    for priority `id` (kind "priority"), from `at_s` seconds after the start for `for_s`
    seconds (the bus checks out then), at every intersection that has that id."""
    kind: str
    id: str
    at_s: float
    for_s: float


FLASHING = (A.FLASH_GREEN, A.FLASH_AMBER, A.FLASH_RED)
HALF_FLASH = A.FLASH_ON_MS // 100          # lamps of flashing heads toggle every 5 ticks


def simulate(config: GroupConfig, duration_s: float, seed: int = 1,
             start: dt.datetime | None = None, scale: float = 1.0, trace: bool = False,
             keep_events: bool = True, every_tick: bool = False,
             on_progress: Callable[[float], None] | None = None,
             calls: tuple[Call, ...] = ()) -> SimResult:
    """Run `duration_s` seconds from `start` (aware; naive is read in the group's zone;
    None: 07:00 on civil.DEFAULT_DAY, a Monday).

    Each intersection's core, traffic and lamps are stepped at every tick where anything
    can change (`next_deadline`, traffic events, flashing lamps); `every_tick` steps
    every 0.1 s instead and gives the same result, only slower. Intersections of a group
    share nothing but the clock and the schedule, so each runs on its own, and their
    events are merged in time order. `on_progress(s)` is told, now and then, how many of
    the `duration_s` seconds are done (over all intersections). `calls` script preempt
    calls and bus check-ins.
    """
    zone = config.zone
    if start is None:
        start = zone.at(civil.DEFAULT_DAY, 7 * 3600.0)
    elif start.tzinfo is None:
        start = zone.attach(start)
    epoch, start_s = civil.run_clock(zone, start)
    k0 = int(round(start_s / STEP_S))
    k_end = k0 + int(round(duration_s / STEP_S))
    tr = Trace() if trace else None
    n = len(config.intersections)
    runs = []
    for idx, inter in enumerate(config.intersections):
        told = None if on_progress is None else \
            (lambda k, idx=idx: on_progress((idx + (k - k0) / max(k_end - k0, 1)) / n
                                            * duration_s))
        script = _Script(inter, calls, k0)
        runs.append(_run_one(replace(config, intersections=(inter,)), k0, k_end, seed, epoch,
                             scale, tr, keep_events, every_tick, told, script))
    if on_progress is not None:
        on_progress(duration_s)
    events = sorted((e for r in runs for e in r.events), key=lambda e: e.t) if keep_events else []
    return SimResult(config, start_s, epoch, (k_end - k0) * STEP_S, seed, events,
                     [v for r in runs for v in r.violations],
                     {r.iid: r.green for r in runs}, {r.iid: r.served for r in runs},
                     sum(r.actuations for r in runs), tr)


@dataclass
class _One:
    iid: str
    events: list[Event]
    violations: list[Violation]
    green: dict[str, float]
    served: dict[str, int]
    actuations: int


class _Script:
    """The scripted calls (simulate.Call) an intersection has, as tick windows."""

    def __init__(self, inter, calls: tuple[Call, ...], k0: int):
        ids = {"preempt": {p.id for p in inter.preempts},
               "priority": {q.id for q in inter.priorities}}
        self.windows = [(k0 + int(round(c.at_s / STEP_S)),
                         k0 + int(round((c.at_s + c.for_s) / STEP_S)), c.kind, c.id)
                        for c in calls if c.id in ids.get(c.kind, ())]
        self.edges = sorted({k for a, b, _, _ in self.windows for k in (a, b)})

    def inputs(self, k: int, inputs: Inputs) -> Inputs:
        """`inputs` with the calls on at tick k (the same object if nothing changed)."""
        if not self.windows:
            return inputs
        on = [(kind, cid) for a, b, kind, cid in self.windows if a <= k < b]
        pre = frozenset(cid for kind, cid in on if kind == "preempt")
        bus = frozenset(cid for kind, cid in on if kind == "priority")
        if (pre, bus) == (inputs.preempt_calls, inputs.priority_calls):
            return inputs
        return inputs._replace(preempt_calls=pre, priority_calls=bus)

    def next_edge(self, k: int, k_end: int) -> int:
        return next((e for e in self.edges if e > k), k_end)


def _count_green(before: dict[str, int], after: dict[str, int], k: int, green: Counter,
                 since: dict[str, int]) -> None:
    """Green time per group, in ticks: counted when a green (steady or flashing) ends."""
    for gid, a in after.items():
        b = before[gid]
        if a == b:
            continue
        is_g = a == A.GREEN or a == A.FLASH_GREEN
        was_g = b == A.GREEN or b == A.FLASH_GREEN
        if is_g and not was_g:
            since[gid] = k
        elif was_g and not is_g:
            green[gid] += k - since.pop(gid, k)


def _run_one(config: GroupConfig, k0: int, k_end: int, seed: int, epoch: float, scale: float,
             tr: Trace | None, keep_events: bool, every_tick: bool,
             told: Callable[[int], None] | None, script: _Script) -> _One:
    inter = config.intersections[0]
    iid = inter.id
    group = GroupCore(config, start=k0 * STEP_S, epoch=epoch)
    core = group.cores[iid]
    traffic = TrafficGenerator(inter, seed, 1.0 * scale, k0)
    monitor = SignalMonitor(monitor_table(inter))
    bays = frozenset(d.id for d in inter.detectors if d.kind == PARKING_BAY)
    aspects = {g.id: A.DARK for g in inter.groups}
    green: Counter = Counter()
    green_since: dict[str, int] = {}
    served: Counter = Counter()
    last_stage = None
    prev_on: frozenset[str] = frozenset()
    on_since: dict[str, float] = {}
    events: list[Event] = []
    actuations = 0
    lamps = A.lamps
    flashing = False
    changed = True
    inputs, k = Inputs(), k0
    tell_every = max((k_end - k0) // 200, 1)    # at most ~200 progress reports
    tell_at = k0 + tell_every if told is not None else k_end + 1
    while True:
        if k >= tell_at and told is not None:
            told(k)
            tell_at = k + tell_every
        now = k * STEP_S
        on = traffic.presence(k, aspects, changed)
        if on is not prev_on:
            rising = on - prev_on - bays
            actuations += len(rising)
            if tr is not None:
                for d in rising:
                    on_since[d] = now
                for d in prev_on - on:
                    tr.detectors[f"{iid}/{d}"].append((on_since.pop(d, now), now))
            prev_on = on
        inputs = script.inputs(k, inputs)
        if on is not inputs.presence:
            inputs = inputs._replace(presence=on)
        out = core.step(now, inputs, group.plan_for(now))
        if keep_events and out.events:
            events.extend(out.events)
        asp = out.aspects
        changed = asp is not aspects
        if changed:
            _count_green(aspects, asp, k, green, green_since)
            if tr is not None:
                for gid, a in asp.items():
                    if a != aspects[gid]:
                        tr.aspects[f"{iid}/{gid}"].append((now, a))
            aspects = asp
            flashing = any(a in FLASHING for a in asp.values())
        if changed or flashing:        # lamps change with the aspects, or with the flasher
            monitor.feed(now, {gid: lamps(a, k * 100) for gid, a in asp.items()})
        if core.mode == "run" and not core.in_transition:
            if core.stage != last_stage:
                served[core.stage] += 1
                last_stage = core.stage
        elif core.mode != "run":
            last_stage = None
        if k >= k_end:
            break
        if every_tick or changed:      # the traffic sees new aspects one tick later
            k += 1
            continue
        nxt = min(int(round(min(core.next_deadline(), group.boundary) / STEP_S)),
                  traffic.next_event(), k_end, script.next_edge(k, k_end))
        if flashing:
            nxt = min(nxt, (k // HALF_FLASH + 1) * HALF_FLASH)
        k = max(nxt, k + 1)
    for gid, since in green_since.items():
        green[gid] += k - since
    monitor.finish(k * STEP_S)
    return _One(iid, events, list(monitor.violations),
                {gid: round(n * STEP_S, 1) for gid, n in sorted(green.items())},
                dict(served), actuations)


def write_events_csv(events: list[Event], path: str, zone: civil.Zone, epoch: float) -> None:
    """Indiana high-resolution events in the ATSPM layout, stamped with the wall-clock
    time of the group's zone (an event at core time t happened at instant epoch + t)."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["SignalID", "Timestamp", "EventCode", "EventParam"])
        for e in events:
            ts = zone.local(epoch + e.t)
            w.writerow([e.intersection, ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:-5], e.code, e.param])


def summary(result: SimResult) -> str:
    lines = [f"{result.config.name}: {result.duration_s:g} s simulated from "
             f"{result.start.strftime('%Y-%m-%d %H:%M:%S %Z (UTC%z)')} "
             f"[{result.config.zone.key}], plan {result.start_plan} running at the start, "
             f"seed {result.seed}",
             f"  events {len(result.events)}, detector actuations {result.actuations}"]
    for i in result.config.intersections:
        served = ", ".join(f"{s} ×{n}" for s, n in result.stages_served[i.id].items()) or "none"
        lines.append(f"  {i.id} ({i.name}): stages served {served}")
        greens = "  ".join(f"{g} {s:g}s" for g, s in result.green_s[i.id].items())
        lines.append(f"    green time: {greens}")
    if result.violations:
        lines.append(f"  MONITOR: {len(result.violations)} violation(s)")
        for v in result.violations[:20]:
            lines.append(f"    t={v.t:.1f} {v.intersection} {v.kind} {'/'.join(v.groups)}: {v.detail}")
    else:
        lines.append("  monitor: no violation")
    return "\n".join(lines)
