"""The independent signal monitor: NEMA TS2 MMU-style checks on what the heads show.

It reads lamp bits with timestamps (the electrical side, never the controller's
intentions) and knows the intersection only from its own table (monitor/table.py), so
that it shares nothing with the timing core and a bug in the core shows up here. Each
check keeps its own fields on `Head`; the conventions they follow are in rules.py.

Plain MicroPython-compatible code: a monitor board runs this module unmodified.
"""

from .head import Head, flash_lamp
from .rules import (
    CONFLICT_S,
    DUAL_S,
    EPS,
    FLASH_GAP_S,
    FLASH_OFF_S,
    NEVER,
    QUIET_S,
    RED_FAIL_S,
    SHORT_AMBER_S,
    STARTUP_FLASH_S,
    STEADY_S,
    A,
    G,
    R,
)
from .table import validate
from .violation import Violation, secs, show


class SignalMonitor:
    """Feed it the lamps of every head of one intersection; it reports TS2 violations."""

    def __init__(self, table, *, tolerance_s: float = 0.0) -> None:
        """`table`: a monitor table (monitor/table.py; the cabinet makes one with
        controller/config/monitor_table.py). ValueError if it is invalid."""
        err = None if isinstance(table, dict) else "not a table (a dict)"
        err = err or validate(table)
        if err:
            raise ValueError("monitor table: " + err)
        self.table = table
        self.intersection = table["intersection"]
        self.tol = tolerance_s
        self.violations: list = []
        lamp = flash_lamp(table)
        made = [Head(g, lamp) for g in table["groups"]]
        # vehicles first (a pedestrian's red-fail check reads them), each in table order
        heads = [h for h in made if not h.ped] + [h for h in made if h.ped]
        intergreen = {}
        for a, b, ms in table["conflicts"]:
            intergreen[(a, b)] = ms / 1000
        for h in heads:
            h.rivals = [(a, intergreen[(a.id, h.id)]) for a in heads
                        if (a.id, h.id) in intergreen]
        self._heads = heads
        self._vehicles = [h for h in heads if not h.ped]
        self._conflicting = intergreen      # keys: every conflicting ordered pair
        self._latch: dict = {}
        self._t = NEVER
        self._last: dict | None = None
        self._idle = False          # every head has been stepped past its quiet time
        self._startup: float | None = None     # start of the start-up flash being timed
        self._out: list = []

    def feed(self, t: float, lamps: dict) -> list:
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

    def finish(self, t: float) -> list:
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

    def _step(self, h: Head, t: float, bits: int, first: bool) -> None:
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
            self._startup_step(h, t, bits, reflash, self._startup)
        self._green(h, t, bits, fell, rose, first)
        if not h.ped:
            self._amber(h, t, bits, fell, rose, after_green)
        elif h.fdw and rose & R:
            h.fdw_pulse = 2 if after_green else 1 if reflash & R else 0
        if h.pend:
            self._pending(h, t, bits, rose)
        self._right_of_way(h, t, bits)

    def _report(self, t: float, kind: str, groups: tuple[str, ...], detail: str) -> None:
        self._out.append(Violation(t, self.intersection, kind, groups, detail))

    def _tol(self) -> str:
        return f" (tolerance {secs(self.tol)})" if self.tol else ""

    # -- red fail: no lamp lit --------------------------------------------------------

    def _red_fail(self, h: Head, t: float, prev: int, bits: int) -> None:
        if not prev and h.dark_since is not None and not h.rf_done:
            dark = t - h.dark_since
            if h.ped and not bits and self._flash_mode(t):
                h.dark_since = t    # dark is right in flash mode: time it from the flash's end
            elif dark >= RED_FAIL_S - EPS:
                h.rf_done = True
                self._report(t, "red_fail", (h.id,),
                             f"{h.id} showed no lamp for {secs(dark)} (reported from "
                             f"{secs(RED_FAIL_S)}; TS2 faults over 1 s)")
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

    def _dual(self, h: Head, t: float, bits: int) -> None:
        if h.dual_since is not None:                    # held from then until now
            h.dual_seen = t
            if not h.dual_done and t - h.dual_since >= DUAL_S - EPS:
                h.dual_done = True
                self._report(t, "dual_indication", (h.id,),
                             f"{h.id} showed {show(h.dual_bits)} for "
                             f"{secs(t - h.dual_since)} (reported from {secs(DUAL_S)})")
        if (bits & G and bits & (R | A)) or (bits & R and bits & A and not h.ra_ok):
            if h.dual_since is None:
                if t - h.dual_seen > FLASH_GAP_S + EPS:
                    h.dual_done = False                 # a new episode, not a flash of the old
                h.dual_since, h.dual_bits = t, bits
        else:
            h.dual_since = None

    # -- start-up flash: 4-11 s at the start of the stream -----------------------------

    def _startup_step(self, h: Head, t: float, bits: int, reflash: int, t0: float) -> None:
        lamp = h.flash
        if bits & ~lamp:                                # a non-flash indication
            r = h.rise[lamp]
            lit = t - r if bits & lamp or h.fall[lamp] == t else 0.0
            if lit > FLASH_OFF_S + self.tol + EPS:
                # the flash lamp went steady before (a red flash into the all-red, then
                # red+amber or green): the flash ended where that lamp stopped flashing
                self._end_startup(t, t0, r, r, False)
            else:
                self._end_startup(t, t0, t, t, False)
        elif reflash & lamp and t - t0 > STARTUP_FLASH_S[1] + self.tol + EPS:
            self._end_startup(t, t0, t, t, True)        # still flashing, already too long
        elif bits & lamp and t - h.rise[lamp] > STEADY_S + EPS:
            r = h.rise[lamp]                            # went steady within this pulse
            self._end_startup(t, t0, r, r + h.width[lamp], False)

    def _end_startup(self, t: float, t0: float, end_lo: float, end_hi: float,
                     ongoing: bool) -> None:
        self._startup = None
        lo, hi = STARTUP_FLASH_S
        if end_hi - t0 < lo - self.tol - EPS:
            d, how = end_hi - t0, "lasted"
        elif end_lo - t0 > hi + self.tol + EPS:
            d, how = end_lo - t0, "was still on after" if ongoing else "lasted"
        else:
            return
        self._report(t, "startup_flash", tuple(h.id for h in self._vehicles),
                     f"start-up flash {how} {secs(d)}; TS2 requires {lo:g}-{hi:g} s{self._tol()}")

    # -- green: intergreen at its start, minimum green and green-to-red at its end -------

    def _green(self, h: Head, t: float, bits: int, fell: int, rose: int, first: bool) -> None:
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

    def _intergreen(self, h: Head, t: float) -> None:
        for a, need in h.rivals:
            if a.g_fall == NEVER or a.bits & G:
                continue                                # never green, or green now: a conflict
            gap = t - a.g_fall
            if gap < need - self.tol - EPS:
                self._report(t, "short_intergreen", (a.id, h.id),
                             f"{h.id} green started {secs(gap)} after the end of green of "
                             f"{a.id}; intergreen {a.id}->{h.id} is {secs(need)}{self._tol()}")

    def _judge_green(self, h: Head, t: float, steady: float | None) -> None:
        need = h.min_green_s
        if steady is not None and steady < need - self.tol - EPS:
            what = "walk" if h.ped else "steady green"
            self._report(t, "short_green", (h.id,),
                         f"{h.id} {what} lasted {secs(steady)}; minimum {secs(need)}{self._tol()}")

    # -- change amber ------------------------------------------------------------------

    def _amber(self, h: Head, t: float, bits: int, fell: int, rose: int,
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

    def _judge_amber(self, h: Head, t: float, dur: float) -> None:
        need = max(h.amber_s - self.tol, SHORT_AMBER_S)
        if dur < need - EPS:
            self._report(t, "short_amber", (h.id,),
                         f"{h.id} amber lasted {secs(dur)}; required {secs(need)} (configured "
                         f"{secs(h.amber_s)}, TS2 minimum {secs(SHORT_AMBER_S)}){self._tol()}")

    # -- pulses whose meaning waits on whether they flash --------------------------------

    def _pending(self, h: Head, t: float, bits: int, rose: int) -> None:
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
                             f"{h.id} went from green to {show(bits or R)} with no amber")

    # -- right of way and conflicts -----------------------------------------------------

    def _right_of_way(self, h: Head, t: float, bits: int) -> None:
        """Every non-red indication, as a TS2 MMU counts it: green, walk, change amber,
        red+amber, flashing don't walk; `sure` False while it may be flash mode. An
        interval is `firm` (iv[3]) once it shows what flash mode never shows (a green,
        red+amber) or is right of way from its first sample (a change amber after green)."""
        sure = None
        if bits & G:
            sure = True
        elif h.ped:
            if h.fdw_pulse and bits & R and t - h.rise[R] <= STEADY_S + EPS:
                sure = h.fdw_pulse == 2
        elif bits & A:
            sure = bool(bits & R) or h.a_sure or t - h.rise[A] > STEADY_S + EPS
        cur = h.row
        if sure is not None:
            firm = bool(bits & G) or bits & (R | A) == R | A
            if cur is None:
                h.row = cur = [t, None, sure, sure or firm]
                h.iv.append(cur)
                w = h.fdw_wait
                if w is not None and bits & R:
                    # the red relit: the pulse before was flashing don't walk after all
                    if t - w[1] <= FLASH_GAP_S + EPS:
                        w[2] = True
                    h.fdw_wait = None
            else:
                if sure:
                    cur[2] = True
                if firm:
                    cur[3] = True
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
    def _window(ia: list, ib: list) -> float:
        """How long an overlap must last to be a conflict: the TS2 window when either
        interval is firm (a green, walk, red+amber, or right of way from its start); else
        (ambers, pulses that only turned out to be right of way later) only when both are
        steady (> STEADY_S): the first pulses of flash mode show every amber at once."""
        if ia[3] or ib[3]:
            return CONFLICT_S
        return STEADY_S + 2 * EPS

    def _overlap(self, t: float, a: Head, b: Head) -> None:
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
                elif ia[2] and ib[2] and end - start >= self._window(ia, ib) - EPS:
                    self._latch[key] = end
                    self._report(t, "conflict", key,
                                 f"{a.id} ({show(a.bits)}) and {b.id} ({show(b.bits)}) "
                                 f"showed right of way together for {secs(end - start)} "
                                 f"(reported from {secs(CONFLICT_S)}; TS2 faults over 0.45 s)")
