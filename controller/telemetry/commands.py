"""The command path from the city to a cabinet: topics and the checked payload (no I/O).

Off by default: a cabinet subscribes to its command topic only with `commands = true` in
its `[telemetry]`. The central service publishes a command for an operator who logged in
(city/desk.py); the cabinet checks it here, applies it (runtime/remote.py) and answers
through its outbox. docs/TELEMETRY.md documents both topics.

    smartcross/city/command/<group>        the city → the cabinet (QoS 1, never retained)
    {"v": 1, "id": "3f2a...", "kind": "plan", "by": "alice", "ts": 1764990000.0,
     "expires": 1764990060.0, "args": {"plan": "coord"}}

    smartcross/<group>/command/result      the cabinet → the city (outbox: seq, ts)
    {"id", "kind", "by", "outcome": "applied" | "unchanged" | "refused" | "rejected",
     "message"}

A kind is a name and a checker of its `args` (KINDS): adding one (as the central
preemption call was) is one checker here and one handler in runtime/remote.py; a cabinet that does
not know a kind rejects it. Nothing here can carry a safety table: a plan command names
a plan the cabinet's file already has; the cabinet's plan-change path refuses anything
else.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .model import ROOT, level

VERSION = 1
MAX_PAYLOAD = 4096
MAX_AGE_S = 300.0            # a command stamped further in the future than this: rejected
MAX_LIFETIME_S = 3600.0      # expires at most this long after it was issued
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
OUTCOMES = ("applied", "unchanged", "refused", "rejected")


class CommandRejected(Exception):
    """A command that is not well-formed, not for us, or too old: the reason."""


@dataclass(frozen=True)
class Command:
    id: str
    kind: str
    by: str
    ts: float
    expires: float
    args: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"v": VERSION, "id": self.id, "kind": self.kind, "by": self.by, "ts": self.ts,
                "expires": self.expires, "args": self.args}


def command_topic(group: str) -> str:
    """Where the city sends a group's commands: under `smartcross/city/`, which no cabinet
    may write (the group id `city` is reserved; the ACL in docs/TELEMETRY.md)."""
    return f"{ROOT}/city/command/{level(group)}"


def result_topic(group: str) -> str:
    return f"{ROOT}/{level(group)}/command/result"


def _ident(args: dict, key: str, optional: bool = False) -> str | None:
    v = args.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, str) or not _ID.match(v):
        raise CommandRejected(f"args.{key}: expected an id (1-64 letters, digits, '-', '_')")
    return v


def _plan_args(args: dict) -> dict:
    """{"plan": "<plan id>"} runs that plan at every intersection of the group from the
    next cycle boundary on; {"plan": null} returns to the file's time-of-day schedule."""
    if set(args) != {"plan"}:
        raise CommandRejected("plan: args must be exactly {\"plan\": <plan id or null>}")
    return {"plan": _ident(args, "plan", optional=True)}


def _flash_args(args: dict) -> dict:
    """{"intersection": "<id>", "on": true} holds it in flash (entered through its
    clearance, as a controller-commanded flash); "on": false releases it (start-up)."""
    if set(args) != {"intersection", "on"} or not isinstance(args.get("on"), bool):
        raise CommandRejected("flash: args must be exactly {\"intersection\": <id>, "
                              "\"on\": true or false}")
    return {"intersection": _ident(args, "intersection"), "on": args["on"]}


def _preempt_args(args: dict) -> dict:
    """{"intersection": "<id>", "preempt": "<id>", "on": true} calls that preempt (an
    emergency vehicle the central system tracks) until "on": false or the command expires;
    the preempt's own max presence bounds it like any call (controller/core/preempt.py)."""
    if set(args) != {"intersection", "preempt", "on"} or not isinstance(args.get("on"), bool):
        raise CommandRejected("preempt: args must be exactly {\"intersection\": <id>, "
                              "\"preempt\": <id>, \"on\": true or false}")
    return {"intersection": _ident(args, "intersection"), "preempt": _ident(args, "preempt"),
            "on": args["on"]}


KINDS: dict[str, Callable[[dict], dict]] = {"plan": _plan_args, "flash": _flash_args,
                                            "preempt": _preempt_args}


def _number(doc: dict, key: str) -> float:
    v = doc.get(key)
    if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
        raise CommandRejected(f"{key}: expected Unix seconds")
    return float(v)


def parse_command(payload: bytes, now: float) -> Command:
    """The command in `payload`, checked at wall-clock time `now`; CommandRejected says
    why not (the message names the command's id when it has one)."""
    if len(payload) > MAX_PAYLOAD:
        raise CommandRejected(f"payload of {len(payload)} bytes, over {MAX_PAYLOAD}")
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise CommandRejected("not JSON") from None
    if not isinstance(doc, dict):
        raise CommandRejected("not a JSON object")
    if doc.get("v") != VERSION:
        raise CommandRejected(f"v: expected {VERSION}, got {doc.get('v')!r}")
    cid = _ident(doc, "id")
    by = doc.get("by")
    if not isinstance(by, str) or not 0 < len(by) <= 64:
        raise CommandRejected(f"{cid}: by: expected the operator's name")
    kind = doc.get("kind")
    if kind not in KINDS:
        raise CommandRejected(f"{cid}: unknown kind {str(kind)[:40]!r} (known: "
                              + ", ".join(sorted(KINDS)) + ")")
    args = doc.get("args")
    if not isinstance(args, dict):
        raise CommandRejected(f"{cid}: args: expected an object")
    try:
        args = KINDS[kind](args)
        ts, expires = _number(doc, "ts"), _number(doc, "expires")
    except CommandRejected as e:
        raise CommandRejected(f"{cid}: {e}") from None
    if not ts <= expires <= ts + MAX_LIFETIME_S:
        raise CommandRejected(f"{cid}: expires must be after ts, within "
                              f"{MAX_LIFETIME_S:g} s")
    if now > expires:
        raise CommandRejected(f"{cid}: expired {now - expires:.0f} s ago")
    if ts > now + MAX_AGE_S:
        raise CommandRejected(f"{cid}: issued {ts - now:.0f} s in the future (clocks?)")
    return Command(cid, kind, by, ts, expires, args)
