"""The guard: the node's own check of every commanded aspect against its provisioned tables.

It holds the aspect each group shows while the node is in ALL_RED or RUN, and changes it
only when the change keeps the tables (protocols/safety_tables.py):

  SEQUENCE      only legal aspect sequences (sequences.py)
  MIN_*         green >= min_green_ms, flashing green >= flash_green_ms, amber >= amber_ms,
                red+amber >= red_amber_ms, pedestrian flashing red >= clearance_ms
  CONFLICT      never RED_AMBER or GREEN while a conflicting group shows anything but RED or
                DARK (green, flashing green, amber, red+amber, pedestrian clearance): a
                TS2 monitor counts every non-red indication as right of way, so red+amber
                waits until every conflicting group is red (docs/CONTROL.md)
  INTERGREEN    GREEN only when every group with an intergreen towards this one has been
                out of green for that intergreen
  SKIPPED_CLEARANCE  a green commanded straight to RED/DARK: counted, and the node runs the
                group's own clearance (flashing green, amber / flashing red) itself
  STARTUP       a non-RED command during the start-up all-red (counted by the node's modes)

A refused command changes nothing: the group keeps its present aspect. Every refusal is
counted; `refusal_limit` of them within `refusal_window_ms` trip the guard, and the node
then goes to flash. Going to flash is always allowed, whatever the minimum times.

Transport jitter (`defer_ms`, 0: off). A command that arrives a little early, refused ONLY
because a minimum (MIN_*) or an intergreen (INTERGREEN, counted from an end of green that
has happened) has not yet elapsed, and that becomes legal within defer_ms, is not refused:
it is held as the group's pending command (not counted) and `tick` applies it at the moment
it becomes legal, after judging it afresh (`due_ms` says when, so the output task can wake
up then). A newer, different command for the group replaces it; flash and all-red drop it;
if at its time something else forbids it (say a conflicting green came meanwhile), it is
refused and counted then. A conflicting group in AMBER (or in a pedestrian clearance,
FLASH_RED) counts as time only when its own end is decided (it holds a command to red, or
the node clears it itself): red and red+amber (or green) may then come in one frame a few
ms early, the red is applied first. Everything else (sequence, a conflicting or
intergreen-bound group still green or in red+amber, a conflicting amber whose end nobody
has commanded, a green commanded straight to red, more than defer_ms early) is judged
exactly as without deferral. The lamps never show an aspect for less than its minimum: a
deferred change is applied only when `check` says OK.

Maintenance flash (`wind_down`, then `cleared`): every group ends through its own clearance
(green -> [flashing green] -> amber / pedestrian clearance -> red, each for its minimum;
red+amber -> red), and flash may follow only once every group is at rest and every
intergreen from those ends of green has run: the all-red before flash. A fault flash
(`enter_flash`) is immediate.
Times are wrapping ms ticks from the board; nothing here reads a clock.
"""

from board import add, diff
from protocols.aspects import (
    AMBER,
    DARK,
    FLASH_AMBER,
    FLASH_GREEN,
    FLASH_RED,
    GREEN,
    RED,
    RED_AMBER,
)

from . import sequences

OK = 0
SEQUENCE = 1
CONFLICT = 2
INTERGREEN = 3
MIN_GREEN = 4
MIN_AMBER = 5
MIN_RED_AMBER = 6
MIN_CLEARANCE = 7
STARTUP = 8
SKIPPED_CLEARANCE = 9
KIND_COUNT = 10
DEFERRED = 10           # command() result: held until it becomes legal (not a refusal)
NAMES = ("ok", "sequence", "conflict", "intergreen", "min-green", "min-amber",
         "min-red-amber", "min-clearance", "startup", "skipped-clearance")

NONE = 0xFF
AGE_MS = 700_000        # longer than any table time (safety_tables.MAX_TIME_MS)
COMMANDABLE = 8         # aspect codes 0..7


def _rows_of(g):
    kind = sequences.KINDS.index(g["kind"])
    return sequences.legal_rows(kind, g.get("amber_ms", 0) > 0, g.get("red_amber_ms", 0) > 0,
                                g.get("flash_green_ms", 0) > 0,
                                kind == sequences.PEDESTRIAN and g.get("clearance_ms", 0) > 0)


class Guard:
    def __init__(self, tables, flash_red, now, refusal_limit, refusal_window_ms, defer_ms=0):
        """`tables`: validated safety tables; `flash_red[g]`: the vehicle group flashes red
        instead of amber in flash mode; `defer_ms`: how early a command may come and still
        be held until it is legal instead of refused (0: never)."""
        groups = tables["groups"]
        n = len(groups)
        self.n = n
        self.rows = [_rows_of(g) for g in groups]
        # Minimum time per (group, aspect) before the group may leave that aspect.
        self.min_ms = []
        for g in groups:
            m = [0] * 8
            m[GREEN] = g.get("min_green_ms", 0)
            m[FLASH_GREEN] = g.get("flash_green_ms", 0)
            m[AMBER] = g.get("amber_ms", 0)
            m[RED_AMBER] = g.get("red_amber_ms", 0)
            if g["kind"] == "pedestrian":
                m[FLASH_RED] = g.get("clearance_ms", 0)
            self.min_ms.append(m)
        self.flash_aspect = bytearray(n)
        for i in range(n):
            has_amber = self.rows[i][GREEN] & (1 << AMBER) or self.rows[i][FLASH_GREEN] & (
                1 << AMBER)
            if groups[i]["kind"] != "pedestrian" and has_amber:
                self.flash_aspect[i] = FLASH_RED if flash_red[i] else FLASH_AMBER
            else:
                self.flash_aspect[i] = DARK
        self.conflicts = [[] for _ in range(n)]  # type: list[list[int]]
        for i, j in _pairs(tables.get("conflicts", ())):
            if j not in self.conflicts[i]:
                self.conflicts[i].append(j)
                self.conflicts[j].append(i)
        # into[j] = [(i, ms), ...]: intergreens that end at the start of green of j.
        self.into = [[] for _ in range(n)]  # type: list[list[tuple[int, int]]]
        for t in tables.get("intergreen_ms", ()):
            self.into[t[1]].append((t[0], t[2]))
        self.aspect = bytearray(n)
        self.target = bytearray(b"\xff" * n)      # node-run clearance: where it ends
        self.since = [now] * n                     # when the present aspect began
        self.since_old = bytearray(n)
        self.eog = [now] * n                       # end of the last green
        self.eog_old = bytearray(b"\x01" * n)      # no green yet: "long ago"
        self.refusals = 0                          # total, wraps at 16 bits
        self.by_kind = [0] * KIND_COUNT
        self.last_refusal = OK
        self._window = [now] * refusal_limit
        self._wi = 0
        self._wn = 0
        self.window_ms = refusal_window_ms
        self.tripped = False
        self.defer_ms = defer_ms
        self.pend = bytearray(b"\xff" * n)        # pending (deferred) command, NONE if none
        self.pend_until = [now] * n                # it is refused if not legal by then
        self.pend_at = [now] * n                   # when it should become legal
        self.npend = 0                             # groups with a pending command
        self.deferred = 0                          # commands held at least once (wraps)
        self._wait = 0                             # set by check()
        self.enter_flash(now)

    # ------------------------------------------------------------ bookkeeping
    def _set(self, g, a, now):
        old = self.aspect[g]
        if (old == GREEN or old == FLASH_GREEN) and a != GREEN and a != FLASH_GREEN:
            self.eog[g] = now
            self.eog_old[g] = 0
        self.aspect[g] = a
        self.since[g] = now
        self.since_old[g] = 0

    def _in_aspect_ms(self, g, now):
        return AGE_MS if self.since_old[g] else diff(now, self.since[g])

    def _left_ms(self, g, now):
        """ms of the present aspect's minimum still to run (<= 0: over). A minimum is over
        one tick after the ms clock shows it: ticks_ms truncates, so a change stamped at
        tick s happened in [s, s + 1) and only at tick s + min + 1 has it surely lasted
        min (the lamps never show an aspect for less than the table says)."""
        m = self.min_ms[g][self.aspect[g]]
        if not m:
            return 0
        return m + 1 - self._in_aspect_ms(g, now)

    def refuse(self, kind, now):
        """Count a refusal; trip when refusal_limit fell within refusal_window_ms."""
        self.refusals = (self.refusals + 1) & 0xFFFF
        self.by_kind[kind] += 1
        self.last_refusal = kind
        w = self._window
        w[self._wi] = now
        self._wi = (self._wi + 1) % len(w)
        if self._wn < len(w):
            self._wn += 1
        if self._wn == len(w) and diff(now, w[self._wi]) <= self.window_ms:
            self.tripped = True
        return kind

    def _drop(self, g):
        if self.pend[g] != NONE:
            self.pend[g] = NONE
            self.npend -= 1

    # ------------------------------------------------------------ modes
    def enter_flash(self, now):
        for g in range(self.n):
            self._set(g, self.flash_aspect[g], now)
            self.target[g] = NONE
            self._drop(g)

    def enter_all_red(self, now):
        for g in range(self.n):
            self._set(g, RED, now)
            self.target[g] = NONE
            self._drop(g)
        self.tripped = False
        self._wn = 0

    def wind_down(self, now):
        """A commanded flash begins: every group ends through its own clearance (the
        node runs it, `tick` steps it at each minimum); pending commands are dropped."""
        for g in range(self.n):
            self._drop(g)
            a = self.aspect[g]
            if a == RED_AMBER:
                self._set(g, RED, now)          # the red stays lit; no green follows
                self.target[g] = NONE
            elif a != RED and a != DARK:
                self.target[g] = RED
        self.tick(now)

    def cleared(self, now):
        """Every group at rest and every intergreen since the last ends of green run: the
        all-red after which a commanded flash may begin."""
        if not self.all_at_rest():
            return False
        for g in range(self.n):
            for j, ms in self.into[g]:
                if not self.eog_old[j] and diff(now, self.eog[j]) <= ms:
                    return False
        return True

    # ------------------------------------------------------------ commands (RUN)
    def check(self, g, want, now):
        """OK if group g may go from its present aspect to `want` now, else the refusal
        kind. SKIPPED_CLEARANCE means: refused as commanded, the node may clear instead.
        Also sets self._wait: ms until it becomes legal if only minimum and intergreen
        times stand in the way (0 when OK), -1 if anything else does."""
        have = self.aspect[g]
        row = self.rows[g]
        left = self._left_ms(g, now)
        self._wait = -1
        if want >= COMMANDABLE or not sequences.is_legal(row, have, want):
            if (want == RED or want == DARK) and sequences.reaches_rest_through(row, have):
                if left > 0:
                    return self._min_kind(have)
                return SKIPPED_CLEARANCE
            return SEQUENCE
        # The first reason found, in the order MIN_*, CONFLICT, INTERGREEN, is the kind;
        # `hard` is any reason that time alone does not end.
        kind = OK
        wait = 0
        hard = False
        if left > 0:
            kind = self._min_kind(have)
            wait = left
        if want == GREEN or want == RED_AMBER:
            # Right of way, or about to have it: every conflicting group must be at rest.
            for j in self.conflicts[g]:
                a = self.aspect[j]
                if a != RED and a != DARK:
                    if kind == OK:
                        kind = CONFLICT
                    left = self._clear_left_ms(j, now) if a == AMBER or a == FLASH_RED else -1
                    if left < 0:
                        hard = True
                        break
                    if left > wait:
                        wait = left
        if want == GREEN and not hard:
            for j, ms in self.into[g]:
                if self.aspect[j] == GREEN or self.aspect[j] == FLASH_GREEN:
                    hard = True
                    if kind == OK:
                        kind = CONFLICT if j in self.conflicts[g] else INTERGREEN
                    break
                if not self.eog_old[j]:
                    left = ms + 1 - diff(now, self.eog[j]) if ms else 0
                    if left > 0:
                        if kind == OK:
                            kind = INTERGREEN
                        if left > wait:
                            wait = left
        if not hard:
            self._wait = wait
        return kind

    def _clear_left_ms(self, j, now):
        """A conflicting group j in AMBER (or a pedestrian clearance) keeps right of way
        until it ends. That end is a matter of time only when j's end is already decided:
        j holds a command to RED or DARK (the controller's red, a few ms early), or the node
        runs j's clearance to rest itself. Then the ms until it ends (at least 1), else -1."""
        p = self.pend[j]
        if p == RED or p == DARK:
            d = diff(self.pend_at[j], now)
        elif self.target[j] != NONE and sequences.clearance_step(
                self.rows[j], self.aspect[j]) < 0:
            d = self._left_ms(j, now)
        else:
            return -1
        return d if d > 0 else 1

    @staticmethod
    def _min_kind(have):
        if have == GREEN:
            return MIN_GREEN
        if have == AMBER:
            return MIN_AMBER
        if have == RED_AMBER:
            return MIN_RED_AMBER
        return MIN_CLEARANCE

    def command(self, g, want, now):
        """Apply one group's commanded aspect if it is safe; returns OK, DEFERRED (held
        until it becomes legal, within defer_ms) or the refusal."""
        have = self.aspect[g]
        if want == have or (self.target[g] != NONE and want == self.target[g]):
            self._drop(g)
            return OK
        if want == self.pend[g]:
            return DEFERRED                     # a repeat: it keeps its time limit
        self._drop(g)                           # a newer command replaces a pending one
        kind = self.check(g, want, now)
        if kind == OK:
            self._set(g, want, now)
            self.target[g] = NONE
            return OK
        if kind == SKIPPED_CLEARANCE:
            self._set(g, sequences.clearance_step(self.rows[g], have), now)
            self.target[g] = want
        elif 0 < self._wait <= self.defer_ms:
            self.pend[g] = want
            self.pend_until[g] = add(now, self.defer_ms)
            self.pend_at[g] = add(now, self._wait)
            self.npend += 1
            self.deferred = (self.deferred + 1) & 0xFFFF
            return DEFERRED
        return self.refuse(kind, now)

    def command_all(self, wants, mask, now):
        """A frame's worth of commands (wants[g] for each g in bitmask `mask`): everything
        that ends or keeps right of way first, then red+amber and green. Returns the
        refusals."""
        refused = 0
        for opening in (False, True):
            for g in range(self.n):
                if mask & (1 << g) and _opens(wants[g]) == opening:
                    r = self.command(g, wants[g], now)
                    if r != OK and r != DEFERRED:
                        refused += 1
        return refused

    def _run_pending(self, g, now):
        """Apply group g's pending command if it is legal now; keep it while only time
        stands in its way and its limit allows; else refuse it (counted) now."""
        want = self.pend[g]
        kind = self.check(g, want, now)
        if kind == OK:
            self._drop(g)
            self._set(g, want, now)
            self.target[g] = NONE
            return
        w = self._wait
        if w > 0 and kind != SKIPPED_CLEARANCE and diff(self.pend_until[g], now) >= w:
            self.pend_at[g] = add(now, w)
            return
        self._drop(g)
        self.refuse(kind, now)

    def due_ms(self, now):
        """ms until the earliest pending command should become legal (0: now), or -1 if
        none is pending."""
        if not self.npend:
            return -1
        best = -1
        for g in range(self.n):
            if self.pend[g] != NONE:
                d = diff(self.pend_at[g], now)
                if d < 0:
                    d = 0
                if best < 0 or d < best:
                    best = d
        return best

    # ------------------------------------------------------------ time
    def tick(self, now):
        """Apply pending commands that became legal, run the node's own clearances and age
        old timestamps (call every few ms, and at due_ms)."""
        for g in range(self.n):
            if not self.since_old[g] and diff(now, self.since[g]) > AGE_MS:
                self.since_old[g] = 1
            if not self.eog_old[g] and diff(now, self.eog[g]) > AGE_MS:
                self.eog_old[g] = 1
        if self.npend:
            # Closing changes before opening ones, as in command_all.
            for opening in (False, True):
                for g in range(self.n):
                    p = self.pend[g]
                    if p != NONE and _opens(p) == opening:
                        self._run_pending(g, now)
        for g in range(self.n):
            t = self.target[g]
            if t == NONE:
                continue
            have = self.aspect[g]
            if self._left_ms(g, now) > 0:
                continue
            step = sequences.clearance_step(self.rows[g], have)
            if step < 0 or sequences.is_legal(self.rows[g], have, t):
                self._set(g, t, now)
                self.target[g] = NONE
            else:
                self._set(g, step, now)

    def all_at_rest(self):
        for g in range(self.n):
            a = self.aspect[g]
            if a != RED and a != DARK:
                return False
        return True


def _opens(a):
    """A change towards right of way: judged after the changes that end it."""
    return a == GREEN or a == RED_AMBER


def _pairs(conflicts):
    for p in conflicts:
        yield p[0], p[1]
