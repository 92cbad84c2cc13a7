"""[[intersection.preempt]] (emergency and railroad preemption) and [[intersection.priority]]
(transit signal priority): read, then checked against the intersection's groups, stages,
detectors and safety times (shared/DOMAIN.md, NTCIP 1202 preempt table, MUTCD 8C).

What `check` refuses, each at its key: a route (dwell) or a track clearance whose groups
conflict with each other; a dwell shorter than a change interval or than a route group's
minimum green; a preempt minimum green or walk below the safe floor; a rail preempt
without track clearance, whose dwell serves a movement that crosses the tracks, that a
lower-ranked preempt outranks, or whose entry and track clearance do not fit in the
railroad's warning time (worst case: a green that just began and must end first).
"""

from __future__ import annotations

from .common import Declared, undefined_group, unique
from .model import (
    PREEMPT,
    PREEMPT_KINDS,
    PRIORITY,
    RAIL,
    Detector,
    Preempt,
    Priority,
    Stage,
    TrackClearance,
)
from .reader import Table

PREEMPT_MIN_GREEN_FLOOR_S = 2.0      # the shortest green (walk) a preempt may leave a group
RAIL_MIN_WARNING_S = 20.0            # MUTCD 8C.09: at least 20 s of warning before a train
TRACK_CLEARANCE_MIN_S = 5.0
MAX_PRESENCE_S = 300.0               # a call on longer than this by default is a fault


def read_preempts(t: Table, groups: Declared, conflicts: set, intergreen: dict,
                  stages: list[Stage], detectors: list[Detector | None]) -> tuple[Preempt, ...]:
    kinds = {d.id: d.kind for d in detectors if d}
    stage_ids = {s.id for s in stages}
    out = []
    for number, (pt, pid) in enumerate(unique(t.get_tables("preempt"), "preempt"), 1):
        p = _read_preempt(pt, pid, number, groups, (conflicts, intergreen), stage_ids, kinds)
        if p is not None:
            out.append(p)
    rails = [p for p in out if p.kind == RAIL]
    for p in out:
        for r in rails:
            if p.kind != RAIL and p.priority <= r.priority:
                t.error(f"preempt[{p.id}].priority", f"is {p.priority}; rail preempt {r.id} "
                        f"(priority {r.priority}) must outrank every emergency preempt "
                        "(1 is the highest)")
    return tuple(sorted(out, key=lambda p: (p.priority, p.number)))


def _groups(t: Table, key: str, groups: Declared, conflicts: set, what: str) -> tuple[str, ...]:
    names = t.get_str_list(key, ()) or ()
    for g in names:
        undefined_group(t, key, g, groups)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if (a, b) in conflicts:
                t.error(key, f"{a} and {b} conflict and cannot both be green in {what}")
    return tuple(g for g in names if g in groups)


def _detector(t: Table, key: str, kinds: dict, want: str, required: bool) -> str | None:
    did = t.get_str(key) if required else t.get_str(key, None)
    if did is None:
        return None
    if did not in kinds:
        t.error(key, f"names detector {did!r}, which is not defined in this intersection")
    elif kinds[did] != want:
        t.error(key, f"detector {did} is a {kinds[did]} detector; it must be of kind {want!r}")
    return did


def _floor(t: Table, key: str) -> float | None:
    v = t.get_seconds(key, None, hi=120.0)
    if v is not None and v < PREEMPT_MIN_GREEN_FLOOR_S:
        t.error(key, f"is {v:g} s; a preempt may shorten a green (walk) to "
                f"{PREEMPT_MIN_GREEN_FLOOR_S:g} s at the least")
        return None
    return v


def _read_preempt(t: Table, pid: str, number: int, groups: Declared, pairs: tuple,
                  stage_ids: set, kinds: dict) -> Preempt | None:
    conflicts = pairs[0]
    n0 = len(t.problems.items)
    kind = t.get_str("kind", choices=PREEMPT_KINDS)
    priority = t.get_int("priority", lo=1, hi=255)
    detector = _detector(t, "detector", kinds, PREEMPT, required=False)
    route = _groups(t, "route", groups, conflicts, "one preempt route")
    if not route and not t.problems.items[n0:]:
        t.error("route", "is required: the signal groups green in dwell")
    track = _track(t, groups, conflicts)
    delay = t.get_seconds("delay_s", 0.0, hi=600.0)
    dwell = t.get_seconds("min_dwell_s", 10.0, lo=1.0, hi=600.0)
    min_green, min_walk = _floor(t, "min_green_s"), _floor(t, "min_walk_s")
    presence = t.get_seconds("max_presence_s", MAX_PRESENCE_S, lo=10.0, hi=86400.0)
    exit_stage = t.get_str("exit_stage", None)
    if exit_stage is not None and exit_stage not in stage_ids:
        t.error("exit_stage", f"names stage {exit_stage!r}, which is not defined")
    warning = t.get_seconds("warning_time_s", None, lo=0.0, hi=600.0)
    t.finish()
    if len(t.problems.items) != n0 or None in (kind, priority, delay, dwell, presence):
        return None
    p = Preempt(pid, number, kind, priority, detector, route, track, delay, dwell, min_green,
                min_walk, presence, exit_stage, warning)
    _check_times(t, p, groups, pairs)
    return None if len(t.problems.items) != n0 else p


def _track(t: Table, groups: Declared, conflicts: set) -> TrackClearance | None:
    tt = t.get_table("track_clearance")
    if tt is None:
        return None
    tg = _groups(tt, "groups", groups, conflicts, "one track clearance")
    if not tt.has("groups"):
        tt.error("groups", "is required: the signal groups that clear the tracks")
    green = tt.get_seconds("green_s", lo=TRACK_CLEARANCE_MIN_S, hi=120.0)
    tt.finish()
    return None if green is None or not tg else TrackClearance(tg, green)


def _check_times(t: Table, p: Preempt, groups: Declared, pairs: tuple) -> None:
    """The dwell against the safety times, and a rail preempt against the railroad's."""
    for gid in p.route:
        change = groups[gid].flash_green_s + groups[gid].change_s
        if p.min_dwell_s < change:
            t.error("min_dwell_s", f"is {p.min_dwell_s:g} s, shorter than the clearance of "
                    f"route group {gid} ({change:g} s): a dwell is never shorter than a clearance")
        if p.min_dwell_s < groups[gid].min_green_s:
            t.error("min_dwell_s", f"is {p.min_dwell_s:g} s, shorter than the minimum green of "
                    f"route group {gid} ({groups[gid].min_green_s:g} s)")
    if p.max_presence_s <= p.delay_s + p.min_dwell_s:
        t.error("max_presence_s", f"is {p.max_presence_s:g} s; it must be longer than the delay "
                f"and the minimum dwell ({p.delay_s + p.min_dwell_s:g} s)")
    if p.kind != RAIL:
        if p.track is not None:
            t.error("track_clearance", "only a rail preempt has a track clearance")
        if p.warning_time_s is not None:
            t.error("warning_time_s", "only a rail preempt has a railroad warning time")
        return
    _check_rail(t, p, groups, pairs)


def _check_rail(t: Table, p: Preempt, groups: Declared, pairs: tuple) -> None:
    if p.track is None:
        t.error("track_clearance", "a rail preempt needs a track clearance (groups, green_s): "
                "the queue over the tracks must clear before the dwell")
        return
    crossing = [g for g in p.route if g in p.track.groups]
    if crossing:
        t.error("route", f"the dwell of a rail preempt never serves the movements that cross "
                f"the tracks; {', '.join(crossing)} clear the tracks")
    for gid in p.track.groups:
        if p.track.green_s < groups[gid].min_green_s:
            t.error("track_clearance.green_s", f"is {p.track.green_s:g} s, shorter than the "
                    f"minimum green of {gid} ({groups[gid].min_green_s:g} s)")
    if p.warning_time_s is None:
        t.error("warning_time_s", "a rail preempt needs the railroad's warning time, to check "
                "that the track clears before the train arrives")
        return
    if p.warning_time_s < RAIL_MIN_WARNING_S:
        t.error("warning_time_s", f"is {p.warning_time_s:g} s; the railroad's warning time is "
                f"at least {RAIL_MIN_WARNING_S:g} s (MUTCD 8C)")
        return
    entry = worst_entry_s(p, groups, *pairs)
    need = p.delay_s + entry + p.track.green_s
    if need > p.warning_time_s:
        t.error("warning_time_s", f"is {p.warning_time_s:g} s, but the delay ({p.delay_s:g} s), "
                f"the worst entry ({entry:g} s: a green that just began, its shortest green "
                f"and its clearance or intergreen) and the track clearance "
                f"({p.track.green_s:g} s) take {need:g} s")


def worst_entry_s(p: Preempt, groups: dict, conflicts: set | frozenset, intergreen: dict) -> float:
    """An upper bound of the time from entry (event 105) to the track clearance (106), as
    the timing core takes it (controller/core/preempt.py): every track clearance group
    green and every other group at rest, but the route groups compatible with the track
    clearance that it keeps green. Each group's worst state at entry counts:

    - a group that conflicts (or forms a permissive pair) with a track clearance group and
      was in its red+amber, or whose green just began: its red+amber, its floor, its
      flashing green, then the intergreen (change interval and red+amber inside it,
      CONTROL.md; for a permissive pair the red+amber follows the intergreen);
    - a track clearance group caught in its flashing green: that, its change interval and
      its red+amber, before it is green again (from rest: its red+amber);
    - a compatible route group: its red+amber (kept) or its flashing green and change
      interval (caught ending);
    - any other group: its red+amber, floor, flashing green and change interval, to rest.
    """
    assert p.track is not None
    track = p.track.groups
    worst = max(groups[b].flash_green_s + groups[b].change_s + groups[b].red_amber_s
                for b in track)
    for a, g in groups.items():
        cut = p.min_walk_s if g.is_pedestrian else p.min_green_s
        floor = g.min_green_s if cut is None or a in p.route else min(g.min_green_s, cut)
        ends = g.red_amber_s + floor + g.flash_green_s        # a green that just began ends
        tied = [b for b in track if b != a and ((a, b) in conflicts or (a, b) in intergreen)]
        for b in tied:
            rb = groups[b].red_amber_s
            if (a, b) in conflicts:
                gap = max(intergreen.get((a, b), 0.0), g.change_s + rb)
            else:       # a track group that gives way rejoins after b: its red+amber again
                gap = max(intergreen[(a, b)], g.change_s) + rb + \
                    (g.red_amber_s if a in track else 0.0)
            worst = max(worst, ends + gap)
        if tied or a in track:
            continue
        if a in p.route:
            worst = max(worst, g.red_amber_s, g.flash_green_s + g.change_s)
        else:
            worst = max(worst, ends + g.change_s)
    return worst


def read_priorities(t: Table, stages: list[Stage],
                    detectors: list[Detector | None]) -> tuple[Priority, ...]:
    kinds = {d.id: d.kind for d in detectors if d}
    stage_ids = {s.id for s in stages}
    out = []
    for number, (pt, pid) in enumerate(unique(t.get_tables("priority"), "priority"), 1):
        n0 = len(pt.problems.items)
        checkin = _detector(pt, "checkin", kinds, PRIORITY, required=True)
        checkout = _detector(pt, "checkout", kinds, PRIORITY, required=False)
        if checkin is not None and checkin == checkout:
            pt.error("checkout", "check-in and check-out need detectors of their own")
        stage = pt.get_str("stage")
        if stage is not None and stage not in stage_ids:
            pt.error("stage", f"names stage {stage!r}, which is not defined")
        early = pt.get_seconds("max_early_s", 10.0, hi=60.0)
        extend = pt.get_seconds("max_extend_s", 10.0, hi=60.0)
        if early == 0.0 and extend == 0.0:
            pt.error("max_extend_s", "early green and green extension are both 0 s: this "
                     "priority would never do anything")
        per_cycle = pt.get_int("per_cycle", 1, lo=1, hi=4)
        presence = pt.get_seconds("max_presence_s", 120.0, lo=10.0, hi=3600.0)
        pt.finish()
        if len(pt.problems.items) == n0 and None not in (checkin, stage, early, extend,
                                                          per_cycle, presence):
            out.append(Priority(pid, number, checkin, checkout, stage, early, extend,
                                per_cycle, presence))
    return tuple(out)
