"""`smartcross run`: the cabinet's long-lived service for one intersection group.

Every 100 ms cycle: one FC23 per node (write the command block, read the process image;
buses in parallel, nodes on a bus one after the other), then the timing core steps on
what was read, and its outputs go out in the next transaction to each node — read, step,
write, with the write of one cycle and the read of the next sharing a transaction.
Half-way to the next cycle the nodes with loop detectors are read again (inputs.py): a
detector change steps the core at once, so an edge waits at most half a cycle for it.

A node silent for `offline_cycles` polls, a node whose identity, firmware, register
layout or safety tables differ from the configuration, or a node that flashes on its own
puts its intersection into flash; the other intersections keep running. When the node
is back and right, the intersection returns through the start-up sequence.

Time: the cycles are paced by the monotonic clock, and the timing core's time never
jumps; the instant of core time `now` is `epoch + now`, where `epoch` is the local
midnight (in the group's `timezone`) of the day the service started. Each cycle the
service compares the wall clock with the monotonic clock (clock.py): a step moves
`epoch`, is logged as Indiana event 181 and, beyond `clock_step_alarm_s`, is an alarm in
the status; the schedule and the coordination follow the new civil time smoothly.

SIGHUP re-reads the timing plans and the schedule without a restart (reload.py, and
`smartcross plan apply`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from protocols import aspects as A
from protocols import register_map as rm

from ..config import civil
from ..config.model import GroupConfig, TelemetryConfig
from ..config.polling import CYCLE_S, bus_wire_s
from ..core import ALL_RED, FLASH, Inputs
from ..engine import GroupCore
from ..provisioning import NodeLayout, layouts
from ..telemetry import Telemetry
from .clock import CLOCK_EVENT, ClockStep, ClockWatch
from .fieldbus import BusLink
from .inputs import half_cycle, half_read_note, input_nodes
from .nodes import BLOCKING_FAULTS, NodeState, startup_hold
from .plans import fingerprint
from .publisher import Publisher
from .record import Record
from .reload import PlanChanges
from .remote import RemoteCommands
from .reporting import DETECTOR_INTERVAL_S, Reporting
from .units import unit_states

log = logging.getLogger("smartcross.runtime")

IDENTITY_EVERY_S = 30.0
STOP_LIMIT_S = 60.0          # a stop waits at most this long for the greens to clear
RECORD_COMMIT_S = CYCLE_S    # the record commits every cycle (what a kill -9 may lose)


def data_dir(config: GroupConfig, override: str | None = None) -> Path:
    """Where the service keeps its record and status: --data, $SMARTCROSS_DATA, or
    ~/.local/state/smartcross/<config file name>."""
    if override:
        return Path(override)
    root = os.environ.get("SMARTCROSS_DATA")
    base = Path(root) if root else Path.home() / ".local" / "state" / "smartcross"
    return base / Path(config.source).stem


@dataclass
class ServiceOptions:
    ports: dict[str, str]
    data: Path
    offline_cycles: int = 3
    timeout_s: float = 0.05
    retries: int = 1
    duration_s: float | None = None     # run this long, then stop (tests, demos)
    time_scale: float = 1.0             # >1: the HIL rig runs the street faster than life
    # The HIL rig's nodes answer through the host's processes, whose delays on a loaded
    # machine are real time, not street time: timeout_s / time_scale, but at least this.
    min_timeout_real_s: float = 0.0
    wall_clock: Callable[[], float] = time.time     # the cabinet's clock (tests inject one)
    telemetry: TelemetryConfig | None = None   # the broker to publish to (None: none)


class Service(Reporting):
    def __init__(self, config: GroupConfig, opts: ServiceOptions):
        self.config = config
        self.opts = opts
        self.layouts: dict[str, NodeLayout] = layouts(config)
        self.nodes = {nid: NodeState(lay, opts.offline_cycles) for nid, lay in self.layouts.items()}
        self.units = unit_states(config.intersections)      # monitor units, by unit id
        self.ports = {b.id: opts.ports.get(b.id, b.port) for b in config.buses}
        self.links: dict[str, BusLink] = {}          # opened by run(), in its event loop
        self.by_bus = {b.id: [n for n in self.nodes.values() if n.layout.node.bus == b.id]
                       for b in config.buses}
        # Nodes with inputs last on their bus: the core steps right after the sweep, so
        # what they read is then the freshest (a detector edge reaches the core sooner).
        for n in self.by_bus.values():
            n.sort(key=lambda s: (bool(s.layout.detectors or s.layout.bays),
                                  s.layout.node.address))
        self.input_nodes = input_nodes(self.by_bus)     # read again half-way (inputs.py)
        self.record = Record(opts.data / "record.sqlite")
        self.status_path = opts.data / "status.json"
        self.stop = asyncio.Event()
        self.core: GroupCore | None = None
        self.commands: dict[str, tuple[int, list[int]]] = {}
        self.why_flash: dict[str, str | None] = {i.id: None for i in config.intersections}
        self.cycles = 0
        self.overruns = 0
        self.bus_s: dict[str, float] = {b: 0.0 for b in self.by_bus}
        self.latency: list[float] = []
        self.parking: dict[str, dict] = {}
        self.stopping: float | None = None     # when a stop was asked for (street time)
        self._last_health: dict[str, tuple] = {}
        self.epoch = 0.0                       # the instant of core time 0 (run() sets it)
        self.clock: ClockWatch | None = None
        self.plan_changes = PlanChanges(self.record, opts.data)
        self.fingerprint = fingerprint(config)
        tel = opts.telemetry
        self.telemetry = Telemetry(config, tel.group) if tel else None
        self._told = False
        self.remote = RemoteCommands(tel.group, self.record, opts.wall_clock) \
            if tel and tel.commands else None       # the city's commands: off by default
        self.publisher = Publisher(tel, self.record, self.remote and self.remote.receive) \
            if tel else None

    # -- start-up -----------------------------------------------------------------------
    def budget_report(self) -> list[str]:
        lines = []
        for bus in self.config.buses:
            bid, n = bus.id, len(self.by_bus[bus.id])
            need = bus_wire_s(bus, n)
            frame = f"{bus.baud} {8}{bus.parity}{bus.stopbits}"
            if need > CYCLE_S:
                lines.append(f"WARNING bus {bid} ({self.ports[bid]}): {n} nodes at {frame} need "
                             f"{need * 1000:.0f} ms per cycle, more than the 100 ms cycle; "
                             "the cycle will stretch. Raise the baud rate or split the bus.")
            else:
                lines.append(f"bus {bid} ({self.ports[bid]}): {n} node(s) at {frame}, "
                             f"{need * 1000:.0f} ms of the 100 ms cycle on the wire")
            lines += half_read_note(bus, need, len(self.input_nodes.get(bid, ())))
        return lines

    async def _open(self) -> None:
        scale = self.opts.time_scale
        for bus in self.config.buses:
            timeout = max(self.opts.timeout_s / scale, self.opts.min_timeout_real_s)
            self.links[bus.id] = BusLink(bus, self.ports[bus.id], timeout,
                                         self.opts.retries, scale)
        for link in self.links.values():
            await link.connect()            # a port that cannot be opened says why, once

    # -- the cycle ----------------------------------------------------------------------
    async def run(self) -> int:
        for line in self.budget_report():
            log.warning(line) if line.startswith("WARNING") else log.info(line)
        await self._open()
        # start on a tenth of a second of the cabinet's clock, so that every cycle's
        # street time is also its wall-clock time (the record's timestamps are exact)
        wall = self.opts.wall_clock
        await asyncio.sleep(CYCLE_S - wall() % CYCLE_S)
        m0 = time.monotonic()
        self.clock = ClockWatch(self.config.clock_step_alarm_s, wall)
        self.epoch, t0 = civil.run_clock(self.config.zone, round(wall(), 1))
        self.core = GroupCore(self.config, start=t0, epoch=self.epoch)
        if self.telemetry and self.publisher:
            self._tell(self.telemetry.info(self.epoch + t0))
            self.publisher.start()
        scale = self.opts.time_scale
        k = 0
        next_status = next_identity = 0.0
        next_detectors = DETECTOR_INTERVAL_S
        end = None if self.opts.duration_s is None else t0 + self.opts.duration_s
        log.info("running %s: %d intersection(s), %d node(s)", self.config.name,
                 len(self.config.intersections), len(self.nodes))
        while True:
            now = round(t0 + k * CYCLE_S, 1)
            if self.stopping is None and (self.stop.is_set() or end is not None and now > end):
                self.stopping = now
                log.info("stopping: greens end through their clearances, then flash")
            if self.stopping is not None and (
                    all(c.mode == FLASH for c in self.core.cores.values())
                    or now - self.stopping > STOP_LIMIT_S):
                break
            elapsed = now - t0
            identity = elapsed >= next_identity
            if identity:
                next_identity = elapsed + IDENTITY_EVERY_S
            await asyncio.gather(*(self._bus_cycle(b, identity, now) for b in self.links))
            self._follow_clock(now)
            self.config = self.plan_changes.cycle(self.config, self.core, now, self.epoch + now)
            if self.remote:
                self.config = self.remote.cycle(self.config, self.core, self.plan_changes, now,
                                                self.epoch + now, self._tell)
            self._step(now)
            if elapsed >= next_detectors:
                next_detectors = elapsed + DETECTOR_INTERVAL_S
                await asyncio.gather(*(self._read_detectors(b, now) for b in self.links))
            self.record.flush()               # every cycle: a kill -9 loses only the cycle under way
            if self.publisher and self._told:
                self._told = False
                self.publisher.wake.set()     # the publisher's task sends; the cycle never waits
            if elapsed >= next_status:
                next_status = elapsed + 1.0
                self._write_status(now)
            self.cycles += 1
            k += 1
            wait = m0 + k * CYCLE_S / scale - time.monotonic()
            if wait < 0:                      # overrun: keep to the 100 ms grid
                self.overruns += 1
                k += int(-wait * scale // CYCLE_S) + 1
                wait = m0 + k * CYCLE_S / scale - time.monotonic()
            if self.stopping is not None:
                await asyncio.sleep(max(wait, 0.0))
                continue
            wait = await half_cycle(self.links, self.input_nodes, self.stop, wait, scale,
                                    partial(self._step_again, now))
            try:
                await asyncio.wait_for(self.stop.wait(), timeout=max(wait, 0.0))
            except TimeoutError:
                pass
        await self._shutdown()
        return self._verdict()

    def _step_again(self, now: float) -> None:
        """The half-cycle read brought a detector change: this cycle's tenth, newer inputs."""
        self._step(now)
        self.record.flush()

    def _verdict(self) -> int:
        """0, or 1 with one message if the run never reached a single node."""
        if not self.nodes or any(n.ever_answered for n in self.nodes.values()):
            return 0
        buses = "; ".join(
            f"bus {bid} on {link.port}: "
            + (f"{len(self.by_bus[bid])} node(s) polled at {link.framing}, none answered"
               if link.opened else "the port never opened")
            for bid, link in self.links.items())
        log.error("no node ever answered (%s): check the port, the wiring, the baud rate and "
                  "parity; `smartcross nodes scan --port PORT` lists what answers", buses)
        return 1

    def _follow_clock(self, now: float) -> None:
        """A step of the cabinet's clock: the instants of core time move with it."""
        assert self.clock is not None and self.core is not None
        st = self.clock.check()
        if st is None:
            return
        self.clock_stepped(st, now)

    def clock_stepped(self, st: ClockStep, now: float) -> None:
        assert self.core is not None
        self.epoch += st.step_s
        self.core.set_epoch(self.epoch)
        for inter in self.config.intersections:
            self.record.event(self.epoch + now, inter.id, CLOCK_EVENT, round(st.step_s))
        say = log.error if st.alarm else log.warning
        say("the cabinet's clock stepped by %+.1f s%s; the schedule and coordination follow "
            "it", st.step_s, f" (ALARM: more than {self.clock.alarm_s:g} s)"
            if self.clock and st.alarm else "")

    async def _bus_cycle(self, bus_id: str, identity: bool, now: float) -> None:
        link = self.links[bus_id]
        t_start = time.perf_counter()
        await link.reopen_if_due()
        for node in self.by_bus[bus_id]:
            addr = node.layout.node.address
            if not link.connected:
                node.missed()
                continue
            if not node.due(self.cycles):
                continue
            if identity or (node.online and node.identity_ok is None):
                st = await link.read_status(addr)
                if st.ok:
                    if not node.check_identity(st.regs):
                        log.error("node %s: %s", node.id, node.identity_msg)
            node.heartbeat = (node.heartbeat + 1) & 0xFFFF
            command, aspects = self.commands.get(node.id, (rm.MODE_FLASH, []))
            tx = await link.poll(addr, node.heartbeat, command, aspects)
            if tx.ok:
                if node.answered(tx.regs):
                    log.info("node %s answers", node.id)
                    if node.identity_ok is None:
                        st = await link.read_status(addr)
                        if st.ok and not node.check_identity(st.regs):
                            log.error("node %s: %s", node.id, node.identity_msg)
            elif node.missed():
                log.error("node %s is silent (%s)", node.id, tx.error)
            self._health(node, now)
        # the monitor units last: a dead unit's timeouts never delay the nodes' commands
        for unit in self.units.values():
            if unit.unit.bus == bus_id:
                tx = await link.read_unit_status(unit.unit.address) if link.connected else None
                if tx is not None and tx.ok:
                    if unit.answered(now, tx.regs):
                        log.info("monitor unit %s answers", unit.id)
                else:
                    unit.missed(tx.error if tx else "bus not connected")
        self.bus_s[bus_id] = time.perf_counter() - t_start

    def _step(self, now: float) -> None:
        assert self.core is not None
        inputs = {}
        for inter in self.config.intersections:
            presence, faults, why = set(), set(), None
            running = self.core.cores[inter.id].mode not in (FLASH, ALL_RED)
            for node in self.nodes.values():
                if node.layout.intersection.id != inter.id:
                    continue
                reason = node.blocks_intersection(running)
                if reason and why is None:
                    why = f"node {node.id}: {reason}"
                img = node.image
                if img is None or not node.online:
                    continue
                on, bad = img["det_presence"], img["det_fault"]
                for i, d in enumerate(node.layout.detectors):
                    if on >> i & 1:
                        presence.add(d.id)
                    if bad >> i & 1:
                        faults.add(d.id)
            unit = self.units.get(inter.monitor_unit.id) if inter.monitor_unit else None
            reason = unit.blocks_intersection(now) if unit else None
            if reason and unit:             # first: its relay decides what the heads show
                why = f"monitor unit {unit.id}: {reason}"
            if why != self.why_flash[inter.id]:
                if why:
                    log.error("intersection %s to flash: %s", inter.id, why)
                else:
                    log.info("intersection %s: nodes ready, start-up sequence", inter.id)
                self.why_flash[inter.id] = why
            held = self.remote is not None and inter.id in self.remote.flash
            calls = self.remote.preempt_calls(inter.id) if self.remote is not None \
                else frozenset()
            inputs[inter.id] = Inputs(frozenset(presence), frozenset(faults),
                                      flash=self.stopping is not None or held,
                                      fault_flash=why is not None, preempt_calls=calls,
                                      hold_all_red=startup_hold(self.core, inter,
                                                                self.nodes.values(), now))
        outs = self.core.step(now, inputs)
        ts = self.epoch + now
        for iid, out in outs.items():
            for e in out.events:
                self.record.event(self.epoch + e.t, e.intersection, e.code, e.param)
            mode = self.core.cores[iid].mode
            if self.telemetry:
                self._tell_intersection(ts, iid, out)
            for node in self.nodes.values():
                lay = node.layout
                if lay.intersection.id != iid:
                    continue
                if mode == FLASH:
                    # acknowledge what the node may clear on its own; a red fail or a
                    # conflict stays latched (flash) until a technician has been there
                    img = node.image or {}
                    ack = 0 if img.get("faults", 0) & BLOCKING_FAULTS else rm.CMD_ACK_FAULTS
                    cmd, asp = rm.MODE_FLASH | ack, [A.RED] * len(lay.groups)
                elif mode == ALL_RED:       # the node holds its own all-red, then runs
                    cmd, asp = rm.MODE_RUN, [A.RED] * len(lay.groups)
                else:
                    cmd, asp = rm.MODE_RUN, [out.aspects[g.id] for g in lay.groups]
                self.commands[node.id] = (cmd, asp)
        self._parking(ts)
        if self.telemetry:
            self._tell_alarms(ts)

    # -- stop -----------------------------------------------------------------------------
    async def _shutdown(self) -> None:
        """Every intersection has wound down into flash (or the limit passed): command every
        node to flash, so that each is in a defined state, and close the record."""
        for node in self.nodes.values():
            link = self.links[node.layout.node.bus]
            if link.connected and node.online:
                node.heartbeat = (node.heartbeat + 1) & 0xFFFF
                await link.poll(node.layout.node.address, node.heartbeat, rm.MODE_FLASH,
                                [A.RED] * len(node.layout.groups))
        for link in self.links.values():
            link.close()
        if self.publisher:
            await self.publisher.close()    # a last drain (bounded), then `offline`
        self.record.close()
        if self.status_path.exists():
            doc = json.loads(self.status_path.read_text())
            doc["stopped"] = time.time()
            self.status_path.write_text(json.dumps(doc, indent=1))
        log.info("stopped; every node commanded to flash, record closed")


def run_service(config: GroupConfig, opts: ServiceOptions) -> int:
    async def main() -> int:
        svc = Service(config, opts)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, svc.stop.set)
        loop.add_signal_handler(signal.SIGHUP, svc.plan_changes.ask)
        return await svc.run()

    return asyncio.run(main())
