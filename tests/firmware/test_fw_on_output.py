"""Board.on_output: every output level the board reports, pushed to the host as
(pin, level, board_time_us) from the pins reader thread."""

from __future__ import annotations

import threading
import time

import pytest
from fw_nodes import GROUPS, V1, example

from hil.emu import drive
from hil.emu.host import Board
from protocols import register_map as rm
from protocols.aspects import RED

pytestmark = pytest.mark.micropython


def test_callback_sees_exactly_the_output_log() -> None:
    seen: list[tuple[int, int, int]] = []
    threads: set[str] = set()
    with Board(example(), clock="virtual") as b:
        b.on_output = lambda pin, level, t: (seen.append((pin, level, t)),
                                             threads.add(threading.current_thread().name))
        n = len(b.output_log)
        b.advance(3000)
        b.advance(1)
        with b._cv:
            logged = [(p, v, t) for (_, t, p, v) in b.output_log[n:]]
    assert seen == logged
    amber = [v for (p, v, _) in seen if p == V1["amber"]]
    assert len(amber) >= 5 and all(a != b for a, b in zip(amber, amber[1:])), amber
    assert threading.current_thread().name not in threads, "called from the reader thread"


def test_callback_emulates_lamp_current() -> None:
    """Red lamps whose current sense follows their output through the callback alone: the
    node starts and runs without a red fail (700 ms would latch one)."""
    with Board(example(), clock="virtual") as b:
        sense = {g["red"]: g["fb_red"] for g in GROUPS}

        def lamp(pin: int, level: int, t_us: int) -> None:
            if pin in sense:
                b.set_input(sense[pin], level)

        b.on_output = lamp
        for pin, fb in sense.items():
            b.set_input(fb, b.outputs.get(pin, 0))
        cab = drive.Poller(b, 1, 3)
        for _ in range(150):
            cab.poll(rm.MODE_RUN, [RED, RED, RED])
            b.advance(99)
        assert cab.image["mode"] == rm.MODE_RUN, cab.image
        assert cab.image["red_fail"] == 0 and not cab.image["faults"] & rm.FAULT_RED_FAIL


def test_a_failing_callback_is_logged_and_the_board_goes_on() -> None:
    with Board(example(), clock="virtual") as b:
        def boom(pin: int, level: int, t_us: int) -> None:
            raise RuntimeError("lamp model broke")

        b.on_output = boom
        b.advance(1500)
        assert any("lamp model broke" in line for line in b.log)
        b.on_output = None
        n = len(b.output_log)
        b.advance(1500)
        assert len(b.output_log) > n, "the pins link still works"


def test_scaled_callback_times_are_board_times() -> None:
    got: list[tuple[int, int]] = []
    with Board(example(), clock="scaled", time_scale=4.0) as b:
        b.on_output = lambda pin, level, t: got.append((t, time.monotonic_ns()))
        time.sleep(1.0)
        b.on_output = None
        assert len(got) >= 4
        for t, host in got:
            lag_ms = (host - b.host_ns(t)) / 1e6
            assert 0 <= lag_ms < 50, lag_ms
