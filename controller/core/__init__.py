"""The timing core: deterministic, stepped with `now` and inputs, reading no clock.

It takes its control policies from the caller (`policies`, a `PolicyFactory`, see
policy.py) and imports none: `controller.engine` wires it to `controller.policies`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ..config import civil
from ..config.civil import DEFAULT_DAY
from ..config.model import GroupConfig, Intersection
from .events import Event
from .inputs import NO_INPUTS, Inputs, Output
from .intersection import ALL_RED, FLASH, RUN, TO_FLASH, IntersectionCore
from .policy import Policy, PolicyFactory, StageView

STEP_S = 0.1


class GroupCore:
    """All intersections of a group, with the time-of-day schedule choosing plans.

    `now` is seconds since `epoch`, the instant (Unix seconds) the run's first local day
    began in the group's zone (None: a Monday, config.civil.DEFAULT_DAY). Time runs without
    jumps; the schedule is read at the instant `epoch + now` on the wall clock of the zone,
    so it follows daylight-saving changes. When the cabinet's clock steps, the runtime
    moves `epoch` (`set_epoch`). When civil time moves against `now` (either way), the
    cores' cycles follow it smoothly (controller/policies/cycle.py). `policies` makes each
    plan's control policy.
    """

    def __init__(self, config: GroupConfig, start: float = 0.0, epoch: float | None = None,
                 *, policies: PolicyFactory):
        self.config = config
        self.epoch = config.zone.instant(DEFAULT_DAY, 0.0) if epoch is None else epoch
        self._wall0 = self._wall(0.0)
        self.ref = 0                    # tenths civil time runs ahead of now
        plan = config.plan_at(self.epoch + start)
        self.cores = {i.id: IntersectionCore(i, plan, start, policies=policies)
                      for i in config.intersections}
        self._plan = plan
        self._incoming: dict[str, Intersection] = {}     # new plans, not yet taken up
        self._plan_from, self._boundary = float("inf"), 0.0
        self.plan_for(start)            # the cycles stand on civil time from the start

    def _wall(self, now: float) -> float:
        """Wall-clock seconds (a continuous count) at `now`."""
        u = self.epoch + now
        return u + self.config.zone.offset_s(u)

    def plan_at(self, now: float) -> str:
        return self.config.plan_at(self.epoch + now)

    def local(self, now: float) -> dt.datetime:
        """The aware local date-time at `now`."""
        return self.config.zone.local(self.epoch + now)

    def _next_boundary(self, now: float) -> float:
        u = self.epoch + now
        return round(civil.next_change(self.config.schedule, self.config.zone, u) - self.epoch, 1)

    def set_epoch(self, epoch: float) -> None:
        """The cabinet's clock stepped: `now` is at the instant `epoch + now` from here on.
        The schedule and the cycle reference are read again at the next step."""
        self.epoch = epoch
        self._plan_from, self._boundary = float("inf"), 0.0

    def reload(self, config: GroupConfig, now: float) -> None:
        """New timing plans and schedule (nothing else may differ: runtime/plans.py). The
        schedule switches now; each intersection keeps its running plan until `take_up`
        finds it ready, then takes the new schedule's plan through the plan-change path
        of a scheduled change."""
        self.config = config
        self._plan = config.plan_at(self.epoch + now)
        self._plan_from, self._boundary = now, self._next_boundary(now)
        self._incoming = {iid: config.intersection(iid) for iid in self.cores}

    def take_up(self, ready: Callable[[IntersectionCore], bool], force: bool = False) -> bool:
        """Intersections waiting for new plans take them when `ready` (or `force`d);
        True once none waits."""
        for iid in [i for i in self._incoming if force or ready(self.cores[i])]:
            self.cores[iid].reload(self._incoming.pop(iid), self._plan)
        return not self._incoming

    @property
    def boundary(self) -> float:
        """The next schedule boundary (s) after the last `plan_for`."""
        return self._boundary

    def next_deadline(self) -> float:
        """The earliest time (s) at which any intersection or the schedule may change."""
        return min(min(c.next_deadline() for c in self.cores.values()), self._boundary)

    def plan_for(self, now: float) -> str:
        """The scheduled plan at `now`, remembered until the next schedule boundary (an
        entry, a daylight-saving change); there, the cores' cycles also follow civil time."""
        if not self._plan_from <= now < self._boundary:
            self._plan = self.plan_at(now)
            self._plan_from, self._boundary = now, self._next_boundary(now)
            ref = round((self._wall(now) - self._wall0 - now) * 10)
            if ref != self.ref:
                self.ref = ref
                for core in self.cores.values():
                    core.resync(ref)
        return self._plan

    def step(self, now: float, inputs: dict[str, Inputs] | None = None) -> dict[str, Output]:
        plan = self.plan_for(now)
        inputs = inputs or {}
        return {iid: core.step(now, inputs.get(iid, NO_INPUTS),
                               None if iid in self._incoming else plan)
                for iid, core in self.cores.items()}


__all__ = ["GroupCore", "IntersectionCore", "Inputs", "Output", "Event", "STEP_S",
           "FLASH", "ALL_RED", "RUN", "TO_FLASH", "Policy", "PolicyFactory", "StageView"]
