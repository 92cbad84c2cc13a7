"""The service follows the cabinet's clock: steps of the wall clock, seen against the
monotonic clock.

The timing core's time never jumps (its safety times run on it); what maps it to
wall-clock instants is the run's `epoch` (config/civil.py). Each cycle the service asks
`ClockWatch.check()`: when the wall clock has moved against the monotonic clock by more
than `tolerance_s` since the last step (NTP stepping the clock, an operator setting it),
the step is returned; the service then moves the epoch by it, so that the record's
timestamps and the schedule follow the new time, logs Indiana event 181 (clock updated,
parameter: the step in whole seconds, signed) for every intersection, and raises an
alarm in its status when the step is larger than the group's `clock_step_alarm_s`.
Coordination re-syncs to the new civil time smoothly (controller/policies/cycle.py).

NTP's slewing changes the rate of both clocks alike on Linux (CLOCK_MONOTONIC is slewed
too), so only steps show. The clocks are passed in: tests inject their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

TOLERANCE_S = 0.25           # more than reading two clocks ever takes, less than a step
READ_RETRIES = 3             # a read interrupted for longer than this is read again
CLOCK_EVENT = 181            # Indiana: clock updated
ALARMS_KEPT = 10


@dataclass(frozen=True)
class ClockStep:
    at: float                # the wall clock after the step (Unix seconds)
    step_s: float            # + forward, - back
    alarm: bool              # larger than the configured bound


class ClockWatch:
    def __init__(self, alarm_s: float, wall: Callable[[], float] = time.time,
                 mono: Callable[[], float] = time.monotonic, tolerance_s: float = TOLERANCE_S):
        self.alarm_s = alarm_s
        self.wall, self.mono = wall, mono
        self.tolerance_s = tolerance_s
        self._w0, self._m0, _ = self._read()
        self.steps: list[ClockStep] = []          # the last ALARMS_KEPT
        self.count = 0

    def _read(self) -> tuple[float, float, float]:
        """(wall, monotonic, uncertainty): the wall clock read between two monotonic reads."""
        best = None
        for _ in range(READ_RETRIES):
            m1 = self.mono()
            w = self.wall()
            m2 = self.mono()
            if best is None or m2 - m1 < best[2] * 2:
                best = (w, (m1 + m2) / 2, (m2 - m1) / 2)
            if m2 - m1 < self.tolerance_s / 10:
                break
        assert best is not None
        return best

    def check(self) -> ClockStep | None:
        """The step of the wall clock since the last one, if there was one."""
        w, m, uncertain = self._read()
        step = (w - self._w0) - (m - self._m0)
        if abs(step) <= self.tolerance_s + uncertain:
            return None
        self._w0, self._m0 = w, m
        st = ClockStep(w, step, abs(step) > self.alarm_s)
        self.count += 1
        self.steps = (self.steps + [st])[-ALARMS_KEPT:]
        return st

    def status(self) -> dict:
        """What the status shows: the steps seen, the alarms among them."""
        return {"steps": self.count,
                "last_step": _doc(self.steps[-1]) if self.steps else None,
                "alarms": [_doc(s) for s in self.steps if s.alarm]}


def _doc(s: ClockStep) -> dict:
    return {"at": s.at, "step_s": round(s.step_s, 3), "alarm": s.alarm}
