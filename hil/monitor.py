"""The independent signal monitor: NEMA TS2 MMU-style checks on what the heads show.

It reads lamp bits with timestamps (the electrical side, never the controller's
intentions) and shares nothing with the timing core but the configuration model, so that
a bug in the core shows up here. Each check keeps its own fields on `_Head`.

Conventions every check follows:
- Sample-and-hold: a sample's lamps hold until the next sample; a duration is measured
  from the first sample that shows a state to the first sample that no longer does.
- Flashing is recognised from the lamps, not from a phase: a lamp re-lit within
  FLASH_GAP_S of going dark is flashing; one lit without a break for more than STEADY_S
  is steady. Until a pulse is classified, judgements that depend on it wait.
- Where the lamps leave a boundary uncertain (the first lit half of a flashing green
  merges into the steady green before it) the controller gets the benefit of the doubt,
  which is at most one flash on-time (0.5 s).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

from controller.config.model import PEDESTRIAN, Intersection
from protocols.aspects import LAMP_AMBER, LAMP_GREEN, LAMP_RED

R, A, G = LAMP_RED, LAMP_AMBER, LAMP_GREEN

CONFLICT_S = 0.3            # TS2: ignore < 0.2 s, must fault > 0.45 s
DUAL_S = 0.3                # the MMU dual-indication timer, same window as conflicts
RED_FAIL_S = 0.8            # TS2: ignore < 0.7 s, must fault > 1.0 s
SHORT_AMBER_S = 2.7         # TS2 short yellow, whatever the configuration says
STARTUP_FLASH_S = (4.0, 11.0)
FLASH_GAP_S = 1.2           # a lamp re-lit within this after going dark is flashing
STEADY_S = 1.0              # a lamp lit longer than this without a break is steady
FLASH_OFF_S = 0.5           # the dark half of a 1 Hz flash
QUIET_S = 1.5               # after a change a head times nothing longer than this
EPS = 1e-6                  # times are sums of 0.1 s steps

KINDS = ("conflict", "short_intergreen", "short_green", "short_amber", "green_to_red",
         "dual_indication", "red_fail", "startup_flash")

class Violation(NamedTuple):
    t: float            # when it was detected (s)
    intersection: str
    kind: str           # one of KINDS
    groups: tuple[str, ...]
    detail: str         # human-readable, with the measured and required figures


def _s(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") + " s"


def _show(bits: int) -> str:
    return "+".join(n for b, n in ((R, "red"), (A, "amber"), (G, "green")) if bits & b) or "dark"


class _Head:
    """One signal group's head: its lamps' last edges and each check's own state."""

    __slots__ = ("id", "g", "ped", "flash", "ra_ok", "fdw", "rivals", "bits", "rise", "fall",
                 "width", "quiet_at", "stepped", "dark_since", "rf_done", "dual_since",
                 "dual_bits", "dual_seen", "dual_done", "g_state", "g_open", "g_start",
                 "g_fall", "g_steady", "a_state", "a_start", "a_fall", "a_dur", "a_sure",
                 "fdw_pulse", "fdw_wait", "pend", "row", "iv")

    def __init__(self, group, flash_lamp: int) -> None:
        self.id, self.g, self.ped = group.id, group, group.kind == PEDESTRIAN
        self.flash = 0 if self.ped else flash_lamp      # the lamp it flashes in flash mode
        self.ra_ok = not self.ped and group.profile.red_amber
        self.fdw = self.ped and group.profile.ped_clearance == "flash_red"
        self.rivals: list[tuple[_Head, float]] = []     # conflicting heads, intergreen to us
        self.bits = 0
        self.rise: list = [None] * 5    # per lamp bit: last rise, last fall, last pulse width
        self.fall: list = [None] * 5
        self.width = [0.0] * 5
        self.quiet_at = self.stepped = -math.inf        # last change + QUIET_S; last step
        self.dark_since, self.rf_done = None, False     # red fail
        self.dual_since, self.dual_bits, self.dual_seen, self.dual_done = (
            None, 0, -math.inf, False)
        # Green: g_state 0 none, 1 lit, 2 dark and maybe flashing; g_open while the steady
        # part is on; g_fall the end of green (last lit green lamp); g_steady to judge.
        self.g_state, self.g_open, self.g_start, self.g_fall, self.g_steady = (
            0, False, None, None, None)
        # Change amber: a_state 0 none, 1 lit, 2 ended and awaiting what follows; a_sure
        # when this amber pulse follows a green, so that it is right of way at once.
        self.a_state, self.a_start, self.a_fall, self.a_dur, self.a_sure = 0, 0.0, 0.0, 0.0, False
        self.fdw_pulse = 0      # this red pulse is flashing don't walk: 2 first, 1 later
        self.fdw_wait: list | None = None   # a dark-ended red pulse: FDW if the red relights
        self.pend: list[list] = []    # [lamp, rise, fall, "G"|"A", figure]: pulses to classify
        self.row: list | None = None  # right of way now: [start, end, sure]
        self.iv: list[list] = []      # right-of-way intervals still relevant to conflicts


class SignalMonitor:
    """Feed it the lamps of every head of one intersection; it reports TS2 violations."""

    def __init__(self, inter: Intersection, *, tolerance_s: float = 0.0) -> None:
        self.inter = inter
        self.tol = tolerance_s
        self.violations: list[Violation] = []
        flash_lamp = R if inter.flash_aspect == "red" else A
        heads = sorted((_Head(g, flash_lamp) for g in inter.groups), key=lambda h: h.ped)
        for h in heads:     # vehicles first: a pedestrian's red-fail check reads them
            h.rivals = [(a, inter.intergreen.get((a.id, h.id), 0.0)) for a in heads
                        if (a.id, h.id) in inter.conflicts]
        self._heads = heads
        self._vehicles = [h for h in heads if not h.ped]
        self._conflicting = inter.conflicts
        self._latch: dict[tuple[str, str], float] = {}
        self._t = -math.inf
        self._last: dict | None = None
        self._idle = False          # every head has been stepped past its quiet time
        self._startup: float | None = None     # start of the start-up flash being timed
        self._out: list[Violation] = []

    def feed(self, t: float, lamps: Mapping[str, int]) -> list[Violation]:
        """Lamp bits lit on every signal group's head at time t (s, non-decreasing).

        Returns the violations detected by this sample (also kept in .violations). A group
        missing from `lamps` reads dark, as an unconnected monitor channel would; bits other
        than red, amber and green are ignored.
        """
        if t < self._t:
            raise ValueError(f"time went backwards: {t} after {self._t}")
        self._t = t
        if self._idle and lamps == self._last:
            return []           # nothing changed and nothing is being timed
        first = self._last is None
        if first and all(not lamps.get(h.id, 0) & ~h.flash for h in self._heads):
            self._startup = t
        out = self._out = []
        idle = True
        for h in self._heads:
            bits = lamps.get(h.id, 0) & (R | A | G)
            # Step a head that changed, or is timing something: until it has been stepped
            # once past its quiet time (however far apart the samples are), or while dark.
            if first or bits != h.bits or h.stepped <= h.quiet_at or not (bits or h.rf_done):
                self._step(h, t, bits, first)
                h.stepped = t
                idle = idle and t > h.quiet_at and bool(bits or h.rf_done)
        self._conflicts(t)
        self._last = dict(lamps)
        self._idle = idle
        self.violations.extend(out)
        return out

    def finish(self, t: float) -> list[Violation]:
        """End of stream: judge what the held lamps prove up to t.

        A judgement still waiting for a lamp's next flash (a pulse that might be the start
        of flash mode) cannot be made from the lamps and is dropped, not guessed.
        """
        if self._last is None:
            return []
        out = self.feed(t, self._last)
        for h in self._heads:
            h.pend.clear()
            h.g_state = h.a_state = 0
            h.g_steady = None
        self._startup = None
        return out

    # -- one head, one sample ---------------------------------------------------------

    def _step(self, h: _Head, t: float, bits: int, first: bool) -> None:
        prev = h.bits
        fell, rose = prev & ~bits, bits & ~prev
        h.bits = bits
        if fell or rose or first:
            h.quiet_at = t + QUIET_S
        after_green = bool(prev & G) or (
            h.g_state == 2 and t - h.g_fall <= FLASH_GAP_S + EPS)
        reflash = 0
        for lamp in (R, A, G):
            if fell & lamp:
                h.fall[lamp] = t
                h.width[lamp] = t - h.rise[lamp]
            elif rose & lamp:
                f = h.fall[lamp]
                if f is not None and t - f <= FLASH_GAP_S + EPS:
                    reflash |= lamp
                h.rise[lamp] = t
        self._red_fail(h, t, prev, bits)
        self._dual(h, t, bits)
        if self._startup is not None:
            self._startup_step(h, t, bits, reflash)
        self._green(h, t, bits, fell, rose, first)
        if not h.ped:
            self._amber(h, t, bits, fell, rose, after_green)
        elif h.fdw and rose & R:
            h.fdw_pulse = 2 if after_green else 1 if reflash & R else 0
        if h.pend:
            self._pending(h, t, bits, rose)
        self._right_of_way(h, t, bits)

    def _report(self, t: float, kind: str, groups: tuple[str, ...], detail: str) -> None:
        self._out.append(Violation(t, self.inter.id, kind, groups, detail))

    def _tol(self) -> str:
        return f" (tolerance {_s(self.tol)})" if self.tol else ""

    # -- red fail: no lamp lit --------------------------------------------------------

    def _red_fail(self, h: _Head, t: float, prev: int, bits: int) -> None:
        if not prev and h.dark_since is not None and not h.rf_done:
            dark = t - h.dark_since
            if h.ped and not bits and self._flash_mode(t):
                h.dark_since = t    # dark is right in flash mode: time it from the flash's end
            elif dark >= RED_FAIL_S - EPS:
                h.rf_done = True
                self._report(t, "red_fail", (h.id,),
                             f"{h.id} showed no lamp for {_s(dark)} (reported from "
                             f"{_s(RED_FAIL_S)}; TS2 faults over 1 s)")
        if bits:
            h.dark_since, h.rf_done = None, False
        elif h.dark_since is None:
            # a head that was flashing (don't walk, green) is dark by design until its
            # next pulse is due: the dark is timed from then
            pulsing = h.fdw_pulse or h.g_state == 2
            h.dark_since = t + (FLASH_OFF_S if pulsing and prev else 0.0)

    def _flash_mode(self, t: float) -> bool:
        """Every vehicle head shows only its flash lamp, in pulses or short dark gaps."""
        for v in self._vehicles:
            b, lamp = v.bits, v.flash
            if b & ~lamp:
                return False
            if b:
                if t - v.rise[lamp] > STEADY_S + EPS:
                    return False
            elif v.dark_since is None or t - v.dark_since > FLASH_GAP_S + EPS:
                return False
        return bool(self._vehicles)

    # -- dual indication: green with red or amber; red+amber where the profile has none --

    def _dual(self, h: _Head, t: float, bits: int) -> None:
        if h.dual_since is not None:                    # held from then until now
            h.dual_seen = t
            if not h.dual_done and t - h.dual_since >= DUAL_S - EPS:
                h.dual_done = True
                self._report(t, "dual_indication", (h.id,),
                             f"{h.id} showed {_show(h.dual_bits)} for "
                             f"{_s(t - h.dual_since)} (reported from {_s(DUAL_S)})")
        if (bits & G and bits & (R | A)) or (bits & R and bits & A and not h.ra_ok):
            if h.dual_since is None:
                if t - h.dual_seen > FLASH_GAP_S + EPS:
                    h.dual_done = False                 # a new episode, not a flash of the old
                h.dual_since, h.dual_bits = t, bits
        else:
            h.dual_since = None

    # -- start-up flash: 4-11 s at the start of the stream -----------------------------

    def _startup_step(self, h: _Head, t: float, bits: int, reflash: int) -> None:
        lamp = h.flash
        if bits & ~lamp:                                # a non-flash indication
            self._end_startup(t, t, t, False)
        elif reflash & lamp and t - self._startup > STARTUP_FLASH_S[1] + self.tol + EPS:
            self._end_startup(t, t, t, True)            # still flashing, already too long
        elif bits & lamp and t - h.rise[lamp] > STEADY_S + EPS:
            r = h.rise[lamp]                            # went steady within this pulse
            self._end_startup(t, r, r + h.width[lamp], False)

    def _end_startup(self, t: float, end_lo: float, end_hi: float, ongoing: bool) -> None:
        t0, self._startup = self._startup, None
        lo, hi = STARTUP_FLASH_S
        if end_hi - t0 < lo - self.tol - EPS:
            d, how = end_hi - t0, "lasted"
        elif end_lo - t0 > hi + self.tol + EPS:
            d, how = end_lo - t0, "was still on after" if ongoing else "lasted"
        else:
            return
        self._report(t, "startup_flash", tuple(h.id for h in self._vehicles),
                     f"start-up flash {how} {_s(d)}; TS2 requires {lo:g}-{hi:g} s{self._tol()}")

    # -- green: intergreen at its start, minimum green and green-to-red at its end -------

    def _green(self, h: _Head, t: float, bits: int, fell: int, rose: int, first: bool) -> None:
        if rose & G:
            if h.g_state == 2 and t - h.g_fall <= FLASH_GAP_S + EPS:
                h.g_state = 1                           # flashing green: the steady part ended
                self._judge_green(h, t, h.g_steady)
                h.g_steady = None
            else:
                h.g_state, h.g_open, h.g_steady = 1, True, None
                h.g_start = None if first else t
                if not first:
                    self._intergreen(h, t)
        elif fell & G:
            h.g_fall, h.g_state = t, 2
            if h.g_open:
                h.g_open = False
                h.g_steady = None if h.g_start is None else t - h.g_start
        if h.g_state != 2:
            return
        others = bits & ~G
        if others:                                      # what follows the green
            h.g_state = 0
            if h.ped:                                   # walk ends into clearance or don't walk
                self._judge_green(h, t, h.g_steady)
            else:
                lamp = R if others & R else A
                if h.g_steady is not None or lamp == R:  # decided once we know it's no flash
                    h.pend.append([lamp, h.rise[lamp], None, "G", h.g_steady])
            h.g_steady = None
        elif t - h.g_fall > FLASH_GAP_S + EPS:
            h.g_state, h.g_steady = 0, None             # went dark: that's red fail's business

    def _intergreen(self, h: _Head, t: float) -> None:
        for a, need in h.rivals:
            if a.g_fall is None or a.bits & G:
                continue                                # never green, or green now: a conflict
            gap = t - a.g_fall
            if gap < need - self.tol - EPS:
                self._report(t, "short_intergreen", (a.id, h.id),
                             f"{h.id} green started {_s(gap)} after the end of green of "
                             f"{a.id}; intergreen {a.id}->{h.id} is {_s(need)}{self._tol()}")

    def _judge_green(self, h: _Head, t: float, steady: float | None) -> None:
        need = h.g.min_green_s
        if steady is not None and steady < need - self.tol - EPS:
            what = "walk" if h.ped else "steady green"
            self._report(t, "short_green", (h.id,),
                         f"{h.id} {what} lasted {_s(steady)}; minimum {_s(need)}{self._tol()}")

    # -- change amber ------------------------------------------------------------------

    def _amber(self, h: _Head, t: float, bits: int, fell: int, rose: int,
               after_green: bool) -> None:
        if rose & A:
            if (h.a_state == 2 and not rose & ~A
                    and t - h.a_fall <= FLASH_GAP_S + EPS):
                h.a_state = 0                           # the amber flashes: flash mode
            h.a_sure = after_green and not bits & R
        if not h.a_state and after_green and bits & (R | A | G) == A:
            h.a_state, h.a_start = 1, t                 # amber alone, straight after green
        elif fell & A and h.a_state == 1:
            h.a_state, h.a_fall, h.a_dur = 2, t, t - h.a_start
        if h.a_state != 2:
            return
        others = bits & ~A
        if others:                                      # decided once we know it's no flash
            h.a_state = 0
            lamp = R if others & R else others & -others
            h.pend.append([lamp, h.rise[lamp], None, "A", h.a_dur])
        elif t - h.a_fall > FLASH_GAP_S + EPS:
            h.a_state = 0

    def _judge_amber(self, h: _Head, t: float, dur: float) -> None:
        need = max(h.g.amber_s - self.tol, SHORT_AMBER_S)
        if dur < need - EPS:
            self._report(t, "short_amber", (h.id,),
                         f"{h.id} amber lasted {_s(dur)}; required {_s(need)} (configured "
                         f"{_s(h.g.amber_s)}, TS2 minimum {_s(SHORT_AMBER_S)}){self._tol()}")

    # -- pulses whose meaning waits on whether they flash --------------------------------

    def _pending(self, h: _Head, t: float, bits: int, rose: int) -> None:
        for item in list(h.pend):
            lamp, r, f = item[0], item[1], item[2]
            other = rose & ~lamp
            if f is None:                               # flashes: None while undecided
                if bits & lamp:
                    flashes = False if t - r > STEADY_S + EPS else None
                else:                                   # went dark; did another lamp take over?
                    item[2], flashes = t, False if other else None
            elif rose & lamp:
                flashes = not other and t - f <= FLASH_GAP_S + EPS
            else:
                flashes = False if other or t - f > FLASH_GAP_S + EPS else None
            if flashes is None:
                continue
            h.pend.remove(item)
            if flashes:
                continue                                # flash mode took over: no judgement
            if item[3] == "A":
                self._judge_amber(h, t, item[4])
                continue
            self._judge_green(h, t, item[4])
            if lamp == R:
                self._report(t, "green_to_red", (h.id,),
                             f"{h.id} went from green to {_show(bits or R)} with no amber")

    # -- right of way and conflicts -----------------------------------------------------

    def _right_of_way(self, h: _Head, t: float, bits: int) -> None:
        """Green, walk, change amber, flashing don't walk; `sure` False while it may be flash."""
        sure = None
        if bits & G:
            sure = True
        elif h.ped:
            if h.fdw_pulse and bits & R and t - h.rise[R] <= STEADY_S + EPS:
                sure = h.fdw_pulse == 2
        elif bits & A and not bits & R:
            sure = h.a_sure or t - h.rise[A] > STEADY_S + EPS
        cur = h.row
        if sure is not None:
            if cur is None:
                h.row = cur = [t, None, sure]
                h.iv.append(cur)
                w = h.fdw_wait
                if w is not None and bits & R:
                    # the red relit: the pulse before was flashing don't walk after all
                    if t - w[1] <= FLASH_GAP_S + EPS:
                        w[2] = True
                    h.fdw_wait = None
            elif sure:
                cur[2] = True
        elif cur is not None:
            cur[1], h.row = t, None
            if not cur[2]:
                if h.ped and not bits & R and t - cur[0] <= STEADY_S + EPS:
                    h.fdw_wait = cur    # flashing don't walk only if the red lights again
                else:
                    h.iv.remove(cur)    # a flash-mode amber, or the steady don't walk

    def _conflicts(self, t: float) -> None:
        live = []
        for h in self._heads:
            if h.iv:
                if any(iv[1] is not None and iv[1] < t - FLASH_GAP_S for iv in h.iv):
                    h.iv = [iv for iv in h.iv if iv[1] is None or iv[1] >= t - FLASH_GAP_S]
                if h.iv:
                    live.append(h)
        for i, a in enumerate(live):
            for b in live[i + 1:]:
                if (a.id, b.id) in self._conflicting:
                    self._overlap(t, a, b)

    @staticmethod
    def _window(a: _Head, b: _Head, start: float) -> float:
        """How long an overlap must last to be a conflict. With a green (or walk) in it,
        the TS2 window; amber against amber only when both are steady (> STEADY_S): the
        first pulses of flash mode show every amber at once, and two conflicting change
        ambers can never overlap in normal operation (every intergreen covers the amber)."""
        for h in (a, b):
            if h.bits & G or (h.g_fall is not None and h.g_fall > start + EPS):
                return CONFLICT_S
        return STEADY_S + 2 * EPS

    def _overlap(self, t: float, a: _Head, b: _Head) -> None:
        key = (a.id, b.id)
        for ia in a.iv:
            for ib in b.iv:
                start = max(ia[0], ib[0])
                end = min(t if ia[1] is None else ia[1], t if ib[1] is None else ib[1])
                if end <= start:
                    continue
                seen = self._latch.get(key)
                if seen is not None and start <= seen + FLASH_GAP_S + EPS:
                    self._latch[key] = max(seen, end)   # the same episode, already reported
                elif ia[2] and ib[2] and end - start >= self._window(a, b, start) - EPS:
                    self._latch[key] = end
                    self._report(t, "conflict", key,
                                 f"{a.id} ({_show(a.bits)}) and {b.id} ({_show(b.bits)}) "
                                 f"showed right of way together for {_s(end - start)} "
                                 f"(reported from {_s(CONFLICT_S)}; TS2 faults over 0.45 s)")
