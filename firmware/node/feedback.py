"""Lamp feedback: what the lamps really do, from the current-sense inputs of each head.

* red fail: a group shows steady red (RED, RED_AMBER) but its red draws no current for more
  than RED_FAIL_MS -> latched red-fail bit (the node goes to flash: modes.BLOCKING).
* lamp fail: a steady lamp that should be on draws no current, or one that should be off
  does, for more than LAMP_FAIL_MS -> latched lamp-fail bit. Flashing lamps are not judged.
* conflict: greens sensed on two conflicting groups for more than CONFLICT_MS -> latched.
* observed aspect: the aspect the sensed lamps make (register PI_LAMP_ASPECT).
Groups or lamps without a feedback pin are taken to do what they are driven to do.
"""

from protocols import register_map as rm
from protocols.aspects import (
    AMBER,
    DARK,
    GREEN,
    LAMP_AMBER,
    LAMP_GREEN,
    LAMP_RED,
    LAMPS,
    RED,
    RED_AMBER,
)

from . import board
from .board import diff

RED_FAIL_MS = 700
LAMP_FAIL_MS = 700
CONFLICT_MS = 300
GREEN_HOLD_MS = 600         # a flashing green counts as green between its flashes

_CHANNELS = (LAMP_RED, LAMP_AMBER, LAMP_GREEN)
_DECODE = {0: DARK, LAMP_RED: RED, LAMP_RED | LAMP_AMBER: RED_AMBER, LAMP_GREEN: GREEN,
           LAMP_AMBER: AMBER}


class Feedback:
    def __init__(self, groups, conflicts, now):
        n = len(groups)
        self.n = n
        self.pins = []
        self.mask = bytearray(n)        # lamp bits that have a feedback input
        self.inv = bytearray(n)
        for i in range(n):
            g = groups[i]
            fb = (g.fb_red, g.fb_amber, g.fb_green)
            self.pins.append(tuple(None if p is None else board.input_pin(p) for p in fb))
            for k in range(3):
                if fb[k] is not None:
                    self.mask[i] |= _CHANNELS[k]
            self.inv[i] = 1 if g.fb_active_low else 0
        self.conflicts = conflicts      # list of (i, j), i < j
        self.sensed = bytearray(n)
        self.bad = bytearray(n)         # lamp bits whose current is wrong now
        self.bad_since = [[now, now, now] for _ in range(n)]
        self.green_at = [now] * n
        self.green_seen = bytearray(n)
        self.conflict_since = now
        self.conflict_on = False
        self.red_fail = 0               # latched bit per group
        self.lamp_fail = 0              # latched bit per group
        self.conflict = False           # latched

    def scan(self, shown, now):
        """Read the sense inputs; returns the FAULT_* bits raised by this scan."""
        faults = 0
        for g in range(self.n):
            m = self.mask[g]
            if not m:
                continue
            bits = 0
            pins = self.pins[g]
            for k in range(3):
                p = pins[k]
                if p is not None and p.value() ^ self.inv[g]:
                    bits |= _CHANNELS[k]
            self.sensed[g] = bits
            steady, flashing = LAMPS[shown[g]]
            for k in range(3):
                ch = _CHANNELS[k]
                if not m & ch or flashing & ch:
                    self.bad[g] &= ~ch
                    continue
                wrong = (steady & ch) != (bits & ch)
                if not wrong:
                    self.bad[g] &= ~ch
                    continue
                if not self.bad[g] & ch:
                    self.bad[g] |= ch
                    self.bad_since[g][k] = now
                    continue
                t = diff(now, self.bad_since[g][k])
                if ch == LAMP_RED and steady & ch and t > RED_FAIL_MS:
                    if not self.red_fail & (1 << g):
                        self.red_fail |= 1 << g
                        faults |= rm.FAULT_RED_FAIL
                if t > LAMP_FAIL_MS and not self.lamp_fail & (1 << g):
                    self.lamp_fail |= 1 << g
                    faults |= rm.FAULT_LAMP_FAIL
            if bits & LAMP_GREEN:
                self.green_at[g] = now
                self.green_seen[g] = 1
            elif self.green_seen[g] and diff(now, self.green_at[g]) > GREEN_HOLD_MS:
                self.green_seen[g] = 0
        both = False
        for i, j in self.conflicts:
            if self.green_seen[i] and self.green_seen[j]:
                both = True
                break
        if not both:
            self.conflict_on = False
        elif not self.conflict_on:
            self.conflict_on = True
            self.conflict_since = now
        elif not self.conflict and diff(now, self.conflict_since) > CONFLICT_MS:
            self.conflict = True
            faults |= rm.FAULT_CONFLICT
        return faults

    def ack(self):
        """Clear the latches whose condition is gone (never the conflict latch)."""
        for g in range(self.n):
            if not self.bad[g]:
                self.lamp_fail &= ~(1 << g)
                self.red_fail &= ~(1 << g)

    def observed(self, g, shown, lit):
        """The aspect the lamps of group g make; `lit`: the lamp bits driven now."""
        m = self.mask[g]
        if not m or (self.sensed[g] & m) == (lit & m):
            return shown
        if m != LAMP_RED | LAMP_AMBER | LAMP_GREEN:
            return rm.ASPECT_INVALID
        return _DECODE.get(self.sensed[g], rm.ASPECT_INVALID)
