"""Plan changes without a restart: what the service does on SIGHUP.

`smartcross plan apply CONFIG` (controller/cli/plan.py) leaves a request next to the
service's status (`plan-request.json`: an id, who asked, which file) and sends SIGHUP; a
bare SIGHUP (`kill -HUP`) re-reads the file the service runs. At the next cycle the
service:

1. reads and checks the file whole (a bad file: refused, the service keeps its plans);
2. compares it with what it runs (runtime/plans.py): a change of safety-relevant parts is
   refused with a message to re-provision, a change of what is read only at start is
   refused with a message to restart; identical plans are "unchanged";
3. switches to the new schedule, and each intersection takes up its new plans at its
   own cycle boundary: when it runs no stages (start-up, flash) or shows its main
   stage's green (at the latest after two of the longest cycles), through the core's
   plan-change path, as at a scheduled plan change (the coordinated plan takes over the
   running cycle; events 131-133);

and records every outcome in the record's `plan_changes` table (when, the request id, who,
the file, applied / unchanged / refused, why, a unified diff of the plans), committed at
once: that row is the acknowledgement `plan apply` waits for.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..config import ConfigError, load
from ..config.model import GroupConfig
from ..core import ALL_RED, FLASH, IntersectionCore
from ..engine import GroupCore
from .plans import differences, fingerprint, longest_cycle_s, plan_diff, refusal
from .record import Record

log = logging.getLogger("smartcross.runtime")

REQUEST_FILE = "plan-request.json"
SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class Request:
    id: str
    by: str
    path: str


@dataclass
class Pending:
    request: Request
    config: GroupConfig
    diff: str
    deadline: float              # core time: apply at the latest then


def write_request(data: Path, by: str, path: str) -> Request:
    """What `plan apply` leaves for the service (atomically); returns it."""
    req = Request(uuid.uuid4().hex, by, str(Path(path).resolve()))
    tmp = data / (REQUEST_FILE + ".tmp")
    tmp.write_text(json.dumps(req.__dict__))
    os.replace(tmp, data / REQUEST_FILE)
    return req


def take_request(data: Path, own_source: str) -> Request:
    """The request left by `plan apply` (removed once read), or, for a bare SIGHUP, the
    service's own file asked by nobody known."""
    path = data / REQUEST_FILE
    try:
        doc = json.loads(path.read_text())
        path.unlink()
        return Request(str(doc["id"]), str(doc["by"]), str(doc["path"]))
    except (OSError, ValueError, KeyError, TypeError):
        return Request(uuid.uuid4().hex, "SIGHUP", own_source)


class PlanChanges:
    def __init__(self, record: Record, data: Path):
        self.record = record
        self.data = data
        self.asked = False           # set by the SIGHUP handler
        self.pending: Pending | None = None

    def ask(self) -> None:
        self.asked = True

    def cycle(self, config: GroupConfig, core: GroupCore, now: float, ts: float) -> GroupConfig:
        """Once a cycle: take a new request, apply a pending change at a cycle boundary.
        Returns the configuration the service runs from now on."""
        if self.asked:
            self.asked = False
            config = self._newer(config, core, ts)
            self._take(config, core, now, ts)
        p = self.pending
        if p is None or not core.take_up(at_cycle_boundary, force=now >= p.deadline):
            return config
        return self._applied(ts)

    def offer(self, config: GroupConfig, new: GroupConfig, req: Request, core: GroupCore,
              now: float, ts: float) -> tuple[GroupConfig, str, str]:
        """A configuration made by the service itself (a plan selected by the city,
        runtime/remote.py): the same checks and the same record as a file's. Returns the
        configuration run now, and the outcome (accepted, unchanged, refused) and why."""
        config = self._newer(config, core, ts)
        return (config, *self._consider(config, new, req, core, now, ts))

    def _newer(self, config: GroupConfig, core: GroupCore, ts: float) -> GroupConfig:
        """A newer request: the pending one before it is taken up now."""
        if self.pending is None:
            return config
        core.take_up(at_cycle_boundary, force=True)
        return self._applied(ts)

    def _applied(self, ts: float) -> GroupConfig:
        p = self.pending
        assert p is not None
        self.pending = None
        log.warning("plan change %s by %s applied from %s:\n%s", p.request.id[:8],
                    p.request.by, p.request.path, p.diff)
        self._done(ts, p.request, "applied", "applied at each intersection's cycle boundary",
                   p.diff)
        return p.config

    def _take(self, config: GroupConfig, core: GroupCore, now: float, ts: float) -> None:
        req = take_request(self.data, config.source)
        try:
            new = load(req.path)
        except ConfigError as e:
            shown = [str(p) for p in e.problems[:SHOWN_PROBLEMS]]
            more = len(e.problems) - len(shown)
            msg = "refused: the file is not a valid configuration:\n" + "\n".join(shown) + \
                (f"\n... and {more} more problem(s)" if more > 0 else "")
            self._done(ts, req, "refused", msg, "")
            return
        self._consider(config, new, req, core, now, ts)

    def _consider(self, config: GroupConfig, new: GroupConfig, req: Request, core: GroupCore,
                  now: float, ts: float) -> tuple[str, str]:
        why = refusal(*differences(fingerprint(config), fingerprint(new)))
        diff = plan_diff(config, new)
        if why:
            self._done(ts, req, "refused", why, diff)
            return "refused", why
        if not diff:
            msg = "the plans and the schedule are the same"
            self._done(ts, req, "unchanged", msg, "")
            return "unchanged", msg
        deadline = now + 2 * longest_cycle_s(config, new)
        self.pending = Pending(req, new, diff, deadline)
        core.reload(new, now)
        log.info("plan change %s by %s accepted; applied at the next cycle boundary",
                 req.id[:8], req.by)
        return "accepted", "applied at each intersection's next cycle boundary"

    def _done(self, ts: float, req: Request, outcome: str, message: str, diff: str) -> None:
        if outcome == "refused":
            log.error("plan change %s by %s from %s %s; the service keeps its plans",
                      req.id[:8], req.by, req.path, message)
        self.record.plan_change(ts, req.id, req.by, req.path, outcome, message, diff)


def at_cycle_boundary(core: IntersectionCore) -> bool:
    """The intersection runs no stages, or shows its main stage's green."""
    if core.mode in (FLASH, ALL_RED):
        return True
    return not core.in_transition and core.stage == core.plan.main_stage
