"""One signal group's own timing: the safe layer under every control strategy.

A group is asked to start or to end; it decides when it may. It never turns green
while a conflicting group shows right of way or before every intergreen from the
conflicting groups' end of green has run, and it never ends green before its minimum
green nor shortens its flashing green, amber, red+amber or pedestrian clearance.
Its red+amber (or its green, without one) begins only once every conflicting group is
red: a TS2 monitor counts red+amber as a non-red indication, so it never overlaps a
conflicting amber or pedestrian clearance, even where the intergreen is shorter than
that amber plus this red+amber (the green then starts that much later; docs/CONTROL.md).
Time is in integer tenths of a second (`t`), so that no rounding ever eats a step.
"""

from __future__ import annotations

from protocols import aspects as A

from ..config.model import SignalGroup
from . import events as E

NEVER = -(10**12)
INF = 10**12

ACTIVE = (A.GREEN, A.FLASH_GREEN, A.RED_AMBER)   # right of way now or about to
CLEARING = (A.AMBER, A.FLASH_RED)                # change interval: right of way until it ends


def ds(seconds: float) -> int:
    return int(round(seconds * 10))


class GroupTimer:
    def __init__(self, group: SignalGroup):
        g = group
        self.group = g
        self.id = g.id
        self.number = g.number
        self.ped = g.is_pedestrian
        self.min_green = ds(g.min_green_s)
        self.flash_green = ds(g.flash_green_s)
        self.amber = ds(g.amber_s)
        self.red_amber = ds(g.red_amber_s)
        self.ped_clear = ds(g.ped_clear_s)
        self.aspect = A.RED
        self.since = 0
        self.green_start = NEVER
        self.green_end = NEVER          # end of (flashing) green: intergreens count from here
        self.terminate_at: int | None = None
        self.want_start = False
        self.clear_until: int | None = None   # end of red clearance, for event 11
        self.min_told = NEVER                 # when event 3 was last told
        self.conflicts: list[tuple[GroupTimer, int, int]] = []   # (other, IG other->me, IG me->other)

    # -- requests from the stage layer --------------------------------------------------
    def request_start(self) -> None:
        self.want_start = True

    def request_end(self, at: int) -> None:
        if self.terminate_at is None or at < self.terminate_at:
            self.terminate_at = at

    @property
    def showing_green(self) -> bool:
        return self.aspect in (A.GREEN, A.FLASH_GREEN)

    @property
    def served(self) -> bool:
        return self.aspect == A.GREEN

    def earliest_end(self) -> int:
        """When the green can end at the earliest (its minimum green)."""
        return self.green_start + self.min_green

    def permit(self) -> int:
        """The first tenth at which this group may show green, or INF while blocked."""
        at = NEVER
        for other, ig_in, _ in self.conflicts:
            if other.aspect in ACTIVE:
                return INF
            at = max(at, other.green_end + ig_in)
        return at

    def clear_end(self) -> int:
        """When the change interval now shown ends (NEVER if none is shown)."""
        if self.aspect == A.AMBER:
            return self.since + self.amber
        if self.aspect == A.FLASH_RED:
            return self.since + self.ped_clear
        return NEVER

    def start_at(self) -> int:
        """The first tenth at which this group may begin its red+amber (or its green,
        without one), or INF while blocked: its green then starts at permit() at the
        earliest, and every conflicting group is red when the red+amber begins."""
        p = self.permit()
        if p >= INF:
            return INF
        at = p - self.red_amber
        for other, _, _ in self.conflicts:
            if other.aspect in CLEARING:
                at = max(at, other.clear_end())
        return at

    def deadline(self, t: int) -> int:
        """The next tenth after `t` at which this group may change or log on its own."""
        a = self.aspect
        nxt = INF
        if a == A.GREEN:
            if self.green_start + self.min_green > t:
                nxt = self.green_start + self.min_green          # min complete (event 3)
            if self.terminate_at is not None:
                nxt = min(nxt, max(self.terminate_at, self.earliest_end()))
        elif a == A.FLASH_GREEN:
            nxt = self.since + self.flash_green
        elif a == A.AMBER:
            nxt = self.since + self.amber
        elif a == A.FLASH_RED:
            nxt = self.since + self.ped_clear
        elif a == A.RED_AMBER:
            nxt = self.since + self.red_amber
        elif a == A.RED:
            if self.clear_until is not None:
                nxt = self.clear_until
            if self.want_start:
                nxt = min(nxt, self.start_at())
        return max(nxt, t + 1)

    # -- the state machine ------------------------------------------------------------
    def set(self, aspect: int, t: int, out: list) -> None:
        self.aspect = aspect
        self.since = t
        if aspect == A.GREEN:
            self.green_start = t
            self.want_start = False
            self.terminate_at = None
            self.clear_until = None
            out.append((E.PED_WALK if self.ped else E.BEGIN_GREEN, self.number))
        elif aspect == A.AMBER:
            out.append((E.BEGIN_YELLOW, self.number))
        elif aspect == A.FLASH_RED or (aspect == A.FLASH_GREEN and self.ped):
            out.append((E.PED_CLEARANCE, self.number))

    def _end_green(self, t: int, out: list) -> None:
        self.green_end = t
        self.terminate_at = None
        worst = max((ig_out for _, _, ig_out in self.conflicts), default=0)
        self.clear_until = t + worst
        out.append((E.GREEN_TERMINATION, self.number))

    def tick(self, t: int, out: list) -> None:
        a, el = self.aspect, t - self.since
        if a == A.GREEN:
            if t - self.green_start == self.min_green and self.min_told != t:
                self.min_told = t       # a tenth stepped again (new inputs) tells it once
                out.append((E.MIN_COMPLETE, self.number))
            if self.terminate_at is not None and t >= self.terminate_at \
                    and t >= self.earliest_end():
                if self.flash_green:
                    self.set(A.FLASH_GREEN, t, out)
                else:
                    self._end_green(t, out)
                    self._clear(t, out)
        elif a == A.FLASH_GREEN:
            if el >= self.flash_green:
                self._end_green(t, out)
                self._clear(t, out)
        elif a == A.AMBER:
            if el >= self.amber:
                self.set(A.RED, t, out)
                out.append((E.END_YELLOW, self.number))
                out.append((E.BEGIN_RED_CLEARANCE, self.number))
        elif a == A.FLASH_RED:
            if el >= self.ped_clear:
                self.set(A.RED, t, out)
                out.append((E.PED_DONT_WALK, self.number))
        elif a == A.RED_AMBER:
            if el >= self.red_amber:
                self.set(A.GREEN, t, out)
        elif a == A.RED:
            if self.clear_until is not None and t >= self.clear_until:
                self.clear_until = None
                out.append((E.END_RED_CLEARANCE, self.number))
                out.append((E.PHASE_INACTIVE, self.number))
            if self.want_start and t >= self.start_at():
                if self.red_amber:
                    self.set(A.RED_AMBER, t, out)
                else:
                    self.set(A.GREEN, t, out)

    def _clear(self, t: int, out: list) -> None:
        """Begin the change interval after green."""
        if not self.ped:
            self.set(A.AMBER, t, out)
        elif self.ped_clear:
            self.set(A.FLASH_RED, t, out)
        else:
            self.set(A.RED, t, out)
            out.append((E.PED_DONT_WALK, self.number))

    # -- flash ------------------------------------------------------------------------
    def to_flash(self, t: int, vehicle_flash: int) -> None:
        if self.showing_green:
            self.green_end = t
        self.aspect = A.DARK if self.ped else vehicle_flash
        self.since = t
        self.want_start = False
        self.terminate_at = None
        self.clear_until = None

    def to_red(self, t: int) -> None:
        self.aspect = A.RED
        self.since = t
