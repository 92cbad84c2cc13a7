"""Lamp current emulated inside the board (hil/emu/machine.py): the host wires each lamp's
output to its current-sense input once (Board.wire_lamp, hil/emu/drive.py's wire_lamps) and
never touches the sense inputs again; the node's own lamp sense then sees its lamps in the
board's own time, whatever the host does."""

from __future__ import annotations

import copy

import pytest
from fw_nodes import GROUPS, V1, V2, example

from hil.emu import drive
from hil.emu.drive import lamp_loads
from hil.emu.host import Board
from protocols import register_map as rm
from protocols.aspects import AMBER, FLASH_GREEN, GREEN, RED, RED_AMBER

pytestmark = pytest.mark.micropython


def _wired(doc: dict, **kw) -> Board:
    b = Board(doc, clock="virtual", **kw)
    drive.wire_lamps(b, doc)
    return b


def _run_to(cab: drive.Poller, mode: int, polls: int = 200) -> None:
    for _ in range(polls):
        cab.poll()
        if cab.image.get("mode") == mode:
            return
        cab.board.advance(99)
    raise AssertionError(f"node not in mode {mode}: {cab.image}")


def test_the_loads_of_a_node_are_its_sensed_lamps() -> None:
    assert sorted(lamp_loads(example())) == sorted((g["red"], g["fb_red"], 1, 1)
                                                   for g in GROUPS)


def test_a_wired_node_runs_without_the_host_touching_a_sense_input() -> None:
    with _wired(example()) as b:
        cab = drive.Poller(b, 1, 3)
        _run_to(cab, rm.MODE_RUN)
        # V1 to green and back: its red goes off and on again, sensed each time
        for aspect, ms in ((RED_AMBER, 2500), (GREEN, 6000), (FLASH_GREEN, 3500), (AMBER, 3500),
                           (RED, 3000)):
            for _ in range(ms // 100):
                cab.poll(rm.MODE_RUN, [aspect, RED, RED])
                b.advance(99)
        with b._cv:
            reds = [v for (_, _, p, v) in b.output_log if p == V1["red"]]
        assert reds[-3:] == [1, 0, 1], reds
        assert cab.image["mode"] == rm.MODE_RUN, cab.image
        assert cab.image["red_fail"] == 0 and not cab.image["faults"] & rm.FAULT_RED_FAIL
        assert b.inputs == {}, "the host set no input"


def test_a_failed_lamp_is_a_red_fail_and_survives_a_reset() -> None:
    with _wired(example()) as b:
        cab = drive.Poller(b, 1, 3)
        _run_to(cab, rm.MODE_RUN)
        b.fail_lamp(V2["red"])
        _run_to(cab, rm.MODE_SAFE, polls=12)      # red fail after 700 ms
        assert cab.image["red_fail"] == 0b010
        b.reset()
        cab = drive.Poller(b, 1, 3)
        for _ in range(150):                      # the lamp is still broken after the reset
            cab.poll()
            if cab.image.get("red_fail"):
                break
            b.advance(99)
        assert cab.image["red_fail"] == 0b010, cab.image
        b.fail_lamp(V2["red"], failed=False)      # replaced
        b.reset()
        _run_to(cab, rm.MODE_RUN)
        assert cab.image["red_fail"] == 0


def test_active_low_outputs_and_sense_inputs() -> None:
    doc = copy.deepcopy(example(outputs_active_low=True))
    for g in doc["groups"]:
        g["feedback"]["active_low"] = True
    loads = lamp_loads(doc)
    assert loads and all(lit_at == 0 and sensed == 0 for _, _, lit_at, sensed in loads)
    with _wired(doc) as b:
        cab = drive.Poller(b, 1, 3)
        _run_to(cab, rm.MODE_RUN)
        for _ in range(30):
            cab.poll(rm.MODE_RUN, [RED, RED, RED])
            b.advance(99)
        assert cab.image["mode"] == rm.MODE_RUN and cab.image["red_fail"] == 0, cab.image
