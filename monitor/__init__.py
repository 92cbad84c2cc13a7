"""The independent signal monitor (NEMA TS2 MMU-style checks on lamp bits).

    from monitor import SignalMonitor
    mon = SignalMonitor(table)          # a monitor table, see monitor/table.py
    mon.feed(t, {"V1": LAMP_GREEN, ...}) -> [Violation, ...]
    mon.finish(t_end)

It imports nothing but protocols/ and runs unmodified under MicroPython (a monitor unit on
its own board), so: no typing, dataclasses or collections.abc here, and no `from
__future__` import; `make firmware-check` compiles it for the ESP32 and type-checks it
against the board's stubs.
"""

from .signal_monitor import SignalMonitor
from .table import FORMAT, validate
from .violation import KINDS, Violation

__all__ = ["FORMAT", "KINDS", "SignalMonitor", "Violation", "validate"]
