"""Beyond capacity: the oversaturated regime that adaptive and coordinated plans share.

An intersection is oversaturated when its queues outlast the greens it can give them. The
loops show it: a green that ends at its maximum (max-out, force-off, the coordinated yield
point) while the queue still reaches back over the advance loop a few seconds into the red
(a *split failure*: its vehicles stand over the advance loop, 40 m back, after the
amber). The regime follows the failures with hysteresis, counted per cycle (from one
start of the main stage to the next):

    normal ──(ENTER consecutive cycles with a split failure at a maximum)──> oversaturated
    oversaturated ──(LEAVE consecutive cycles without any split failure)──> normal

so one unlucky cycle does not switch it and the switch back needs a clear margin: no
oscillation. Coordinated plans switch in after 2 cycles and back after 5 (their fixed
windows cannot follow demand, their cycles are short). While oversaturated:

- **Throughput first.** Every stage runs while its queue discharges: a priority stream's
  stop-bar loop counts `SAT_COUNT` vehicles within `SAT_WINDOW` (coordinated: 3 within
  8 s; saturated discharge, not random arrivals), or its advance loop is within its
  passage time. The exact queue counting of the normal regime (which can end a green at
  its minimum when a lane change upsets the counts) is not used.
- **Queue balancing.** Each stage has an oversaturated maximum that starts at its plan
  maximum; a split failure adds `GROW` to it, a green that ends by gap-out (its queue gone)
  takes `SHRINK` back; never beyond the plan's `max2_green_s` (NTCIP Maximum 2), never
  below its `max_green_s`. Stages whose queues outlast their green get the time of those
  whose queues clear, and the cycle grows only as far as the queues need: less time lost
  to stage changes, more vehicles per hour.
- **No green into a blocked exit.** A priority stream whose stop-bar loop stays occupied
  without counting anybody for `BLOCK_HOLD`, `BLOCK_AFTER` or more into its green (the exit
  is full: spillback from the next junction, or a vehicle blocks the lane) does not hold
  the green; a stage whose streams are all blocked or empty ends.
- **Bounded waits.** Stages run in their cyclic order and a called stage is never skipped,
  so every called movement waits at most the other stages' `max2_green_s` plus a change
  interval per stage (`max_wait`), whatever the counts say.
- A coordinated plan leaves its cycle (its windows were sized for normal demand) and runs
  acyclic with these rules; back in the normal regime the cycle takes over again at the
  next main-stage green (its clock never stopped).

Deterministic: it reads only the core's view (times in tenths), no clock.
"""

from __future__ import annotations

from ..config.model import Intersection, Plan
from ..core.policy import StageView
from ..core.signal_group import ds

ENTER = 3                 # consecutive cycles with a split failure: oversaturated
LEAVE = 3                 # consecutive cycles without one: normal again
FAIL_STAND = 10           # tenths the advance loop must stay occupied in the red: queue left
SAT_WINDOW = 60           # tenths over which a stop-bar loop's count tells saturated flow
SAT_COUNT = 2             # vehicles over a stop-bar loop within SAT_WINDOW: the queue moves
BLOCK_HOLD = 40           # tenths a vehicle stands over the stop bar in green: exit blocked
BLOCK_AFTER = 40          # tenths into the green before a standing vehicle counts as blocked
GROW = 50                 # tenths a split failure adds to the stage's oversaturated maximum
SHRINK = 20               # tenths a gap-out takes back


class Regime:
    """Normal or oversaturated, from split failures per cycle, with hysteresis."""

    def __init__(self, enter: int = ENTER, leave: int = LEAVE):
        self.enter, self.leave = enter, leave
        self.overloaded = False
        self.failed = False           # a split failure in the running cycle
        self.streak = 0               # consecutive cycles that argue for the other regime

    def failure(self, maxed: bool = True) -> None:
        """A queue outlasted its green. Only a green that ran to its maximum argues for
        the oversaturated regime; once in it, any green that leaves its queue standing
        (a stalled stop line too) argues for staying."""
        if maxed or self.overloaded:
            self.failed = True

    def new_cycle(self) -> bool:
        """Close the running cycle; True if the regime changed."""
        against = self.failed != self.overloaded
        self.failed = False
        self.streak = self.streak + 1 if against else 0
        if self.streak >= (self.leave if self.overloaded else self.enter):
            self.overloaded = not self.overloaded
            self.streak = 0
            return True
        return False


class Oversaturation:
    """The oversaturated regime of a stage policy (mixed into `Adaptive`).

    Uses the host's `priority`, `advance`, `stopbar`, `hold_advance`, `order`,
    `min_green` and `max_green` (set by `Adaptive`)."""

    priority: dict[str, list[str]]
    advance: dict[str, list]
    stopbar: dict[str, list]
    hold_advance: dict[str, list]
    order: list[str]
    max_green: dict[str, int]
    inter: Intersection
    plan: Plan
    enter_cycles = ENTER      # cycles with a split failure before the regime switches in
    leave_cycles = LEAVE      # cycles without one before it switches back
    sat_window, sat_count = SAT_WINDOW, SAT_COUNT

    def init_overload(self, plan: Plan) -> None:
        self.regime = Regime(self.enter_cycles, self.leave_cycles)
        self.max2 = {s: max(ds(p.max2_green_s or p.max_green_s), self.max_green[s])
                     for s, p in plan.stages.items()}
        self.over_max = dict(self.max_green)
        self._ending: tuple[str, bool] | None = None   # (stage, maxed): a green to judge
        self._counted: dict[str, tuple[int, int]] = {}  # stop-bar loop: (count, since when)
        self._passed: dict[str, list[tuple[int, int]]] = {}  # stop-bar loop: (t, vehicles)

    @property
    def overloaded(self) -> bool:
        return self.regime.overloaded

    # -- split failures and the regime -----------------------------------------------------
    def green_end(self, stage: str, maxed: bool) -> None:
        """The green of `stage` ends, at its maximum (max-out, force-off, yield point) or
        because its queue went (gap-out)."""
        self._ending = (stage, maxed)

    def judge_ending(self, stage: str, view: StageView) -> None:
        """At the start of `stage`'s green: did the queue of the stage before it outlast
        its green (vehicles standing over its advance loops a few seconds into the red)?
        A maxed-out stage that failed gets a longer oversaturated maximum."""
        if self._ending is None:
            return
        ended, maxed = self._ending
        self._ending = None
        now_green = set(self.inter.stage(stage).groups)
        for g in self.priority.get(ended, []):
            if g in now_green:
                continue
            for did, _ in self.advance[g]:
                since = view.present_since(did)
                if since is not None and view.t - since >= FAIL_STAND:
                    self.regime.failure(maxed)
                    if self.overloaded and maxed:
                        self.over_max[ended] = min(self.over_max[ended] + GROW, self.max2[ended])
                    return

    def close_cycle(self) -> None:
        """At each start of the main stage's green."""
        if self.regime.new_cycle():
            self.over_max = dict(self.max_green)

    def gapped_out(self, stage: str) -> None:
        if self.overloaded:
            self.over_max[stage] = max(self.over_max[stage] - SHRINK, self.max_green[stage])

    # -- the green while oversaturated -----------------------------------------------------
    def observe(self, view: StageView) -> None:
        """At every decision: when each stop-bar loop last counted a new vehicle."""
        for loops in self.stopbar.values():
            for did, _ in loops:
                n = view.count(did)
                seen = self._counted.get(did)
                if seen is None or seen[0] != n:
                    self._counted[did] = (n, view.t)
                    recent = self._passed.setdefault(did, [])
                    if seen is not None:
                        recent.append((view.t, n - seen[0]))
                    while recent and view.t - recent[0][0] >= self.sat_window:
                        recent.pop(0)

    def _flow(self, did: str, t: int) -> int:
        """Vehicles the stop-bar loop counted within the last `sat_window`."""
        return sum(n for at, n in self._passed.get(did, ()) if t - at < self.sat_window)

    def blocked(self, group: str, view: StageView) -> bool:
        """Well into the group's green, every stop-bar loop of it is occupied and has not
        counted a vehicle for BLOCK_HOLD: nobody moves off the stop line, its exit is
        full (spillback) or a vehicle blocks the lane; giving it green serves nobody."""
        loops = self.stopbar[group]
        if not loops or view.t - view.stage_start < BLOCK_AFTER:
            return False
        for did, _ in loops:
            if view.present_since(did) is None:
                return False
            at = self._counted.get(did, (0, view.t))[1]
            if view.t - max(at, view.stage_start) < BLOCK_HOLD:
                return False
        return True

    def discharging(self, stage: str, view: StageView) -> bool:
        """Oversaturated extension: a priority stream that is not blocked still moves
        (advance loop within its passage time, or saturated flow over its stop bar: a
        queue discharging, not random arrivals crossing it)."""
        t = view.t
        for g in self.priority[stage]:
            if self.blocked(g, view):
                continue
            if any(t - view.last_seen(d) < p for d, p in self.advance[g]):
                return True
            if any(self._flow(d, t) >= self.sat_count for d, _ in self.stopbar[g]):
                return True
        return False

    def over_max_out_at(self, stage: str, view: StageView) -> int | None:
        if view.conflicting_call_since() is None:
            return None
        return view.stage_start + self.over_max[stage]

    def max_wait(self, stage: str) -> int:
        """Tenths a called stage waits at most while oversaturated: every other stage at
        its Maximum 2, and a change interval before each stage of the cycle (at most the
        longest intergreen: a leading protected turn also ends before its permissive
        stage)."""
        change = ds(max(self.inter.intergreen.values(), default=0.0))
        return sum(self.max2[s] for s in self.order if s != stage) + len(self.order) * change
