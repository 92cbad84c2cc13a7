"""A preempt call on the rig, and how fast the preempt route got its green.

The call is a node input like any loop: the rig holds the preempt detector's input on (the
node reads it, debounces it and reports it in its process image; the cabinet's core sees
the call as the `preempt` detector's presence), from a moment when a movement that
conflicts with the preempt route shows green, so the entry has to end that green through
its clearance.

The measure: from the input going on to the first moment every route group shows green,
against the clearance time of what was running at the call (`clearance_bound_s`): each
conflicting green ends no earlier than its start plus its floor (the preempt's minimum
green or walk, else the group's own minimum) and the preempt's delay, then runs its
flashing green and its intergreen to the route in full (amber, pedestrian clearance and
red clearance lie inside the intergreen and are never shortened). A route green later than
that was held up; one sooner than a clearance allows is a violation the monitor reports.
"""

from __future__ import annotations

import sqlite3

from controller.config.model import GroupConfig, Intersection, Preempt
from controller.core import events as E
from protocols import aspects as A

# The core steps every 0.1 s, the cabinet polls each node every 100 ms cycle and the node
# debounces its input (a loop's 50 ms at most): the route's green can be seen this much
# after the bound without having been held up.
SLACK_S = 0.5
# a conflicting green comes at least once a cycle; the longest cycle of the examples with its
# pedestrian intervals is under two minutes
WAIT_FOR_GREEN_S = 180.0
# what the record must show of one preempt service (Indiana codes, parameter: the preempt)
SERVICE = (E.PREEMPT_CALL_ON, E.PREEMPT_ENTRY, E.PREEMPT_EXIT)


def preempt_of(inter: Intersection, detector: str) -> Preempt | None:
    return next((p for p in inter.preempts if p.detector == detector), None)


def conflicting(inter: Intersection, p: Preempt) -> list[str]:
    """The groups that conflict with any group of the preempt's route."""
    return [g.id for g in inter.groups if any(inter.conflicting(g.id, r) for r in p.route)]


def clearance_bound_s(inter: Intersection, p: Preempt,
                      trace: dict[str, list[tuple[float, int]]], t_on: float) -> float:
    """The latest the route may turn green after a call at `t_on`, from what was running:
    every conflicting group green (walking) at the call, or whose clearance had not run out,
    ends no earlier than its green began plus its floor (the preempt's minimum green or
    walk, else its own minimum) and no earlier than the delay, then runs its flashing green
    and its intergreen to each route group in full."""
    latest = t_on + p.delay_s
    for gid in conflicting(inter, p):
        g = inter.group(gid)
        cut = p.min_walk_s if g.is_pedestrian else p.min_green_s
        floor = g.min_green_s if cut is None else min(cut, g.min_green_s)
        began, ended = _last_green(trace.get(f"{inter.id}/{gid}", []), t_on)
        if began is None:
            continue
        end = max(began + floor, t_on + p.delay_s) if ended is None else ended
        for r in p.route:
            ig = inter.intergreen.get((gid, r))
            if ig is not None:
                latest = max(latest, end + g.flash_green_s + ig)
    return latest - t_on


def _last_green(changes: list[tuple[float, int]], t: float) -> tuple[float | None, float | None]:
    """(start, end) of the group's last green (walk) lamp before `t`; end None: still on."""
    began = ended = None
    for tc, bits in changes:
        if tc > t:
            break
        if bits & A.LAMP_GREEN:
            if began is None or ended is not None:
                began, ended = tc, None
        elif began is not None and ended is None:
            ended = tc
    return began, ended


def conflicting_green(lamps: dict[str, int], groups: list[str]) -> str | None:
    """A group of `groups` showing green (walk) now, if any."""
    return next((g for g in groups if lamps.get(g, 0) & A.LAMP_GREEN), None)


def route_green_at(trace: dict[str, list[tuple[float, int]]], iid: str, route: tuple[str, ...],
                   since: float) -> float | None:
    """The first moment after `since` at which every route group shows green."""
    starts = []
    for r in route:
        changes = trace.get(f"{iid}/{r}", [])
        lit = next((t for t, b in changes if t >= since and b & A.LAMP_GREEN), None)
        if lit is None:
            return None
        starts.append(lit)
    return max(starts)


def input_on_at(inputs: dict[str, list[tuple[float, int]]], iid: str, detector: str,
                since: float) -> float | None:
    """When the rig put the detector's input on (the node sees it from then)."""
    return next((t for t, level in inputs.get(f"{iid}/{detector}", [])
                 if t >= since - 0.1 and level), None)


def call_preempt(rig, config: GroupConfig, args: dict) -> tuple[float, str, str, str]:
    """Wait for a green that conflicts with the preempt's route, then hold the preempt
    input on; returns (street time, intersection, detector, the conflicting group: None
    if none was green within WAIT_FOR_GREEN_S, which the verdict reports)."""
    iid, did = args["intersection"], args["detector"]
    inter = config.intersection(iid)
    p = preempt_of(inter, did)
    groups = conflicting(inter, p)
    try:
        rig.wait_until(lambda: conflicting_green(rig.lamps.get(iid, {}), groups) is not None,
                       WAIT_FOR_GREEN_S, f"a green conflicting with preempt {p.id}'s route")
    except AssertionError:          # never served (a flash): called anyway, judged a failure
        pass
    green = conflicting_green(rig.lamps.get(iid, {}), groups)
    t = rig.mark(f"preempt call {iid}/{did} during the green of {green or 'no conflicting group'}")
    rig.force_detector(iid, did, 1)
    return t, iid, did, green


def judge_preempt(rig, config: GroupConfig, calls: list, v) -> None:
    """Every call: the route green within the clearance time, the service in the record."""
    if not calls:
        v.check("preempt", False, "no preempt call was made")
        return
    events = _record(rig.data_dir / "record.sqlite")
    for t_mark, iid, did, green in calls:
        inter = config.intersection(iid)
        p = preempt_of(inter, did)
        if green is None:
            v.check("preempt route green", False, f"{iid}/{p.id}: no movement conflicting "
                    f"with its route was green within {WAIT_FOR_GREEN_S:g} s of the call's time")
            continue
        t_on = input_on_at(rig.trace.inputs, iid, did, t_mark)
        if t_on is None:
            v.check("preempt route green", False, f"{iid}/{did}: the input never went on")
            continue
        bound = clearance_bound_s(inter, p, rig.trace.lamps, t_on)
        t_green = route_green_at(rig.trace.lamps, iid, p.route, t_on)
        lat = None if t_green is None else t_green - t_on
        v.preempt_bound_s = bound
        v.preempt_latency_s = lat if v.preempt_latency_s is None or lat is None \
            else max(v.preempt_latency_s, lat)
        v.check("preempt route green", lat is not None and lat <= bound + SLACK_S,
                f"{iid}/{p.id} called during the green of {green}: route "
                f"{'/'.join(p.route)} green "
                + ("never" if lat is None else f"{lat:.1f} s after the call")
                + f" (clearance time {bound:.1f} s + {SLACK_S:g} s of polling)")
        seen = sorted({code for sig, code, param in events if sig == iid and param == p.number})
        missing = [c for c in SERVICE if c not in seen]
        v.check("preempt in the record", not missing,
                f"{iid}/{p.id}: Indiana events {', '.join(map(str, seen)) or 'none'}"
                + (f"; missing {', '.join(map(str, missing))}" if missing else ""))


def _record(db) -> list[tuple[str, int, int]]:
    """(signal, code, parameter) of the preempt and TSP events in the cabinet's record."""
    if not db.exists():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return list(con.execute("SELECT signal, code, param FROM events WHERE code BETWEEN "
                                "? AND ?", (E.PREEMPT_ADVANCE_WARNING, E.TSP_SERVICE_END)))
    finally:
        con.close()
