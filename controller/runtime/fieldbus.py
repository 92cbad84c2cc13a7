"""One RS-485 bus: pymodbus on a serial port, one transaction at a time, short timeouts.

The cyclic poll is one FC23 per node (write the command block, read the process image).
pymodbus does not keep the 3.5-character silence between requests, so the link does.
A dead node costs its timeout (at most one retry), never seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from pymodbus.client import AsyncModbusSerialClient
from pymodbus.exceptions import ModbusException

from protocols import register_map as rm
from protocols.modbus_rtu import silence_us

from ..config.model import Bus
from ..config.polling import BITS_PER_CHAR

log = logging.getLogger("smartcross.fieldbus")


@dataclass
class Transaction:
    ok: bool
    regs: list[int] | None
    seconds: float
    error: str = ""


class BusLink:
    def __init__(self, bus: Bus, port: str, timeout_s: float = 0.05, retries: int = 1,
                 time_scale: float = 1.0):
        self.bus = bus
        self.port = port
        bits = BITS_PER_CHAR[bus.parity] + (bus.stopbits - 1)
        self.silence_s = silence_us(bus.baud, bits) / 1e6 / time_scale
        self.client = AsyncModbusSerialClient(
            port, baudrate=bus.baud, bytesize=8, parity=bus.parity, stopbits=bus.stopbits,
            timeout=timeout_s, retries=retries, reconnect_delay=0.5, reconnect_delay_max=2.0,
            name=f"bus-{bus.id}")
        self.lock = asyncio.Lock()
        self._last_end = 0.0

    async def connect(self) -> bool:
        try:
            return bool(await self.client.connect())
        except OSError as e:
            log.error("bus %s: cannot open %s: %s", self.bus.id, self.port, e)
            return False

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

    async def read_status(self, address: int) -> Transaction:
        return await self._transact(lambda: self.client.read_holding_registers(
            rm.STATUS_BLOCK, count=rm.STATUS_BLOCK_COUNT, device_id=address))

    async def read_detectors(self, address: int) -> Transaction:
        """Counts and occupancy of the last interval (DET_COUNT, DET_OCCUPANCY, DET_DIAG)."""
        return await self._transact(lambda: self.client.read_holding_registers(
            rm.DET_BLOCK, count=rm.DET_BLOCK_COUNT, device_id=address))

    async def write_command(self, address: int, heartbeat: int, command: int,
                            aspects: list[int]) -> Transaction:
        regs = rm.command_regs(heartbeat, command, aspects)
        return await self._transact(lambda: self.client.write_registers(
            rm.CMD_BLOCK, regs, device_id=address))
