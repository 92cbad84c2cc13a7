# cpython-only
"""Interop over a real tty: pymodbus's AsyncModbusSerialClient (8N1) on one end of a pty
pair, our Deframer + SlaveProtocol in a small asyncio loop on the other end.

Every data kind is read and written, FC23 and FC43 are exercised, and the exception codes
our slave sends must come out of pymodbus as the same exception codes.
"""

import asyncio
import os
import time
import tty

import pytest
from proto_refstore import RefStore

from hil.emu import patience
from protocols.modbus_rtu import (
    COIL,
    DEVICE_FAILURE,
    DISCRETE,
    HOLDING,
    ILLEGAL_DATA_ADDRESS,
    ILLEGAL_FUNCTION,
    INPUT,
    OBJ_MODEL_NAME,
    OBJ_USER_APPLICATION_NAME,
    Deframer,
    SlaveProtocol,
)

pytestmark = pytest.mark.pty

pymodbus_client = pytest.importorskip("pymodbus.client")

UNIT = 5
BAUD = 115200
IDENT = {0: "smartcross", 1: "SCN-ESP32", 2: "1.0", OBJ_MODEL_NAME: "node-v1",
         OBJ_USER_APPLICATION_NAME: "junction 12 node 3"}


def _now_us():
    return time.monotonic_ns() // 1000


class _PtySlave:
    """Our codec behind the master end of a pty: bytes in -> deframer -> slave -> bytes out."""

    def __init__(self, store):
        self.master_fd, self.slave_fd = os.openpty()
        tty.setraw(self.slave_fd)
        self.port = os.ttyname(self.slave_fd)
        os.set_blocking(self.master_fd, False)
        self.deframer = Deframer(BAUD)
        self.slave = SlaveProtocol(UNIT, store, IDENT)
        self.answered = 0
        self._task = None

    def _readable(self):
        try:
            data = os.read(self.master_fd, 512)
        except (BlockingIOError, OSError):
            return
        if data:
            self.deframer.feed(data, _now_us())

    async def _pump(self):
        while True:
            frame = self.deframer.poll(_now_us())
            if frame is not None:
                response = self.slave.handle(frame)
                if response is not None:
                    os.write(self.master_fd, bytes(response))
                    self.answered += 1
            await asyncio.sleep(0.0005)

    def start(self):
        asyncio.get_running_loop().add_reader(self.master_fd, self._readable)
        self._task = asyncio.get_running_loop().create_task(self._pump())

    async def stop(self):
        asyncio.get_running_loop().remove_reader(self.master_fd)
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        os.close(self.master_fd)
        os.close(self.slave_fd)


async def _session(store, checks):
    node = _PtySlave(store)
    node.start()
    # a wait for an answer that a busy host stretches (a loaded make test once saw all four
    # sessions time out at 0.2 s); only the test of a frame nobody answers waits it out
    client = pymodbus_client.AsyncModbusSerialClient(
        node.port, baudrate=BAUD, bytesize=8, parity="N", stopbits=1,
        timeout=patience.scaled(1.0), retries=0)
    try:
        assert await client.connect(), "pymodbus could not open " + node.port
        await checks(client, store, node)
    finally:
        client.close()
        await node.stop()


def _run(checks, size=300):
    store = RefStore(size)
    asyncio.run(_session(store, checks))
    return store


def test_reads_of_every_kind():
    async def checks(client, store, node):
        rr = await client.read_coils(3, count=19, device_id=UNIT)
        assert not rr.isError() and list(rr.bits[:19]) == [bool(b) for b in store.data[COIL][3:22]]
        rr = await client.read_discrete_inputs(0, count=300, device_id=UNIT)
        assert list(rr.bits[:300]) == [bool(b) for b in store.data[DISCRETE]]
        rr = await client.read_holding_registers(10, count=125, device_id=UNIT)
        assert list(rr.registers) == store.data[HOLDING][10:135]
        rr = await client.read_input_registers(290, count=10, device_id=UNIT)
        assert list(rr.registers) == store.data[INPUT][290:300]
        assert node.answered == 4
    _run(checks)


def test_writes_of_every_kind():
    async def checks(client, store, node):
        rr = await client.write_coil(7, True, device_id=UNIT)
        assert not rr.isError() and store.data[COIL][7] == 1
        rr = await client.write_coil(7, False, device_id=UNIT)
        assert not rr.isError() and store.data[COIL][7] == 0
        rr = await client.write_register(9, 0xCAFE, device_id=UNIT)
        assert not rr.isError() and store.data[HOLDING][9] == 0xCAFE
        bits = [True, False, True, True, False, False, False, True, True, True]
        rr = await client.write_coils(100, bits, device_id=UNIT)
        assert not rr.isError() and store.data[COIL][100:110] == [int(b) for b in bits]
        values = list(range(500, 623))
        rr = await client.write_registers(150, values, device_id=UNIT)
        assert not rr.isError() and store.data[HOLDING][150:273] == values
    _run(checks)


def test_fc23_write_before_read():
    async def checks(client, store, node):
        rr = await client.readwrite_registers(read_address=0, read_count=8, write_address=2,
                                              values=[11, 22, 33], device_id=UNIT)
        assert not rr.isError()
        assert list(rr.registers[2:5]) == [11, 22, 33]
        assert [e[0] for e in store.log] == ["write_regs", "read_regs"]
    _run(checks)


def test_device_identification():
    async def checks(client, store, node):
        rr = await client.read_device_information(read_code=2, object_id=0, device_id=UNIT)
        assert not rr.isError()
        assert rr.information[0] == b"smartcross"
        assert rr.information[OBJ_MODEL_NAME] == b"node-v1"
        assert rr.information[OBJ_USER_APPLICATION_NAME] == b"junction 12 node 3"
        assert rr.conformity == 0x82
    _run(checks)


def test_exception_codes_reach_pymodbus():
    async def checks(client, store, node):
        rr = await client.read_holding_registers(295, count=10, device_id=UNIT)
        assert rr.isError() and rr.exception_code == ILLEGAL_DATA_ADDRESS
        rr = await client.read_exception_status(device_id=UNIT)      # FC07: not ours
        assert rr.isError() and rr.exception_code == ILLEGAL_FUNCTION
        store.fail = True
        rr = await client.write_register(0, 1, device_id=UNIT)
        assert rr.isError() and rr.exception_code == DEVICE_FAILURE
    _run(checks)


def test_broadcast_and_other_units_get_no_answer():
    async def checks(client, store, node):
        await client.write_register(4, 4444, device_id=0, no_response_expected=True)
        await asyncio.sleep(0.02)
        assert store.data[HOLDING][4] == 4444 and node.answered == 0
        from pymodbus.exceptions import ModbusIOException
        with pytest.raises(ModbusIOException):
            await client.read_holding_registers(0, count=1, device_id=UNIT + 1)
        assert node.answered == 0 and node.slave.ignored == 1
        rr = await client.read_holding_registers(4, count=1, device_id=UNIT)
        assert list(rr.registers) == [4444]
    _run(checks)
