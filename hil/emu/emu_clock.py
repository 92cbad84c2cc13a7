"""The emulated board's clock: real time (default), scaled real time, or a virtual clock
the host grants.

MicroPython code. The firmware's board layer reaches it as `machine.emu_clock` (absent on
a real ESP32, where the board layer uses `time`). Ticks wrap like an ESP32's (period 2**30)
and may start anywhere (EMU_TICKS_START_MS), so wrap bugs show up in tests.

Real clock (EMU_CLOCK=real): board time is the unix port's CLOCK_MONOTONIC since the
process started.

Scaled clock (EMU_CLOCK=scaled, EMU_CLOCK_SCALE=<float>, e.g. 4.0): board time runs
`scale` times faster than CLOCK_MONOTONIC: board_us = (monotonic_us - origin) * num // den,
with num/den = round(scale * SCALE_DEN) / SCALE_DEN (integers: no float, no allocation, and
the host maps its own clock with the same two numbers, which the board sends in its hello).
Everything the firmware sees is in board time: ticks, `sleep_ms`, `wait_us` (UART flush,
time_pulse_us), the watchdog. The CPU does not get faster: code costs `scale` times more
board time than on the real clock. Sleeps have the host's 1 ms granularity, so a board
sleep of d ms ends between d and d + scale ms of board time later (never earlier).

Virtual clock (EMU_CLOCK=virtual): time stands still while code runs and moves only when
every task sleeps: `sleep_ms` waits until one full round of the asyncio run queue has
passed with nobody due, then jumps to the earliest deadline, but never past the time the
host has granted (line "G <t_us>"); at the grant it reports "T <t_us>" and blocks until
the host grants more. All firmware tasks must therefore wait through `sleep_ms`.
"""

import asyncio
import time

import emu_link

PERIOD = 1 << 30
MASK = PERIOD - 1
HALF = PERIOD >> 1

MODES = ("real", "scaled", "virtual")
SCALE_DEN = 10000           # the scale is kept as SCALE_NUM / SCALE_DEN (1e-4 resolution)
MIN_SCALE = 0.01
MAX_SCALE = 1000.0


def scale_fraction(scale):
    """(num, den) of a time scale, as the board and its host both compute it."""
    num = int(round(float(scale) * SCALE_DEN))
    if not MIN_SCALE * SCALE_DEN <= num <= MAX_SCALE * SCALE_DEN:
        raise ValueError("time scale must be %s..%s" % (MIN_SCALE, MAX_SCALE))
    return num, SCALE_DEN


class Clock:
    def __init__(self, mode, start_ms, scale=1.0):
        """`mode`: "real", "scaled" (board time = `scale` x host time) or "virtual". For
        compatibility a bool is taken as virtual (True) or real (False)."""
        if mode is True or mode is False:
            mode = "virtual" if mode else "real"
        if mode not in MODES:
            raise ValueError("clock must be real, scaled or virtual")
        self.mode = mode
        self.virtual = mode == "virtual"
        self.num, self.den = scale_fraction(scale) if mode == "scaled" else (1, 1)
        self._scaled = self.num != self.den
        self._start_ms = start_ms
        self._t0 = time.ticks_us()      # unix port: 2**62 period, never wraps in a run
        self._vnow = 0                  # virtual: absolute board us
        self._grant = 0                 # virtual: host allows time up to here
        self._sleepers = {}
        self._seen = set()
        self.on_time = None             # called with the absolute us after every jump
        self.on_grant = None            # virtual: called when the host grants more time,
                                        # before the clock moves (the UART takes the bytes
                                        # the host wrote meanwhile at the time they came)

    def origin_us(self):
        """Where board time 0 is on the unix port's own ticks_us (CLOCK_MONOTONIC)."""
        return self._t0

    # ---- absolute board time (us since the process started; never wraps) ----
    def now_us(self):
        if self.virtual:
            return self._vnow
        d = time.ticks_diff(time.ticks_us(), self._t0)
        if self._scaled:
            return d * self.num // self.den
        return d

    def _host_us(self, board_us):
        """Host (CLOCK_MONOTONIC) microseconds that `board_us` of board time take, rounded
        up (real and scaled clocks)."""
        if self._scaled:
            return -(-board_us * self.den // self.num)
        return board_us

    # ---- ESP32-like wrapping ticks ----
    def ticks_us(self):
        return (self.now_us() + self._start_ms * 1000) & MASK

    def ticks_ms(self):
        return (self.now_us() // 1000 + self._start_ms) & MASK

    @staticmethod
    def ticks_diff(a, b):
        return ((a - b + HALF) & MASK) - HALF

    @staticmethod
    def ticks_add(a, delta):
        return (a + delta) & MASK

    # ---- waiting ----
    def grant(self, t_us):
        if t_us > self._grant:
            self._grant = t_us

    def wait_us(self, us):
        """Block the whole board for `us` (a busy pulse measurement, a UART flush)."""
        if us <= 0:
            return
        if self.virtual:
            self._advance_to(self._vnow + us)
        else:
            end = self.now_us() + us
            while True:
                left = end - self.now_us()
                if left <= 0:
                    break
                left = self._host_us(left)
                if left > 2000:
                    emu_link.pump(left // 1000 - 1)
                else:
                    time.sleep_us(left)
            if self.on_time is not None:
                self.on_time(self.now_us())

    async def sleep_ms(self, ms):
        if not self.virtual:
            if not self._scaled:
                await asyncio.sleep_ms(ms)
                return
            # Scaled: wait until the board-time deadline, in host milliseconds (rounded up,
            # so never early; asyncio may still wake up to 1 host ms early: look again).
            deadline = self.now_us() + ms * 1000
            await asyncio.sleep_ms((self._host_us(ms * 1000) + 999) // 1000)
            while True:
                left = deadline - self.now_us()
                if left <= 0:
                    return
                await asyncio.sleep_ms((self._host_us(left) + 999) // 1000)
        task = asyncio.current_task()
        deadline = self._vnow + ms * 1000
        self._sleepers[task] = deadline
        try:
            await asyncio.sleep_ms(0)
            while self._vnow < deadline:
                if task in self._seen:
                    # A whole round of the run queue passed with nobody due: jump.
                    self._seen.clear()
                    self._advance_to(min(self._sleepers.values()))
                    if self._vnow >= deadline:
                        break
                self._seen.add(task)
                await asyncio.sleep_ms(0)
        finally:
            del self._sleepers[task]
            self._seen.discard(task)

    def _advance_to(self, t_us):
        while t_us > self._grant:
            if self._grant > self._vnow:
                self._vnow = self._grant
                if self.on_time is not None:
                    self.on_time(self._vnow)
            if not emu_link.connected():
                self._grant = t_us          # no host: run free
                break
            emu_link.send(b"T %d\n" % self._vnow)
            while self._grant <= self._vnow:
                emu_link.pump(-1)
            if self.on_grant is not None:
                self.on_grant()
        if t_us > self._vnow:
            self._vnow = t_us
        if self.on_time is not None:
            self.on_time(self._vnow)
