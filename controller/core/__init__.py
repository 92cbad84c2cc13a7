"""The timing core: deterministic, stepped with `now` and inputs, reading no clock.

It takes its control policies from the caller (`policies`, a `PolicyFactory`, see
policy.py) and imports none: `controller.engine` wires it to `controller.policies`.
"""

from __future__ import annotations

from ..config.model import GroupConfig
from .events import Event
from .intersection import (
    ALL_RED,
    FLASH,
    NO_INPUTS,
    RUN,
    TO_FLASH,
    Inputs,
    IntersectionCore,
    Output,
)
from .policy import Policy, PolicyFactory, StageView

STEP_S = 0.1


class GroupCore:
    """All intersections of a group, with the time-of-day schedule choosing plans.

    `now` is seconds since local midnight of the run's first day; `weekday` is that
    day's weekday (0 = Monday). `policies` makes each plan's control policy.
    """

    def __init__(self, config: GroupConfig, start: float = 0.0, weekday: int = 0, *,
                 policies: PolicyFactory):
        self.config = config
        self.weekday = weekday
        plan = config.plan_at(start, weekday)
        self.cores = {i.id: IntersectionCore(i, plan, start, policies=policies)
                      for i in config.intersections}
        self._plan = plan
        self._plan_from, self._boundary = start, self._next_boundary(start)

    def plan_at(self, now: float) -> str:
        return self.config.plan_at(now, (self.weekday + int(now // 86400)) % 7)

    def _next_boundary(self, now: float) -> float:
        day = now - now % 86400.0
        times = [d + e.at_s for d in (day, day + 86400.0) for e in self.config.schedule]
        return min((x for x in times if x > now), default=float("inf"))

    @property
    def boundary(self) -> float:
        """The next schedule boundary (s) after the last `plan_for`."""
        return self._boundary

    def next_deadline(self) -> float:
        """The earliest time (s) at which any intersection or the schedule may change."""
        return min(min(c.next_deadline() for c in self.cores.values()), self._boundary)

    def plan_for(self, now: float) -> str:
        """The scheduled plan at `now`, remembered until the next schedule boundary."""
        if not self._plan_from <= now < self._boundary:
            self._plan = self.plan_at(now)
            self._plan_from, self._boundary = now, self._next_boundary(now)
        return self._plan

    def step(self, now: float, inputs: dict[str, Inputs] | None = None) -> dict[str, Output]:
        plan = self.plan_for(now)
        inputs = inputs or {}
        return {iid: core.step(now, inputs.get(iid, NO_INPUTS), plan)
                for iid, core in self.cores.items()}


__all__ = ["GroupCore", "IntersectionCore", "Inputs", "Output", "Event", "STEP_S",
           "FLASH", "ALL_RED", "RUN", "TO_FLASH", "Policy", "PolicyFactory", "StageView"]
