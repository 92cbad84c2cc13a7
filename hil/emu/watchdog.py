"""The ESP32's hardware watchdog, kept by the emulated board's host (CPython).

On an ESP32 the watchdog is a timer outside the CPU: once started (`machine.WDT`) it
resets the board when it is not fed in time, whatever the CPU does (busy in a loop, blocked
on the serial line, stopped by Ctrl-C at the REPL), and it cannot be stopped again: a soft
reset (Ctrl-D) does not stop it, only a reset of the chip does (hard reset, power-on, the
watchdog's own reset).

The emulation keeps it the same way, outside the board's process. The board's `machine`
(hil/emu/machine.py) only reports on its link: "W <timeout_ms> <t_us>" when WDT() is made
and "F <t_us>" at every feed, both in board time. Its host (hil/emu/board_host.py, for
the node board and the raw-REPL board alike) keeps one `Watchdog` per board:

* real and scaled clocks: the deadline is on the host's CLOCK_MONOTONIC (board time mapped
  through the board's hello; a scaled board's 5 s are 5/scale host seconds), and a thread
  of the host fires at it. A board that hangs in pure Python, blocks in a read or sits at
  the REPL after Ctrl-C is reset all the same; nothing runs inside the board's process
  (an in-process watchdog thread once left the unix port deadlocked after a Ctrl-C).
* virtual clock: board time moves only when the host grants it, so the host never grants
  past the deadline (`deadline`) and fires when the board reports it has reached it
  (`check`): the reset comes at the exact board microsecond, as on the real clock.

Firing stops the watchdog (the chip resets) and calls `on_expire(deadline)`; the host then
kills the board process, records WDT_RESET in its RTC domain and boots it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def monotonic_us() -> int:
    return time.monotonic_ns() // 1000


class Watchdog:
    """One board's hardware watchdog. Times are integers in one time base chosen by the
    host: host monotonic us for a timed watchdog, board us for a virtual one."""

    def __init__(self, on_expire: Callable[[int], None], *, timed: bool,
                 name: str = "watchdog") -> None:
        self._on_expire = on_expire
        self._timed = timed
        self._name = name
        self._cv = threading.Condition()
        self._timeout = 0               # 0: not started (or stopped by a reset)
        self._deadline = 0              # first time at which it has expired
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._timeout > 0

    @property
    def deadline(self) -> int | None:
        """When it expires unless fed first; None while it is not running."""
        with self._cv:
            return self._deadline if self._timeout else None

    def start(self, timeout: int, now: int) -> None:
        """WDT(timeout): (re)start with `timeout` (> 0), fed at `now`."""
        with self._cv:
            self._timeout = max(1, timeout)
            self._deadline = now + self._timeout + 1    # expired once now - fed > timeout
            self._cv.notify_all()
            if self._timed and self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name=self._name,
                                                daemon=True)
                self._thread.start()

    def feed(self, now: int) -> None:
        with self._cv:
            if self._timeout:
                self._deadline = max(self._deadline, now + self._timeout + 1)
                self._cv.notify_all()

    def stop(self) -> None:
        """A reset of the chip (not a soft reset): the watchdog is off until WDT() again."""
        with self._cv:
            self._timeout = 0
            self._cv.notify_all()

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._timeout = 0
            self._cv.notify_all()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=5)

    def check(self, now: int) -> bool:
        """Fire if expired at `now` (virtual clock: the board reported it is there)."""
        with self._cv:
            if not self._timeout or now < self._deadline:
                return False
            fired = self._deadline
            self._timeout = 0
        self._on_expire(fired)
        return True

    def _run(self) -> None:
        while True:
            with self._cv:
                if self._closed:
                    return
                if not self._timeout:
                    self._cv.wait()
                    continue
                left = self._deadline - monotonic_us()
                if left > 0:
                    self._cv.wait(left / 1e6)
                    continue
                fired = self._deadline
                self._timeout = 0
            self._on_expire(fired)
