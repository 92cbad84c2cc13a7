"""The city as the central service sees it: every cabinet's state, fed by MQTT messages,
with no I/O (the broker and the web server are edges: mqtt.py, web.py).

`City.apply(topic, payload)` checks one message (the topic tree and payloads of
docs/TELEMETRY.md) and returns what changed, or raises `Rejected` with the reason; a
rogue or broken client's message changes nothing and is counted. An intersection's id
in the city is `<group>.<intersection>` (group ids have no dot).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from controller.telemetry.commands import OUTCOMES as COMMAND_OUTCOMES

from .guidance import area_guidance

ROOT = "smartcross"
MAX_PAYLOAD = 256 * 1024


class Rejected(Exception):
    """A message the city will not take: its reason."""


@dataclass
class Change:
    kind: str                    # intersection | parking | alarms | status | events | ...
    id: str                      # the city id it is about (group, intersection, area)
    group: str
    seq: int | None = None       # the cabinet's message number, for duplicates
    data: dict = field(default_factory=dict)


def _obj(payload: bytes) -> dict:
    if len(payload) > MAX_PAYLOAD:
        raise Rejected(f"payload of {len(payload)} bytes, over {MAX_PAYLOAD}")
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as e:
        raise Rejected(f"not JSON ({e})") from None
    if not isinstance(doc, dict):
        raise Rejected("not a JSON object")
    return doc


def _need(doc: dict, key: str, kind: type | tuple[type, ...]) -> Any:
    v = doc.get(key)
    if not isinstance(v, kind) or isinstance(v, bool) and kind is not bool:
        raise Rejected(f"{key!r} missing or of the wrong type")
    return v


def _stamp(doc: dict) -> tuple[float, int]:
    ts = _need(doc, "ts", (int, float))
    seq = _need(doc, "seq", int)
    return float(ts), seq


class City:
    def __init__(self, closed_areas: set[str] | None = None):
        self.groups: dict[str, dict] = {}
        self.intersections: dict[str, dict] = {}
        self.parking: dict[str, dict] = {}
        self.alarms: dict[str, list[dict]] = {}
        self.nodes: dict[str, dict] = {}
        self.closed = set(closed_areas or ())
        self.rejected: Counter[str] = Counter()
        self.accepted = 0

    # -- messages -------------------------------------------------------------------------
    def apply(self, topic: str, payload: bytes, now: float | None = None) -> list[Change]:
        try:
            changes = self._apply(topic.split("/"), payload, time.time() if now is None else now)
        except Rejected as e:
            self.rejected[str(e).split(" (")[0]] += 1
            raise Rejected(f"{topic}: {e}") from None
        self.accepted += 1
        return changes

    def _apply(self, lv: list[str], payload: bytes, now: float) -> list[Change]:
        if len(lv) < 3 or lv[0] != ROOT or lv[1] in ("signs", "city", ""):
            raise Rejected("outside smartcross/<group>/...")
        g, rest = lv[1], lv[2:]
        if rest == ["status"]:
            text = payload.decode("utf-8", "replace")
            if text not in ("online", "offline"):
                raise Rejected("status is neither online nor offline")
            self._group(g)["status"] = text
            self._group(g)["status_at"] = now
            return [Change("status", g, g, data={"status": text})]
        doc = _obj(payload)
        ts, seq = _stamp(doc)
        if rest == ["info"]:
            return self._info(g, doc, seq)
        if len(rest) == 3 and rest[0] == "intersection" and rest[2] == "state":
            return self._state(g, rest[1], doc, ts, seq)
        if len(rest) == 3 and rest[0] == "intersection" and rest[2] in ("events", "detectors"):
            return self._series(g, rest[1], rest[2], doc, ts, seq)
        if len(rest) == 2 and rest[0] == "parking":
            return self._parking(g, rest[1], doc, ts, seq)
        if len(rest) == 3 and rest[0] == "node" and rest[2] == "health":
            self.nodes[f"{g}.{rest[1]}"] = {**doc, "group": g, "id": rest[1]}
            return [Change("node", f"{g}.{rest[1]}", g, seq, doc)]
        if rest == ["alarms"]:
            active = _need(doc, "active", list)
            if not all(isinstance(a, dict) and isinstance(a.get("id"), str) for a in active):
                raise Rejected("alarms: each alarm needs an id")
            self.alarms[g] = [{**a, "group": g} for a in active]
            return [Change("alarms", g, g, seq, {"active": self.alarms[g], "ts": ts})]
        if rest == ["command", "result"]:
            return self._command_result(g, doc, seq)
        if rest == ["alarm"]:
            _need(doc, "id", str)
            _need(doc, "state", str)
            return [Change("alarm", g, g, seq, doc)]
        raise Rejected("unknown topic")

    def _command_result(self, g: str, doc: dict, seq: int) -> list[Change]:
        """A cabinet's answer to a command (controller/telemetry/commands.py)."""
        if _need(doc, "outcome", str) not in COMMAND_OUTCOMES:
            raise Rejected("command result: unknown outcome")
        if not isinstance(doc.get("id"), str | None) or not isinstance(doc.get("message"), str):
            raise Rejected("command result: id and message")
        return [Change("command", g, g, seq, doc)]

    def _group(self, g: str) -> dict:
        return self.groups.setdefault(g, {"id": g, "status": "unknown", "name": g})

    def _info(self, g: str, doc: dict, seq: int) -> list[Change]:
        inters = _need(doc, "intersections", dict)
        grp = self._group(g)
        grp["name"] = str(doc.get("name", g))
        grp["info"] = doc
        for iid, i in inters.items():
            if not isinstance(i, dict):
                raise Rejected(f"intersection {iid!r} is not an object")
            cur = self._intersection(g, iid)
            cur["name"] = str(i.get("name", iid))
            cur["groups"] = i.get("groups", {})
            cur["detectors"] = i.get("detectors", {})
        for aid, a in _need(doc, "parking", dict).items():
            area = self.parking.setdefault(f"{g}.{aid}", self._new_area(g, aid))
            area["name"] = str(a.get("name", aid)) if isinstance(a, dict) else aid
        return [Change("info", g, g, seq, {"name": grp["name"]})]

    def _intersection(self, g: str, iid: str) -> dict:
        return self.intersections.setdefault(f"{g}.{iid}", {
            "id": f"{g}.{iid}", "intersection": iid, "group": g, "name": iid, "mode": None,
            "stage": None, "plan": None, "aspects": {}, "flash_reason": None, "updated": None})

    def _state(self, g: str, iid: str, doc: dict, ts: float, seq: int) -> list[Change]:
        aspects = _need(doc, "aspects", dict)
        mode = _need(doc, "mode", str)
        cur = self._intersection(g, iid)
        if cur["updated"] is not None and ts < cur["updated"]:
            return []                          # an older state (a resent or retained one)
        cur.update(mode=mode, stage=doc.get("stage"), plan=doc.get("plan"),
                   aspects={str(k): str(v) for k, v in aspects.items()},
                   flash_reason=doc.get("flash_reason"), updated=ts)
        return [Change("intersection", cur["id"], g, seq, self.intersection_view(cur["id"]))]

    def _series(self, g: str, iid: str, what: str, doc: dict, ts: float,
                seq: int) -> list[Change]:
        if what == "events":
            rows = _need(doc, "events", list)
            if not all(isinstance(r, list) and len(r) == 3 and
                       all(isinstance(x, int | float) and not isinstance(x, bool) for x in r)
                       for r in rows):
                raise Rejected("events: each is [ts, code, param]")
            return [Change("events", f"{g}.{iid}", g, seq,
                           {"events": [(float(t), int(c), int(p)) for t, c, p in rows]})]
        _need(doc, "detectors", dict)
        return [Change("detectors", f"{g}.{iid}", g, seq, doc)]

    def _new_area(self, g: str, aid: str) -> dict:
        return {"id": f"{g}.{aid}", "area": aid, "group": g, "name": aid, "capacity": 0,
                "free": None, "occupied": None, "faulty": None, "updated": None}

    def _parking(self, g: str, aid: str, doc: dict, ts: float, seq: int) -> list[Change]:
        counts = {k: _need(doc, k, int) for k in ("capacity", "free", "occupied", "faulty")}
        if counts["free"] + counts["occupied"] + counts["faulty"] != counts["capacity"]:
            raise Rejected("parking: free + occupied + faulty is not the capacity")
        area = self.parking.setdefault(f"{g}.{aid}", self._new_area(g, aid))
        if area["updated"] is not None and ts < area["updated"]:
            return []
        area.update(counts, name=str(doc.get("name", area["name"])), updated=ts)
        return [Change("parking", area["id"], g, seq, self.area_view(area["id"]))]

    # -- views (what the API serves) ----------------------------------------------------------
    def intersection_view(self, cid: str) -> dict:
        i = self.intersections[cid]
        grp = self.groups.get(i["group"], {})
        alarms = [a for a in self.alarms.get(i["group"], []) if a.get("intersection") ==
                  i["intersection"]]
        return {**i, "online": grp.get("status") == "online", "alarms": alarms}

    def area_view(self, cid: str) -> dict:
        a = self.parking[cid]
        online = self.groups.get(a["group"], {}).get("status") == "online"
        return {**a, "online": online, **area_guidance(a, cid in self.closed, online)}

    def all_alarms(self) -> list[dict]:
        out = [a for g in sorted(self.alarms) for a in self.alarms[g]]
        for gid, grp in sorted(self.groups.items()):
            if grp.get("status") == "offline":
                out.append({"id": f"offline/{gid}", "kind": "cabinet-offline",
                            "severity": "critical", "group": gid,
                            "text": f"cabinet {gid} is offline (no telemetry)"})
        return out
