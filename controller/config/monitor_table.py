"""The signal monitor's table (monitor/table.py) of an intersection of the configuration.

The monitor never reads the configuration model: it is provisioned with this plain-data
table, as a monitor board would be with its JSON file. Deterministic: groups in
configuration order, conflicts in the order of their groups, times in whole milliseconds
(the model's are multiples of 0.1 s).
"""

from __future__ import annotations

from monitor.table import FORMAT

from .model import PEDESTRIAN, Intersection


def _ms(s: float) -> int:
    return round(s * 1000)


def monitor_table(inter: Intersection) -> dict:
    """Everything the monitor checks `inter` against, as JSON-ready lists and dicts."""
    groups = []
    for g in inter.groups:
        ped = g.kind == PEDESTRIAN
        groups.append({
            "id": g.id,
            "kind": g.kind,
            # a preempt may cut a green to its floor on entry (Intersection.green_floor_s)
            "min_green_ms": _ms(inter.green_floor_s(g.id)),
            "amber_ms": _ms(g.amber_s),
            "red_amber": bool(g.profile.red_amber),
            "flash_dont_walk": ped and g.profile.ped_clearance == "flash_red",
        })
    order = {g.id: k for k, g in enumerate(inter.groups)}
    pairs = sorted(inter.conflicts, key=lambda p: (order[p[0]], order[p[1]]))
    return {
        "format": FORMAT,
        "intersection": inter.id,
        "flash": inter.flash_aspect,
        "groups": groups,
        "conflicts": [[a, b, _ms(inter.intergreen.get((a, b), 0.0))] for a, b in pairs],
    }
