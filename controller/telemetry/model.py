"""What the cabinet tells the city: its state changes as MQTT messages, with no I/O.

`Telemetry` is fed what the service sees (an intersection's mode, stage and aspects each
cycle; the core's Indiana events; detector intervals; parking bays; node health and the
alarms made from it) and returns `Message`s — topic, payload, QoS, retain — only when
something changed. The service queues them in its record's outbox (record.py) and the
publisher (runtime/publisher.py) sends them; this module knows neither. The topic tree
and every payload are in docs/TELEMETRY.md.

Every payload is a JSON object with `ts` (Unix seconds of the street moment it tells
about) and, added by the outbox, `seq` (the cabinet's message number, never reused).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from protocols import aspects as A

from ..config.model import PARKING_BAY, GroupConfig

ROOT = "smartcross"
QOS = 1                       # at least once: duplicates carry the same seq
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


class Message(NamedTuple):
    topic: str
    payload: dict[str, Any]
    qos: int = QOS
    retain: bool = False


def level(ident: str) -> str:
    """An id as one topic level: '/', '+', '#' and anything unusual become '_'."""
    return _UNSAFE.sub("_", ident) or "_"


def status_topic(group: str) -> str:
    """Retained `online` / `offline` (the last will): the edge publishes it, not the outbox."""
    return f"{ROOT}/{level(group)}/status"


class Telemetry:
    def __init__(self, config: GroupConfig, group: str):
        self.config = config
        self.base = f"{ROOT}/{level(group)}"
        self._state: dict[str, tuple] = {}
        self._parking: dict[str, tuple] = {}
        self._nodes: dict[str, tuple] = {}
        self._alarms: dict[str, dict] | None = None

    def topic(self, *levels: str) -> str:
        return "/".join([self.base, *(level(x) for x in levels)])

    # -- once, at start ---------------------------------------------------------------------
    def info(self, ts: float) -> list[Message]:
        """Retained description of the group: names, signal groups, detectors, areas."""
        inters = {}
        for i in self.config.intersections:
            inters[i.id] = {
                "name": i.name, "profile": i.profile.name,
                "groups": {g.id: {"number": g.number, "kind": g.kind} for g in i.groups},
                "detectors": {d.id: {"number": d.number, "kind": d.kind,
                                     "calls": list(d.calls), "extends": list(d.extends)}
                              for d in i.detectors if d.kind != PARKING_BAY},
                "stages": {s.id: list(s.groups) for s in i.stages}}
        areas = {a.id: {"name": a.name, "bays": [d.id for i in self.config.intersections
                                                  for d in i.detectors if d.area == a.id]}
                 for a in self.config.parking_areas}
        return [Message(self.topic("info"), {"ts": ts, "name": self.config.name,
                                             "timezone": self.config.zone.key,
                                             "intersections": inters, "parking": areas},
                        retain=True)]

    # -- every cycle ------------------------------------------------------------------------
    def intersection(self, ts: float, iid: str, state: dict, aspects: dict[str, int],
                     flash_reason: str | None) -> list[Message]:
        """The intersection's mode, stage, plan and aspects, when any of them changed."""
        key = (state["mode"], state["stage"], state["plan"], tuple(aspects.items()),
               flash_reason)
        if self._state.get(iid) == key:
            return []
        self._state[iid] = key
        return [Message(self.topic("intersection", iid, "state"), {
            "ts": ts, "mode": state["mode"], "stage": state["stage"], "plan": state["plan"],
            "aspects": {g: A.name(a) for g, a in aspects.items()},
            "flash_reason": flash_reason}, retain=True)]

    def events(self, ts: float, iid: str, events: Iterable[tuple[float, int, int]]
               ) -> list[Message]:
        """One cycle's Indiana events of an intersection: [ts, code, param] each."""
        rows = [[round(t, 1), code, param] for t, code, param in events]
        if not rows:
            return []
        return [Message(self.topic("intersection", iid, "events"), {"ts": ts, "events": rows})]

    # -- per interval and on change ---------------------------------------------------------
    def detectors(self, ts: float, iid: str, interval_s: float,
                  rows: Iterable[tuple[str, int, float, int]]) -> list[Message]:
        """(detector, volume, occupancy %, diagnostic bits) of one interval."""
        dets = {d: {"volume": n, "occupancy_pct": occ, "diag": diag} for d, n, occ, diag in rows}
        if not dets:
            return []
        return [Message(self.topic("intersection", iid, "detectors"),
                        {"ts": ts, "interval_s": interval_s, "detectors": dets})]

    def parking(self, ts: float, area: str, name: str, bays: dict[str, str]) -> list[Message]:
        """An area's bays, each 'free', 'occupied' or 'fault' (a silent node's bays too);
        a bay in fault is not counted free."""
        key = tuple(sorted(bays.items()))
        if self._parking.get(area) == key:
            return []
        self._parking[area] = key
        count = {s: sum(1 for v in bays.values() if v == s) for s in ("free", "occupied", "fault")}
        return [Message(self.topic("parking", area), {
            "ts": ts, "name": name, "capacity": len(bays), "free": count["free"],
            "occupied": count["occupied"], "faulty": count["fault"], "bays": bays},
            retain=True)]

    def node(self, ts: float, nid: str, intersection: str, online: bool, mode: str,
             faults: list[str], identity: str) -> list[Message]:
        key = (online, mode, tuple(faults), identity)
        if self._nodes.get(nid) == key:
            return []
        self._nodes[nid] = key
        return [Message(self.topic("node", nid, "health"), {
            "ts": ts, "intersection": intersection, "online": online, "mode": mode,
            "faults": faults, "identity": identity}, retain=True)]

    def alarms(self, ts: float, active: dict[str, dict]) -> list[Message]:
        """The active alarms by id: a retained list when it changed, and one `alarm` event
        per alarm raised or cleared (the history the city keeps)."""
        old = self._alarms if self._alarms is not None else {}
        if self._alarms is not None and old == active:
            return []
        out = []
        for aid in sorted(set(old) | set(active)):
            if old.get(aid) == active.get(aid):
                continue
            alarm = active.get(aid) or old[aid]
            state = "raised" if aid in active else "cleared"
            out.append(Message(self.topic("alarm"), {"ts": ts, "state": state, **alarm}))
        self._alarms = dict(active)
        out.append(Message(self.topic("alarms"), {
            "ts": ts, "active": [active[a] for a in sorted(active)]}, retain=True))
        return out


def alarm(aid: str, kind: str, severity: str, text: str, **where: str) -> tuple[str, dict]:
    return aid, {"id": aid, "kind": kind, "severity": severity, "text": text, **where}


def node_alarms(nid: str, intersection: str, online: bool, faults: list[str],
                identity_problem: str | None) -> list[tuple[str, dict]]:
    """A node's alarms: comm loss, latched faults, identity (firmware, tables) mismatch."""
    out = []
    if not online:
        out.append(alarm(f"comm-loss/{nid}", "comm-loss", "critical",
                         f"node {nid} is silent", node=nid, intersection=intersection))
    if faults:
        out.append(alarm(f"node-fault/{nid}", "node-fault", "critical",
                         f"node {nid}: {', '.join(faults)}", node=nid,
                         intersection=intersection))
    if identity_problem:
        out.append(alarm(f"identity/{nid}", "identity", "critical",
                         f"node {nid}: {identity_problem}",
                         node=nid, intersection=intersection))
    return out


def intersection_alarms(iid: str, mode: str, flash_reason: str | None,
                        failed_detectors: Iterable[str],
                        stuck_preempts: Iterable[str] = ()) -> list[tuple[str, dict]]:
    """Fault flash of an intersection, each failed detector (it places a call), and each
    preempt call on past its max presence (ignored until it goes off)."""
    out = []
    if flash_reason:
        out.append(alarm(f"flash/{iid}", "flash", "critical",
                         f"{iid} in {mode}: {flash_reason}", intersection=iid))
    for d in sorted(failed_detectors):
        out.append(alarm(f"detector/{iid}/{d}", "detector-fault", "warning",
                         f"{iid}: detector {d} failed", intersection=iid, detector=d))
    for p in sorted(stuck_preempts):
        out.append(alarm(f"preempt/{iid}/{p}", "preempt-stuck", "warning",
                         f"{iid}: preempt {p} called past its max presence; ignored until "
                         "its input goes off", intersection=iid, preempt=p))
    return out
