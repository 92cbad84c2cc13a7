"""Run an intersection group in simulated time with seeded traffic and the monitor watching.

The timing core is stepped every 0.1 s; its aspects become lamp states exactly as a
node would light them (flashing included), and those lamps, not the core's intentions,
are what the independent monitor judges.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from hil.monitor import SignalMonitor, Violation
from protocols import aspects as A

from .config.model import PARKING_BAY, GroupConfig
from .core import STEP_S, GroupCore, Inputs
from .core.events import Event
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
    start_s: float
    duration_s: float
    seed: int
    events: list[Event]
    violations: list[Violation]
    green_s: dict[str, dict[str, float]]
    stages_served: dict[str, dict[str, int]]
    actuations: int
    trace: Trace | None

    def to_json(self) -> dict:
        return {
            "group": self.config.name,
            "duration_s": self.duration_s,
            "seed": self.seed,
            "events": len(self.events),
            "detector_actuations": self.actuations,
            "violations": [v._asdict() for v in self.violations],
            "green_s": self.green_s,
            "stages_served": self.stages_served,
        }


FLASHING = (A.FLASH_GREEN, A.FLASH_AMBER, A.FLASH_RED)
HALF_FLASH = A.FLASH_ON_MS // 100          # lamps of flashing heads toggle every 5 ticks


def simulate(config: GroupConfig, duration_s: float, seed: int = 1, start_s: float = 7 * 3600,
             weekday: int = 0, scale: float = 1.0, trace: bool = False,
             keep_events: bool = True, every_tick: bool = False) -> SimResult:
    """Run `duration_s` seconds from `start_s` (seconds after local midnight).

    The core, the traffic and the lamps are stepped at every tick where anything can
    change (`next_deadline`, traffic events, flashing lamps); `every_tick` steps every
    0.1 s instead, and gives the same result, only slower.
    """
    core = GroupCore(config, start=start_s, weekday=weekday)
    k0 = int(round(start_s / STEP_S))
    k_end = k0 + int(round(duration_s / STEP_S))
    traffic = {i.id: TrafficGenerator(i, seed, scale, k0) for i in config.intersections}
    monitors = {i.id: SignalMonitor(i) for i in config.intersections}
    bays = {i.id: {d.id for d in i.detectors if d.kind == PARKING_BAY}
            for i in config.intersections}
    aspects = {i.id: {g.id: A.DARK for g in i.groups} for i in config.intersections}
    green = {i.id: Counter() for i in config.intersections}
    green_since: dict[tuple[str, str], int] = {}
    served: dict[str, Counter] = {i.id: Counter() for i in config.intersections}
    last_stage: dict[str, str | None] = {i.id: None for i in config.intersections}
    prev_on: dict[str, set[str]] = {i.id: set() for i in config.intersections}
    on_since: dict[tuple[str, str], float] = {}
    events: list[Event] = []
    n_events = 0
    actuations = 0
    tr = Trace() if trace else None
    lamps = A.lamps
    k = k0
    while True:
        now = k * STEP_S
        inputs = {}
        for iid, gen in traffic.items():
            on = gen.presence(k, aspects[iid])
            if on != prev_on[iid]:
                rising = on - prev_on[iid] - bays[iid]
                actuations += len(rising)
                if tr is not None:
                    for d in rising:
                        on_since[(iid, d)] = now
                    for d in prev_on[iid] - on:
                        tr.detectors[f"{iid}/{d}"].append((on_since.pop((iid, d), now), now))
                prev_on[iid] = on
            inputs[iid] = Inputs(presence=on)
        outs = core.step(now, inputs)
        flashing = changed = False
        for iid, out in outs.items():
            if keep_events:
                events.extend(out.events)
            n_events += len(out.events)
            asp = out.aspects
            old = aspects[iid]
            if asp != old:
                for gid, a in asp.items():
                    b = old[gid]
                    if a == b:
                        continue
                    is_g = a == A.GREEN or a == A.FLASH_GREEN
                    was_g = b == A.GREEN or b == A.FLASH_GREEN
                    if is_g and not was_g:
                        green_since[(iid, gid)] = k
                    elif was_g and not is_g:
                        green[iid][gid] += k - green_since.pop((iid, gid), k)
                    if tr is not None:
                        tr.aspects[f"{iid}/{gid}"].append((now, a))
                aspects[iid] = asp
                changed = True
            if not flashing:
                flashing = any(a in FLASHING for a in asp.values())
            monitors[iid].feed(now, {gid: lamps(a, k * 100) for gid, a in asp.items()})
            c = core.cores[iid]
            if c.mode == "run" and not c.in_transition and c.stage != last_stage[iid]:
                served[iid][c.stage] += 1
                last_stage[iid] = c.stage
            elif c.mode != "run":
                last_stage[iid] = None
        if k >= k_end:
            break
        if every_tick or changed:      # the traffic sees new aspects one tick later
            k += 1
            continue
        nxt = min(int(round(core.next_deadline() / STEP_S)),
                  min(gen.next_event(k, aspects[iid]) for iid, gen in traffic.items()), k_end)
        if flashing:
            nxt = min(nxt, (k // HALF_FLASH + 1) * HALF_FLASH)
        k = max(nxt, k + 1)
    for (iid, gid), since in green_since.items():
        green[iid][gid] += k - since
    for m in monitors.values():
        m.finish(k * STEP_S)
    violations = [v for m in monitors.values() for v in m.violations]
    return SimResult(config, start_s, (k - k0) * STEP_S, seed, events if keep_events else [],
                     violations,
                     {iid: {gid: round(n * STEP_S, 1) for gid, n in sorted(c.items())}
                      for iid, c in green.items()},
                     {iid: dict(c) for iid, c in served.items()}, actuations, tr)


def write_events_csv(result: SimResult, path: str, date: dt.date) -> None:
    """Indiana high-resolution events in the ATSPM layout."""
    base = dt.datetime.combine(date, dt.time())
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["SignalID", "Timestamp", "EventCode", "EventParam"])
        for e in result.events:
            ts = base + dt.timedelta(seconds=e.t)
            w.writerow([e.intersection, ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:-5], e.code, e.param])


def summary(result: SimResult) -> str:
    lines = [f"{result.config.name}: {result.duration_s:g} s simulated, seed {result.seed}",
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
