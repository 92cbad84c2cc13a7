"""Hypothesis against a running node's RS-485 input (virtual clock): random streams and
mutated frames never crash it and never get an answer unless they are a good frame for it;
well-formed requests get the right answer or the right exception code (an independent
model of the register map's blocks and the Modbus checks, not the node's own code)."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest
from fw_nodes import example
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hil.emu.host import Board
from protocols import register_map as rm
from protocols.rtu import master
from protocols.rtu.const import (
    COIL,
    DISCRETE,
    HOLDING,
    ILLEGAL_DATA_ADDRESS,
    ILLEGAL_DATA_VALUE,
    ILLEGAL_FUNCTION,
    INPUT,
    ModbusError,
)
from protocols.rtu.crc16 import check, crc16

UNIT = 1
SILENCE_MS = 3              # > 1.75 ms at 115200 baud: the node sees the frame end

pytestmark = [pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
              pytest.mark.micropython]


@pytest.fixture(scope="module")
def board() -> Iterator[Board]:
    with Board(example(), clock="virtual") as b:
        b.advance(10)
        yield b
        assert b.boots == 1 and not b.exits, "the node never restarted"


def frame(pdu: bytes, unit: int = UNIT) -> bytes:
    body = bytes((unit,)) + pdu
    c = crc16(body)
    return body + bytes((c & 0xFF, c >> 8))


def for_us(data: bytes) -> bool:
    """Would a node at UNIT act on `data` as one frame (good CRC, its address or 0)?"""
    return len(data) >= 4 and check(data) and data[0] in (UNIT, 0)


def exchange(board: Board, segments: list[bytes]) -> bytes:
    """Each segment as one burst, then silence; everything the node sent back."""
    board.uart_take()
    for seg in segments:
        board.uart_write(seg)
        board.advance(SILENCE_MS)
    board.advance(10)                    # a response of up to 256 bytes is out by then
    board.uart_settle()                  # and read by the host (its thread may lag)
    return board.uart_take()


def still_answers(board: Board) -> None:
    assert board.transact(master.read_holding_registers(UNIT, rm.LAYOUT_VERSION_REG, 1)) == \
        [rm.LAYOUT_VERSION]


common = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@common
@given(st.lists(st.binary(min_size=1, max_size=600), min_size=1, max_size=4))
def test_random_bytes_get_no_answer(board: Board, segments: list[bytes]) -> None:
    assume(not any(for_us(s) for s in segments))
    assert exchange(board, segments) == b""
    still_answers(board)


VALID = [
    master.read_holding_registers(UNIT, rm.PI_BLOCK, rm.PI_BLOCK_COUNT),
    master.read_input_registers(UNIT, rm.STATUS_BLOCK, 4),
    master.read_coils(UNIT, 0, 4),
    master.read_discrete_inputs(UNIT, 0, 64),
    master.write_register(UNIT, rm.HEARTBEAT, 7),
    master.write_registers(UNIT, rm.CMD_BLOCK, rm.command_regs(8, rm.MODE_FLASH, [1, 1, 1])),
    master.read_write_registers(UNIT, rm.PI_BLOCK, 18, 0,
                                rm.command_regs(9, rm.MODE_FLASH, [1, 1, 1])),
    master.write_coils(UNIT, 0, [0, 0, 0, 1]),
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(VALID)))
    how = draw(st.sampled_from(["flip", "byte", "cut", "grow", "swap"]))
    if how == "flip":
        i = draw(st.integers(0, len(data) - 1))
        data[i] ^= 1 << draw(st.integers(0, 7))
    elif how == "byte":
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif how == "cut":
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif how == "grow":
        data += draw(st.binary(min_size=1, max_size=8))
    else:
        i = draw(st.integers(0, len(data) - 2))
        data[i], data[i + 1] = data[i + 1], data[i]
    return bytes(data)


@common
@given(mutated())
def test_mutated_frames(board: Board, data: bytes) -> None:
    out = exchange(board, [data])
    if not for_us(data):
        # Two framings may make a valid request of part of it (protocols/rtu/deframer.py):
        # a request ends as soon as it has the length its header implies and a right CRC
        # (bytes after it are the next frame), and after a bad CRC the node looks for a
        # request at the end of what it got (noise before a request). Only those may be
        # answered: a valid head or tail addressed to this node.
        head = any(for_us(data[:n]) and data[0] == UNIT for n in range(4, len(data)))
        tail = any(for_us(data[k:]) and data[k] == UNIT for k in range(1, len(data) - 3))
        assert out == b"" or ((head or tail) and check(out)), \
            "answered a frame with a bad CRC or for another node"
    elif data[0] == UNIT:
        assert check(out)
    still_answers(board)


# ---------------------------------------------------------------- the model
def model(fc: int, pdu: bytes) -> int | None:
    """The exception code a node with the register map must answer, or None (success).
    Order of checks: function, quantity and shape (03), address range (02), map (02/03)."""
    u16 = lambda i: struct.unpack_from(">H", pdu, i)[0]  # noqa: E731
    if fc in (1, 2, 3, 4):
        if len(pdu) != 4:
            return ILLEGAL_DATA_VALUE
        addr, count = u16(0), u16(2)
        if not 1 <= count <= (2000 if fc <= 2 else 125):
            return ILLEGAL_DATA_VALUE
        kind = {1: COIL, 2: DISCRETE, 3: HOLDING, 4: INPUT}[fc]
        return None if rm.readable(kind, addr, count) else ILLEGAL_DATA_ADDRESS
    if fc == 5:
        if len(pdu) != 4:
            return ILLEGAL_DATA_VALUE
        if u16(2) not in (0, 0xFF00):
            return ILLEGAL_DATA_VALUE
        return None if rm.writable(COIL, u16(0), 1) else ILLEGAL_DATA_ADDRESS
    if fc == 6:
        if len(pdu) != 4:
            return ILLEGAL_DATA_VALUE
        if not rm.writable(HOLDING, u16(0), 1):
            return ILLEGAL_DATA_ADDRESS
        return value_check(u16(0), [u16(2)])
    if fc in (15, 16):
        if len(pdu) < 5:
            return ILLEGAL_DATA_VALUE
        addr, count, nbytes = u16(0), u16(2), pdu[4]
        if fc == 15:
            if not 1 <= count <= 1968 or nbytes != (count + 7) // 8 or len(pdu) != 5 + nbytes:
                return ILLEGAL_DATA_VALUE
            return None if rm.writable(COIL, addr, count) else ILLEGAL_DATA_ADDRESS
        if not 1 <= count <= 123 or nbytes != 2 * count or len(pdu) != 5 + nbytes:
            return ILLEGAL_DATA_VALUE
        if not rm.writable(HOLDING, addr, count):
            return ILLEGAL_DATA_ADDRESS
        return value_check(addr, [u16(5 + 2 * i) for i in range(count)])
    if fc == 23:
        if len(pdu) < 9:
            return ILLEGAL_DATA_VALUE
        raddr, rcount, waddr, wcount, nbytes = u16(0), u16(2), u16(4), u16(6), pdu[8]
        if not 1 <= rcount <= 125 or not 1 <= wcount <= 121 or nbytes != 2 * wcount \
                or len(pdu) != 9 + nbytes:
            return ILLEGAL_DATA_VALUE
        if raddr + rcount > 0x10000 or waddr + wcount > 0x10000:
            return ILLEGAL_DATA_ADDRESS
        if not rm.writable(HOLDING, waddr, wcount):
            return ILLEGAL_DATA_ADDRESS
        bad = value_check(waddr, [u16(9 + 2 * i) for i in range(wcount)])
        if bad:
            return bad
        return None if rm.readable(HOLDING, raddr, rcount) else ILLEGAL_DATA_ADDRESS
    return ILLEGAL_FUNCTION


def value_check(addr: int, values: list[int]) -> int | None:
    for i, v in enumerate(values):
        a = addr + i
        if a == rm.COMMAND and (v & ~(rm.CMD_MODE_MASK | rm.CMD_ACK_FAULTS)
                                or v & rm.CMD_MODE_MASK not in rm.REQUESTABLE_MODES):
            return ILLEGAL_DATA_VALUE
        if rm.SIGNAL_CMD <= a < rm.SIGNAL_CMD + 4 and any((v >> s) & 0xF >= 8
                                                          for s in (0, 4, 8, 12)):
            return ILLEGAL_DATA_VALUE
    return None


addresses = st.one_of(st.integers(0, 0xFFFF), st.integers(0, 300),
                      st.sampled_from([b[1] for b in rm.BLOCKS]))
counts = st.one_of(st.integers(0, 2100), st.integers(1, 20))
safe_values = st.one_of(st.just(rm.MODE_FLASH), st.integers(0, 0xFFFF))


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    fc = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 15, 16, 23, 7, 8, 17, 20, 0x41]))
    addr, count = draw(addresses), draw(counts)
    if fc in (1, 2, 3, 4):
        pdu = struct.pack(">HH", addr, count)
    elif fc == 5:
        pdu = struct.pack(">HH", addr, draw(st.sampled_from([0, 0xFF00, 0x1234])))
    elif fc == 6:
        pdu = struct.pack(">HH", addr, draw(safe_values))
    elif fc == 15:
        n = draw(st.integers(1, 40))
        nbytes = draw(st.sampled_from([(n + 7) // 8, (n + 7) // 8 + 1]))
        pdu = struct.pack(">HHB", addr, n, nbytes) + draw(st.binary(min_size=nbytes,
                                                                     max_size=nbytes))
    elif fc == 16:
        n = draw(st.integers(1, 10))
        vals = draw(st.lists(safe_values, min_size=n, max_size=n))
        pdu = struct.pack(">HHB", addr, n, 2 * n) + b"".join(struct.pack(">H", v) for v in vals)
    elif fc == 23:
        n = draw(st.integers(1, 6))
        vals = draw(st.lists(safe_values, min_size=n, max_size=n))
        pdu = struct.pack(">HHHHB", addr, count, draw(addresses), n, 2 * n) + b"".join(
            struct.pack(">H", v) for v in vals)
    else:
        pdu = draw(st.binary(max_size=6))
    return frame(bytes((fc,)) + pdu)


@common
@given(requests())
def test_well_formed_requests_answered_by_the_map(board: Board, req: bytes) -> None:
    fc = req[1]
    want = model(fc, req[2:-2])
    board.uart_take()
    try:
        result = board.transact(req, timeout=5)
    except ModbusError as e:
        assert e.code == want, f"fc {fc}: exception {e.code}, model says {want}"
        return
    assert want is None, f"fc {fc}: answered, model says exception {want}"
    if fc in (1, 2, 3, 4, 23):
        assert len(result) == struct.unpack_from(">H", req, 4)[0]
