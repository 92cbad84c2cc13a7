"""Commands from the city, on the cabinet: checked, applied through the paths the cabinet
already has, recorded, answered. Off unless `[telemetry] commands = true`.

The publisher's connection (publisher.py) subscribes to `smartcross/city/command/<group>`
and hands each payload to `receive`, which only queues it (bounded); the service's cycle
calls `cycle`, which takes the queued commands one by one:

- checked by controller/telemetry/commands.py (version, id, kind, args, expiry): a
  malformed, unknown, expired or rogue command is rejected, counted by reason, logged,
  recorded, and answered; it never reaches the signals;
- `plan`: the named plan at every intersection (a one-entry schedule), or the file's
  schedule again (`null`), offered to the plan-change path of `plan apply` and SIGHUP
  (reload.py): the same fingerprint check (no safety-relevant part can change: the
  configuration is the running one with another schedule), the same cycle boundary, the
  same `plan_changes` row with its diff;
- `flash`: holds the intersection in flash as a controller-commanded flash does (the
  core's `flash` input: greens end through their clearances), or releases it (start-up
  sequence);
- `preempt`: calls a configured preempt of an intersection (the core's
  `Inputs.preempt_calls`) until the city calls it off or the command expires; the
  preempt's max presence bounds it like any call;

then a row in the record's `commands` table (when, id, kind, who, args, outcome,
message) and the answer `smartcross/<group>/command/result` through the outbox. A command
id seen before (QoS 1 may deliver twice) is not applied again.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
from collections import Counter, deque
from collections.abc import Callable

from ..config import ConfigError, load
from ..config.model import GroupConfig, ScheduleEntry
from ..engine import GroupCore
from ..telemetry import Message
from ..telemetry.commands import Command, CommandRejected, parse_command, result_topic
from .record import Record
from .reload import PlanChanges, Request

log = logging.getLogger("smartcross.commands")

INBOX = 100                  # commands waiting for the cycle; more are rejected
REMEMBER = 1000              # ids kept to recognise a command delivered twice
LOGGED = 20                  # rejections logged one by one, then every 100th


class RemoteCommands:
    def __init__(self, group: str, record: Record, wall: Callable[[], float] = time.time):
        self.group = group
        self.record = record
        self.wall = wall
        self.inbox: deque[bytes] = deque()
        self.flash: set[str] = set()          # intersections held in flash by the city
        self.preempts: dict[tuple[str, str], float] = {}   # (intersection, preempt): expires
        self.counts: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()
        self.seen: deque[str] = deque(maxlen=REMEMBER)

    def receive(self, payload: bytes) -> None:
        """From the MQTT edge: queue it for the cycle (never blocks, never applies)."""
        self.counts["received"] += 1
        if len(self.inbox) >= INBOX:        # counted and logged; too many to record
            self.counts["rejected"] += 1
            self.rejected["inbox full"] += 1
            log.warning("command rejected: %d wait already (inbox full)", INBOX)
            return
        self.inbox.append(payload)

    def snapshot(self) -> dict:
        return {"enabled": True, **self.counts, "rejected_by_reason": dict(self.rejected),
                "flash_held": sorted(self.flash),
                "preempt_calls": sorted(f"{i}/{p}" for i, p in self.preempts)}

    def preempt_calls(self, iid: str) -> frozenset[str]:
        """The preempts of `iid` the city calls now (the core's Inputs.preempt_calls)."""
        return frozenset(p for i, p in self.preempts if i == iid)

    def cycle(self, config: GroupConfig, core: GroupCore, plans: PlanChanges, now: float,
              ts: float, tell: Callable[[list[Message]], None]) -> GroupConfig:
        """Take the queued commands; the configuration the service runs from now on."""
        if self.preempts:
            wall = self.wall()
            for key in [k for k, until in self.preempts.items() if wall > until]:
                del self.preempts[key]
                log.warning("preempt %s/%s: the city's call expired", *key)
        while self.inbox:
            payload = self.inbox.popleft()
            try:
                cmd = parse_command(payload, self.wall())
            except CommandRejected as e:
                tell(self._reject(payload, str(e), ts, None))
                continue
            if cmd.id in self.seen:
                self.counts["duplicates"] += 1
                continue
            self.seen.append(cmd.id)
            if cmd.kind == "plan":
                config, outcome, message = self._plan(cmd, config, core, plans, now, ts)
            elif cmd.kind == "flash":
                outcome, message = self._flash(cmd, config)
            elif cmd.kind == "preempt":
                outcome, message = self._preempt(cmd, config)
            else:                             # a kind the checker knows and we do not
                tell(self._reject(payload, f"{cmd.id}: kind {cmd.kind} not handled", ts, cmd))
                continue
            tell(self._done(cmd, ts, outcome, message))
        return config

    # -- the kinds ------------------------------------------------------------------------
    def _plan(self, cmd: Command, config: GroupConfig, core: GroupCore, plans: PlanChanges,
              now: float, ts: float) -> tuple[GroupConfig, str, str]:
        plan = cmd.args["plan"]
        req = Request(cmd.id, f"city:{cmd.by}", f"city command {cmd.id}: plan {plan}")
        if plan is None:                      # back to the file's schedule (and its plans)
            try:
                new = load(config.source)
            except ConfigError as e:
                return config, "refused", f"the file {config.source} is not valid now ({e})"
        else:
            missing = [i.id for i in config.intersections if plan not in i.plans]
            if missing:
                return config, "refused", (f"no plan {plan!r} at intersection(s) "
                                           + ", ".join(missing))
            new = dataclasses.replace(config, schedule=(ScheduleEntry(0.0, plan, ()),))
        config, outcome, message = plans.offer(config, new, req, core, now, ts)
        return config, "applied" if outcome == "accepted" else outcome, message

    def _flash(self, cmd: Command, config: GroupConfig) -> tuple[str, str]:
        iid, on = cmd.args["intersection"], cmd.args["on"]
        if iid not in {i.id for i in config.intersections}:
            return "refused", f"no intersection {iid!r} in this cabinet"
        if on == (iid in self.flash):
            return "unchanged", f"{iid} is {'already' if on else 'not'} held in flash"
        if on:
            self.flash.add(iid)
            log.warning("intersection %s to flash on the city's command %s by %s "
                        "(through its clearance)", iid, cmd.id[:8], cmd.by)
            return "applied", f"{iid} enters flash through its clearance"
        self.flash.discard(iid)
        log.warning("intersection %s released from flash by the city's command %s by %s",
                    iid, cmd.id[:8], cmd.by)
        return "applied", f"{iid} leaves flash through its start-up sequence"

    def _preempt(self, cmd: Command, config: GroupConfig) -> tuple[str, str]:
        iid, pid, on = cmd.args["intersection"], cmd.args["preempt"], cmd.args["on"]
        inter = next((i for i in config.intersections if i.id == iid), None)
        if inter is None:
            return "refused", f"no intersection {iid!r} in this cabinet"
        if pid not in {p.id for p in inter.preempts}:
            return "refused", f"no preempt {pid!r} at {iid}"
        key = (iid, pid)
        if on:
            known = key in self.preempts
            self.preempts[key] = cmd.expires
            log.warning("preempt %s/%s called by the city's command %s by %s", iid, pid,
                        cmd.id[:8], cmd.by)
            return ("unchanged" if known else "applied"), \
                f"{iid}: preempt {pid} called until {time.ctime(cmd.expires)}"
        if self.preempts.pop(key, None) is None:
            return "unchanged", f"{iid}: preempt {pid} is not called by the city"
        return "applied", f"{iid}: preempt {pid} called off"

    # -- the record and the answer --------------------------------------------------------
    def _done(self, cmd: Command, ts: float, outcome: str, message: str) -> list[Message]:
        self.counts[outcome] += 1
        log.info("command %s (%s by %s): %s, %s", cmd.id[:8], cmd.kind, cmd.by, outcome,
                 message)
        self.record.command(ts, cmd.id, cmd.kind, cmd.by, json.dumps(cmd.args), outcome,
                            message)
        return [Message(result_topic(self.group), {
            "ts": ts, "id": cmd.id, "kind": cmd.kind, "by": cmd.by, "outcome": outcome,
            "message": message})]

    def _reject(self, payload: bytes | None, why: str, ts: float,
                cmd: Command | None) -> list[Message]:
        reason = re.sub(r"\d+", "N", why.split(": ", 1)[-1].split(" (")[0])[:80]
        self.counts["rejected"] += 1
        self.rejected[reason] += 1
        if self.counts["rejected"] <= LOGGED or self.counts["rejected"] % 100 == 0:
            log.warning("command rejected (%d so far): %s", self.counts["rejected"], why)
        cid = cmd.id if cmd else _id_of(payload)
        self.record.command(ts, cid or "", cmd.kind if cmd else "", cmd.by if cmd else "",
                            (payload or b"")[:500].decode("utf-8", "replace"), "rejected", why)
        return [Message(result_topic(self.group), {
            "ts": ts, "id": cid, "kind": cmd.kind if cmd else None, "by": None,
            "outcome": "rejected", "message": why[:300]})]


def _id_of(payload: bytes | None) -> str | None:
    """The id of a rejected command, when it has a usable one (for the city's audit)."""
    try:
        cid = json.loads(payload or b"").get("id")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return None
    return cid if isinstance(cid, str) and len(cid) <= 64 else None
