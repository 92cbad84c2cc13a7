"""The emulated board's clock: real time (default) or a virtual clock the host grants.

MicroPython code. The firmware's board layer reaches it as `machine.emu_clock` (absent on
a real ESP32, where the board layer uses `time`). Ticks wrap like an ESP32's (period 2**30)
and may start anywhere (EMU_TICKS_START_MS), so wrap bugs show up in tests.

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


class Clock:
    def __init__(self, virtual, start_ms):
        self.virtual = virtual
        self._start_ms = start_ms
        self._t0 = time.ticks_us()      # unix port: 2**62 period, never wraps in a run
        self._vnow = 0                  # virtual: absolute board us
        self._grant = 0                 # virtual: host allows time up to here
        self._sleepers = {}
        self._seen = set()
        self.on_time = None             # called with the absolute us after every jump

    def origin_us(self):
        """Where board time 0 is on the unix port's own ticks_us (CLOCK_MONOTONIC)."""
        return self._t0

    # ---- absolute board time (us since the process started; never wraps) ----
    def now_us(self):
        if self.virtual:
            return self._vnow
        return time.ticks_diff(time.ticks_us(), self._t0)

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
                if left > 2000:
                    emu_link.pump(left // 1000 - 1)
                else:
                    time.sleep_us(left)
            if self.on_time is not None:
                self.on_time(self.now_us())

    async def sleep_ms(self, ms):
        if not self.virtual:
            await asyncio.sleep_ms(ms)
            return
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
        if t_us > self._vnow:
            self._vnow = t_us
        if self.on_time is not None:
            self.on_time(self._vnow)
