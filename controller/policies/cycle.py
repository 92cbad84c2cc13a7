"""Where a plan with a cycle (fixed time, coordinated) stands in its cycle.

The cycle is tied to civil time: cycle time 0 falls `offset` after local midnight, so
that intersections on the same clock (and cabinets on the same NTP-disciplined clock)
share it. The core's time `t` counts seconds without jumps; civil time may move against
it (a daylight-saving change, a step of the cabinet's clock): `ref` is how far civil time
runs ahead of `t`. When it moves, the clock keeps its position in the cycle and carries
the difference as `shift`, which it absorbs at most a fifth of a cycle per cycle: the
stages change through their normal transitions, none is jumped over. A plan change is
smooth the same way (a coordinated plan continues the cycle of the plan before).

Times are integer tenths of a second, as everywhere in the core.
"""

from __future__ import annotations

MAX_SHIFT = 0.2              # of a cycle, per cycle, while moving to a new reference


class CycleClock:
    def __init__(self, cycle: int, offset: int, ref: int = 0):
        self.cycle = cycle
        self.offset = offset
        self.ref = ref               # tenths civil time runs ahead of the core's t
        self.shift = 0               # tenths still to absorb

    def time(self, t: int) -> int:
        """The cycle time at `t` (0 = the main stage's green begins on time)."""
        return (t + self.ref - self.offset - self.shift) % self.cycle

    def _signed(self, x: int) -> int:
        """`x` modulo the cycle, as the shorter way round (-cycle/2 .. cycle/2)."""
        x %= self.cycle
        return x - self.cycle if x > self.cycle // 2 else x

    def stand_at(self, pos: int, t: int) -> None:
        """Stand at cycle time `pos` at `t`; the difference to the reference is absorbed."""
        self.shift = self._signed(t + self.ref - self.offset - pos)

    def resync(self, ref: int, smooth: bool = True) -> None:
        """Civil time moved against `t`: keep the position and absorb the difference
        (`smooth`), or stand on the new reference at once (nothing is running)."""
        if smooth:
            self.shift = self._signed(self.shift + ref - self.ref)
        self.ref = ref

    def absorb(self, max_forward: int | None = None) -> None:
        """Once a cycle: move towards the reference by at most MAX_SHIFT of a cycle (and
        the cycle time forward by at most `max_forward`)."""
        step = int(MAX_SHIFT * self.cycle)
        if self.shift > 0:              # the cycle time jumps forward
            ahead = step if max_forward is None else min(step, max_forward)
            self.shift = max(self.shift - ahead, 0)
        else:                           # back
            self.shift = min(self.shift + step, 0)
