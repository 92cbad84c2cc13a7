"""A deliberately wrong controller: it brings a node out of flash properly, then commands
conflicting greens and short ambers. The node's guard must refuse; the monitor must see
no unsafe lamp state. It speaks Modbus through the sans-IO codec over a serial port.
"""

from __future__ import annotations

import time

import serial

from protocols import aspects as A
from protocols import register_map as rm
from protocols.rtu import master
from protocols.rtu.const import ModbusError


class RogueController:
    def __init__(self, port: str, baud: int, address: int, groups: list[str],
                 conflicts: set[tuple[str, str]], time_scale: float = 1.0):
        self.ser = serial.Serial(port, baud, timeout=0)
        self.address = address
        self.groups = groups
        self.conflicts = conflicts
        self.scale = time_scale
        self.heartbeat = 0
        self.refusals = 0
        self.first_refusals: int | None = None

    def close(self) -> None:
        self.ser.close()

    def poll(self, mode: int, aspects: list[int], timeout_s: float = 0.1) -> dict | None:
        self.heartbeat = (self.heartbeat + 1) & 0xFFFF
        regs = rm.command_regs(self.heartbeat, mode, aspects)
        req = master.read_write_registers(self.address, rm.POLL_READ_ADDR, rm.POLL_READ_COUNT,
                                          rm.POLL_WRITE_ADDR, regs)
        self.ser.reset_input_buffer()
        self.ser.write(req)
        want = master.response_length(req)
        buf = b""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end and len(buf) < want:
            buf += self.ser.read(want - len(buf))
            if len(buf) >= 5 and buf[1] & 0x80:
                break
        try:
            image = rm.decode_process_image(master.decode(req, buf), len(self.groups))
        except (ModbusError, ValueError):
            return None
        if self.first_refusals is None:
            self.first_refusals = image["guard_refusals"]
        self.refusals = (image["guard_refusals"] - self.first_refusals) & 0xFFFF
        return image

    def _hold(self, seconds: float, mode: int, aspects: list[int]) -> None:
        end = time.monotonic() + seconds / self.scale
        while time.monotonic() < end:
            self.poll(mode, aspects)
            time.sleep(0.1 / self.scale)

    def run(self, seconds: float, startup_s: float | None = None) -> int:
        """Misbehave for `seconds` of street time, after `startup_s` of a proper start-up
        (all red; default: 6 s, at most a third); returns the refusals the node counted."""
        n = len(self.groups)
        red = [A.RED] * n
        lead = min(6.0, seconds / 3) if startup_s is None else min(startup_s, seconds)
        self._hold(lead, rm.MODE_RUN, red)       # a proper start-up
        # conflicting greens: the first group and everything it conflicts with
        first = self.groups[0]
        bad = [A.GREEN if g == first or (first, g) in self.conflicts else A.RED
               for g in self.groups]
        end = time.monotonic() + (seconds - lead) / self.scale
        while time.monotonic() < end:
            self._hold(1.0, rm.MODE_RUN, bad)
            # short amber: green straight to amber for 0.5 s, then red
            self._hold(0.5, rm.MODE_RUN, [A.AMBER if a == A.GREEN else a for a in bad])
            self._hold(0.5, rm.MODE_RUN, red)
        return self.refusals
