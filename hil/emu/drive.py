"""Drivers for one emulated node (CPython): a pretend cabinet that polls it the way the
controller does, and healthy lamps whose current sense follows their outputs (wired into
the board once, `wire_lamps`; or set by the host after each change, `lamps_follow`).

Used by the firmware tests and benchmarks; the full rig (hil/bus.py, the controller's
runtime) talks to boards through the same Board API.
"""

from __future__ import annotations

from typing import Any

from protocols import register_map as rm
from protocols.aspects import RED
from protocols.rtu import master

from .host import Board


def feedback_pairs(node_config: dict[str, Any]) -> list[tuple[int, int]]:
    """(lamp output pin, its current-sense input pin) for every lamp with feedback."""
    return [(out, sense) for out, sense, _, _ in lamp_loads(node_config)]


def lamp_loads(node_config: dict[str, Any]) -> list[tuple[int, int, int, int]]:
    """(output, sense input, output level that lights the lamp, sense level while it draws
    current) of every lamp with current sense in a node.json: its heads' wiring."""
    lit_at = 0 if node_config.get("outputs_active_low") else 1
    loads = []
    for g in node_config.get("groups", []):
        fb = g.get("feedback", {})
        sensed = 0 if fb.get("active_low") else 1
        for lamp in ("red", "amber", "green"):
            if g.get(lamp) is not None and fb.get(lamp) is not None:
                loads.append((g[lamp], fb[lamp], lit_at, sensed))
    return loads


def wire_lamps(board: Board, node_config: dict[str, Any]) -> None:
    """Hang healthy lamps on the board's outputs: the board itself then drives each sense
    input as its output changes (hil/emu/machine.py), with no help from the host."""
    for out, sense, lit_at, sensed in lamp_loads(node_config):
        board.wire_lamp(out, sense, lit_at=lit_at, sensed=sensed)


def lamps_follow(board: Board, pairs: list[tuple[int, int]]) -> None:
    """Healthy lamps: each sense input shows what its output drives (call after changes)."""
    for out, sense in pairs:
        level = board.outputs.get(out, 0)
        if board.inputs.get(sense) != level:
            board.set_input(sense, level)


class Poller:
    """The cabinet's cyclic poll of one node: one FC23 writing HEARTBEAT, COMMAND and
    SIGNAL_CMD and reading the process image."""

    def __init__(self, board: Board, unit: int, n_groups: int) -> None:
        self.board = board
        self.unit = unit
        self.hb = 0
        self.mode = rm.MODE_RUN
        self.aspects = [RED] * n_groups
        self.image: dict[str, Any] = {}

    def poll(self, mode: int | None = None, aspects: list[int] | None = None,
             timeout: float = 1.0) -> dict[str, Any]:
        if mode is not None:
            self.mode = mode
        if aspects is not None:
            self.aspects = list(aspects)
        self.hb = (self.hb + 1) & 0xFFFF
        regs = rm.command_regs(self.hb, self.mode, self.aspects)
        req = master.read_write_registers(self.unit, rm.POLL_READ_ADDR, rm.POLL_READ_COUNT,
                                          rm.POLL_WRITE_ADDR, regs)
        self.image = rm.decode_process_image(self.board.transact(req, timeout),
                                             len(self.aspects))
        return self.image

    def read(self, addr: int, count: int = 1) -> list[int]:
        return self.board.transact(master.read_holding_registers(self.unit, addr, count))
