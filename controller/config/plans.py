"""[[intersection.plan]] (fixed-time, actuated, adaptive, coordinated: stages, greens,
cycle) and the group-wide [[schedule]] that selects a plan by time of day."""

from __future__ import annotations

import re

from .model import (
    COORDINATED,
    CYCLE_MODES,
    FIXED,
    GREEN_RANGE_MODES,
    PLAN_MODES,
    RECALLS,
    Intersection,
    Plan,
    ScheduleEntry,
    StagePlan,
)
from .reader import Table

TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])", re.ASCII)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def read_plan(t: Table, ident: str, inter: Intersection | None, stage_ids: list[str]) -> Plan | None:
    mode = t.get_str("mode", choices=PLAN_MODES)
    cycle = t.get_seconds("cycle_s", None, lo=20.0, hi=300.0)
    offset = t.get_seconds("offset_s", 0.0, hi=300.0)
    main = t.get_str("main_stage", stage_ids[0] if stage_ids else None)
    if main is not None and main not in stage_ids:
        t.error("main_stage", f"names stage {main!r}, which is not defined")
    st = t.get_table("stages", required=True)
    stages: dict[str, StagePlan] = {}
    if st is not None:
        for sid in list(st.data):
            sp = st.get_table(sid)
            if sid not in stage_ids:
                st.error(sid, f"names stage {sid!r}, which is not defined")
                continue
            if sp is None:
                continue
            stages[sid] = _stage_plan(sp, sid, mode, inter)
        st.finish()
        # keep the intersection's stage order
        stages = {s: stages[s] for s in stage_ids if s in stages}
    if mode in CYCLE_MODES and cycle is None and not t.has("cycle_s"):
        t.error("cycle_s", f"a {'fixed-time' if mode == FIXED else mode} plan needs a cycle length")
    if cycle is not None and offset is not None and offset >= cycle:
        t.error("offset_s", f"is {offset:g} s; the offset must be shorter than the cycle ({cycle:g} s)")
    if main is not None and st is not None and main not in stages:
        t.error("main_stage", f"stage {main} is not part of this plan")
    if inter is not None and stages and None not in stages.values():
        served = {g for sid in stages for g in inter.stage(sid).groups}
        for g in inter.groups:
            if g.id not in served:
                t.error("stages", f"signal group {g.id} is in none of this plan's stages, "
                        "so it would never be served while the plan runs")
    t.finish()
    if None in (mode, offset, main) or None in stages.values() or t.problems.items and inter is None:
        return None
    plan = Plan(ident, mode, cycle, offset, stages, main)
    if inter is not None and mode == FIXED and cycle is not None and stages:
        _check_cycle(t, plan, inter)
    if inter is not None and mode == COORDINATED and cycle is not None and main in stages:
        _check_splits(t, plan, inter)
    return plan


def _stage_plan(t: Table, sid: str, mode: str | None, inter: Intersection | None) -> StagePlan | None:
    floor = 0.0
    if inter is not None:
        # minimum green is steady green; a CIS flashing green follows it, inside the
        # interstage time (Intersection.interstage_s)
        floor = max((inter.group(g).min_green_s for g in inter.stage(sid).groups),
                    default=0.0)
    green = t.get_seconds("green_s", None, lo=1.0, hi=300.0)
    min_green = t.get_seconds("min_green_s", floor, lo=1.0, hi=300.0)
    max_green = t.get_seconds("max_green_s", None, lo=1.0, hi=300.0)
    max2 = t.get_seconds("max2_green_s", None, lo=1.0, hi=300.0)
    recall = t.get_str("recall", "none", choices=RECALLS)
    if mode == FIXED:
        if green is None:
            if not t.has("green_s"):        # a bad value is reported already
                t.error("green_s", "is required in a fixed-time plan")
        elif green < floor:
            t.error("green_s", f"is {green:g} s, shorter than the minimum green of its groups "
                    f"({floor:g} s)")
        if max_green is not None:
            t.error("max_green_s", "belongs to actuated plans; a fixed-time stage has green_s")
        if max2 is not None:
            t.error("max2_green_s", "belongs to adaptive and coordinated plans")
    elif mode in GREEN_RANGE_MODES:
        if green is not None:
            t.error("green_s", f"belongs to fixed-time plans; an {mode} stage has "
                    "min_green_s / max_green_s")
        if max_green is None and not t.has("max_green_s"):
            t.error("max_green_s", f"is required in an {mode} plan")
        if min_green is not None and min_green < floor:
            t.error("min_green_s", f"is {min_green:g} s, shorter than the minimum green of its "
                    f"groups ({floor:g} s)")
        if min_green is not None and max_green is not None and max_green < min_green:
            t.error("max_green_s", f"is {max_green:g} s, shorter than min_green_s ({min_green:g} s)")
        if max2 is not None and max_green is not None and max2 < max_green:
            t.error("max2_green_s", f"is {max2:g} s, shorter than max_green_s ({max_green:g} s)")
    t.finish()
    if min_green is None or recall is None:
        return None
    return StagePlan(green, max(min_green, floor), max_green or max(min_green, floor), recall,
                     max2)


def _check_cycle(t: Table, plan: Plan, inter: Intersection) -> None:
    order = list(plan.stages)
    greens = sum(sp.green_s or 0.0 for sp in plan.stages.values())
    inter_s = sum(inter.interstage_s(order[i], order[(i + 1) % len(order)])
                  for i in range(len(order))) if len(order) > 1 else 0.0
    if greens + inter_s > plan.cycle_s + 1e-6:
        t.error("stages", f"greens ({greens:g} s) and interstage times ({inter_s:g} s) add up "
                f"to {greens + inter_s:g} s, longer than the cycle ({plan.cycle_s:g} s)")


def _check_splits(t: Table, plan: Plan, inter: Intersection) -> None:
    """Coordinated: the other stages' maximum greens (their splits), the main stage's
    minimum green and the interstage times must fit in the cycle."""
    order = list(plan.stages)
    m = order.index(plan.main_stage)
    order = order[m:] + order[:m]
    greens = plan.stages[plan.main_stage].min_green_s + sum(
        plan.stages[s].max_green_s for s in order[1:])
    inter_s = sum(inter.interstage_s(order[i], order[(i + 1) % len(order)])
                  for i in range(len(order))) if len(order) > 1 else 0.0
    if greens + inter_s > plan.cycle_s + 1e-6:
        t.error("stages", f"the main stage's minimum green, the other stages' maximum greens "
                f"({greens:g} s) and interstage times ({inter_s:g} s) add up to "
                f"{greens + inter_s:g} s, longer than the cycle ({plan.cycle_s:g} s)")


def read_schedule(root: Table, inters: list[Intersection]) -> tuple[ScheduleEntry, ...]:
    out = []
    for t in root.get_tables("schedule", required=True):
        at = t.get_str("at")
        plan = t.get_str("plan")
        days = t.get_str_list("days", ())
        t.finish()
        at_s = None
        if at is not None:
            m = TIME_OF_DAY.fullmatch(at)
            if m:
                at_s = int(m[1]) * 3600.0 + int(m[2]) * 60.0
            else:
                t.error("at", f"must be a time of day HH:MM (00:00 to 23:59); got {at!r}")
        for d in days:
            if d not in DAYS:
                t.error("days", f"must name days among {', '.join(DAYS)}; got {d!r}")
        if plan is not None:
            for i in inters:
                if plan not in i.plans:
                    t.error("plan", f"names plan {plan!r}, which intersection {i.id} does not have")
        if at_s is not None and plan is not None:
            out.append(ScheduleEntry(at_s, plan, tuple(DAYS.index(d) for d in days if d in DAYS)))
    for day in range(7):
        if out and not any(not e.days or day in e.days for e in out):
            root.error("schedule", f"no entry applies on {DAYS[day]}; add one without `days`")
            break
    return tuple(out)
