"""The city's command desk: an operator who logged in sends a command to a cabinet.

Off unless `smartcross city --operators FILE` (city/auth.py); the cabinet, too, takes
commands only with `[telemetry] commands = true`. A command is built and checked with the
cabinet's own checker (controller/telemetry/commands.py), written to the audit table
(`commands` in city.sqlite: id, when, who, group, kind, args, sent or why not) before it
is published on `smartcross/city/command/<group>`; the cabinet's answer
(`smartcross/<group>/command/result`: applied, unchanged, refused or rejected, and why)
completes the row when it comes (hub.py).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from controller.telemetry.commands import (
    KINDS,
    Command,
    CommandRejected,
    command_topic,
    parse_command,
)

from .auth import Operator, Sessions
from .store import Store

log = logging.getLogger("smartcross.city")

LIFETIME_S = 60.0            # a command not taken within a minute is void (expires)


class Refused(Exception):
    """What to answer instead: an HTTP status and a message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class CommandDesk:
    def __init__(self, sessions: Sessions, store: Store,
                 publish: Callable[[str, str], Awaitable[None]],
                 groups: Callable[[], set[str]], clock: Callable[[], float] = time.time):
        self.sessions = sessions
        self.store = store
        self.publish = publish
        self.groups = groups
        self.clock = clock

    def operator(self, authorization: str | None) -> Operator:
        """The logged-in operator of a request; Refused 401 without a valid login (logged,
        not audited: nobody known asked)."""
        scheme, _, token = (authorization or "").partition(" ")
        op = self.sessions.who(token.strip()) if scheme.lower() == "bearer" else None
        if op is None:
            log.warning("command refused: no valid login")
            raise Refused(401, "log in first: POST /api/login, then Authorization: Bearer "
                          "<token>")
        return op

    async def attempt(self, authorization: str | None, body: object) -> dict:
        """A command asked over HTTP: sent, or Refused. Whatever a known person asked is
        in the audit, refusals too (`sent`: `refused: why`)."""
        op = self.operator(authorization)
        try:
            if op.role != "operator":
                raise Refused(403, f"{op.name} is a {op.role}: commands need the operator "
                              "role")
            return await self.send(op, body)
        except Refused as e:
            if e.status != 503:               # not sent: already in the audit
                doc = body if isinstance(body, dict) else {}
                self.store.command_sent(self.clock(), uuid.uuid4().hex, op.name,
                                        str(doc.get("group"))[:64], str(doc.get("kind"))[:64],
                                        doc.get("args"), f"refused: {e}")
                log.warning("command by %s refused (%d): %s", op.name, e.status, e)
            raise

    async def send(self, op: Operator, body: object) -> dict:
        """Check, audit, publish; the audit row (raises Refused for a bad request)."""
        if not isinstance(body, dict) or set(body) - {"group", "kind", "args"}:
            raise Refused(400, "expected {\"group\", \"kind\", \"args\"}")
        group, kind, args = body.get("group"), body.get("kind"), body.get("args")
        if not isinstance(group, str) or group not in self.groups():
            raise Refused(404, f"no cabinet group {group!r} known to the city")
        now = self.clock()
        cmd = Command(uuid.uuid4().hex, str(kind), op.name, round(now, 3),
                      round(now + LIFETIME_S, 3), args if isinstance(args, dict) else {})
        try:       # the cabinet's own checker, so that what we send is what it takes
            parse_command(json.dumps({**cmd.payload(), "args": args}).encode(), now)
        except CommandRejected as e:
            raise Refused(400, f"{e} (kinds: {', '.join(sorted(KINDS))})") from None
        self.store.command_sent(now, cmd.id, op.name, group, cmd.kind, args, "sending")
        try:
            await self.publish(command_topic(group), json.dumps(cmd.payload()))
        except Exception as e:        # not connected, or the broker did not acknowledge
            self.store.command_state(cmd.id, f"not sent: {e}")
            raise Refused(503, f"command {cmd.id} not sent: {e}") from None
        self.store.command_state(cmd.id, "sent")
        return self.store.command(cmd.id)
