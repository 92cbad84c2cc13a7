"""What a plan change may change, and what it changes: fingerprints and the plan diff.

`smartcross plan apply` and the running service (on SIGHUP) compare a new configuration
with the running one part by part, from these fingerprints:

- the timing plans (`[[intersection.plan]]`) and the `[[schedule]]` may change while the
  service runs;
- safety-relevant parts may not: buses, each intersection's signal groups, conflicts and
  permissive pairs, intergreens, start-up and flash settings, its monitor table, and
  each node's provisioned document (pins, comm watchdog, safety tables). The nodes and
  the monitor hold their own copies: a change there means re-provisioning them;
- everything else (stages, detectors, parking, the time zone, names) is read once at
  start: a change there needs a restart of the service.

A fingerprint is a SHA-256 of a canonical rendering (sets sorted), so it is the same in
every process; the service shows its own in its status, so that `plan apply` can say
what differs before it signals anything.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from typing import Any

from ..config.model import GroupConfig, Intersection
from ..config.monitor_table import monitor_table
from ..config.plans import DAYS
from ..provisioning import node_documents

SAFETY, RESTART = "safety", "restart"


def _canon(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _canon(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if f.compare}
    if isinstance(obj, dict):
        return sorted(([_canon(k), _canon(v)] for k, v in obj.items()), key=repr)
    if isinstance(obj, frozenset | set):
        return sorted((_canon(x) for x in obj), key=repr)
    if isinstance(obj, tuple | list):
        return [_canon(x) for x in obj]
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    return repr(obj)


def _digest(obj: Any) -> str:
    text = json.dumps(_canon(obj), sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _intersection_parts(i: Intersection) -> dict[str, tuple[str, Any]]:
    p = f"intersection {i.id}: "
    return {
        p + "signal groups": (SAFETY, i.groups),
        p + "conflicts and permissive pairs": (SAFETY, (i.conflicts, i.permissive)),
        p + "intergreens": (SAFETY, i.intergreen),
        p + "start-up and flash": (SAFETY, (i.profile, i.startup_flash_s,
                                            i.startup_all_red_s, i.flash_aspect)),
        p + "monitor table": (SAFETY, monitor_table(i)),
        p + "nodes": (SAFETY, i.nodes),
        p + "stages": (RESTART, i.stages),
        p + "detectors": (RESTART, i.detectors),
        p + "name and SUMO map": (RESTART, (i.name, i.sumo)),
    }


def fingerprint(config: GroupConfig) -> dict[str, list[str]]:
    """Part name → [kind (safety | restart), digest], for every part but the plans."""
    parts: dict[str, tuple[str, Any]] = {
        "buses": (SAFETY, config.buses),
        "intersections": (RESTART, [i.id for i in config.intersections]),
        "group name, time zone, clock alarm": (RESTART, (config.name, config.zone.key,
                                                         config.clock_step_alarm_s)),
        "parking areas": (RESTART, config.parking_areas),
    }
    for i in config.intersections:
        parts.update(_intersection_parts(i))
    for nid, doc in node_documents(config).items():
        parts[f"node {nid}: provisioned document (pins, watchdog, safety tables)"] = (SAFETY, doc)
    return {name: [kind, _digest(value)] for name, (kind, value) in parts.items()}


def differences(running: dict, new: dict) -> tuple[list[str], list[str]]:
    """(safety parts, restart parts) that differ between two fingerprints."""
    safety, restart = [], []
    for name in sorted(set(running) | set(new)):
        a, b = running.get(name), new.get(name)
        if a != b:
            kind = (a or b)[0]
            (safety if kind == SAFETY else restart).append(name)
    return safety, restart


def refusal(safety: list[str], restart: list[str]) -> str | None:
    """Why a change cannot be applied to a running service (None: it can)."""
    if safety:
        return ("refused: safety-relevant parts differ from the running configuration ("
                + "; ".join(safety) + "). Re-provision the nodes and the monitor "
                "(smartcross nodes provision ...), then restart the service; a plan change "
                "cannot carry them.")
    if restart:
        return ("refused: parts that the service reads only at start differ ("
                + "; ".join(restart) + "): restart the service with the new configuration.")
    return None


def plan_text(config: GroupConfig) -> list[str]:
    """The timing plans and the schedule, one line each, for a diff."""
    lines = []
    for i in config.intersections:
        for p in i.plans.values():
            head = f"[intersection {i.id}] plan {p.id}: {p.mode}, main stage {p.main_stage}"
            if p.cycle_s is not None:
                head += f", cycle {p.cycle_s:g} s"
            lines.append(head + f", offset {p.offset_s:g} s")
            for sid, sp in p.stages.items():
                green = f"green {sp.green_s:g} s" if sp.green_s is not None else \
                    f"min {sp.min_green_s:g} s, max {sp.max_green_s:g} s"
                lines.append(f"[intersection {i.id}] plan {p.id} stage {sid}: {green}, "
                             f"recall {sp.recall}")
    for e in sorted(config.schedule, key=lambda e: (e.at_s, e.days, e.plan)):
        days = ",".join(DAYS[d] for d in e.days) or "every day"
        lines.append(f"[schedule] {int(e.at_s // 3600):02d}:{int(e.at_s % 3600 // 60):02d} "
                     f"{e.plan} ({days})")
    return lines


def plan_diff(old: GroupConfig, new: GroupConfig) -> str:
    """A unified diff of the plan sections ('' when they are the same)."""
    return "\n".join(difflib.unified_diff(plan_text(old), plan_text(new), "running", "new",
                                          lineterm=""))


def longest_cycle_s(*configs: GroupConfig, actuated_s: float = 120.0) -> float:
    """The longest cycle of any plan (plans without one count as `actuated_s`)."""
    return max((p.cycle_s or actuated_s) for c in configs for i in c.intersections
               for p in i.plans.values())
