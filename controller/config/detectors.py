"""[[parking_area]], [[intersection.detector]] (loops, buttons, parking bays) and their
inputs, and [intersection.sumo] (where the groups and loops appear in a SUMO network)."""

from __future__ import annotations

from .common import Declared, undefined_group, unique
from .model import (
    COUNTING,
    DETECTOR_KINDS,
    PARKING_BAY,
    PED_BUTTON,
    PREEMPT,
    PRESENCE,
    PRIORITY,
    Detector,
    ParkingArea,
    SumoMap,
)
from .reader import Table


def read_parking_areas(root: Table) -> list[ParkingArea]:
    areas = []
    for t, ident in unique(root.get_tables("parking_area"), "parking area"):
        areas.append(ParkingArea(ident, t.get_str("name", ident)))
        t.finish()
    return areas


def read_detector(t: Table, ident: str, number: int, groups: Declared, nodes: Declared,
                  areas: set) -> Detector | None:
    kind = t.get_str("kind", choices=DETECTOR_KINDS)
    node = t.get_str("node")
    if node is not None and node not in nodes.declared:
        t.error("node", f"names node {node!r}, which is not defined in this intersection")
    inp = t.get_int("input", None, lo=0)
    pin = t.get_int("pin", None, lo=0)
    if inp is not None and pin is not None:
        t.error("pin", "give the detector's input or its pin, not both")
    calls = t.get_str_list("calls", ())
    extends = t.get_str_list("extends", ())
    for key, names in (("calls", calls), ("extends", extends)):
        for g in names:
            if g not in groups:
                undefined_group(t, key, g, groups)
    _check_called_kinds(t, kind, calls, extends, groups)
    passage = t.get_seconds("passage_s", 2.0, hi=25.5)
    no_act = t.get_number("no_activity_min", 0.0)
    max_pres = t.get_number("max_presence_min", 0.0)
    erratic = t.get_number("erratic_per_min", 0.0)
    area = t.get_str("area", None)
    if kind == PARKING_BAY:
        if area is None:
            t.error("area", "a parking bay must name its parking area")
        elif area not in areas:
            t.error("area", f"names parking area {area!r}, which is not defined in [[parking_area]]")
        if calls or extends:
            t.error("calls", "a parking bay does not call or extend signal groups")
    elif area is not None:
        t.error("area", "only parking bays belong to a parking area")
    t.finish()
    if None in (kind, node, passage, no_act, max_pres, erratic):
        return None
    return Detector(ident, number, kind, node, inp, calls, extends, passage, no_act, max_pres,
                    erratic, area, pin)


def _check_called_kinds(t: Table, kind: str | None, calls: tuple, extends: tuple,
                        groups: Declared) -> None:
    """Vehicle detectors call vehicle groups; pedestrian buttons call pedestrian groups."""
    if kind in (PRESENCE, COUNTING):
        for key, names in (("calls", calls), ("extends", extends)):
            for g in names:
                if g in groups and groups[g].is_pedestrian:
                    t.error(key, f"a {kind} detector is a vehicle detector; {g} is a pedestrian "
                            "group (pedestrians are called by a ped_button)")
    if kind == PED_BUTTON:
        for g in calls:
            if g in groups and not groups[g].is_pedestrian:
                t.error("calls", f"a pedestrian button calls pedestrian groups; {g} is a "
                        f"{groups[g].kind} group")
        if extends:
            t.error("extends", "a pedestrian button does not extend green")
    if kind in (PREEMPT, PRIORITY) and (calls or extends):
        t.error("calls" if calls else "extends", f"a {kind} detector calls its "
                f"[[intersection.{kind}]], not signal groups")


def read_sumo(t: Table, groups: Declared, detectors: set[str]) -> SumoMap | None:
    """[intersection.sumo]: the SUMO traffic light, link indices per group, loops per detector."""
    st = t.get_table("sumo")
    if st is None:
        return None
    tls = st.get_str("tls")
    links: dict[str, tuple[int, ...]] = {}
    lt = st.get_table("links", required=True)
    if lt is not None:
        owner: dict[int, str] = {}
        for g in list(lt.data):
            idx = lt.get_int_list(g)
            if g not in groups:
                undefined_group(lt, g, g, groups)
                continue
            for i in idx:
                if i in owner:
                    lt.error(g, f"SUMO link {i} is already driven by group {owner[i]}")
                owner[i] = g
            links[g] = tuple(idx)
    loops: dict[str, str] = {}
    lp = st.get_table("loops")
    if lp is not None:
        for d in list(lp.data):
            loop = lp.get_str(d)
            if d not in detectors:
                lp.error(d, f"names detector {d!r}, which is not defined")
            elif loop is not None:
                loops[d] = loop
    st.finish()
    if tls is None:
        return None
    return SumoMap(tls, links, loops)
