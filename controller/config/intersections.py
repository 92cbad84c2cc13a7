"""[[intersection]]: its header (profile, start-up), its signal groups and their channels;
the other sections of an intersection are read by their own modules, in this order."""

from __future__ import annotations

from .buses import check_capacity, node_map, read_node
from .common import Declared, unique
from .conflicts import read_conflicts, read_geometry, read_intergreen, read_permissive
from .detectors import read_detector, read_sumo
from .model import GROUP_KINDS, PEDESTRIAN, Intersection, SignalGroup
from .monitor_unit import read_monitor_unit
from .plans import read_plan
from .preempts import read_preempts, read_priorities
from .profiles import AMBER_MAX_S, AMBER_MIN_S, PROFILES, RED_AMBER_MAX_S, STARTUP_FLASH_RANGE_S
from .reader import Table
from .stages import read_stages
from .wiring import read_lamp_pins, wire_node

GROUP_KEYS = ("id", "kind", "profile", "amber_s", "red_amber_s", "flash_green_s", "ped_clear_s",
              "min_green_s", "node", "channels", "pins", "sense")


def read_intersection(t: Table, ident: str, bus_ids: set[str],
                      area_ids: set[str]) -> Intersection | None:
    errors_before = len(t.problems.items)
    name = t.get_str("name", ident)
    pname = t.get_str("profile", choices=tuple(PROFILES))
    profile = PROFILES.get(pname) if pname else None
    lo, hi = STARTUP_FLASH_RANGE_S
    flash_s = t.get_seconds("startup_flash_s", 6.0, lo=lo, hi=hi)
    all_red_s = t.get_seconds("startup_all_red_s", 3.0, lo=1.0, hi=10.0)
    flash_aspect = t.get_str("flash", "amber", choices=("amber", "red"))

    node_tables = unique(t.get_tables("node", required=True), "node")
    nodes = [read_node(nt, nid, bus_ids) for nt, nid in node_tables]
    nmap = node_map(nodes, node_tables)
    groups = []
    group_tables = unique(t.get_tables("group", required=True), "signal group")
    for number, (gt, gid) in enumerate(group_tables, 1):
        groups.append(read_signal_group(gt, gid, number, profile, nmap))
    gmap = Declared({g.id: g for g in groups if g}, {gid for _, gid in group_tables})

    conflicts = read_conflicts(t, gmap)
    permissive = read_permissive(t, gmap, conflicts)
    geom = read_geometry(t, gmap)
    intergreen = read_intergreen(t, gmap, conflicts, geom, permissive)
    stages = read_stages(t, gmap, conflicts)

    detectors = [read_detector(dt, did, n, gmap, nmap, area_ids)
                 for n, (dt, did) in enumerate(unique(t.get_tables("detector"), "detector"), 1)]
    sumo = read_sumo(t, gmap, {d.id for d in detectors if d})
    preempts = read_preempts(t, gmap, conflicts, intergreen, stages, detectors)
    priorities = read_priorities(t, stages, detectors)
    check_capacity(t, [g for g in groups if g], [d for d in detectors if d], nmap)
    wiring = {n.id: wire_node(t, n, [g for g in groups if g and g.node == n.id],
                              [d for d in detectors if d and d.node == n.id])
              for n in nodes if n}
    unit = read_monitor_unit(t, bus_ids, [g for g in groups if g])

    inter_partial = None
    if len(t.problems.items) == errors_before and profile is not None:
        inter_partial = Intersection(ident, name, profile, flash_s, all_red_s, flash_aspect,
                                     tuple(groups), frozenset(conflicts), intergreen,
                                     tuple(stages), tuple(detectors), {}, tuple(nodes),
                                     frozenset(permissive), sumo)
    plans = {}
    for pt, pid in unique(t.get_tables("plan", required=True), "plan"):
        plans[pid] = read_plan(pt, pid, inter_partial, [s.id for s in stages])
    t.finish()
    if len(t.problems.items) != errors_before or inter_partial is None:
        return None
    return Intersection(ident, name, profile, flash_s, all_red_s, flash_aspect, tuple(groups),
                        frozenset(conflicts), intergreen, tuple(stages), tuple(detectors),
                        plans, tuple(nodes), frozenset(permissive), sumo, wiring,
                        monitor_unit=unit, preempts=preempts, priorities=priorities)


def read_signal_group(t: Table, ident: str, number: int, ip, nodes) -> SignalGroup | None:
    kind = t.get_str("kind", choices=GROUP_KINDS)
    pname = t.get_str("profile", None, choices=tuple(PROFILES))
    profile = PROFILES.get(pname) if pname else ip
    ped = kind == PEDESTRIAN
    if profile is None:     # reported once, at the intersection: the keys cannot be checked
        t.seen.update(GROUP_KEYS)
        t.finish()
        return None
    amber = t.get_seconds("amber_s", 0.0 if ped else profile.amber_s, lo=0.0, hi=AMBER_MAX_S)
    if amber is not None and not ped and amber < AMBER_MIN_S:
        t.error("amber_s", f"is {amber:g} s; amber must be at least {AMBER_MIN_S:g} s")
    if ped and amber:
        t.error("amber_s", "pedestrian heads have no amber")
    ra_default = profile.red_amber_s if profile.red_amber and not ped else 0.0
    red_amber = t.get_seconds("red_amber_s", ra_default, hi=RED_AMBER_MAX_S)
    if red_amber and (ped or not profile.red_amber):
        t.error("red_amber_s", f"the {profile.name} profile has no red+amber"
                + (" for pedestrians" if ped else ""))
    fg_default = profile.flash_green_s if profile.flash_green else 0.0
    flash_green = t.get_seconds("flash_green_s", fg_default, hi=6.0)
    if flash_green and not profile.flash_green:
        t.error("flash_green_s", f"the {profile.name} profile has no flashing green")
    elif profile.flash_green and flash_green is not None and flash_green != profile.flash_green_s:
        t.error("flash_green_s", f"the {profile.name} flashing green lasts "
                f"{profile.flash_green_s:g} s by the traffic rules; got {flash_green:g} s")
    ped_clear = t.get_seconds("ped_clear_s", 0.0, hi=60.0)
    if ped_clear and not (ped and profile.ped_clearance == "flash_red"):
        t.error("ped_clear_s", "only US-profile pedestrian groups have a flashing don't-walk "
                "clearance")
    if ped and profile.ped_clearance == "flash_red" and not ped_clear:
        t.error("ped_clear_s", "is required for US pedestrian groups (flashing don't walk, "
                "crossing length / 1.07 m/s)")
    min_green = t.get_seconds("min_green_s", lo=1.0, hi=120.0)
    node = t.get_str("node")
    if node is not None and node not in nodes.declared:
        t.error("node", f"names node {node!r}, which is not defined in this intersection")
    channels = t.get_int_list("channels", None)
    want = 2 if ped else 3
    if channels is not None and len(channels) != want:
        t.error("channels", f"a {kind or 'signal'} head has {want} lamps "
                f"({'red, green' if ped else 'red, amber, green'}); got {len(channels)} channels")
    if len(set(channels or ())) != len(channels or ()):
        t.error("channels", "a channel drives one lamp")
    pins = read_lamp_pins(t, "pins", ped, complete=True)
    if pins is not None and channels is not None:
        t.error("pins", "give the head's channels or its pins, not both")
    sense = read_lamp_pins(t, "sense", ped, complete=False)
    t.finish()
    if None in (kind, amber, red_amber, flash_green, ped_clear, min_green, node):
        return None
    return SignalGroup(ident, number, kind, profile, amber, red_amber, flash_green, ped_clear,
                       min_green, node, channels, pins, sense)
