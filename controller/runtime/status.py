"""Reading and showing what a running service reports (its status.json, refreshed each s)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

STALE_S = 3.0

GLYPH = {"red": "R", "red+amber": "RA", "green": "G", "flashing green": "g*",
         "amber": "A", "flashing amber": "A*", "flashing red": "R*", "dark": "-"}


def read_status(folder: Path) -> tuple[dict | None, str | None]:
    """The status document and, if the service is not running, why not."""
    path = folder / "status.json"
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return None, f"no status at {path}: the service has not run with this --data folder"
    except (OSError, ValueError) as e:
        return None, f"cannot read {path}: {e}"
    if not isinstance(doc, dict) or not isinstance(doc.get("updated", 0), int | float):
        return None, f"{path}: not a status written by `smartcross run`"
    age = time.time() - doc.get("updated", 0)
    if doc.get("stopped"):
        return doc, f"the service stopped at {time.ctime(doc['stopped'])}; last state below"
    if age > STALE_S:
        alive = _alive(doc.get("pid"))
        why = "is not running" if not alive else "is not updating its status"
        return doc, f"the service {why} (status {age:.0f} s old); last state below"
    return doc, None


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def render(doc: dict) -> str:
    lines = [f"{doc['group']} — {doc['local_time']}  (cycles {doc['cycles']}, "
             f"overruns {doc['overruns']}, bus ms {doc['bus_ms']})"]
    if doc.get("stopped"):
        lines.append("  SERVICE STOPPED")
    if doc.get("timezone"):
        lines.append(f"  timezone {doc['timezone']}")
    for a in doc.get("alarms", []):
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(a["at"]))
        lines.append(f"  ALARM: the cabinet's clock stepped by {a['step_s']:+.1f} s at {when}"
                     " (check its time source)")
    for iid, i in doc["intersections"].items():
        state = i["mode"] + (f" stage {i['stage']}" if i.get("stage") else "")
        lines.append(f"\n{iid} ({i['name']}): {state}, plan {i['plan']}")
        if i.get("flash_reason"):
            lines.append(f"  FLASH because {i['flash_reason']}")
        lines.append("  " + "  ".join(f"{g}:{GLYPH.get(a, a)}" for g, a in i["aspects"].items()))
        on = [d for d, s in i["detectors"].items() if s["on"]]
        bad = [d for d, s in i["detectors"].items() if s["fault"]]
        lines.append(f"  detectors on: {', '.join(on) or 'none'}"
                     + (f"   FAULT: {', '.join(bad)}" if bad else ""))
        if i.get("calls"):
            lines.append(f"  calls: {', '.join(i['calls'])}")
        pre = i.get("preempt") or {}
        if pre.get("active"):
            lines.append(f"  PREEMPT {pre['active']}: {pre['phase']}")
        if pre.get("timed_out"):
            lines.append(f"  PREEMPT CALL STUCK (max presence, ignored): "
                         f"{', '.join(pre['timed_out'])}")
        if (i.get("priority") or {}).get("serving"):
            lines.append(f"  transit priority: {i['priority']['serving']}")
    lines.append("\nnodes:")
    for nid, n in doc["nodes"].items():
        health = "online" if n["online"] else "SILENT"
        extra = f" fw {n['firmware']} up {n['uptime_s']} s" if "firmware" in n else ""
        faults = f" faults: {', '.join(n['faults'])}" if n["faults"] else ""
        ident = "" if n["identity"] == "ok" else f"  IDENTITY: {n['identity']}"
        lines.append(f"  {nid} ({n['bus']}#{n['address']}, {n['intersection']}): {health}, "
                     f"{n['mode']}{extra}{faults}{ident}")
    if doc.get("monitor_units"):
        lines.append("\nmonitor units:")
        for uid, u in doc["monitor_units"].items():
            health = "online" if u["online"] else "SILENT"
            lines.append(f"  {uid} ({u['bus']}#{u['address']}, {u['intersection']}): {health}, "
                         f"{u['state']}, relay {u['relay']}, table CRC {u['table_crc']}"
                         + (f"  PROBLEM: {u['problem']}" if u.get("problem") else ""))
    if doc["parking"]:
        lines.append("\nparking:")
        for aid, a in doc["parking"].items():
            lines.append(f"  {aid} ({a['name']}): {a['free']} free of {a['bays']}"
                         + (f", {a['faulty']} bay(s) in fault" if a["faulty"] else ""))
    return "\n".join(lines)
