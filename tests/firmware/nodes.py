"""Host-side helpers for the board tests: node configurations and a small cabinet that polls
an emulated node over its UART the way the controller does (one FC23 per cycle)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hil.emu.host import FIRMWARE, Board
from protocols import register_map as rm
from protocols.aspects import RED
from protocols.rtu import master

EXAMPLE = FIRMWARE / "node.example.json"

# Pins of firmware/node.example.json.
V1 = {"red": 25, "amber": 26, "green": 27, "fb_red": 34}
V2 = {"red": 14, "amber": 23, "green": 13, "fb_red": 35}
P1 = {"red": 32, "green": 33, "fb_red": 36}
GROUPS = (V1, V2, P1)
DE = 4
DET1, DET2 = 39, 18
BAY_DIGITAL = 19
TRIG, ECHO = 21, 22
MAINTENANCE = 0


def example(**changes: Any) -> dict[str, Any]:
    """The example node.json, with top-level keys replaced; parity N (a pty has none)."""
    cfg = json.loads(Path(EXAMPLE).read_text())
    cfg["modbus"]["parity"] = "N"
    for k, v in changes.items():
        cfg[k] = v
    return copy.deepcopy(cfg)


def lamps_follow(board: Board) -> None:
    """Wire each red lamp's current sense to its red output, as a healthy lamp does."""
    for g in GROUPS:
        level = board.outputs.get(g["red"], 0)
        if board.inputs.get(g["fb_red"]) != level:
            board.set_input(g["fb_red"], level)


class Cabinet:
    """Polls one node: write HEARTBEAT, COMMAND, SIGNAL_CMD and read the process image."""

    def __init__(self, board: Board, unit: int = 1) -> None:
        self.board = board
        self.unit = unit
        self.hb = 0
        self.mode = rm.MODE_RUN
        self.aspects = [RED, RED, RED]
        self.image: dict[str, Any] = {}

    def poll(self, mode: int | None = None, aspects: list[int] | None = None) -> dict[str, Any]:
        if mode is not None:
            self.mode = mode
        if aspects is not None:
            self.aspects = list(aspects)
        self.hb = (self.hb + 1) & 0xFFFF
        regs = rm.command_regs(self.hb, self.mode, self.aspects)
        req = master.read_write_registers(self.unit, rm.POLL_READ_ADDR, rm.POLL_READ_COUNT,
                                          rm.POLL_WRITE_ADDR, regs)
        self.image = rm.decode_process_image(self.board.transact(req), len(self.aspects))
        return self.image

    def read(self, addr: int, count: int = 1) -> list[int]:
        return self.board.transact(master.read_holding_registers(self.unit, addr, count))

    def run(self, ms: int, every: int = 100) -> None:
        """Virtual clock: poll every `every` ms for `ms` (lamps drawing current)."""
        for _ in range(ms // every):
            lamps_follow(self.board)
            self.poll()
            self.board.advance(every - 1)

    def start(self) -> None:
        """Boot flash, all red, all-red hold: until the node reports RUN."""
        for _ in range(200):
            self.run(100)
            if self.image.get("mode") == rm.MODE_RUN:
                return
        raise AssertionError(f"node did not reach RUN: {self.image}")
