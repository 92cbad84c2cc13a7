"""Intergreens from the paths through the junction (SUMO's internal lanes).

The conflict area of two links is where their paths come closer than 2.5 m; the clearing
stream must leave its far end, the entering stream reaches its near end. EU and CIS use
RiLSA, the US profile yellow plus the ITE red clearance (docs/CONTROL.md).
"""

from __future__ import annotations

import math

from ..config import geometry
from .movements import Group, Options
from .network import THROUGH, Link, Signal

PED_SPEED = 1.07             # m/s, US pedestrian clearance (DOMAIN.md: 3.5 ft/s)
PED_BUFFER_S = 3             # s after the flashing don't walk (MUTCD buffer interval)


def _sample(path: list[tuple[float, float]], step: float = 0.5) -> list[tuple[float, float, float]]:
    """Points every `step` m along a polyline: (x, y, distance from its start)."""
    out = [(path[0][0], path[0][1], 0.0)]
    s = 0.0
    for (x0, y0), (x1, y1) in zip(path, path[1:]):
        seg = math.hypot(x1 - x0, y1 - y0)
        n = max(1, int(math.ceil(seg / step)))
        for k in range(1, n + 1):
            out.append((x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n, s + seg * k / n))
        s += seg
    return out


def conflict_distances(a: Link, b: Link, near_m: float = 2.5) -> tuple[float, float]:
    """(clearing distance of a, entry distance of b) to their conflict area.

    The conflict area is where the two paths come closer than `near_m`; the clearing
    stream must leave its far end, the entering stream reaches its near end.
    """
    pa, pb = _sample(a.path), _sample(b.path)
    clear, entry = None, None
    for xa, ya, sa in pa:
        for xb, yb, sb in pb:
            if (xa - xb) ** 2 + (ya - yb) ** 2 < near_m * near_m:
                clear = sa if clear is None else max(clear, sa)
                entry = sb if entry is None else min(entry, sb)
    if clear is None:        # foes whose paths never meet (e.g. merging beyond the junction)
        return pa[-1][2], pb[-1][2]
    return clear, entry


def _movement(lk: Link) -> geometry.Movement:
    """RiLSA stream parameters of one link: turning streams clear at 7 m/s, through at 10."""
    return geometry.movement("vehicle" if lk.turn == THROUGH else "arrow", {})


def intergreen_pair(a: Link, b: Link, amber_s: float, profile: str) -> tuple[float, float, float]:
    """(clearing distance, entry distance, intergreen s) for link a clearing, b entering.

    EU and CIS: RiLSA, tz = tü + (s_clear + l) / v_clear − s_entry / v_entry.
    US: yellow plus the ITE red clearance (W + L) / v, W the clearing path to the far
    side of the conflict, L 6 m, v the approach speed limit. Both rounded up to whole
    seconds.
    """
    c, e = conflict_distances(a, b)
    c, e = round(c, 1), round(e, 1)
    if a.pedestrian:        # pedestrians clear: US, the buffer after flashing don't walk
        if profile == "US":
            return c, e, float(ped_clear_s(a) + PED_BUFFER_S)
        return c, e, geometry.intergreen_s(geometry.movement("pedestrian", {}), _movement(b),
                                           c, e, 0.0)
    if profile == "US":
        v = max(a.speed, 1.0)
        return c, e, float(math.ceil(amber_s + (c + 6.0) / v - 1e-9))
    return c, e, geometry.intergreen_s(_movement(a), _movement(b), c, e, amber_s)


def ped_clear_s(lk: Link) -> int:
    """US flashing don't walk: the whole crossing at 3.5 ft/s (1.07 m/s)."""
    return max(4, math.ceil(lk.crossing_m / PED_SPEED - 1e-9))


def intergreens(sig: Signal, groups: list[Group], conflicts, permissive, opts: Options):
    """Per ordered conflicting (or permissive) pair: the governing link pair's distances and
    formula value, and the intergreen used (never below amber + minimum red clearance)."""
    by_id = {g.id: g for g in groups}
    geom: dict[tuple[str, str], tuple[float, float, float]] = {}
    final: dict[tuple[str, str], float] = {}
    pairs = set(conflicts) | {(a, b) for a, b in permissive} | {(b, a) for a, b in permissive}
    for ga_id, gb_id in sorted(pairs):
        best = None
        for a in by_id[ga_id].links:
            for b in by_id[gb_id].links:
                if (a.index, b.index) not in sig.foes:
                    continue
                c, e, tz = intergreen_pair(a, b, opts.amber_s, opts.profile)
                if best is None or tz > best[2]:
                    best = (c, e, tz)
        geom[(ga_id, gb_id)] = best
        ga = by_id[ga_id]
        change = (ped_clear_s(ga.links[0]) if opts.profile == "US" else 0.0) \
            if ga.kind == "pedestrian" else opts.amber_s
        final[(ga_id, gb_id)] = max(best[2], math.ceil(change + opts.all_red_s - 1e-9))
    return geom, final


def floor_s(opts: Options) -> int:
    """The shortest intergreen: amber plus the minimum red clearance, whole seconds."""
    return math.ceil(opts.amber_s + opts.all_red_s - 1e-9)
