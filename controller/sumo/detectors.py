"""What an induction loop is for, by its distance to the stop line.

Within 15 m a `presence` loop (calls, extends, passage = the discharge headway); up to
120 m a `counting` advance loop (calls, extends, passage until the vehicle can no longer
stop at the amber); further up, counting only.
"""

from __future__ import annotations

from .movements import Group
from .network import Signal

STOP_BAR_M = 15.0        # presence at the stop line: calls and extends
ADVANCE_M = 120.0        # advance loop: calls, extends, counts; further up: counts only
COMMITTED_M = 25.0       # a vehicle this close to the stop line passes at the amber


def loops(sig: Signal, groups: list[Group]) -> list[tuple[str, str, float, list[str]]]:
    """(id, kind, distance to the stop line, groups) of the loops on the groups' lanes."""
    lane_group = {lk.from_lane: g.id for g in groups for lk in g.links}
    out = []
    for lp in sorted(sig.loops, key=lambda x: (x.lane, x.to_stop_m, x.id)):
        gid = lane_group.get(lp.lane)
        if gid is None:
            continue
        kind = "presence" if lp.to_stop_m <= STOP_BAR_M else "counting"
        out.append((lp.id, kind, lp.to_stop_m, [gid]))
    return out


def calls(dist_m: float) -> bool:
    """Does a loop this far from the stop line call and extend its groups?"""
    return dist_m <= ADVANCE_M


def passage_s(dist_m: float, speed: float) -> float:
    """Stop bar: the discharge headway; advance: until the vehicle is committed (inside
    about 25 m of the stop line it no longer stops at the amber: 50 km/h braking at
    3.9 m/s²)."""
    if dist_m <= STOP_BAR_M:
        return 2.0
    return max(1.0, min(6.0, round(2 * (dist_m - COMMITTED_M) / speed) / 2))
