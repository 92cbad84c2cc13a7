"""Host-side helpers for the board tests: node configurations and a small cabinet that polls
an emulated node over its UART the way the controller does (one FC23 per cycle)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hil.emu import drive
from hil.emu.host import FIRMWARE, Board
from protocols import register_map as rm

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
    drive.lamps_follow(board, drive.feedback_pairs(example()))


class Cabinet(drive.Poller):
    """Polls one node of the example (3 groups), with healthy lamps."""

    def __init__(self, board: Board, unit: int = 1) -> None:
        super().__init__(board, unit, 3)
        self.pairs = drive.feedback_pairs(example())

    def run(self, ms: int, every: int = 100) -> None:
        """Virtual clock: poll every `every` ms for `ms`."""
        for _ in range(ms // every):
            drive.lamps_follow(self.board, self.pairs)
            self.poll()
            self.board.advance(every - 1)

    def start(self) -> None:
        """Boot flash, all red, all-red hold: until the node reports RUN."""
        for _ in range(200):
            self.run(100)
            if self.image.get("mode") == rm.MODE_RUN:
                return
        raise AssertionError(f"node did not reach RUN: {self.image}")
