"""What the service reports: its status document (status.json, every second: `smartcross
status` reads it), its telemetry to the city, queued in the record's outbox (sent by the
publisher, publisher.py; the messages are made by controller/telemetry without I/O), and
the record's rows beside the core's events: a node's health when it changes, the parking
areas' counts, and every DETECTOR_INTERVAL_S the detectors' counts and occupancy (read
from the nodes for this alone; the timing core never waits for them).
A mixin of `Service` (service.py), kept apart so that the control loop reads on its own."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from protocols import aspects as A
from protocols import register_map as rm

from ..config.model import PARKING_BAY
from ..telemetry import Message, intersection_alarms, node_alarms
from .nodes import NodeState, fault_names, mode_name

DETECTOR_INTERVAL_S = 60.0


class Reporting:
    """Mixed into Service: uses its config, core, nodes, links, record, telemetry and
    publisher."""

    def _tell(self, messages: list[Message]) -> None:
        self._told = self._told or bool(messages)
        for m in messages:
            self.record.outbox(m.payload["ts"], m.topic, m.payload, m.qos, m.retain)

    def _tell_intersection(self, ts: float, iid: str, out) -> None:
        assert self.core is not None and self.telemetry is not None
        core = self.core.cores[iid]
        self._tell(self.telemetry.events(
            ts, iid, ((self.epoch + e.t, e.code, e.param) for e in out.events)))
        self._tell(self.telemetry.intersection(ts, iid, core.state, out.aspects,
                                               self.why_flash[iid]))

    def _tell_alarms(self, ts: float) -> None:
        assert self.core is not None and self.telemetry is not None
        active = []
        for iid, core in self.core.cores.items():
            active += intersection_alarms(iid, core.mode, self.why_flash[iid], core.faulty,
                                          core.preempt.dropped if core.preempt else ())
        for n in self.nodes.values():
            img = n.image if n.online else None
            active += node_alarms(n.id, n.layout.intersection.id, n.online,
                                  fault_names(img.get("faults", 0)) if img else [],
                                  n.identity_msg if n.identity_ok is False else None)
        self._tell(self.telemetry.alarms(ts, dict(active)))

    # -- the record's rows beside the events ----------------------------------------------
    def _health(self, node: NodeState, now: float) -> None:
        """A node_health row whenever a node's link, mode, faults or identity change."""
        img = node.image or {}
        state = (node.online, mode_name(img.get("mode")) if node.online else "silent",
                 ",".join(fault_names(img.get("faults", 0))), node.identity_msg)
        if self._last_health.get(node.id) != state:
            self._last_health[node.id] = state
            self.record.node_health(self.epoch + now, node.id, *state)
            if self.telemetry:
                self._tell(self.telemetry.node(self.epoch + now, node.id,
                                               node.layout.intersection.id, state[0], state[1],
                                               fault_names(img.get("faults", 0)), state[3]))

    async def _read_detectors(self, bus_id: str, now: float) -> None:
        link = self.links[bus_id]
        for node in self.by_bus[bus_id]:
            if not node.online or not node.layout.detectors:
                continue
            tx = await link.read_detectors(node.layout.node.address)
            if not tx.ok:
                continue
            ts = self.epoch + now
            base = rm.DET_BLOCK
            rows = [(d.id, tx.regs[rm.DET_COUNT - base + i],
                     tx.regs[rm.DET_OCCUPANCY - base + i] / 10.0, tx.regs[rm.DET_DIAG - base + i])
                    for i, d in enumerate(node.layout.detectors)]
            for row in rows:
                self.record.detector_interval(ts, node.layout.intersection.id, *row)
            if self.telemetry:
                self._tell(self.telemetry.detectors(ts, node.layout.intersection.id,
                                                    DETECTOR_INTERVAL_S, rows))

    def _parking(self, ts: float) -> None:
        areas = {a.id: {"name": a.name, "bays": 0, "occupied": 0, "faulty": 0}
                 for a in self.config.parking_areas}
        bays: dict[str, dict[str, str]] = {a: {} for a in areas}
        for node in self.nodes.values():
            img = node.image if node.online else None
            for i, bay in enumerate(node.layout.bays):
                a = areas[bay.area]
                a["bays"] += 1
                if img is None or img["bay_fault"] >> i & 1:
                    a["faulty"] += 1
                    bays[bay.area][bay.id] = "fault"
                elif img["bay_occupied"] >> i & 1:
                    a["occupied"] += 1
                    bays[bay.area][bay.id] = "occupied"
                else:
                    bays[bay.area][bay.id] = "free"
        for aid, a in areas.items():
            a["free"] = a["bays"] - a["occupied"] - a["faulty"]
            old = self.parking.get(aid)
            if old is None or (old["occupied"], old["faulty"]) != (a["occupied"], a["faulty"]):
                self.record.parking(ts, aid, a["bays"], a["occupied"], a["faulty"])
            if self.telemetry:
                self._tell(self.telemetry.parking(ts, aid, a["name"], bays[aid]))
        self.parking = areas

    # -- the status document ----------------------------------------------------------------
    def snapshot(self, now: float) -> dict:
        assert self.core is not None
        inters = {}
        for inter in self.config.intersections:
            core = self.core.cores[inter.id]
            inters[inter.id] = {
                "name": inter.name, **core.state, "flash_reason": self.why_flash[inter.id],
                "aspects": {g: A.name(a) for g, a in core.aspects.items()},
                "detectors": {d.id: {"on": d.id in core.present, "fault": d.id in core.faulty}
                              for d in inter.detectors if d.kind != PARKING_BAY},
            }
        nodes = {}
        for nid, n in self.nodes.items():
            img = n.image or {}
            nodes[nid] = {"intersection": n.layout.intersection.id,
                          "bus": n.layout.node.bus, "address": n.layout.node.address,
                          "online": n.online, "mode": mode_name(img.get("mode")),
                          "faults": fault_names(img.get("faults", 0)),
                          "identity": n.identity_msg, "misses": n.misses,
                          "polls": n.polls, "failed_polls": n.failures, **n.status}
        clock = self.clock.status() if self.clock else {}
        return {"group": self.config.name, "pid": os.getpid(), "updated": time.time(),
                "config": str(Path(self.config.source).resolve()),
                "timezone": self.config.zone.key, "time_scale": self.opts.time_scale,
                "local_time": (self.config.zone.local(self.epoch + now)
                               .strftime("%Y-%m-%d %H:%M:%S.%f")[:-5]),
                "clock": clock, "alarms": [{"kind": "clock step", **a}
                                           for a in clock.get("alarms", [])],
                "fingerprint": self.fingerprint,
                "cycles": self.cycles, "overruns": self.overruns,
                "telemetry": self.publisher.snapshot() if self.publisher else None,
                "commands": self.remote.snapshot() if self.remote else {"enabled": False},
                "bus_ms": {b: round(s * 1000, 1) for b, s in self.bus_s.items()},
                "intersections": inters, "nodes": nodes, "parking": self.parking,
                "monitor_units": {u.id: u.snapshot(now) for u in self.units.values()}}

    def _write_status(self, now: float) -> None:
        tmp = self.status_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.snapshot(now), indent=1))
        os.replace(tmp, self.status_path)
