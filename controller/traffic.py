"""A seeded traffic generator for the simulator: what the loops and buttons would see.

Vehicles arrive at each approach loop as a Poisson stream. A stop-line (presence) loop
holds a queue: it stays occupied while vehicles wait at red and pulses once per vehicle
as the queue discharges on green (2 s saturation headway). Counting loops upstream pulse
once per arrival. Pedestrians arrive at push buttons and press once. Parking bays fill
and empty. Each loop has its own random stream, and everything happens at tick times
(tenths of a second) known in advance, so the simulator can jump from event to event
and still see exactly what stepping every 0.1 s would show.
"""

from __future__ import annotations

import math
import random

from protocols import aspects as A

from .config.model import ARROW, COUNTING, PARKING_BAY, PED_BUTTON, PRESENCE, Intersection

NEVER = 10**12
HEADWAY = 20             # saturation headway at the stop line (ticks)
OCCUPANCY = 5            # ticks a moving car covers a loop
PRESS = 3                # ticks a button is held

DEFAULT_RATES = {        # per hour per detector
    (PRESENCE, "vehicle"): 450.0,
    (PRESENCE, ARROW): 120.0,
    (COUNTING, "vehicle"): 450.0,
    (COUNTING, ARROW): 120.0,
    (PED_BUTTON, "pedestrian"): 40.0,
    (PARKING_BAY, None): 2.0,   # changes of state per hour
}


class _Loop:
    def __init__(self, det_id: str, kind: str, group: str | None, rate_h: float, seed: str):
        self.id = det_id
        self.kind = kind
        self.group = group
        self.rng = random.Random(seed)
        self.mean_ticks = 36000.0 / rate_h if rate_h > 0 else math.inf
        self.next_arrival = NEVER
        self.queue = 0
        self.on_until = 0
        self.next_departure = 0
        self.occupied = False            # parking bays
        self.due = 0                     # the next tick at which this loop changes

    def schedule(self, k: int) -> None:
        if self.mean_ticks == math.inf:
            self.next_arrival = NEVER
        else:
            self.next_arrival = k + 1 + int(self.rng.expovariate(1.0) * self.mean_ticks)


class TrafficGenerator:
    """`presence(k, aspects, changed)` → detector ids on at tick k (a frozenset that is the
    same object while nothing changes); `next_event()` → the next tick that changes it."""

    def __init__(self, inter: Intersection, seed: int, scale: float = 1.0, start: int = 0):
        self.loops: list[_Loop] = []
        for d in inter.detectors:
            target = (d.calls or d.extends or (None,))[0]
            gkind = inter.group(target).kind if target else None
            rate = DEFAULT_RATES.get((d.kind, gkind), DEFAULT_RATES.get((d.kind, "vehicle"), 0.0))
            if d.kind != PARKING_BAY:
                rate *= scale
            lp = _Loop(d.id, d.kind, target, rate, f"{seed}:{inter.id}:{d.id}")
            lp.occupied = d.kind == PARKING_BAY and lp.rng.random() < 0.5
            lp.schedule(start)
            self.loops.append(lp)
        self.on: frozenset[str] = frozenset()
        self.due = start

    def presence(self, k: int, aspects: dict[str, int], changed: bool = True) -> frozenset[str]:
        if k < self.due and not changed:
            return self.on
        on = set(self.on)
        due = NEVER
        for lp in self.loops:
            if k >= lp.due or changed:
                if self._advance(lp, k, aspects):
                    on.add(lp.id)
                else:
                    on.discard(lp.id)
            due = min(due, lp.due)
        self.due = due
        if on != self.on:
            self.on = frozenset(on)
        return self.on

    @staticmethod
    def _advance(lp: _Loop, k: int, aspects: dict[str, int]) -> bool:
        """Bring one loop to tick k; returns whether it is on, and sets when it next changes."""
        arrived = k >= lp.next_arrival
        if arrived:
            lp.schedule(k)
        kind = lp.kind
        if kind == PARKING_BAY:
            lp.occupied ^= arrived
            lp.due = lp.next_arrival
            return lp.occupied
        on = False
        if kind == PED_BUTTON:
            if arrived:
                lp.on_until = k + PRESS
        elif kind == COUNTING:
            if arrived:
                lp.on_until = k + OCCUPANCY
        else:    # a stop-line loop with its queue
            lp.queue += arrived
            green = aspects.get(lp.group) in (A.GREEN, A.FLASH_GREEN)
            if lp.queue and green and k >= lp.next_departure:
                lp.queue -= 1
                lp.next_departure = k + HEADWAY
                lp.on_until = k + OCCUPANCY
            elif lp.queue and not green:
                on = True
            if lp.queue and green:
                lp.due = min(lp.next_arrival, max(lp.next_departure, k + 1))
            else:
                lp.due = lp.next_arrival
        if kind != PRESENCE:
            lp.due = lp.next_arrival
        if k < lp.on_until:
            lp.due = min(lp.due, lp.on_until)
            on = True
        return on

    def next_event(self) -> int:
        return self.due
