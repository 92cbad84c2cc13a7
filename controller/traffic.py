"""A seeded traffic generator for the simulator: what the loops and buttons would see.

Vehicles arrive at each approach loop as a Poisson stream. A stop-line (presence) loop
holds a queue: it stays occupied while vehicles wait at red and pulses once per vehicle
as the queue discharges on green (2 s saturation headway). Counting loops upstream pulse
once per arrival. Pedestrians arrive at push buttons and press once (or again, now and
then, while they wait). Parking bays fill and empty. Everything is driven by one seed.
"""

from __future__ import annotations

import random

from protocols import aspects as A

from .config.model import ARROW, COUNTING, PARKING_BAY, PED_BUTTON, PRESENCE, Intersection

STEP = 0.1
HEADWAY_S = 2.0          # saturation headway at the stop line
OCCUPANCY_S = 0.5        # time a moving car covers a loop

DEFAULT_RATES = {        # per hour per detector
    (PRESENCE, "vehicle"): 450.0,
    (PRESENCE, ARROW): 120.0,
    (COUNTING, "vehicle"): 450.0,
    (COUNTING, ARROW): 120.0,
    (PED_BUTTON, "pedestrian"): 40.0,
}
PARKING_TURNOVER_PER_H = 2.0


class _Loop:
    def __init__(self, det, group: str | None, rate_h: float):
        self.det = det
        self.group = group
        self.p = rate_h / 3600.0 * STEP        # arrival probability per step
        self.queue = 0
        self.on_until = -1.0
        self.next_departure = 0.0


class TrafficGenerator:
    """Steps with the core: `presence(now, aspects)` → set of detector ids that are on."""

    def __init__(self, inter: Intersection, seed: int, scale: float = 1.0):
        self.rng = random.Random(f"{seed}:{inter.id}")
        self.loops: list[_Loop] = []
        self.bays: dict[str, bool] = {}
        for d in inter.detectors:
            if d.kind == PARKING_BAY:
                self.bays[d.id] = self.rng.random() < 0.5
                continue
            target = (d.calls or d.extends or (None,))[0]
            kind = inter.group(target).kind if target else "vehicle"
            rate = DEFAULT_RATES.get((d.kind, kind), DEFAULT_RATES.get((d.kind, "vehicle"), 0.0))
            self.loops.append(_Loop(d, target, rate * scale))

    def presence(self, now: float, aspects: dict[str, int]) -> set[str]:
        on: set[str] = set()
        rng = self.rng
        for lp in self.loops:
            arrived = rng.random() < lp.p
            kind = lp.det.kind
            if kind == PED_BUTTON:
                if arrived or (lp.queue and rng.random() < 0.002):
                    lp.on_until = now + 0.3
                    lp.queue += arrived
                if lp.group and aspects.get(lp.group) == A.GREEN:
                    lp.queue = 0
            elif kind == COUNTING:
                if arrived:
                    lp.on_until = now + OCCUPANCY_S
            else:   # presence loop at the stop line with a queue
                lp.queue += arrived
                green = lp.group is not None and aspects.get(lp.group) in (A.GREEN, A.FLASH_GREEN)
                if lp.queue and green and now >= lp.next_departure:
                    lp.queue -= 1
                    lp.next_departure = now + HEADWAY_S
                    lp.on_until = now + OCCUPANCY_S
                elif lp.queue and not green:
                    lp.on_until = now + STEP
            if now < lp.on_until - 1e-9:
                on.add(lp.det.id)
        for bay, occupied in self.bays.items():
            if rng.random() < PARKING_TURNOVER_PER_H / 3600.0 * STEP:
                self.bays[bay] = not occupied
            if self.bays[bay]:
                on.add(bay)
        return on
