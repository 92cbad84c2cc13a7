"""The whole firmware on an emulated board (MicroPython unix port, virtual clock unless a
test says otherwise): start-up, comm watchdog, config errors, watchdogs, boot loop, DE pin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fw_nodes import DE, DET1, MAINTENANCE, V1, V2, Cabinet, example, lamps_follow

from hil.emu.host import PWRON_RESET, WDT_RESET, Board
from protocols import register_map as rm
from protocols.aspects import GREEN, RED, RED_AMBER
from protocols.rtu import master
from protocols.rtu.const import ILLEGAL_DATA_ADDRESS, ModbusError

pytestmark = pytest.mark.micropython


@pytest.fixture
def board() -> Iterator[Board]:
    with Board(example(), clock="virtual") as b:
        yield b


def levels(board: Board, pin: int, boot: int | None = None) -> list[tuple[int, int]]:
    """(t_us, level) changes of an output pin during one boot (default: the last)."""
    boot = board.boots if boot is None else boot
    return [(t, v) for (b, t, p, v) in board.output_log if p == pin and b == boot]


def test_boot_flash_is_amber_at_one_hertz(board: Board) -> None:
    board.advance(4000)
    amber = levels(board, V1["amber"])
    ons = [t for t, v in amber if v == 1]
    offs = [t for t, v in amber if v == 0]
    assert len(ons) == 4 and len(offs) >= 4
    for a, b in zip(ons, ons[1:], strict=False):
        assert abs((b - a) - 1_000_000) <= 20_000            # 1 Hz
    for on in ons[:3]:
        off = min(t for t in offs if t > on)
        assert abs((off - on) - 500_000) <= 20_000            # on for half of it
    assert board.output(V1["red"]) == 0 and board.output(V1["green"]) == 0


def test_startup_sequence_then_guarded_run(board: Board) -> None:
    cab = Cabinet(board)
    cab.run(4000)
    assert cab.image["mode"] == rm.MODE_BOOT_FLASH
    cab.run(1500)
    assert cab.image["mode"] == rm.MODE_ALL_RED
    assert board.output(V1["red"]) == 1 and board.output(V2["red"]) == 1
    cab.run(3000)
    assert cab.image["mode"] == rm.MODE_RUN
    cab.poll(aspects=[RED_AMBER, RED, RED])
    cab.run(2000)                                             # red+amber of the example
    cab.poll(aspects=[GREEN, RED, RED])
    board.advance(10)
    assert board.output(V1["green"]) == 1 and board.output(V1["red"]) == 0
    cab.poll(aspects=[GREEN, RED_AMBER, RED])                 # conflicting: refused
    assert cab.image["guard_refusals"] == 1
    assert cab.image["aspects"][1] == RED                     # red+amber is right of way too
    assert board.output(V2["amber"]) == 0 and board.output(V2["green"]) == 0


def test_comm_loss_flashes(board: Board) -> None:
    cab = Cabinet(board)
    cab.start()
    cab.poll(aspects=[RED_AMBER, RED, RED])
    cab.run(2000)
    cab.poll(aspects=[GREEN, RED, RED])
    board.advance(10)
    lamps_follow(board)               # a healthy red goes out (lit with the green: dual)
    board.advance(890)
    assert board.output(V1["green"]) == 1
    board.advance(300)                                        # > 1000 ms without a frame
    assert board.output(V1["green"]) == 0
    image = cab.poll()
    assert image["mode"] == rm.MODE_SAFE
    assert image["faults"] & rm.FAULT_COMM_LOSS
    board.advance(1000)
    assert len(levels(board, V1["amber"])) >= 2               # flashing


def test_malformed_json_flashes_and_still_answers() -> None:
    with Board(b'{"node_id": "n1", "modbus": {"address": 1,', clock="virtual") as b:
        b.advance(50)
        status = Cabinet(b, unit=247).read(rm.STATUS_BLOCK, rm.STATUS_BLOCK_COUNT)
        assert status[rm.CONFIG_ERROR - rm.STATUS_BLOCK] == rm.CFG_UNREADABLE
        assert status[rm.MODE - rm.STATUS_BLOCK] == rm.MODE_SAFE
        assert status[rm.FAULTS - rm.STATUS_BLOCK] & rm.FAULT_CONFIG
        assert not any(v for (_, _, p, v) in b.output_log if p in (25, 26, 27))


@pytest.mark.parametrize(("change", "code"), [
    ("crc", rm.CFG_CRC_MISMATCH),
    ("tables", rm.CFG_INVALID_TABLES),
    ("missing", rm.CFG_NO_TABLES),
])
def test_bad_tables_flash_heads_and_report(change: str, code: int) -> None:
    cfg = example()
    if change == "crc":
        cfg["safety"]["crc"] ^= 0x5A5A
    elif change == "tables":
        cfg["safety"]["conflicts"].append([0, 2])             # no intergreen for it
    else:
        del cfg["safety"]
    with Board(cfg, clock="virtual") as b:
        cab = Cabinet(b)
        cab.run(9000)                                         # the controller tries to start
        assert cab.image["mode"] == rm.MODE_SAFE
        assert cab.read(rm.CONFIG_ERROR) == [code]
        assert b.output(V1["green"]) == 0 and b.output(V1["red"]) == 0
        assert len(levels(b, V1["amber"])) >= 10              # flashing amber all along
        with pytest.raises(ModbusError) as e:                 # no register for the tables
            b.transact(master.write_register(1, rm.SAFETY_CRC, 0))
        assert e.value.code == ILLEGAL_DATA_ADDRESS


def test_dead_task_starves_the_watchdog(board: Board) -> None:
    board.advance(10)
    assert board.wdt_ms == 5000
    board.fault_pin(DET1)                                     # the input task will die
    board.advance(4000)
    assert board.boots == 1
    board.advance(2000)
    assert board.boots == 2 and board.boot_causes[-1] == WDT_RESET
    board.advance(20)
    status = Cabinet(board).read(rm.RESET_CAUSE)
    assert status == [rm.RESET_WATCHDOG]


def test_stalled_board_is_reset_by_the_watchdog(board: Board) -> None:
    board.advance(100)
    board.stall(6000)
    board.advance(7000)
    assert board.boots == 2 and board.boot_causes[-1] == WDT_RESET


def crash(board: Board) -> None:
    """Make this boot die of a watchdog reset (after a few seconds of running)."""
    n = board.boots
    board.fault_pin(DET1)
    board.advance(6000)
    assert board.boots == n + 1


def test_boot_loop_ends_in_safe_mode(board: Board) -> None:
    for _ in range(3):
        crash(board)
    cab = Cabinet(board)
    cab.run(10000)                                            # 4th boot: safe mode
    assert cab.image["mode"] == rm.MODE_SAFE
    assert cab.image["faults"] & rm.FAULT_BOOT_LOOP
    assert not cab.image["faults"] & rm.FAULT_WATCHDOG        # (its reset was one)
    cab.run(30000)
    assert cab.image["mode"] == rm.MODE_SAFE, "a safe-mode run does not clear the count"
    board.power_cycle()
    assert board.boot_causes[-1] == PWRON_RESET
    cab.start()                                               # the count is gone


def test_stable_run_clears_the_boot_count(board: Board) -> None:
    crash(board)
    crash(board)
    board.advance(31000)                                      # a stable run of 30 s
    crash(board)
    crash(board)
    cab = Cabinet(board)
    cab.start()


def test_maintenance_pin_keeps_the_watchdog_off() -> None:
    with Board(example(), clock="virtual") as b:
        b.advance(100)
        assert b.wdt_ms == 5000
    with Board(example(), clock="virtual") as b:
        b.set_input(MAINTENANCE, 0)                           # held (active low) at power-on
        b.reset()
        b.advance(100)
        assert b.wdt_ms == 0
        b.fault_pin(DET1)
        b.advance(20000)
        assert b.boots == 2, "no watchdog: the dead task is left for the technician"


def test_de_pin_covers_every_transmission(board: Board) -> None:
    cab = Cabinet(board)
    cab.run(500)
    rises = [t for t, v in levels(board, DE) if v == 1]
    falls = [t for t, v in levels(board, DE) if v == 0]
    sends = [(t0, t1) for (b, n, t0, t1) in board.tx_log if b == board.boots]
    assert len(sends) == 5
    for t0, t1 in sends:
        up = max(t for t in rises if t <= t0)
        down = min(t for t in falls if t >= up)
        assert t0 - up < 100, "DE up just before the first start bit"
        assert down >= t1, "DE held until the last stop bit is out"
        assert down - t1 < 1200, "and dropped soon after"


def test_other_addresses_and_broadcast(board: Board) -> None:
    board.advance(10)
    board.uart_write(master.read_holding_registers(9, 0, 1))  # not for us
    board.advance(20)
    assert board.uart_take() == b""
    board.uart_write(master.write_coil(0, rm.COIL_IDENTIFY, True))   # broadcast
    board.advance(20)
    assert board.uart_take() == b""
    assert Cabinet(board).board.transact(master.read_coils(1, 0, 4)) == [0, 0, 0, 1]


def test_red_fail_on_the_wires(board: Board) -> None:
    cab = Cabinet(board)
    cab.start()
    board.set_input(V1["fb_red"], 0)                          # V1's red lamp burns out
    for _ in range(10):
        cab.poll()
        board.set_input(V2["fb_red"], board.outputs[V2["red"]])
        board.set_input(34 + 2, board.outputs[32])
        board.advance(99)
    assert cab.image["mode"] == rm.MODE_SAFE
    assert cab.image["red_fail"] == 0b001
    lamps_follow(board)


def test_early_command_reaches_the_lamps_at_the_minimum(board: Board) -> None:
    """Transport jitter: a green that arrives a few ms before red+amber's minimum is held
    and shown exactly when the minimum is over (the output task wakes up then)."""
    minimum = example()["safety"]["groups"][0]["red_amber_ms"] * 1000
    cab = Cabinet(board)
    cab.start()
    cab.poll(aspects=[RED_AMBER, RED, RED])
    on = max(t for t, v in levels(board, V1["amber"]) if v == 1)
    cab.run(minimum // 1000 - 100)                            # polls every 100 ms
    board.advance((on + minimum - 10_000 - board.board_time_us) // 1000 - 3)
    cab.poll(aspects=[GREEN, RED, RED])
    assert board.board_time_us < on + minimum, "the command came early"
    assert board.output(V1["green"]) == 0
    board.advance(20)
    green = min(t for t, v in levels(board, V1["green"]) if v == 1)
    # Never before the minimum; after it by less than the guard's 1 ms tick and the
    # output task's sub-ms phase.
    assert minimum <= green - on < minimum + 2000, green - on
    assert max(t for t, v in levels(board, V1["amber"]) if v == 0) == green
    lamps_follow(board)
    board.advance(5)
    assert cab.poll()["guard_refusals"] == 0
    assert cab.image["aspects"][0] == GREEN
