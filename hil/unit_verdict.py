"""The verdict's monitor-unit checks (hil/runner.py calls `judge_unit`).

`transfer_within_s`: from the first moment two conflicting groups of the unit's
intersection show green together (after the scenario's first fault) to the moment every
vehicle head of it flashes, which on the rig is the unit's transfer relay dropping (the
flasher takes the heads, hil/monitor_unit.py). That time is the verdict's
`flash_latency_s`; the check also wants the relay to have dropped after the conflict (so
that it was the unit, not a node or the cabinet, that flashed the heads).

`cabinet_log`: a phrase the cabinet's own log must contain (why it flashed).
"""

from __future__ import annotations

from protocols.aspects import LAMP_GREEN

from .rig import Rig


def conflict_onset(rig: Rig, iid: str, since: float) -> float | None:
    """First time at or after `since` at which two conflicting groups of `iid` were green."""
    inter = rig.config.intersection(iid)
    with rig._lock:
        changes = sorted((t, g.id, b) for g in inter.groups
                         for t, b in rig.trace.lamps.get(f"{iid}/{g.id}", []))
    now: dict[str, int] = {}
    for t, gid, b in changes:
        now[gid] = b
        if t < since or not b & LAMP_GREEN:
            continue
        if any((gid, o) in inter.conflicts and ob & LAMP_GREEN for o, ob in now.items()):
            return t
    return None


def judge_unit(scn, rig: Rig, v) -> None:
    exp = scn.expect
    since = scn.faults[0].at_s if scn.faults else 0.0
    if "transfer_within_s" in exp:
        limit = exp["transfer_within_s"]
        for uid, iid in rig.units.inter.items():
            onset = conflict_onset(rig, iid, since)
            if onset is None:
                v.check("monitor unit transfer", False, f"{iid}: no conflicting greens shown "
                        f"after {since:g} s: the fault did not take")
                continue
            drops = rig.units.transfers(uid, onset)
            start = rig.flashing(iid, onset)
            lat = None if start is None or not drops else start - onset
            v.flash_latency_s = lat if v.flash_latency_s is None or lat is None \
                else max(v.flash_latency_s, lat)
            v.check("monitor unit transfer", lat is not None and lat <= limit,
                    f"{uid}: conflicting greens at {onset:.2f} s, "
                    + ("the relay never dropped" if not drops else
                       f"relay dropped at {drops[0]:.2f} s, "
                       + ("heads not flashing" if start is None else
                          f"every head flashing {lat:.2f} s after the conflict"))
                    + f" (at most {limit:g} s)")
    if "cabinet_log" in exp:
        try:
            text = (rig.dir / "controller.log").read_text(errors="replace")
        except OSError:
            text = ""
        want = exp["cabinet_log"]
        line = next((x for x in text.splitlines() if want in x), None)
        v.check("cabinet log", line is not None,
                line.split(" ", 2)[-1] if line else f"no line with {want!r}")
