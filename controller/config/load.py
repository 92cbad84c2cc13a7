"""Read an intersection-group TOML file into the checked model, or fail with every reason.

`load(path)` returns a `GroupConfig` or raises `ConfigError` whose `problems` each name
the file, the key path and what is wrong. Nothing is half-applied: the model exists only
when the whole file is right.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from protocols import register_map as rm

from . import geometry
from .model import (
    COORDINATED,
    COUNTING,
    CYCLE_MODES,
    DETECTOR_KINDS,
    FIXED,
    GREEN_RANGE_MODES,
    GROUP_KINDS,
    PARKING_BAY,
    PED_BUTTON,
    PEDESTRIAN,
    PLAN_MODES,
    PRESENCE,
    RECALLS,
    Bus,
    Detector,
    GroupConfig,
    Intersection,
    Node,
    ParkingArea,
    Plan,
    ScheduleEntry,
    SignalGroup,
    Stage,
    StagePlan,
    SumoMap,
)
from .profiles import (
    AMBER_MAX_S,
    AMBER_MIN_S,
    PROFILES,
    RED_AMBER_MAX_S,
    STARTUP_FLASH_RANGE_S,
)
from .reader import ConfigError, Problems, Table

TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])", re.ASCII)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
GROUP_KEYS = ("id", "kind", "profile", "amber_s", "red_amber_s", "flash_green_s", "ped_clear_s",
              "min_green_s", "node", "channels")
BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)


def load(path: str | Path) -> GroupConfig:
    path = Path(path)
    problems = Problems(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        problems.add("", f"cannot read the file: {e.strerror or e}")
        raise ConfigError(problems.items) from None
    except UnicodeDecodeError:
        problems.add("", "is not UTF-8 text")
        raise ConfigError(problems.items) from None
    return loads(text.removeprefix("\ufeff"), str(path))   # a BOM from Windows editors


def loads(text: str, source: str = "<string>") -> GroupConfig:
    problems = Problems(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        problems.add("", f"is not valid TOML: {e}")
        raise ConfigError(problems.items) from None
    config = _group(Table(data, "", problems), source)
    if problems or config is None:
        raise ConfigError(problems.items)
    return config


class Declared(dict):
    """Valid entries by id, and every id declared (valid or not) in `declared`.

    A reference to a declared id whose entry is invalid is not an error of its own: the
    entry's own problems are reported, and "not defined" would be wrong.
    """

    def __init__(self, valid: dict, declared: set[str]):
        super().__init__(valid)
        self.declared = declared


def _unique(tables: list[Table], what: str) -> list[tuple[Table, str]]:
    out, seen = [], set()
    for t in tables:
        ident = t.get_str("id")
        if ident is None:
            continue
        t.label(ident)
        if ident in seen:
            t.error("id", f"duplicate {what} id {ident!r}")
            continue
        seen.add(ident)
        out.append((t, ident))
    return out


def _group(root: Table, source: str) -> GroupConfig | None:
    name = root.get_str("name")
    bus_tables = _unique(root.get_tables("bus", required=True), "bus")
    buses = [_bus(t, i) for t, i in bus_tables]
    areas = []
    for t, ident in _unique(root.get_tables("parking_area"), "parking area"):
        areas.append(ParkingArea(ident, t.get_str("name", ident)))
        t.finish()
    bus_ids = {i for _, i in bus_tables}      # declared: a bad bus is reported once
    area_ids = {a.id for a in areas}
    inters = [_intersection(t, i, bus_ids, area_ids)
              for t, i in _unique(root.get_tables("intersection", required=True), "intersection")]
    schedule = _schedule(root, [i for i in inters if i])
    root.finish()
    if root.problems or None in buses or None in inters:
        return None
    _check_addresses(root, inters)
    if root.problems:
        return None
    return GroupConfig(name, source, tuple(inters), tuple(buses), schedule, tuple(areas))


def _bus(t: Table, ident: str) -> Bus | None:
    port = t.get_str("port")
    baud = t.get_int("baud", 115200)
    if baud is not None and baud not in BAUDS:
        t.error("baud", f"must be a standard baud rate ({', '.join(map(str, BAUDS))}); got {baud}")
    parity = t.get_str("parity", "N", choices=("N", "E", "O"))
    stopbits = t.get_int("stopbits", 1, lo=1, hi=2)
    t.finish()
    if None in (port, baud, parity, stopbits):
        return None
    return Bus(ident, port, baud, parity, stopbits)


def _intersection(t: Table, ident: str, bus_ids: set[str], area_ids: set[str]) -> Intersection | None:
    errors_before = len(t.problems.items)
    name = t.get_str("name", ident)
    pname = t.get_str("profile", choices=tuple(PROFILES))
    profile = PROFILES.get(pname) if pname else None
    lo, hi = STARTUP_FLASH_RANGE_S
    flash_s = t.get_seconds("startup_flash_s", 6.0, lo=lo, hi=hi)
    all_red_s = t.get_seconds("startup_all_red_s", 3.0, lo=1.0, hi=10.0)
    flash_aspect = t.get_str("flash", "amber", choices=("amber", "red"))

    node_tables = _unique(t.get_tables("node", required=True), "node")
    nodes = [_node(nt, nid, bus_ids) for nt, nid in node_tables]
    node_map = Declared({n.id: n for n in nodes if n}, {nid for _, nid in node_tables})
    groups = []
    group_tables = _unique(t.get_tables("group", required=True), "signal group")
    for number, (gt, gid) in enumerate(group_tables, 1):
        groups.append(_signal_group(gt, gid, number, profile, node_map))
    gmap = Declared({g.id: g for g in groups if g}, {gid for _, gid in group_tables})
    _check_channels(t, [g for g in groups if g], node_map)

    conflicts = _conflicts(t, gmap)
    permissive = _permissive(t, gmap, conflicts)
    geom = _geometry(t, gmap)
    intergreen = _intergreen(t, gmap, conflicts, geom, permissive)

    stages = []
    for st, sid in _unique(t.get_tables("stage", required=True), "stage"):
        members = st.get_str_list("groups") or ()
        st.finish()
        for g in members:
            if g not in gmap:
                if g not in gmap.declared:
                    st.error("groups", f"names signal group {g!r}, which is not defined")
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if (a, b) in conflicts:
                    st.error("groups", f"{a} and {b} conflict and cannot be green in one stage")
        stages.append(Stage(sid, members))
    staged = {g for s in stages for g in s.groups}
    for g in gmap:
        if g not in staged:
            t.error("stage", f"signal group {g} is in no stage, so it would never be served")

    detectors = [_detector(dt, did, n, gmap, node_map, area_ids)
                 for n, (dt, did) in enumerate(_unique(t.get_tables("detector"), "detector"), 1)]
    _check_inputs(t, [d for d in detectors if d], node_map)
    sumo = _sumo(t, gmap, {d.id for d in detectors if d})
    _check_capacity(t, [g for g in groups if g], [d for d in detectors if d], node_map)

    inter_partial = None
    if len(t.problems.items) == errors_before and profile is not None:
        inter_partial = Intersection(ident, name, profile, flash_s, all_red_s, flash_aspect,
                                     tuple(groups), frozenset(conflicts), intergreen,
                                     tuple(stages), tuple(detectors), {}, tuple(nodes),
                                     frozenset(permissive), sumo)
    plans = {}
    for pt, pid in _unique(t.get_tables("plan", required=True), "plan"):
        plans[pid] = _plan(pt, pid, inter_partial, [s.id for s in stages])
    t.finish()
    if len(t.problems.items) != errors_before or inter_partial is None:
        return None
    return Intersection(ident, name, profile, flash_s, all_red_s, flash_aspect, tuple(groups),
                        frozenset(conflicts), intergreen, tuple(stages), tuple(detectors),
                        plans, tuple(nodes), frozenset(permissive), sumo)


def _node(t: Table, ident: str, bus_ids: set[str]) -> Node | None:
    bus = t.get_str("bus")
    if bus is not None and bus not in bus_ids:
        t.error("bus", f"names bus {bus!r}, which is not defined in [[bus]]")
    address = t.get_int("address", lo=1, hi=247)
    outputs = t.get_int("outputs", 24, lo=1, hi=64)
    inputs = t.get_int("inputs", 16, lo=0, hi=64)
    t.finish()
    if None in (bus, address, outputs, inputs) or bus not in bus_ids:
        return None
    return Node(ident, bus, address, outputs, inputs)


def _signal_group(t: Table, ident: str, number: int, ip, nodes) -> SignalGroup | None:
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
    channels = t.get_int_list("channels")
    want = 2 if ped else 3
    if channels is not None and len(channels) != want:
        t.error("channels", f"a {kind or 'signal'} head has {want} lamps "
                f"({'red, green' if ped else 'red, amber, green'}); got {len(channels)} channels")
    t.finish()
    if None in (kind, amber, red_amber, flash_green, ped_clear, min_green, node, channels):
        return None
    return SignalGroup(ident, number, kind, profile, amber, red_amber, flash_green, ped_clear,
                       min_green, node, channels)


def _check_channels(t: Table, groups: list[SignalGroup], nodes: dict[str, Node]) -> None:
    used: dict[tuple[str, int], str] = {}
    for g in groups:
        n = nodes.get(g.node)
        for c in g.channels:
            if n is not None and c >= n.outputs:
                t.error(f"group[{g.id}].channels",
                        f"channel {c} does not exist on node {n.id} (outputs 0-{n.outputs - 1})")
            if (g.node, c) in used:
                t.error(f"group[{g.id}].channels",
                        f"channel {c} of node {g.node} is already driven by {used[(g.node, c)]}")
            used[(g.node, c)] = g.id


def _conflicts(t: Table, groups: dict) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    ct = t.get_table("conflicts", required=True)
    if ct is None:
        return out
    for a in ct.data:
        bs = ct.get_str_list(a)
        if a not in groups:
            if a not in groups.declared:
                ct.error(a, f"names signal group {a!r}, which is not defined")
            continue
        for b in bs:
            if b not in groups:
                if b not in groups.declared:
                    ct.error(a, f"names signal group {b!r}, which is not defined")
            elif b == a:
                ct.error(a, "a group cannot conflict with itself")
            else:
                out.add((a, b))
                out.add((b, a))
    return out


def _permissive(t: Table, groups: dict, conflicts: set) -> set[tuple[str, str]]:
    """[intersection.permissive]: yielding group = [groups it may be green with and gives way to]."""
    out: set[tuple[str, str]] = set()
    pt = t.get_table("permissive")
    if pt is None:
        return out
    for a in pt.data:
        bs = pt.get_str_list(a)
        if a not in groups:
            if a not in groups.declared:
                pt.error(a, f"names signal group {a!r}, which is not defined")
            continue
        if groups[a].is_pedestrian:
            pt.error(a, f"{a} is a pedestrian group; only vehicle streams give way permissively")
            continue
        for b in bs:
            if b not in groups:
                if b not in groups.declared:
                    pt.error(a, f"names signal group {b!r}, which is not defined")
            elif b == a:
                pt.error(a, "a group cannot give way to itself")
            elif (a, b) in conflicts:
                pt.error(a, f"{a} and {b} are listed as conflicting; a permissive pair is "
                         "compatible (the yielding stream gives way), so list it in one place")
            elif (b, a) in out:
                pt.error(a, f"{b} already gives way to {a}; only one of a pair can yield")
            else:
                out.add((a, b))
    return out


def _sumo(t: Table, groups: dict, detectors: set[str]) -> SumoMap | None:
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
                if g not in groups.declared:
                    lt.error(g, f"names signal group {g!r}, which is not defined")
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


def _geometry(t: Table, groups: dict) -> dict[tuple[str, str], float]:
    """Intergreens computed from [intersection.geometry] (RiLSA)."""
    out: dict[tuple[str, str], float] = {}
    gt = t.get_table("geometry")
    if gt is None:
        return out
    speeds = gt.get_table("speeds")
    overrides: dict[str, dict] = {}
    if speeds is not None:
        for gid in list(speeds.data):
            st = speeds.get_table(gid)
            if gid not in groups:
                if gid not in groups.declared:
                    speeds.error(gid, f"names signal group {gid!r}, which is not defined")
                continue
            if st is not None:
                overrides[gid] = {
                    "overrun_s": st.get_number("overrun_s", None),
                    "clear_speed_mps": st.get_positive("clear_speed_mps", None),
                    "entry_speed_mps": st.get_positive("entry_speed_mps", None),
                    "length_m": st.get_number("length_m", None)}
                overrides[gid] = {k: v for k, v in overrides[gid].items() if v is not None}
                st.finish()
    for a in list(gt.data):
        if a == "speeds":
            continue
        row = gt.get_table(a)
        if a not in groups:
            if a not in groups.declared:
                gt.error(a, f"names signal group {a!r}, which is not defined")
            continue
        if row is None:
            continue
        for b in list(row.data):
            cell = row.get_table(b)
            if b not in groups:
                if b not in groups.declared:
                    row.error(b, f"names signal group {b!r}, which is not defined")
                continue
            if cell is None:
                continue
            clear_m = cell.get_number("clear_m")
            entry_m = cell.get_number("entry_m")
            cell.finish()
            if clear_m is None or entry_m is None:
                continue
            ga, gb = groups[a], groups[b]
            ma = geometry.movement(ga.kind, overrides.get(a, {}))
            mb = geometry.movement(gb.kind, overrides.get(b, {}))
            out[(a, b)] = geometry.intergreen_s(ma, mb, clear_m, entry_m, ga.change_s)
        row.finish()
    gt.finish()
    return out


def _intergreen(t: Table, groups: dict, conflicts: set, geom: dict,
                permissive: set | frozenset = frozenset()) -> dict[tuple[str, str], float]:
    out = dict(geom)
    given_in = {pair: "geometry" for pair in geom}
    it = t.get_table("intergreen")
    if it is not None:
        for a in list(it.data):
            row = it.get_table(a)
            if a not in groups:
                if a not in groups.declared:
                    it.error(a, f"names signal group {a!r}, which is not defined")
                continue
            if row is None:
                continue
            for b in list(row.data):
                v = row.get_seconds(b, lo=0.0, hi=120.0)
                if b not in groups:
                    if b not in groups.declared:
                        row.error(b, f"names signal group {b!r}, which is not defined")
                elif v is not None:
                    out[(a, b)] = v
                    given_in[(a, b)] = "intergreen"
            row.finish()
    where = "intergreen" if it is not None else "conflicts"
    for a, b in sorted(conflicts):
        if (a, b) not in out:
            t.error(where, f"{a} and {b} conflict but there is no intergreen from {a} to {b} "
                    f"(give [intersection.intergreen] {a} = {{ {b} = … }} or its geometry)")
    # a permissive pair needs both intergreens: for a stream that enters after the other ended
    paired = permissive | {(b, a) for a, b in permissive}
    for a, b in sorted(paired):
        if (a, b) not in out:
            t.error("permissive", f"{a} and {b} are a permissive pair but there is no "
                    f"intergreen from {a} to {b} (used when {b} enters after {a} ended; give "
                    f"[intersection.intergreen] {a} = {{ {b} = … }} or its geometry)")
    for (a, b), v in sorted(out.items()):
        if (a, b) not in conflicts and (a, b) not in paired:
            where = given_in[(a, b)]
            t.error(f"{where}.{a}.{b}", f"{a} and {b} are not listed as conflicting; add "
                    f"them to [intersection.conflicts] or remove the {where} entry")
        elif a in groups and v < groups[a].change_s:
            g = groups[a]
            what = "flashing don't walk" if g.is_pedestrian else "amber"
            t.error(f"intergreen.{a}.{b}", f"is {v:g} s, shorter than the {what} of {a} "
                    f"({g.change_s:g} s) that must end before {b} turns green")
    return out


def _detector(t: Table, ident: str, number: int, groups: dict, nodes: dict, areas: set) -> Detector | None:
    kind = t.get_str("kind", choices=DETECTOR_KINDS)
    node = t.get_str("node")
    if node is not None and node not in nodes.declared:
        t.error("node", f"names node {node!r}, which is not defined in this intersection")
    inp = t.get_int("input", lo=0)
    calls = t.get_str_list("calls", ())
    extends = t.get_str_list("extends", ())
    for key, names in (("calls", calls), ("extends", extends)):
        for g in names:
            if g not in groups:
                if g not in groups.declared:
                    t.error(key, f"names signal group {g!r}, which is not defined")
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
    if None in (kind, node, inp, passage, no_act, max_pres, erratic):
        return None
    return Detector(ident, number, kind, node, inp, calls, extends, passage, no_act, max_pres,
                    erratic, area)


def _check_inputs(t: Table, detectors: list[Detector], nodes: dict[str, Node]) -> None:
    used: dict[tuple[str, int], str] = {}
    for d in detectors:
        n = nodes.get(d.node)
        if n is not None and d.input >= n.inputs:
            t.error(f"detector[{d.id}].input", f"input {d.input} does not exist on node {n.id} "
                    f"(inputs 0-{n.inputs - 1})" if n.inputs else f"node {n.id} has no inputs")
        if (d.node, d.input) in used:
            t.error(f"detector[{d.id}].input",
                    f"input {d.input} of node {d.node} is already wired to {used[(d.node, d.input)]}")
        used[(d.node, d.input)] = d.id


def _check_capacity(t: Table, groups: list, detectors: list, nodes: dict) -> None:
    """What one node's register map can carry (protocols/register_map.py)."""
    for n in nodes:
        counts = (("signal groups", sum(g.node == n for g in groups), rm.MAX_GROUPS),
                  ("detectors", sum(d.node == n and d.kind != PARKING_BAY for d in detectors),
                   rm.MAX_DETECTORS),
                  ("parking bays", sum(d.node == n and d.kind == PARKING_BAY for d in detectors),
                   rm.MAX_BAYS))
        for what, count, limit in counts:
            if count > limit:
                t.error(f"node[{n}]", f"has {count} {what}; a node carries at most {limit}")


def _plan(t: Table, ident: str, inter: Intersection | None, stage_ids: list[str]) -> Plan | None:
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
    t.finish()
    if min_green is None or recall is None:
        return None
    return StagePlan(green, max(min_green, floor), max_green or max(min_green, floor), recall)


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


def _schedule(root: Table, inters: list[Intersection]) -> tuple[ScheduleEntry, ...]:
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


def _check_addresses(root: Table, inters: list[Intersection]) -> None:
    seen: dict[tuple[str, int], str] = {}
    ids: dict[str, str] = {}
    for i in inters:
        for n in i.nodes:
            if n.id in ids:
                root.error(f"intersection[{i.id}].node[{n.id}]",
                           f"node id {n.id!r} is also used in intersection {ids[n.id]}")
            ids[n.id] = i.id
            key = (n.bus, n.address)
            if key in seen:
                root.error(f"intersection[{i.id}].node[{n.id}].address",
                           f"address {n.address} on bus {n.bus} is already used by node {seen[key]}")
            seen[key] = n.id
