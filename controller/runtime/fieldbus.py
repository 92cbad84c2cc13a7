"""One RS-485 bus: pymodbus on a serial port, one transaction at a time, short timeouts.

The cyclic poll is one FC23 per node (write the command block, read the process image).
pymodbus does not keep the 3.5-character silence between requests, so the link does.
A dead node costs its timeout (at most one retry), never seconds.

A port that cannot be opened at start (a USB adapter not plugged in yet, a pty not made
yet) is tried again with backoff, REOPEN_FIRST_S doubling up to REOPEN_MAX_S, each failure
logged with when the next try is; once open, pymodbus keeps reconnecting on its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import termios
import time
from dataclasses import dataclass

import serial
from pymodbus.client import AsyncModbusSerialClient
from pymodbus.exceptions import ModbusException

from protocols import monitor_map as mm
from protocols import register_map as rm
from protocols.modbus_rtu import silence_us

from ..config.model import Bus
from ..config.polling import BITS_PER_CHAR

log = logging.getLogger("smartcross.fieldbus")

REOPEN_FIRST_S = 1.0
REOPEN_MAX_S = 30.0


@dataclass
class Transaction:
    ok: bool
    regs: list[int] | None
    seconds: float
    error: str = ""


class BusLink:
    def __init__(self, bus: Bus, port: str, timeout_s: float = 0.05, retries: int = 1,
                 time_scale: float = 1.0, clock=time.monotonic):
        self.bus = bus
        self._clock = clock                  # real time, for the backoff of reopen_if_due()
        self._reopen_at: float | None = None
        self._reopen_s = REOPEN_FIRST_S
        self.open_attempts = 0
        self.port = port
        bits = BITS_PER_CHAR[bus.parity] + (bus.stopbits - 1)
        self.silence_s = silence_us(bus.baud, bits) / 1e6 / time_scale
        self.client = AsyncModbusSerialClient(
            port, baudrate=bus.baud, bytesize=8, parity=bus.parity, stopbits=bus.stopbits,
            timeout=timeout_s, retries=retries, reconnect_delay=0.5, reconnect_delay_max=2.0,
            name=f"bus-{bus.id}")
        self.lock = asyncio.Lock()
        self._last_end = 0.0
        self.opened = False              # the port has been open (connect() succeeded)

    @property
    def framing(self) -> str:
        return f"{self.bus.baud} 8{self.bus.parity}{self.bus.stopbits}"

    async def connect(self) -> bool:
        """Open the port; if it cannot be opened, say why (one line) and return False."""
        self.open_attempts += 1
        problem = self._probe()
        if problem is None:
            try:
                if await self.client.connect():
                    self.opened = True
                    self._reopen_at = None
                    return True
                problem = "it could not be opened"
            except (OSError, termios.error, ValueError) as e:
                problem = self._why(e)
        wait = self._reopen_s
        self._reopen_at = self._clock() + wait
        self._reopen_s = min(2 * wait, REOPEN_MAX_S)
        log.error("bus %s: cannot open %s at %s: %s; its nodes count as silent; trying "
                  "again in %g s", self.bus.id, self.port, self.framing, problem, wait)
        return False

    async def reopen_if_due(self) -> bool:
        """A port that never opened: try again once its backoff is over. True if open."""
        if self.opened:
            return True
        if self._reopen_at is None or self._clock() < self._reopen_at:
            return False
        if await self.connect():
            log.warning("bus %s: %s is open now (attempt %d); polling its nodes",
                        self.bus.id, self.port, self.open_attempts)
            return True
        return False

    def _probe(self) -> str | None:
        """Open and close the port with the bus's framing first: pymodbus reports a port it
        cannot open only in its own log, and a framing the port refuses as a traceback."""
        try:
            serial.Serial(self.port, baudrate=self.bus.baud, bytesize=8, parity=self.bus.parity,
                          stopbits=self.bus.stopbits, timeout=0).close()
        except (OSError, termios.error, ValueError) as e:
            return self._why(e)
        return None

    def _why(self, e: BaseException) -> str:
        if isinstance(e, termios.error):      # tcsetattr refused the framing
            code, text = (e.args + ("", ""))[:2]
            why = f"the port refuses this framing (termios error {code}: {text})"
            if self.bus.parity != "N" and os.path.realpath(self.port).startswith("/dev/pts/"):
                why += ("; it is a pseudo-terminal (an emulated port), and ptys cannot do "
                        "parity: give this bus parity = \"N\" for an emulated node, or use a "
                        "real serial adapter")
            return why
        if isinstance(e, OSError) and isinstance(e.errno, int):
            return os.strerror(e.errno)
        return str(e)

    def close(self) -> None:
        self.client.close()

    @property
    def connected(self) -> bool:
        return self.client.connected

    async def _transact(self, call) -> Transaction:
        async with self.lock:
            gap = self._last_end + self.silence_s - time.perf_counter()
            if gap > 0:                      # the 3.5-character silence between frames
                await asyncio.sleep(gap)
            t0 = time.perf_counter()
            try:
                rr = await call()
            except (TimeoutError, ModbusException, OSError) as e:
                self._last_end = time.perf_counter()
                return Transaction(False, None, self._last_end - t0, str(e) or type(e).__name__)
            self._last_end = time.perf_counter()
            if rr.isError():
                return Transaction(False, None, self._last_end - t0,
                                   f"exception code {getattr(rr, 'exception_code', '?')}")
            return Transaction(True, list(getattr(rr, "registers", None) or []),
                               self._last_end - t0)

    async def poll(self, address: int, heartbeat: int, command: int,
                   aspects: list[int]) -> Transaction:
        regs = rm.command_regs(heartbeat, command, aspects)
        return await self._transact(lambda: self.client.readwrite_registers(
            read_address=rm.POLL_READ_ADDR, read_count=rm.POLL_READ_COUNT,
            write_address=rm.POLL_WRITE_ADDR, values=regs, device_id=address))

    async def read_image(self, address: int) -> Transaction:
        """The process image alone (FC03, no command written): the half-cycle input read."""
        return await self._transact(lambda: self.client.read_holding_registers(
            rm.POLL_READ_ADDR, count=rm.POLL_READ_COUNT, device_id=address))

    async def read_status(self, address: int) -> Transaction:
        return await self._transact(lambda: self.client.read_holding_registers(
            rm.STATUS_BLOCK, count=rm.STATUS_BLOCK_COUNT, device_id=address))

    async def read_unit_status(self, address: int) -> Transaction:
        """A monitor unit's status block (protocols/monitor_map.py): all it answers."""
        return await self._transact(lambda: self.client.read_holding_registers(
            mm.MU_BLOCK, count=mm.MU_BLOCK_COUNT, device_id=address))

    async def read_detectors(self, address: int) -> Transaction:
        """Counts and occupancy of the last interval (DET_COUNT, DET_OCCUPANCY, DET_DIAG)."""
        return await self._transact(lambda: self.client.read_holding_registers(
            rm.DET_BLOCK, count=rm.DET_BLOCK_COUNT, device_id=address))

    async def write_command(self, address: int, heartbeat: int, command: int,
                            aspects: list[int]) -> Transaction:
        regs = rm.command_regs(heartbeat, command, aspects)
        return await self._transact(lambda: self.client.write_registers(
            rm.CMD_BLOCK, regs, device_id=address))
