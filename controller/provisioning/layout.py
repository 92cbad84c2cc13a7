"""What each field node holds, in its own local numbering, derived from the group config.

The runtime (register indices), the provisioning (node.json) and the node's guard (its
safety tables and their CRC) all read this one derivation, so the node and the cabinet
agree by construction: local group i is the i-th signal group of the intersection wired
to that node, in configuration order; detectors and parking bays likewise.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocols import safety_tables

from ..config.model import PARKING_BAY, GroupConfig, Intersection, Node, SignalGroup
from ..config.model import Detector as DetectorCfg
from ..config.wiring import NodeWiring

# The node's own start-up all-red is this much shorter than the controller's, so that poll
# latency never makes the node refuse the controller's first red+amber or green.
ALL_RED_MARGIN_MS = 500
MIN_ALL_RED_MS = 1000              # the node's floor (protocols.safety_tables.STARTUP_RANGES)


def ms(seconds: float) -> int:
    return int(round(seconds * 1000))


@dataclass(frozen=True)
class NodeLayout:
    node: Node
    intersection: Intersection
    groups: tuple[SignalGroup, ...]       # local index order
    detectors: tuple[DetectorCfg, ...]    # loops and buttons, local index order
    bays: tuple[DetectorCfg, ...]         # parking bays, local index order

    @property
    def wiring(self) -> NodeWiring:
        """Its pins, as the configuration resolved them (controller/config/wiring.py)."""
        return self.intersection.wiring[self.node.id]

    @property
    def group_index(self) -> dict[str, int]:
        return {g.id: i for i, g in enumerate(self.groups)}

    def safety_tables(self) -> dict:
        """The node's guard tables in the protocols.safety_tables format, with its start-up
        timing (boot flash, all-red) so that the CRC the node reports covers that too."""
        inter = self.intersection
        idx = self.group_index
        groups = [{"id": g.id, "kind": g.kind, "amber_ms": ms(g.amber_s),
                   "red_amber_ms": ms(g.red_amber_s), "flash_green_ms": ms(g.flash_green_s),
                   "min_green_ms": ms(inter.green_floor_s(g.id)),   # a preempt may cut it
                   "clearance_ms": ms(g.ped_clear_s) if g.is_pedestrian else 0}
                  for g in self.groups]
        conflicts = sorted({(min(idx[a], idx[b]), max(idx[a], idx[b]))
                            for a, b in inter.conflicts if a in idx and b in idx})
        intergreen = sorted((idx[a], idx[b], ms(v)) for (a, b), v in inter.intergreen.items()
                            if a in idx and b in idx)
        return {"groups": groups, "conflicts": [list(c) for c in conflicts],
                "intergreen_ms": [list(x) for x in intergreen],
                "startup_flash_ms": ms(inter.startup_flash_s),
                "all_red_ms": max(MIN_ALL_RED_MS,
                                  ms(inter.startup_all_red_s) - ALL_RED_MARGIN_MS)}

    def safety_crc(self) -> int:
        return safety_tables.crc(self.safety_tables())

    def unguarded_conflicts(self) -> list[tuple[str, str]]:
        """Conflicting pairs of which only one group is on this node: its guard cannot see
        the other, so for those pairs the core and the monitor stand alone."""
        mine = {g.id for g in self.groups}
        return sorted((a, b) for a, b in self.intersection.conflicts if a in mine and b not in mine)


def layouts(config: GroupConfig) -> dict[str, NodeLayout]:
    out = {}
    for inter in config.intersections:
        for node in inter.nodes:
            groups = tuple(g for g in inter.groups if g.node == node.id)
            dets = tuple(d for d in inter.detectors if d.node == node.id and d.kind != PARKING_BAY)
            bays = tuple(d for d in inter.detectors if d.node == node.id and d.kind == PARKING_BAY)
            out[node.id] = NodeLayout(node, inter, groups, dets, bays)
    return out
