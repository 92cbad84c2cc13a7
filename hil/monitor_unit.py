"""The rig's monitor units: an emulated monitor board per intersection that has one, its
lamp sense wired to the signal nodes' lamp outputs, and its flash-transfer relay.

* `MonitorBoard`: the same emulated ESP32 (hil/emu/machine.py) running the same firmware
  folder; the board holds a monitor.json, so firmware/main.py starts the unit's role
  (firmware/munit/).
* Sense wiring, event-driven: every lamp output change a node board reports (its
  `on_output`, from the board's pins link, as it happens) is put at once on the unit's
  sense input of that lamp, as the lamp's current would be in the cabinet.
* The relay: energised while the unit's relay pin, driven by the board's running process
  (not one that died or was replaced), is high. Dropped (the unit transferred, is starting, dead or resetting) means the
  cabinet's flasher has the heads: `overlay` replaces the intersection's lamp bits with
  the flash (vehicle heads flash their flash lamp at 1 Hz, lit at once when the relay
  drops and for the first half of each second from then; pedestrian heads dark), which is
  what the panel, the trace and the rig's own monitor then see.
* `UnguardedBoard`: a node with its guard broken on purpose (hil/faults/unguarded/, first
  on its MICROPYPATH): rig-only fault injection, never a firmware switch.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from controller.config.model import GroupConfig
from controller.provisioning.unit_file import unit_documents
from protocols.aspects import LAMP_AMBER, LAMP_RED

from .emu.host import Board

FAULTS = Path(__file__).resolve().parent / "faults"
HOST_WDT_MS = 5000


class MonitorBoard(Board):
    """One emulated monitor unit; `node_config` is its monitor.json document."""

    def write_config(self, node_config: Any) -> None:
        target = self.dir / "monitor.json"
        if isinstance(node_config, dict):
            target.write_text(json.dumps(node_config))
        elif isinstance(node_config, bytes):
            target.write_bytes(node_config)
        else:
            target.write_bytes(Path(node_config).read_bytes())


class UnguardedBoard(Board):
    """A signal node whose guard lets every command through (rig-only fault injection)."""

    def _env(self) -> dict[str, str]:
        env = super()._env()
        env["MICROPYPATH"] = os.pathsep.join([str(FAULTS / "unguarded"), env["MICROPYPATH"]])
        env["EMU_FIRMWARE"] = str(self.firmware_dir)
        return env


class MonitorUnits:
    """Every monitor unit of the configuration on the rig."""

    def __init__(self, config: GroupConfig, node_docs: dict[str, dict],
                 unit_docs: dict[str, dict] | None = None):
        """`unit_docs`: monitor.json per unit id (default: provisioned from `config`)."""
        self.docs = unit_docs if unit_docs is not None else unit_documents(config)
        for doc in self.docs.values():
            # a loaded 2-core host stalls a board's process for seconds now and then: the
            # unit's hardware watchdog gets what the nodes' has (5 s), or a stall would
            # reset the unit and drop its relay, a fault the street never had
            doc["wdt_ms"] = max(doc["wdt_ms"], HOST_WDT_MS)
        self.inter = {uid: d["intersection"] for uid, d in self.docs.items()}
        self.flash_lamp = {i.id: LAMP_RED if i.flash_aspect == "red" else LAMP_AMBER
                           for i in config.intersections}
        self.ped = {(i.id, g.id): g.is_pedestrian for i in config.intersections
                    for g in i.groups}
        # (node id, lamp output pin) -> [(unit id, sense input pin)]
        self.wires: dict[tuple[str, int], list[tuple[str, int]]] = {}
        for uid, udoc in self.docs.items():
            sense = {s["group"]: s for s in udoc["sense"]}
            for nid, ndoc in node_docs.items():
                if ndoc.get("intersection") != udoc["intersection"]:
                    continue
                for g in ndoc.get("groups", []):
                    for lamp in ("red", "amber", "green"):
                        if g.get(lamp) is not None and lamp in sense.get(g["id"], {}):
                            self.wires.setdefault((nid, g[lamp]), []).append(
                                (uid, sense[g["id"]][lamp]))
        self.boards: dict[str, MonitorBoard] = {}
        self._relay: dict[str, tuple[Any, int]] = {}     # unit -> (its process, level) last reported
        self._lock = threading.Lock()
        self.history: dict[str, list[tuple[float, bool]]] = {uid: [] for uid in self.docs}
        # as the pins links report them (not the sampler's view, which a loaded host may
        # stall past a short event): (rig time, group, lamp, level) per intersection, and
        # (rig time, level) of each unit's relay pin
        self.lamp_log: dict[str, list[tuple[float, str, str, int]]] = {}
        self.relay_log: dict[str, list[tuple[float, int]]] = {uid: [] for uid in self.docs}
        self.lamp_of: dict[tuple[str, int], tuple[str, str, str]] = {}
        for nid, ndoc in node_docs.items():
            for g in ndoc.get("groups", []):
                for lamp in ("red", "amber", "green"):
                    if g.get(lamp) is not None:
                        self.lamp_of[(nid, g[lamp])] = (ndoc["intersection"], g["id"], lamp)
        self.clock = lambda: 0.0            # the rig's street time (Rig.start sets it)

    def __bool__(self) -> bool:
        return bool(self.docs)

    def start(self, nodes: dict[str, Board], bus, workdir: Path, clock: dict) -> None:
        for uid, doc in self.docs.items():
            board = MonitorBoard(doc, workdir=str(workdir / uid), **clock)
            relay = doc["relay"]["pin"]
            board.on_output = lambda pin, level, t, u=uid, r=relay, b=board: \
                self._relay_changed(u, b, pin, r, level)
            board.start()
            bus.attach(board)
            self.boards[uid] = board
        for nid, node in nodes.items():
            for pin, level in list(node.outputs.items()):
                self._lamp(nid, pin, level)
            node.on_output = _chain(node.on_output,
                                    lambda pin, level, t, n=nid: self._lamp(n, pin, level))

    def _lamp(self, nid: str, pin: int, level: int) -> None:
        lamp = self.lamp_of.get((nid, pin))
        if lamp is not None:
            with self._lock:
                self.lamp_log.setdefault(lamp[0], []).append((self.clock(), lamp[1], lamp[2],
                                                              level))
        for uid, sense in self.wires.get((nid, pin), ()):
            board = self.boards.get(uid)
            if board is not None and board.inputs.get(sense) != level:
                board.set_input(sense, level)

    def _relay_changed(self, uid: str, board: Board, pin: int, relay: int, level: int) -> None:
        if pin == relay:
            with self._lock:
                self._relay[uid] = (board._proc, level)     # the process that drives it
                self.relay_log[uid].append((self.clock(), level))

    def energised(self, uid: str) -> bool:
        board = self.boards.get(uid)
        with self._lock:
            proc, level = self._relay.get(uid, (None, 0))
        return board is not None and board.running and proc is board._proc and level == 1

    def overlay(self, bits: dict[str, dict[str, int]], t: float) -> dict[str, dict[str, int]]:
        """The lamps as the street sees them: the flasher's where a relay is dropped."""
        for uid, iid in self.inter.items():
            ok = self.energised(uid)
            h = self.history[uid]
            if not h or h[-1][1] != ok:
                h.append((t, ok))
            heads = bits.get(iid)
            if ok or heads is None:
                continue
            # the flasher lights its lamps at once when the relay drops, then at 1 Hz
            lamp = self.flash_lamp[iid] if (t - h[-1][0]) % 1.0 < 0.5 else 0
            bits[iid] = {g: 0 if self.ped[(iid, g)] else lamp for g in heads}
        return bits

    def transfers(self, uid: str, since: float) -> list[float]:
        """When the unit's relay pin went low at or after `since` (street time, as the
        unit's board reported it)."""
        with self._lock:
            return [t for t, level in self.relay_log[uid] if not level and t >= since]

    def greens(self, iid: str) -> list[tuple[float, str, int]]:
        """(street time, group, level) of every green lamp output change of `iid`."""
        with self._lock:
            return [(t, g, v) for t, g, lamp, v in self.lamp_log.get(iid, ()) if lamp == "green"]

    def board_of(self, iid: str) -> MonitorBoard | None:
        for uid, i in self.inter.items():
            if i == iid:
                return self.boards.get(uid)
        return None

    def close(self) -> None:
        for b in self.boards.values():
            b.close()


def _chain(first, second):
    if first is None:
        return second

    def both(pin: int, level: int, t: int) -> None:
        first(pin, level, t)
        second(pin, level, t)
    return both


__all__ = ["MonitorBoard", "MonitorUnits", "UnguardedBoard"]
