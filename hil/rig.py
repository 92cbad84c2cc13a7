"""The hardware-in-the-loop rig: emulated boards, the RS-485 line, the real cabinet runtime,
traffic on the loops and the independent monitor watching the lamps.

    with Rig(load("examples/corridor.toml"), time_scale=3) as rig:
        rig.run_for(60)                       # logical seconds of street
        rig.bus.cut(5)                        # faults on demand
        print(rig.verdict())

Time: the rig, the boards and the runtime all run `time_scale` times faster than life
(scaled clocks), so that "seconds" below are the street's seconds.

Lamps: each board emulates its own lamp current (hil/lamps.py wires it in, hil/emu/machine.py
does it), so the nodes' lamp sense never waits for this host. The boards report every
output change with their own time stamp; the rig puts those on the street's time line,
keeps the trace and feeds the monitor from them in the boards' order (hil/lamp_events.py),
so a stalled host delays what the rig sees but never changes when, or in which order, it
happened. A traffic thread drives the loops from the traffic generator, every 100 ms of
street time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from controller.config.boards import BOARDS
from controller.config.model import PARKING_BAY, GroupConfig
from controller.config.monitor_table import monitor_table
from controller.provisioning import node_documents
from controller.traffic import TrafficGenerator
from monitor import SignalMonitor, Violation
from protocols import aspects as A

from .bus import TO_NODES, RS485Bus
from .emu import priority
from .emu.host import Board
from .lamp_events import LampEvents
from .lamps import LampPanel
from .monitor_unit import MonitorUnits, UnguardedBoard

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_REAL_S = 0.005            # host seconds between looks while waiting for a condition
TRAFFIC_STEP_S = 0.1             # street seconds between loop updates (the generator's tick)
ECHO_US = {1: 50 * 58, 0: 140 * 58}   # ultrasonic echo widths: occupied 50 cm, free 140 cm


@dataclass
class Trace:
    lamps: dict[str, list[tuple[float, int]]] = field(default_factory=dict)   # "i/g" -> changes
    inputs: dict[str, list[tuple[float, int]]] = field(default_factory=dict)  # "i/d" -> changes
    markers: list[tuple[float, str]] = field(default_factory=list)


# A scaled rig runs the nodes' comm watchdog on scaled clocks: a host that stalls the cabinet
# process for comm_timeout_ms / time_scale of real time makes every node flash, a fault the
# street never had. On a 2-core machine with two busy loops and other work, the gap between
# two requests of the cabinet reached 0.9 s of real time (measured at the boards' UARTs), so
# the rig leaves the host at least this much real time per watchdog period (scenarios must
# say so explicitly: hil/scenario.py refuses less).
HOST_BUDGET_MS = 1500
# The cabinet's reply timeout is 50 ms of street time, a few ms of real time on a scaled rig;
# but a reply crosses four host processes and threads (cabinet, line, board, line), each of
# which a loaded host may keep waiting in real time. A reply given up on arrives during the
# next request and spoils it too, and three such polls make a healthy node "silent". So the
# rig grants a sixth of the host budget: with its one retry a dead node (asked every fifth
# cycle, controller/runtime/nodes.py) costs the others on its bus a third of their budget.
REPLY_BUDGET_MS = HOST_BUDGET_MS // 6
HOST_JITTER_MS = 500        # real time by which a loaded host delays one command more than
DEFER_MAX_MS = 1000         # the next; the node's largest guard.defer_ms (firmware config)


class Rig(LampEvents):
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
        self._own_dir = workdir is None       # a folder of its own: discard() removes it
        self.docs = node_docs or node_documents(config)
        for doc in self.docs.values():
            if comm_timeout_ms is not None:      # a scenario's own
                doc["modbus"]["comm_timeout_ms"] = comm_timeout_ms
            else:                                # the configuration's, with the host's budget
                doc["modbus"]["comm_timeout_ms"] = max(doc["modbus"]["comm_timeout_ms"],
                                                       int(HOST_BUDGET_MS * time_scale))
            # The node holds a command that comes early by up to the guard's defer_ms (it shows
            # it when it becomes legal: never shorter minimums). A loaded host delays one
            # command and not the next by hundreds of ms of real time, time_scale times as
            # much on the node's clock: the rig allows what the node's format allows.
            guard = doc.setdefault("guard", {})
            guard.setdefault("defer_ms", min(DEFER_MAX_MS, int(HOST_JITTER_MS * time_scale)))
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
        self._early: list[tuple[str, int, int, int]] | None = []   # events before t0
        self._closed = False
        self._fed: dict[str, float] = {}          # intersection -> time of its last change
        self._transferred: set[str] = set()        # intersections the flasher has
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
        if self.want_controller:
            # The cabinet first, as on the street where it is up long before the nodes'
            # start-up flash ends: a Python service that takes seconds to start on a loaded
            # host (more street seconds on a scaled rig) must not stretch that flash.
            self._spawn_controller()
            self._wait_first_frame()
        for nid, doc in self.docs.items():
            kind = UnguardedBoard if nid in self.unguarded else Board
            self.boards[nid] = kind(doc, workdir=str(self.dir / nid), **clock)
        self.panel = LampPanel(self.boards, self.docs)
        self.panel.wire()               # lamp current inside the boards, from their first boot
        self.lamps = self.panel.bits()  # every head dark until its board drives it
        for iid, heads in self.lamps.items():
            for gid, b in heads.items():
                self.trace.lamps[f"{iid}/{gid}"] = [(0.0, b)]
        for nid, board in self.boards.items():
            board.on_output = partial(self._on_output, nid, board)
            board.start()
            self.bus.attach(board)
        with self._lock:
            self.t0 = time.monotonic()
            early, self._early = self._early or [], None
            for event in early:
                self._lamp_event(*event)
        if self.units:
            self.units.clock = self.now
            self.units.start(self.boards, self.bus, self.dir, clock)
        self._running = True
        self._thread = threading.Thread(target=self._traffic, name="hil-traffic", daemon=True)
        self._thread.start()
        if self.want_controller:
            self.mark("controller started")
        return self

    def _wait_first_frame(self, limit_s: float = 300.0) -> None:
        """Until the cabinet's first request is on the line (its port open, its cycle
        running). An event, not a guess at how long a start takes; `limit_s` (real time)
        only ends a start that hangs."""
        seen = threading.Event()

        def tap(direction: str, data: bytes, t: float) -> None:
            if direction == TO_NODES:
                seen.set()

        self.bus.taps.append(tap)
        try:
            end = time.monotonic() + limit_s
            while not seen.wait(0.2):
                p = self.controller
                if p is not None and p.poll() is not None:
                    raise RuntimeError(f"the cabinet service ended with status {p.returncode} "
                                       f"before its first request: {self.dir / 'controller.log'}")
                if time.monotonic() > end:
                    raise RuntimeError(f"no request from the cabinet service within {limit_s:g} s"
                                       f": {self.dir / 'controller.log'}")
        finally:
            self.bus.taps.remove(tap)

    def __enter__(self) -> Rig:
        return self.start()

    def __exit__(self, exc_type, *exc) -> None:
        self.close()
        if exc_type is None:
            self.discard()
        else:
            self.keep_logs()

    def keep_logs(self) -> Path:
        """After close(): write each board's console (what it printed, every boot) to
        <folder>/<board>/console.log beside the controller's log; the folder is kept for
        whoever looks into a failure. Returns the folder."""
        boards = {**self.boards, **self.units.boards}
        for bid, b in boards.items():
            folder = self.dir / bid
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "console.log").write_text("".join(line + "\n" for line in b.log))
        return self.dir

    def discard(self) -> None:
        """After close(): remove the rig's folder if the rig made it (a passing run leaves
        nothing in /tmp); a folder given as `workdir` is the caller's and stays."""
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def close(self) -> None:
        self.stop_controller()
        self._running = False
        if self._thread:
            self._thread.join(timeout=5)
        for b in self.boards.values():
            b.close()
        self.units.close()
        self.bus.close()
        with self._lock:
            self._closed = True
            for iid, m in self.monitors.items():
                m.finish(max(self.now(), self._fed.get(iid, 0.0)))

    # -- the cabinet ----------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.dir / "cabinet"

    def start_controller(self) -> None:
        self._spawn_controller()
        self.mark("controller started")

    def _spawn_controller(self) -> None:
        cmd = [sys.executable, "-m", "controller.cli", "run", self.config.source,
               "--port", f"{self.config.buses[0].id}={self.bus.port}",
               "--data", str(self.data_dir), "--time-scale", str(self.scale),
               "--min-reply-timeout-ms", str(REPLY_BUDGET_MS)]
        if self.broker:
            cmd += ["--broker", self.broker]
        log = open(self.dir / "controller.log", "ab")
        self.controller = subprocess.Popen(cmd, stdout=log, stderr=log, cwd=ROOT)
        priority.raise_child(self.controller.pid)     # the cabinet computer's CPU

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

    def fail_lamp(self, intersection: str, group: str, lamp: str = "red",
                  failed: bool = True) -> None:
        """A lamp of a head fails (draws no current, stays dark), or is replaced."""
        with self._lock:
            act = self.panel.fail if failed else self.panel.repair
            iid, gid, b = act(intersection, group, lamp)
            self._head_changed(self.now(), iid, gid, b)

    # -- traffic ------------------------------------------------------------------------
    def _traffic(self) -> None:
        """The loops, every TRAFFIC_STEP_S of street time (late ticks are skipped, never
        run in a burst: a late car is still a car)."""
        k_traffic = -1
        while self._running:
            k = int(self.now() / TRAFFIC_STEP_S)
            if self.units:
                with self._lock:
                    self._flasher(self.now())
            if k != k_traffic:
                k_traffic = k
                with self._lock:
                    bits = dict(self.lamps)
                self._drive_loops(k, bits)
            left = ((k + 1) * TRAFFIC_STEP_S - self.now()) / self.scale
            time.sleep(min(max(left, 0.001), TRAFFIC_STEP_S))

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
