"""Time-outs that scale with how busy the host is.

A rig's wait for an emulated board (its boot, a reply, an output) guards against a board
that hangs; it must not fail because the host gave the board no CPU. On a machine whose
run queue holds more processes than it has cores, each gets about cores / load of a core,
so a wait is stretched by load / cores (never shrunk): 30 s on an idle machine, 390 s at a
load average of 26 on 2 cores. The factor is read again while waiting, so a machine that
gets busier during a wait stretches it too.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

MAX_FACTOR = 20.0       # a hang still ends: 30 s is never stretched past 10 minutes


def load_factor() -> float:
    """How many times longer a CPU-bound wait takes now than on an idle machine (>= 1)."""
    try:
        load = os.getloadavg()[0]
    except OSError:                     # no load average on this system: assume idle
        return 1.0
    return min(MAX_FACTOR, max(1.0, load / (os.cpu_count() or 1)))


def scaled(seconds: float) -> float:
    """A time-out for an idle machine, stretched by how busy this one is now: for a wait
    that cannot use wait_for (a serial port's or a Modbus client's time-out)."""
    return seconds * load_factor()


def wait_for(cv: threading.Condition, predicate: Callable[[], bool], timeout: float) -> bool:
    """Condition.wait_for with the time-out stretched by load_factor(); the caller holds
    `cv`. True once predicate() holds, False when the stretched time-out has passed."""
    start = time.monotonic()
    while True:
        if predicate():
            return True
        left = start + timeout * load_factor() - time.monotonic()
        if left <= 0:
            return False
        cv.wait(min(left, 1.0))
