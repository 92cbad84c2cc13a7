"""The hardware-in-the-loop rig: emulated boards, the RS-485 line, the real cabinet runtime,
traffic on the loops and the independent monitor watching the lamps.

    with Rig(load("examples/corridor.toml"), time_scale=3) as rig:
        rig.run_for(60)                       # logical seconds of street
        rig.bus.cut(5)                        # faults on demand
        print(rig.verdict())

Time: the rig, the boards and the runtime all run `time_scale` times faster than life
(scaled clocks), so that "seconds" below are the street's seconds. The sampler thread
reads every lamp every few milliseconds of host time: it emulates lamp current sense,
feeds the monitor, drives the loops from the traffic generator and keeps a trace.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from controller.config.boards import BOARDS
from controller.config.model import PARKING_BAY, GroupConfig
from controller.config.monitor_table import monitor_table
from controller.provisioning import node_documents
from controller.traffic import TrafficGenerator
from monitor import SignalMonitor, Violation
from protocols import aspects as A

from .bus import RS485Bus
from .emu.host import Board
from .lamps import LampPanel
from .monitor_unit import MonitorUnits, UnguardedBoard

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_REAL_S = 0.005            # host seconds between lamp samples
ECHO_US = {1: 50 * 58, 0: 140 * 58}   # ultrasonic echo widths: occupied 50 cm, free 140 cm


@dataclass
class Trace:
    lamps: dict[str, list[tuple[float, int]]] = field(default_factory=dict)   # "i/g" -> changes
    inputs: dict[str, list[tuple[float, int]]] = field(default_factory=dict)  # "i/d" -> changes
    markers: list[tuple[float, str]] = field(default_factory=list)


# A scaled rig runs the nodes' comm watchdog on scaled clocks: a host that stalls the cabinet
# process for comm_timeout_ms / time_scale of real time makes every node flash, a fault the
# street never had. Stalls of a few hundred ms are normal on a loaded 2-core machine, so the
# rig leaves the host at least this much real time per watchdog period (scenarios must say
# so explicitly: hil/scenario.py refuses less).
HOST_BUDGET_MS = 600


class Rig:
    def __init__(self, config: GroupConfig, *, time_scale: float = 1.0, seed: int = 1,
                 traffic_scale: float = 1.0, comm_timeout_ms: int | None = None,
                 monitor_tolerance_s: float = 0.25, controller: bool = True,
                 workdir: str | None = None, node_docs: dict[str, dict] | None = None,
                 ultrasonic_bays: bool = False, broker: str | None = None,
                 unguarded: tuple[str, ...] = (), unit_docs: dict[str, dict] | None = None):
        self.config = config
        self.scale = time_scale
        self.seed = seed
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="smartcross-hil-"))
        self.docs = node_docs or node_documents(config)
        for doc in self.docs.values():
            if comm_timeout_ms is not None:      # a scenario's own
                doc["modbus"]["comm_timeout_ms"] = comm_timeout_ms
            else:                                # the configuration's, with the host's budget
                doc["modbus"]["comm_timeout_ms"] = max(doc["modbus"]["comm_timeout_ms"],
                                                       int(HOST_BUDGET_MS * time_scale))
            if ultrasonic_bays:
                _ultrasonic(doc)
        self.silent: set[tuple[str, str]] = set()          # bays whose sensor stopped
        # monitor units (hil/monitor_unit.py) and the nodes whose guard a scenario broke
        self.unguarded = set(unguarded)
        for nid in self.unguarded:                      # ... and whose lamp sense is unwired
            for g in self.docs[nid].get("groups", []):
                g["feedback"] = {}
        self.units = MonitorUnits(config, self.docs, unit_docs)
        self.bus = RS485Bus(config.buses[0].baud)
        self.boards: dict[str, Board] = {}
        self.panel: LampPanel | None = None
        self.monitors = {i.id: SignalMonitor(monitor_table(i), tolerance_s=monitor_tolerance_s)
                         for i in config.intersections}
        # traffic_scale 0: the rig leaves the loop inputs alone (a test drives them)
        self.traffic = {i.id: TrafficGenerator(i, seed, traffic_scale) for i in
                        config.intersections} if traffic_scale > 0 else {}
        self.want_controller = controller
        self.broker = broker                 # the cabinet publishes telemetry here
        self.controller: subprocess.Popen | None = None
        self.trace = Trace()
        self.actuations = 0
        self.stuck: dict[tuple[str, str], int] = {}        # forced detector levels
        self._input_pins = self._map_inputs()
        self._lock = threading.Lock()
        self._running = False
        self._thread: threading.Thread | None = None
        self.t0 = 0.0
        self.lamps: dict[str, dict[str, int]] = {}
        self._lit: set[tuple[str, str]] = set()
        self._watched: set[str] = set()
        self._ped = {(i.id, g.id): g.is_pedestrian for i in config.intersections
                     for g in i.groups}

    # -- wiring -----------------------------------------------------------------------------
    def _map_inputs(self) -> dict[tuple[str, str], tuple[str, int]]:
        """(intersection, detector id) -> (node id, input pin: an ultrasonic bay's echo)."""
        out = {}
        for nid, doc in self.docs.items():
            for d in doc.get("detectors", []) + doc.get("bays", []):
                out[(doc["intersection"], d["id"])] = (nid, d.get("echo", d.get("pin")))
        self._echo = {(doc["intersection"], d["id"]) for doc in self.docs.values()
                      for d in doc.get("bays", []) if d.get("type") == "ultrasonic"}
        return out

    def now(self) -> float:
        """Street seconds since the rig started."""
        return (time.monotonic() - self.t0) * self.scale

    def start(self) -> Rig:
        clock = {"clock": "scaled", "time_scale": self.scale} if self.scale != 1.0 else {}
        for nid, doc in self.docs.items():
            kind = UnguardedBoard if nid in self.unguarded else Board
            board = kind(doc, workdir=str(self.dir / nid), **clock)
            board.start()
            self.bus.attach(board)
            self.boards[nid] = board
        self.panel = LampPanel(self.boards, self.docs)
        self.t0 = time.monotonic()
        if self.units:
            self.units.clock = self.now
            self.units.start(self.boards, self.bus, self.dir, clock)
        self._running = True
        self._thread = threading.Thread(target=self._sampler, name="hil-sampler", daemon=True)
        self._thread.start()
        if self.want_controller:
            self.start_controller()
        return self

    def __enter__(self) -> Rig:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.stop_controller()
        self._running = False
        if self._thread:
            self._thread.join(timeout=5)
        for b in self.boards.values():
            b.close()
        self.units.close()
        self.bus.close()
        for m in self.monitors.values():
            m.finish(self.now())

    # -- the cabinet ----------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.dir / "cabinet"

    def start_controller(self) -> None:
        cmd = [sys.executable, "-m", "controller.cli", "run", self.config.source,
               "--port", f"{self.config.buses[0].id}={self.bus.port}",
               "--data", str(self.data_dir), "--time-scale", str(self.scale)]
        if self.broker:
            cmd += ["--broker", self.broker]
        log = open(self.dir / "controller.log", "ab")
        self.controller = subprocess.Popen(cmd, stdout=log, stderr=log, cwd=ROOT)
        self.mark("controller started")

    def stop_controller(self, kill: bool = False) -> None:
        p = self.controller
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        self.mark("controller killed" if kill else "controller stopped")

    def status(self) -> dict | None:
        try:
            return json.loads((self.data_dir / "status.json").read_text())
        except (OSError, ValueError):
            return None

    # -- driving the street -------------------------------------------------------------
    def mark(self, label: str) -> float:
        t = self.now()
        with self._lock:
            self.trace.markers.append((t, label))
        return t

    def force_detector(self, intersection: str, detector: str, level: int | None) -> None:
        """Hold a detector input at a level (1 stuck on, 0 open; -1 chattering), or give it
        back to traffic (None)."""
        if level is None:
            self.stuck.pop((intersection, detector), None)
        else:
            self.stuck[(intersection, detector)] = level

    def _sampler(self) -> None:
        k_traffic = -1
        while self._running:
            t = self.now()
            bits = self.panel.sample()
            if self.units:                      # a dropped transfer relay: the flasher's lamps
                bits = self.units.overlay(bits, t)
            with self._lock:
                for iid, heads in bits.items():
                    old = self.lamps.get(iid, {})
                    for gid, b in heads.items():
                        if old.get(gid) != b:
                            self.trace.lamps.setdefault(f"{iid}/{gid}", []).append((t, b))
                            if b:
                                self._lit.add((iid, gid))
                    self.lamps[iid] = heads
                    # the monitor is powered with the cabinet: it watches an intersection
                    # from the moment all its heads have lit up in the boot flash
                    if iid in self._watched or all((iid, g) in self._lit for g in heads
                                                   if not self._ped[(iid, g)]):
                        self._watched.add(iid)
                        self.monitors[iid].feed(t, heads)
            k = int(t * 10)
            if k != k_traffic:
                k_traffic = k
                self._drive_loops(k, bits)
            time.sleep(SAMPLE_REAL_S)

    def _drive_loops(self, k: int, bits: dict[str, dict[str, int]]) -> None:
        for iid, gen in self.traffic.items():
            heads = bits.get(iid, {})
            aspects = {g: (A.GREEN if b & A.LAMP_GREEN else A.RED) for g, b in heads.items()}
            on = gen.presence(k, aspects)
            for (i, did), (nid, pin) in self._input_pins.items():
                if i != iid:
                    continue
                level = self.stuck.get((iid, did), 1 if did in on else 0)
                if level < 0:                   # a chattering loop: on and off every tick
                    level = k % 2
                board = self.boards[nid]
                if (iid, did) in self._echo:    # an ultrasonic sensor: a car 50 cm away, or
                    width = None if (iid, did) in self.silent else ECHO_US[level]
                    if board.echoes.get(pin) != (-2 if width is None else width):
                        board.set_echo(pin, width)      # nothing within range; or silent
                    continue
                if board.inputs.get(pin) != level:
                    board.set_input(pin, level)
                    key = f"{iid}/{did}"
                    self.trace.inputs.setdefault(key, []).append((k / 10, level))
                    if level and not self._is_bay(iid, did):
                        self.actuations += 1

    def _is_bay(self, iid: str, did: str) -> bool:
        inter = self.config.intersection(iid)
        return any(d.id == did and d.kind == PARKING_BAY for d in inter.detectors)

    # -- waiting --------------------------------------------------------------------------
    def run_for(self, seconds: float) -> None:
        """Let `seconds` of street time pass (the rig works in its threads meanwhile)."""
        end = self.now() + seconds
        while True:
            left = (end - self.now()) / self.scale
            if left <= 0:
                return
            time.sleep(min(left, 0.2))

    def wait_until(self, predicate, timeout_s: float, what: str) -> float:
        """Street time at which `predicate()` first held; AssertionError after `timeout_s`."""
        end = self.now() + timeout_s
        while not predicate():
            if self.now() > end:
                raise AssertionError(f"not within {timeout_s} s: {what}")
            time.sleep(SAMPLE_REAL_S)
        return self.now()

    # -- what happened ----------------------------------------------------------------------
    def violations(self) -> list[Violation]:
        with self._lock:
            return [v for m in self.monitors.values() for v in m.violations]

    def flashing(self, intersection: str, since: float) -> float | None:
        """When every vehicle head of the intersection was flashing after `since`: the
        first moment from which each showed only its flash lamp (or dark) and toggled."""
        inter = self.config.intersection(intersection)
        latest = 0.0
        with self._lock:
            for g in inter.groups:
                if g.is_pedestrian:
                    continue
                changes = [c for c in self.trace.lamps.get(f"{intersection}/{g.id}", [])]
                start = _flash_start(changes, since)
                if start is None:
                    return None
                latest = max(latest, start)
        return latest


def _flash_start(changes: list[tuple[float, int]], since: float) -> float | None:
    """When the head began the flash it still shows at the end of the trace: the trailing
    run of states that are one lamp (amber, or red) alone or dark, the lamp lit at least
    twice; `since` if it was flashing before. None if it does not flash now."""
    lamp = 0
    lit = 0
    first = None
    for t, b in reversed(changes):
        if b and lamp and b != lamp or b not in (0, A.LAMP_AMBER, A.LAMP_RED):
            break
        if b:
            lamp = b
            lit += 1
        first = t
    if first is None or lit < 2:
        return None
    return max(first, since)


def _ultrasonic(doc: dict) -> None:
    """Make a node's digital bays ultrasonic sensors (trigger on the bay's pin, echo on a
    free one), so that a sensor can fall silent."""
    used = {doc["modbus"][k] for k in ("tx", "rx", "de")}
    used |= {doc.get("status_led"), doc.get("maintenance", {}).get("pin")}
    for g in doc.get("groups", []):
        used |= {g.get(k) for k in ("red", "amber", "green")} | set(g.get("feedback", {})
                                                                   .values())
    used |= {d["pin"] for d in doc.get("detectors", []) + doc.get("bays", [])}
    board = BOARDS.get(doc.get("board", ""))
    free = (p for p in (board.inputs if board else range(49)) if p not in used)
    doc["bays"] = [{"id": b["id"], "type": "ultrasonic", "trigger": b["pin"],
                    "echo": next(free), "period_ms": 500} for b in doc.get("bays", [])]


def environment_ok() -> str | None:
    """Why the rig cannot run here, or None."""
    from .emu.host import BoardError, micropython_executable
    try:
        micropython_executable()
    except BoardError as e:
        return str(e)
    if not hasattr(os, "openpty"):
        return "no pseudo-terminals on this system"
    return None
