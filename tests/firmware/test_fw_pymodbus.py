"""pymodbus 3.16's serial client against an emulated node on a pty (8N1): every register
kind read and written, and the exception codes a Modbus master expects."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fw_nodes import example
from pymodbus.client import AsyncModbusSerialClient

from hil.emu import patience
from hil.emu.host import ROOT
from hil.emu.pty_board import PtyBoard
from hil.rig import HOST_BUDGET_MS
from protocols import register_map as rm
from protocols.aspects import RED
from protocols.rtu.const import ILLEGAL_DATA_ADDRESS, ILLEGAL_DATA_VALUE, ILLEGAL_FUNCTION

pytestmark = [pytest.mark.micropython, pytest.mark.pty]

UNIT = 1
REPLY_S = patience.scaled(HOST_BUDGET_MS / 1000)


@pytest.fixture(scope="module")
def pty_board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PtyBoard]:
    path = tmp_path_factory.mktemp("node") / "node.json"
    path.write_text(json.dumps(example()))
    with PtyBoard(path) as pb:
        yield pb


def run(pb: PtyBoard, body):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        # the emulated node answers when the host runs its process: the rig's budget for a
        # reply, stretched on a busy host (a loaded make test once saw no answer in 0.3 s)
        client = AsyncModbusSerialClient(pb.port, baudrate=115200, bytesize=8, parity="N",
                                         stopbits=1, timeout=REPLY_S, retries=1)
        assert await client.connect()
        try:
            return await body(client)
        finally:
            client.close()

    return asyncio.run(go())


def test_read_every_kind(pty_board: PtyBoard) -> None:
    async def body(c: AsyncModbusSerialClient) -> None:
        rr = await c.read_holding_registers(rm.STATUS_BLOCK, count=rm.STATUS_BLOCK_COUNT,
                                            device_id=UNIT)
        assert not rr.isError()
        st = rr.registers
        assert st[0] == rm.LAYOUT_VERSION
        assert st[rm.N_GROUPS - rm.STATUS_BLOCK] == 3
        assert st[rm.CONFIG_ERROR - rm.STATUS_BLOCK] == rm.CFG_OK
        crc = rm.join_u32(st[rm.SAFETY_CRC - rm.STATUS_BLOCK],
                          st[rm.SAFETY_CRC + 1 - rm.STATUS_BLOCK])
        assert crc == example()["safety"]["crc"]
        ir = await c.read_input_registers(rm.PI_BLOCK, count=rm.PI_BLOCK_COUNT, device_id=UNIT)
        assert not ir.isError() and ir.registers[rm.PI_MODE - rm.PI_BLOCK] in (
            rm.MODE_BOOT_FLASH, rm.MODE_SAFE)
        hr = await c.read_holding_registers(rm.DET_BLOCK, count=rm.DET_BLOCK_COUNT,
                                            device_id=UNIT)
        assert not hr.isError() and len(hr.registers) == 96
        di = await c.read_discrete_inputs(0, count=rm.DI_COUNT, device_id=UNIT)
        assert not di.isError() and len(di.bits) >= rm.DI_COUNT
        co = await c.read_coils(0, count=rm.COIL_COUNT, device_id=UNIT)
        assert not co.isError()
        info = await c.read_device_information(read_code=1, object_id=0, device_id=UNIT)
        assert not info.isError()
        assert info.information[0] == b"smartcross"

    run(pty_board, body)


def test_write_every_kind(pty_board: PtyBoard) -> None:
    async def body(c: AsyncModbusSerialClient) -> None:
        assert not (await c.write_register(rm.HEARTBEAT, 41, device_id=UNIT)).isError()
        rr = await c.read_holding_registers(rm.PI_HEARTBEAT, count=1, device_id=UNIT)
        assert rr.registers == [41]
        regs = rm.command_regs(42, rm.MODE_FLASH, [RED, RED, RED])
        assert not (await c.write_registers(rm.CMD_BLOCK, regs, device_id=UNIT)).isError()
        back = await c.read_holding_registers(rm.CMD_BLOCK, count=rm.CMD_BLOCK_COUNT,
                                              device_id=UNIT)
        assert back.registers == regs
        rw = await c.readwrite_registers(read_address=rm.POLL_READ_ADDR,
                                         read_count=rm.POLL_READ_COUNT,
                                         write_address=rm.POLL_WRITE_ADDR,
                                         values=rm.command_regs(43, rm.MODE_FLASH, [RED] * 3),
                                         device_id=UNIT)
        assert not rw.isError() and rw.registers[0] == 43
        assert not (await c.write_coil(rm.COIL_IDENTIFY, True, device_id=UNIT)).isError()
        co = await c.read_coils(0, count=rm.COIL_COUNT, device_id=UNIT)
        assert co.bits[rm.COIL_IDENTIFY]
        assert not (await c.write_coils(0, [False, True, True, False],
                                        device_id=UNIT)).isError()
        co = await c.read_coils(0, count=rm.COIL_COUNT, device_id=UNIT)
        assert co.bits[:4] == [False, False, False, False]      # pulse coils read 0

    run(pty_board, body)


def test_exception_codes(pty_board: PtyBoard) -> None:
    async def body(c: AsyncModbusSerialClient) -> None:
        async def code(coro) -> int:  # type: ignore[no-untyped-def]
            r = await coro
            assert r.isError(), r
            return int(r.exception_code)

        assert await code(c.read_holding_registers(6, count=1, device_id=UNIT)) == \
            ILLEGAL_DATA_ADDRESS                                  # a gap in the map
        assert await code(c.read_input_registers(0, count=1, device_id=UNIT)) == \
            ILLEGAL_DATA_ADDRESS                                  # commands are no inputs
        assert await code(c.write_register(rm.SAFETY_CRC, 0, device_id=UNIT)) == \
            ILLEGAL_DATA_ADDRESS                                  # tables: read only
        assert await code(c.write_register(rm.PI_MODE, 3, device_id=UNIT)) == \
            ILLEGAL_DATA_ADDRESS
        assert await code(c.write_register(rm.COMMAND, 0x7, device_id=UNIT)) == \
            ILLEGAL_DATA_VALUE                                    # no such mode
        assert await code(c.write_register(rm.SIGNAL_CMD, 0x000F, device_id=UNIT)) == \
            ILLEGAL_DATA_VALUE                                    # no such aspect
        assert await code(c.write_coil(rm.COIL_COUNT, True, device_id=UNIT)) == \
            ILLEGAL_DATA_ADDRESS
        assert await code(c.read_exception_status(device_id=UNIT)) == ILLEGAL_FUNCTION

    run(pty_board, body)


def test_cli_entry_prints_port_first_and_stops_on_sigterm(tmp_path: Path) -> None:
    cfg = tmp_path / "node.json"
    cfg.write_text(json.dumps(example()))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "hil.emu.pty_board", str(cfg)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("port: /dev/pts/"), first
        port = first.split(":", 1)[1].strip()

        async def body(c: AsyncModbusSerialClient) -> None:
            rr = await c.read_holding_registers(rm.LAYOUT_VERSION_REG, count=1, device_id=UNIT)
            assert rr.registers == [rm.LAYOUT_VERSION]

        class P:
            pass

        p = P()
        p.port = port  # type: ignore[attr-defined]
        run(p, body)  # type: ignore[arg-type]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
