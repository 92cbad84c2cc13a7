"""Lamp feedback: what the lamps really do, from the current-sense inputs of each head.

* red fail: a group shows steady red (RED, RED_AMBER) but its red draws no current for more
  than RED_FAIL_MS -> latched red-fail bit (the node goes to flash: modes.BLOCKING).
* lamp fail: a steady lamp that should be on draws no current, or one that should be off
  does, for more than LAMP_FAIL_MS -> latched lamp-fail bit. Flashing lamps are not judged.
* conflict: a non-red indication on two conflicting groups for more than CONFLICT_MS ->
  latched (FAULT_CONFLICT; the node goes to flash). Non-red, as a TS2 monitor counts it:
  a green lamp (walk; a flashing green counts between its flashes), an amber lamp (alone or
  with red: red+amber is right of way about to begin) unless the node flashes it (flash
  mode). A pedestrian clearance (flashing red) is judged by the guard, not here: its lamp
  is the don't-walk red, which a stuck relay never turns into right of way.
* dual indication: green with red or amber on one head (walk with don't walk), or red with
  amber while the group is not commanded red+amber, for more than DUAL_MS -> latched
  (FAULT_DUAL; flash). Gaps shorter than HOLD_MS (a flashing lamp's dark half) do not end it.
* observed aspect: the aspect the sensed lamps make (register PI_LAMP_ASPECT).
Groups or lamps without a feedback pin are taken to do what they are driven to do.
TS2 windows (shared/DOMAIN.md): ignore < 200 ms, fault > 450 ms; the scan runs every
10 ms, so a fault latches between CONFLICT_MS and CONFLICT_MS + one scan.
"""

import board
from board import diff
from protocols import register_map as rm
from protocols.aspects import (
    AMBER,
    DARK,
    FLASH_AMBER,
    FLASH_GREEN,
    GREEN,
    LAMP_AMBER,
    LAMP_GREEN,
    LAMP_RED,
    LAMPS,
    RED,
    RED_AMBER,
)

RED_FAIL_MS = 700
LAMP_FAIL_MS = 700
CONFLICT_MS = 400
DUAL_MS = 400
HOLD_MS = 600               # a flashing lamp counts as lit between its flashes

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
        self.green_at = [now] * n       # last green of a flashing green
        self.row = bytearray(n)         # non-red indication now
        self.dual_on = bytearray(n)     # a dual indication episode is under way
        self.dual_since = [now] * n
        self.dual_at = [now] * n        # last scan that saw it
        self.conflict_since = now
        self.conflict_on = False
        self.red_fail = 0               # latched bit per group
        self.lamp_fail = 0              # latched bit per group
        self.dual = 0                   # latched bit per group
        self.conflict = False           # latched

    def scan(self, shown, lit, now):
        """Read the sense inputs (`shown`: the aspects, `lit`: the lamp bits driven);
        returns the FAULT_* bits raised by this scan."""
        faults = 0
        for g in range(self.n):
            m = self.mask[g]
            bits = lit[g] & ~m
            if m:
                sensed = self._sense(g)
                faults |= self._lamps(g, sensed, shown[g], now)
                bits |= sensed
            faults |= self._dual(g, bits, shown[g], now)
            a = shown[g]
            row = bits & LAMP_GREEN or (bits & LAMP_AMBER and a != FLASH_AMBER)
            if bits & LAMP_GREEN:
                self.green_at[g] = now
            elif a == FLASH_GREEN and diff(now, self.green_at[g]) <= HOLD_MS:
                row = True
            self.row[g] = 1 if row else 0
        both = False
        for i, j in self.conflicts:
            if self.row[i] and self.row[j]:
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

    def _sense(self, g):
        bits = 0
        pins = self.pins[g]
        for k in range(3):
            p = pins[k]
            if p is not None and p.value() ^ self.inv[g]:
                bits |= _CHANNELS[k]
        self.sensed[g] = bits
        return bits

    def _lamps(self, g, bits, shown, now):
        """Red fail and lamp fail of group g from its sensed lamp bits."""
        faults = 0
        m = self.mask[g]
        steady, flashing = LAMPS[shown]
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
        return faults

    def _dual(self, g, bits, shown, now):
        """Dual indication on group g's head: green with red or amber, or red+amber where
        the group is not commanded red+amber."""
        if not ((bits & LAMP_GREEN and bits & (LAMP_RED | LAMP_AMBER))
                or (bits & LAMP_RED and bits & LAMP_AMBER and shown != RED_AMBER)):
            if self.dual_on[g] and diff(now, self.dual_at[g]) > HOLD_MS:
                self.dual_on[g] = 0
            return 0
        self.dual_at[g] = now
        if not self.dual_on[g]:
            self.dual_on[g] = 1
            self.dual_since[g] = now
        elif not self.dual & (1 << g) and diff(now, self.dual_since[g]) > DUAL_MS:
            self.dual |= 1 << g
            return rm.FAULT_DUAL
        return 0

    def ack(self):
        """Clear the latches whose condition is gone (never the conflict or dual latch)."""
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
