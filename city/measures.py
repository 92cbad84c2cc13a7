"""ATSPM measures from field data: an intersection's events as the city keeps them, put
through the same code that judges the policies in `smartcross sumo` (controller/control/
atspm.py): the split monitor, arrivals on green, split failures, and the Purdue
coordination diagram's points for one phase.

The cabinet's `info` message tells the city the intersection's signal groups (phase
numbers) and detectors (kind, channel, the groups they call and extend): that is all the
measures need of a configuration.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import NamedTuple

from controller.control.atspm import advance_detectors, coordination_points, measures


class Ev(NamedTuple):
    t: float
    intersection: str
    code: int
    param: int


def shape(cid: str, inter: dict) -> SimpleNamespace:
    """The intersection as the measures read it, from the cabinet's `info`."""
    groups = tuple(SimpleNamespace(id=g, number=int(x.get("number", 0)), kind=x.get("kind"))
                   for g, x in inter.get("groups", {}).items())
    known = {g.id for g in groups}
    dets = tuple(SimpleNamespace(
        id=d, number=int(x.get("number", 0)), kind=x.get("kind"),
        calls=tuple(c for c in x.get("calls", ()) if c in known),
        extends=tuple(c for c in x.get("extends", ()) if c in known))
        for d, x in inter.get("detectors", {}).items())
    return SimpleNamespace(id=cid, groups=groups, detectors=dets)


def intersection_measures(cid: str, inter: dict, rows: list[tuple[float, int, int]],
                          phase: str | None = None) -> dict:
    """{"measures": {group: {...}}, "pcd": {...}} for the events `rows` (ts, code, param)."""
    sh = shape(cid, inter)
    evs = [Ev(t, cid, c, p) for t, c, p in rows]
    m = measures(SimpleNamespace(intersections=(sh,)), evs).get(cid, {})
    adv = advance_detectors(sh)
    numbers = {g.id: g.number for g in sh.groups}
    if phase is None or phase not in numbers:
        phase = next((g.id for g in sh.groups if adv.get(g.number)),
                     sh.groups[0].id if sh.groups else None)
    pcd = None
    if phase is not None:
        pcd = {"phase": phase, "number": numbers[phase],
               **coordination_points(evs, numbers[phase], adv.get(numbers[phase], ()))}
    return {"intersection": cid, "events": len(evs), "measures": m, "pcd": pcd}
