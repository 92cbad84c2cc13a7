"""The scaled clock (Board(clock="scaled", time_scale=s)): the board's time runs s times
faster than the host's CLOCK_MONOTONIC, for everything the firmware times. Real-time tests:
each takes a few seconds of wall time; they judge board time and causality (never sooner,
seen after it happened), which a loaded host cannot break, not host-time windows."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import pytest
from fw_nodes import V1, Cabinet, example

from hil.emu import drive
from hil.emu.host import WDT_RESET, Board
from protocols import register_map as rm

pytestmark = pytest.mark.micropython

SCALE = 4.0


@pytest.fixture
def board() -> Iterator[Board]:
    with Board(example(), clock="scaled", time_scale=SCALE) as b:
        yield b


def test_rejects_a_scale_without_the_scaled_clock() -> None:
    with pytest.raises(ValueError):
        Board(None, clock="real", time_scale=2.0)
    with pytest.raises(ValueError):
        Board(None, clock="scaled", time_scale=0.0)


def test_boot_flash_is_4_hz_of_host_time(board: Board) -> None:
    t0 = time.monotonic_ns()
    time.sleep(2.2)
    t1 = time.monotonic_ns()
    span = board.board_us(t1) - board.board_us(t0)
    assert abs(span - SCALE * (t1 - t0) / 1000) <= SCALE, "board_us maps host time x 4"
    with board._cv:
        ons = [t for (_, t, p, v) in board.output_log if p == V1["amber"] and v == 1]
    in_window = [t for t in ons if board.board_us(t0) <= t <= board.board_us(t1)]
    assert 8 <= len(in_window) <= 9, in_window              # 4 Hz x 2.2 s
    host_periods = [(board.host_ns(b) - board.host_ns(a)) / 1e6 for a, b in zip(ons, ons[1:])]
    assert abs(statistics.median(host_periods) - 250) <= 5, host_periods
    board_periods = [(b - a) / 1000 for a, b in zip(ons, ons[1:])]
    assert abs(statistics.median(board_periods) - 1000) <= 20, "1 Hz on the board's clock"


def test_board_us_agrees_with_what_the_host_sees(board: Board) -> None:
    pin = V1["amber"]
    with board._cv:
        n = len(board.output_log)
    board.wait_for(lambda: any(p == pin for (_, _, p, _) in board.output_log[n:]), 30.0,
                   "a change of the amber lamp")
    seen = time.monotonic_ns()
    with board._cv:
        t = next(t for (_, t, p, _) in board.output_log[n:] if p == pin)
    # reported after it happened (a loaded host reports later, never sooner), and not
    # seconds off (an origin or a scale gone wrong would be)
    assert 0 <= seen - board.host_ns(t) < 2e9, (seen, board.host_ns(t))
    assert abs(board.board_us(board.host_ns(t)) - t) <= 1


def test_comm_timeout_is_250_ms_of_host_time(board: Board) -> None:
    drive.wire_lamps(board, example())                        # lamps draw current on board
    board.trace_uart(True)
    cab = Cabinet(board)
    deadline = time.monotonic() + 120                         # only ends a hung host
    while cab.image.get("mode") != rm.MODE_RUN:               # 5 s + 3 s of board time
        assert time.monotonic() < deadline, cab.image
        cab.poll()
        time.sleep(0.025)                                     # 100 ms of board time
    assert board.output(V1["red"]) == 1
    cab.poll()                                                # the last frame
    board.wait_output(V1["red"], 0, 30.0)                     # SAFE: flashing, red off
    with board._cv:
        off = max(t for (_, t, p, v) in board.output_log if p == V1["red"] and v == 0)
        last = max(t for (_, _, t) in board.rx_log if t < off)
    # 1000 ms of board time after the last frame came in (a scan or two later; a host that
    # keeps the board waiting makes it later, never sooner), which is 250 ms of the host's
    assert 1000 <= (off - last) / 1000 < 2000, (off - last) / 1000
    assert (board.host_ns(off) - board.host_ns(last)) / 1e6 >= 250
    assert cab.poll()["mode"] == rm.MODE_SAFE
    assert cab.image["faults"] & rm.FAULT_COMM_LOSS


def test_watchdog_runs_on_board_time(board: Board) -> None:
    board.wait_for(lambda: board.wdt_ms == 5000, 30, "the watchdog started")
    start = time.monotonic()
    board.stall(8000)                                         # 8 s of board time
    board.wait_for(lambda: board.boots == 2, 30, "watchdog reset")
    host_s = time.monotonic() - start
    assert board.boot_causes[-1] == WDT_RESET
    # 5 s of board time after the last feed (4 board us: the host's 1 us at 4x)...
    assert 5_000_000 <= board._death_t - board.ended_feeds[0] <= 5_000_004
    # ...which is 1.25 s of the host's: never sooner (a loaded host only makes it later)
    assert host_s >= 1.2, host_s
