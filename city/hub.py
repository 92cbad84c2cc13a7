"""The central service's core: each message from the broker goes to the city model, its
history to the store, its changes to the live page's listeners, and parking changes to
the signs. No network here (mqtt.py and web.py are the edges); tests feed it messages.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

from .guidance import sign_message
from .model import Change, City, Rejected
from .store import Store

log = logging.getLogger("smartcross.city")

LISTENER_QUEUE = 1000        # a page that falls this far behind is dropped (it reconnects)
SIGNS_ROOT = "smartcross/signs"
CITY_ROOT = "smartcross/city"            # the city's own topics (its commands)


class Hub:
    def __init__(self, data: Path, closed_areas: set[str] | None = None):
        self.city = City(closed_areas)
        self.store = Store(data)
        self.listeners: set[asyncio.Queue] = set()
        self.signs: dict[str, dict] = {}         # sign id -> its last message
        self.received = 0
        self.duplicates = 0
        self.last_rejection: str | None = None

    # -- from the broker ----------------------------------------------------------------------
    def receive(self, topic: str, payload: bytes, now: float | None = None
                ) -> list[tuple[str, str]]:
        """Take one message; the sign messages (topic, JSON) to publish because of it."""
        now = time.time() if now is None else now
        self.received += 1
        if topic.startswith((SIGNS_ROOT + "/", CITY_ROOT + "/")):
            return []                            # our own signs and commands, echoed back
        try:
            changes = self.city.apply(topic, payload, now)
        except Rejected as e:
            self.last_rejection = str(e)
            if sum(self.city.rejected.values()) <= 20 or self.received % 1000 == 0:
                log.warning("rejected: %s", e)
            self.store.rejected(now, topic, str(e))
            return []
        signs: list[tuple[str, str]] = []
        for ch in changes:
            if not self.store.first_time(ch.group, ch.seq):
                self.duplicates += 1
                if ch.kind in ("events", "alarm", "detectors", "command"):
                    continue                     # history once; state is idempotent
            self._record(ch, now)
            self.broadcast(ch)
            if ch.kind in ("parking", "status", "info"):
                signs += self._signs(ch.group, now)
        return signs

    def _record(self, ch: Change, now: float) -> None:
        if ch.kind == "events":
            self.store.events(ch.id, ch.data["events"])
        elif ch.kind == "command":
            self.store.command_result(ch.data.get("ts", now), ch.group, ch.data)
        elif ch.kind in ("alarm", "parking", "intersection", "status", "detectors"):
            self.store.history(ch.data.get("ts", now), ch.group, ch.kind, ch.id, ch.data)

    def _signs(self, group: str, now: float) -> list[tuple[str, str]]:
        """Each area of the group has a sign of the same id; publish it when its text or
        state changed."""
        out = []
        for aid, area in self.city.parking.items():
            if area["group"] != group:
                continue
            msg = sign_message(aid, [self.city.area_view(aid)], now)
            old = self.signs.get(aid)
            if old is not None and old["lines"] == msg["lines"]:
                continue
            self.signs[aid] = msg
            out.append((f"{SIGNS_ROOT}/{aid}", json.dumps(msg, separators=(",", ":"))))
            self.broadcast(Change("sign", aid, group, data=msg))
        return out

    # -- to the live page -----------------------------------------------------------------------
    def listen(self) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(LISTENER_QUEUE)
        self.listeners.add(q)
        return q

    def unlisten(self, q: asyncio.Queue) -> None:
        self.listeners.discard(q)

    def broadcast(self, ch: Change) -> None:
        if ch.kind in ("events", "detectors") or not self.listeners:
            return
        data = self.view(ch)
        for q in list(self.listeners):
            try:
                q.put_nowait((ch.kind, data))
            except asyncio.QueueFull:
                self.listeners.discard(q)        # too slow: its stream ends, the page reconnects

    def view(self, ch: Change) -> dict:
        if ch.kind == "intersection":
            return self.city.intersection_view(ch.id)
        if ch.kind == "parking":
            return self.city.area_view(ch.id)
        if ch.kind in ("alarms", "status", "node", "alarm", "info"):
            return {"group": ch.group, "alarms": self.city.all_alarms(),
                    "status": self.city.groups.get(ch.group, {}).get("status")}
        return ch.data

    def stats(self) -> dict:
        return {"received": self.received, "accepted": self.city.accepted,
                "duplicates": self.duplicates,
                "rejected": dict(self.city.rejected), "last_rejection": self.last_rejection,
                "groups": {g: v.get("status") for g, v in self.city.groups.items()},
                "listeners": len(self.listeners)}
