"""Build an intersection-group configuration (TOML) from a SUMO network.

    text = import_network(read_network(net, [detectors]), Options())

Per traffic light:

- signal groups per movement: the links that share an approach lane, or leave one
  approach in the same direction, show one signal (named by travel direction and turns,
  e.g. `EB_TR`, `EB_L`);
- conflicts from SUMO's foe relations; a left turn that only gives way to the opposing
  stream becomes a permissive pair (conditionally compatible, docs/CONTROL.md);
- intergreens from the geometry of the paths through the junction with the RiLSA
  formula (`[intersection.geometry]`), never shorter than amber plus the minimum red
  clearance (`[intersection.intergreen]` says where that floor applies);
- detectors from the induction loops on the approach lanes, by distance to the stop line;
- stages that cover every group (the major road first, protected turns before the
  stage that runs them permissively), and plans.

The result is checked by loading it: the caller gets text that `smartcross check` accepts.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..config import geometry
from ..control import design
from .network import LEFT, RIGHT, THROUGH, UTURN, Link, Network, Signal
from .sumocfg import Demand

# distances to the stop line that decide what a loop is for (m)
STOP_BAR_M = 15.0        # presence at the stop line: calls and extends
ADVANCE_M = 120.0        # advance loop: calls, extends, counts; further up: counts only
COORD_FACTOR = 0.85      # common cycle of a coordinated plan, relative to Webster
COMMITTED_M = 25.0       # a vehicle this close to the stop line passes at the amber


@dataclass
class Options:
    profile: str = "US"
    amber_s: float = 3.0           # the SUMO benchmark's yellow; ≥ 3 s (NTCIP)
    all_red_s: float = 2.0         # minimum red clearance inside every intergreen
    permissive: bool = True        # permissive left turns where SUMO makes them yield
    plan: str = "auto"             # the plan the schedule runs (auto: coordinated for a
                                   # group of neighbouring signals, else adaptive)
    cycle_s: float | None = None   # common cycle of the coordinated plan (default: Webster
                                   # from the demand, else 60 s)
    name: str = ""


@dataclass
class Group:
    id: str
    links: list[Link]
    kind: str = "vehicle"
    min_green_s: float = 6.0
    score: float = 0.0             # how "major" the movement is (right of way, lanes)

    @property
    def indices(self) -> list[int]:
        return sorted({lk.index for lk in self.links})

    @property
    def turns(self) -> set[str]:
        return {lk.turn for lk in self.links}

    @property
    def lanes(self) -> list[str]:
        return sorted({lk.from_lane for lk in self.links})


@dataclass
class Junction:
    """Everything the TOML of one intersection needs."""
    signal: Signal
    groups: list[Group]
    conflicts: set[tuple[str, str]]
    permissive: set[tuple[str, str]]
    geometry: dict[tuple[str, str], tuple[float, float, float]]   # clear_m, entry_m, RiLSA s
    intergreen: dict[tuple[str, str], float]                      # final values
    stages: list[list[str]]
    loops: list[tuple[str, str, float, list[str]]]                # id, kind, distance, groups


# -- groups -----------------------------------------------------------------------------
def _bound(heading: float) -> str:
    return ("EB", "NB", "WB", "SB")[int(((heading + 45.0) % 360.0) // 90.0)]


def _groups(sig: Signal) -> list[Group]:
    parent = {i: i for i in range(len(sig.links))}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    key_first: dict[tuple, int] = {}
    for i, lk in enumerate(sig.links):
        turn = LEFT if lk.turn == UTURN else lk.turn
        keys = ((("crossing", lk.to_lane), ("idx", lk.index)) if lk.pedestrian else
                (("lane", lk.from_lane), ("move", lk.from_edge, turn), ("idx", lk.index)))
        for key in keys:
            if key in key_first:
                parent[find(i)] = find(key_first[key])
            else:
                key_first[key] = i
    comps: dict[int, list[Link]] = {}
    for i, lk in enumerate(sig.links):
        comps.setdefault(find(i), []).append(lk)

    groups = []
    used: dict[str, int] = {}
    # name: travel direction + turns; approaches sharing a direction get a number
    edges_by_bound: dict[str, list[str]] = {}
    crossings = 0
    for lk in sig.links:
        if lk.pedestrian:
            continue
        b = _bound(lk.heading)
        if lk.from_edge not in edges_by_bound.setdefault(b, []):
            edges_by_bound[b].append(lk.from_edge)
    for links in sorted(comps.values(), key=lambda ls: min(lk.index for lk in ls)):
        lk0 = links[0]
        if lk0.pedestrian:          # a pedestrian crossing: P1, P2, ...
            crossings += 1
            groups.append(Group(f"P{crossings}", links, kind="pedestrian", min_green_s=5.0))
            continue
        b = _bound(lk0.heading)
        if len(edges_by_bound[b]) > 1:
            b += str(edges_by_bound[b].index(lk0.from_edge) + 1)
        turns = {lk.turn for lk in links}
        moves = "".join(m for m in (LEFT, THROUGH, RIGHT, UTURN) if m in turns)
        name = f"{b}_{moves}"
        if name in used:
            used[name] += 1
            name = f"{name}{used[name]}"
        else:
            used[name] = 1
        groups.append(Group(name, links))
    return groups


def _score(g: Group, sig: Signal) -> float:
    """Right of way over the other streams, and lanes: the major road scores highest;
    pedestrian crossings follow the vehicle streams they run with."""
    if g.kind == "pedestrian":
        return -100.0
    idx = set(g.indices)
    veh = {lk.index for lk in sig.links if not lk.pedestrian}
    prio = sum(1 for a, b in sig.foes
               if a in idx and b not in idx and b in veh and (a, b) not in sig.yields)
    give = sum(1 for a, b in sig.yields if a in idx and b not in idx and b in veh)
    return prio - give + 0.5 * len(g.lanes) + 0.01 * max(lk.edge_priority for lk in g.links)


# -- conflicts and permissive pairs -----------------------------------------------------
def _opposite(a: Link, b: Link) -> bool:
    d = abs((a.heading - b.heading + 180.0) % 360.0 - 180.0)
    return d > 135.0


def _yields_permissively(a: Link, b: Link, sig: Signal) -> bool:
    """Link a may run with link b, giving way to it: a left turn to the opposing through
    or right stream, or a turning vehicle to the pedestrians on a crossing it passes."""
    if (a.index, b.index) not in sig.yields or (b.index, a.index) in sig.yields:
        return False
    if a.pedestrian or a.turn == THROUGH:
        return False
    if b.pedestrian:
        return True
    return a.turn in (LEFT, UTURN) and b.turn in (THROUGH, RIGHT) and _opposite(a, b)


def _relations(sig: Signal, groups: list[Group], permissive_ok: bool):
    conflicts: set[tuple[str, str]] = set()
    permissive: set[tuple[str, str]] = set()
    for ga in groups:
        for gb in groups:
            if ga is gb:
                continue
            pairs = [(a, b) for a in ga.links for b in gb.links if (a.index, b.index) in sig.foes]
            if not pairs:
                continue
            conflicts.add((ga.id, gb.id))
            if permissive_ok and all(_yields_permissively(a, b, sig) for a, b in pairs):
                permissive.add((ga.id, gb.id))
    for a, b in permissive:
        conflicts.discard((a, b))
        conflicts.discard((b, a))
    return conflicts, permissive


# -- geometry ---------------------------------------------------------------------------
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


PED_SPEED = 1.07             # m/s, US pedestrian clearance (DOMAIN.md: 3.5 ft/s)
PED_BUFFER_S = 3             # s after the flashing don't walk (MUTCD buffer interval)


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


def _intergreens(sig: Signal, groups: list[Group], conflicts, permissive, opts: Options):
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


# -- stages -----------------------------------------------------------------------------
def _stages(groups: list[Group], conflicts, permissive) -> list[list[str]]:
    peds = {g.id for g in groups if g.kind == "pedestrian"}
    order = sorted(groups, key=lambda g: (-g.score, g.id))
    ids = [g.id for g in order]

    def compatible(a: str, b: str, strict: bool) -> bool:
        if (a, b) in conflicts:
            return False
        return not (strict and ((a, b) in permissive or (b, a) in permissive))

    def grow(seed: list[str], strict: bool, prefer: set[str]) -> list[str]:
        stage = list(seed)
        for g in sorted(ids, key=lambda x: (x not in prefer, ids.index(x))):
            if g not in stage and all(compatible(g, o, strict) for o in stage):
                stage.append(g)
        return stage

    stages: list[list[str]] = []
    covered: set[str] = set()
    while len(covered) < len(ids):
        seed = next(g for g in ids if g not in covered)
        stage = grow([seed], False, set(ids) - covered)
        stages.append(stage)
        covered |= set(stage)

    # groups that only ever run permissively get a protected stage, placed just after
    # the first stage that runs them permissively (lagging turns: they stay green while
    # the opposing stream ends, so no protected turn ever becomes permissive)
    def protected(g: str, stage: list[str]) -> bool:
        return not any((g, o) in permissive for o in stage)

    result = [list(s) for s in stages]
    # (giving way to pedestrians is normal for turning traffic: no protected stage for it)
    vehicles = {a for a, b in permissive if b not in peds}
    todo = [g for g in ids if g in vehicles and not any(g in s and protected(g, s)
                                                        for s in stages)]
    done: set[str] = set()
    for g in todo:
        if g in done:
            continue
        stage = grow([g], True, set(todo) - done)
        done |= set(stage)
        first = next(i for i, s in enumerate(result) if g in s)
        if stage not in result:
            result.insert(first + 1, stage)
    return [sorted(s, key=ids.index) for s in result]


# -- the whole junction -----------------------------------------------------------------
def build_junction(sig: Signal, opts: Options) -> Junction:
    groups = _groups(sig)
    for g in groups:
        g.score = _score(g, sig)
    conflicts, permissive = _relations(sig, groups, opts.permissive)
    yielding = {a for a, _ in permissive}
    top = max(g.score for g in groups if g.kind != "pedestrian")
    for g in groups:
        if g.kind == "pedestrian":
            continue
        turning_only = g.turns <= {LEFT, RIGHT, UTURN}
        g.kind = "arrow" if turning_only and g.id not in yielding else "vehicle"
        g.min_green_s = 5.0 if turning_only else (8.0 if g.score >= top - 1.0 else 6.0)
    geom, final = _intergreens(sig, groups, conflicts, permissive, opts)
    stages = _stages(groups, conflicts, permissive)
    lane_group = {lk.from_lane: g.id for g in groups for lk in g.links}
    loops = []
    for lp in sorted(sig.loops, key=lambda x: (x.lane, x.to_stop_m, x.id)):
        gid = lane_group.get(lp.lane)
        if gid is None:
            continue
        kind = "presence" if lp.to_stop_m <= STOP_BAR_M else "counting"
        loops.append((lp.id, kind, lp.to_stop_m, [gid]))
    return Junction(sig, groups, conflicts, permissive, geom, final, stages, loops)


def _stage_green_limits(j: Junction, stage: list[str]) -> tuple[float, float]:
    by_id = {g.id: g for g in j.groups}
    top = max(g.score for g in j.groups)
    floor = max(by_id[g].min_green_s for g in stage)
    major = any(by_id[g].score >= top - 1.0 for g in stage)
    turning = all(by_id[g].turns <= {LEFT, RIGHT, UTURN} for g in stage)
    max_green = 20.0 if turning else (50.0 if major else 35.0)
    return floor, max_green


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _key(s: str) -> str:
    return s if re.fullmatch(r"[A-Za-z0-9_-]+", s) else _q(s)


@dataclass
class Coordination:
    cycle_s: float
    offsets: dict[str, float]
    splits: dict[str, dict[str, float]]       # signal -> stage -> window (max green) s
    note: str


def main_stage(j: Junction) -> int:
    return max(range(len(j.stages)), key=lambda k: (sum(
        g.score for g in j.groups if g.id in j.stages[k] and g.kind != "pedestrian"), -k))


def group_flows(j: Junction, demand: Demand) -> dict[str, float]:
    """veh/h per group: each turn (approach edge → exit edge) shared by the groups that
    serve it."""
    edge_of = {lk.to_lane: lk.to_lane.rsplit("_", 1)[0] for g in j.groups for lk in g.links}
    serving: dict[tuple[str, str], list[str]] = {}
    for g in j.groups:
        for lk in g.links:
            key = (lk.from_edge, edge_of[lk.to_lane])
            if g.id not in serving.setdefault(key, []):
                serving[key].append(g.id)
    out = {g.id: 0.0 for g in j.groups}
    for key, gids in serving.items():
        q = demand.turns.get(key, 0.0)
        for gid in gids:
            out[gid] += q / len(gids)
    return out


def _stage_y(j: Junction, flows: dict[str, float]) -> list[float]:
    by_id = {g.id: g for g in j.groups}
    out = []
    for st in j.stages:
        ys = []
        for gid in st:
            g = by_id[gid]
            if g.kind == "pedestrian" or any((gid, o) in j.permissive
                                             and by_id[o].kind != "pedestrian" for o in st):
                continue                       # permissive here: not the critical stream
            sat = design.SAT_TURN if g.turns <= {LEFT, RIGHT, UTURN} else design.SAT_THROUGH
            ys.append(flows[gid] / (len(g.lanes) * sat))
        out.append(max(ys, default=0.0))
    return out


def _turn_stage(j: Junction, k: int) -> bool:
    others = [s for i, s in enumerate(j.stages) if i != k]
    peds = {g.id for g in j.groups if g.kind == "pedestrian"}
    perm = {a for a, b in j.permissive if b not in peds}
    return all(g in perm and any(g in s for s in others) for g in j.stages[k])


def coordinate(juncs: list[Junction], net: Network, demand: Demand | None,
               opts: Options) -> Coordination | None:
    """A coordinated plan for a group of neighbouring signals: common cycle (Webster for
    the critical intersection), splits in proportion to the flows, offsets for green
    waves in the heavier direction (two-way when balanced)."""
    ids = {j.signal.id for j in juncs}
    links = {k: v[0] for k, v in net.neighbours.items() if k[0] in ids and k[1] in ids}
    if len(juncs) < 2 or not links:
        return None
    need: dict[str, list[bool]] = {}
    ys: dict[str, list[float]] = {}
    lost: dict[str, float] = {}
    cycles = []
    for j in juncs:
        sid = j.signal.id
        flows = group_flows(j, demand) if demand else {g.id: 0.0 for g in j.groups}
        ys[sid] = _stage_y(j, flows)
        # a protected-turn stage counts when the turn exceeds what it can do permissively:
        # gaps of 4.5 s in the opposing stream during about half the cycle, and two
        # vehicles clearing at the end of each green (of a 90 s cycle)
        need[sid] = []
        for k, st in enumerate(j.stages):
            if not _turn_stage(j, k):
                need[sid].append(True)
                continue
            over = False
            for a, b in j.permissive:
                if a in st:
                    gaps = design.SAT_TURN * math.exp(-flows[b] * 4.5 / 3600.0) * 0.5
                    over = over or flows[a] > 0.8 * (gaps + 80.0)
            need[sid].append(over)
        used = [k for k in range(len(j.stages)) if need[sid][k]]
        lost[sid] = sum(j_interstage(j, used[i - 1], used[i]) + design.STARTUP_LOSS_S
                        for i in range(len(used))) if len(used) > 1 else 0.0
        cycles.append(design.webster([ys[sid][k] for k in used], lost[sid]))
    if opts.cycle_s:
        cycle = opts.cycle_s
        note = f"cycle {cycle:g} s as asked"
    elif demand:
        # coordinated-actuated: the other stages gap out and give their time back, so the
        # common cycle is shorter than Webster's fixed-time optimum (0.85 of it, measured
        # on the shared corridor), in whole 5 s
        cycle = float(min(120, max(45, 5 * round(COORD_FACTOR * max(cycles) / 5))))
        note = (f"cycle {cycle:g} s: {COORD_FACTOR:g} × Webster for the critical "
                f"intersection ({max(cycles):.0f} s) from the routes' flows")
    else:
        cycle = 60.0
        note = "cycle 60 s (no flows given: a typical urban cycle; pass --routes)"
    # never shorter than what every intersection needs for its minimum greens
    need_min = []
    for j in juncs:
        m = main_stage(j)
        order = [(m + i) % len(j.stages) for i in range(len(j.stages))]
        need_min.append(sum(_stage_green_limits(j, j.stages[k])[0] for k in order) + sum(
            j_interstage(j, order[i], order[(i + 1) % len(order)]) for i in range(len(order))))
    if max(need_min) > cycle:
        cycle = float(5 * math.ceil(max(need_min) / 5))
        note += f", raised to {cycle:g} s for the minimum greens"
    splits: dict[str, dict[str, float]] = {}
    for j in juncs:
        sid = j.signal.id
        m = main_stage(j)
        used = [k for k in range(len(j.stages)) if need[sid][k]]
        greens = design.splits(cycle, [ys[sid][k] for k in used], lost[sid])
        sp = {}
        for k, st in enumerate(j.stages):
            lo, hi = _stage_green_limits(j, st)
            g = 1.4 * greens[used.index(k)] + 2.0 if k in used else lo  # room to vary
            sp[f"S{k + 1}"] = float(max(lo, min(hi, math.ceil(g))))
        # the other stages' windows, the main minimum and the interstages fit in the cycle
        order = [(m + i) % len(j.stages) for i in range(len(j.stages))]
        inter_s = sum(j_interstage(j, order[i], order[(i + 1) % len(order)])
                      for i in range(len(order)))
        main_min = _stage_green_limits(j, j.stages[m])[0]
        while sum(v for k, v in sp.items() if k != f"S{m + 1}") + main_min + inter_s > cycle:
            k = max((k for k in sp if k != f"S{m + 1}"), key=lambda k: sp[k] - _stage_green_limits(
                j, j.stages[int(k[1:]) - 1])[0])
            lo = _stage_green_limits(j, j.stages[int(k[1:]) - 1])[0]
            if sp[k] <= lo:
                raise ValueError(f"{sid}: cycle {cycle:g} s is too short for the minimum greens")
            sp[k] -= 1.0
        sp[f"S{m + 1}"] = cycle
        splits[sid] = sp
    edge_flow = {k: (demand.edges.get(v[2], 0.0) if demand else 0.0)
                 for k, v in net.neighbours.items()}
    offs = design.offsets([j.signal.id for j in juncs], links, edge_flow, cycle)
    return Coordination(cycle, offs, splits, note)


def j_interstage(j: Junction, a: int, b: int) -> float:
    """Interstage time from stage index a to b, as the configuration will compute it."""
    sa, sb = set(j.stages[a]), set(j.stages[b])
    worst = 0.0
    for x in sa - sb:
        for y in sb - sa:
            if (x, y) in j.intergreen and (x, y) in j.conflicts:
                worst = max(worst, j.intergreen[(x, y)])
    return worst


def import_network(net: Network, opts: Options, source: str = "",
                   demand: Demand | None = None) -> str:
    """The TOML text of the intersection group of every traffic light in `net`."""
    juncs = [build_junction(s, opts) for s in net.signals]
    coord = coordinate(juncs, net, demand, opts)
    # auto: coordinated for neighbouring signals when flows size its cycle; without
    # counts the adaptive plan (the coordinated one is still written, at 60 s)
    plan = opts.plan if opts.plan != "auto" else (
        "coordinated" if coord and (demand or opts.cycle_s) else "adaptive")
    if plan == "coordinated" and coord is None:
        plan = "adaptive"
    name = opts.name or f"imported from {source or 'a SUMO network'}"
    out = [f"# Intersection group imported from the SUMO network {source}",
           "# by `smartcross import-sumo`. Signal groups, conflicts, intergreens (RiLSA),",
           "# detectors and stages come from the network; check the plans before field use.",
           "", f"name = {_q(name)}", ""]
    for j in juncs:
        out += ["[[bus]]", f"id = {_q('rs485-' + j.signal.id)}",
                f"port = {_q('sumo://' + j.signal.id)}", "baud = 115200", ""]
    out += ["[[schedule]]", 'at = "00:00"', f"plan = {_q(plan)}", ""]
    for j in juncs:
        out += _intersection_toml(j, opts, coord)
    return "\n".join(out) + "\n"


def _intersection_toml(j: Junction, opts: Options, coord: Coordination | None) -> list[str]:
    sig = j.signal
    by_id = {g.id: g for g in j.groups}
    out = ["[[intersection]]", f"id = {_q(sig.id)}", f"name = {_q('SUMO traffic light ' + sig.id)}",
           f"profile = {_q(opts.profile)}", "startup_flash_s = 4", "startup_all_red_s = 2", ""]
    # nodes: 21 three-lamp heads and 64 inputs per node
    n_nodes = max(1, math.ceil(len(j.groups) / 21), math.ceil(len(j.loops) / 64))
    for k in range(n_nodes):
        out += ["  [[intersection.node]]", f"  id = {_q(f'{sig.id}-n{k + 1}')}",
                f"  bus = {_q('rs485-' + sig.id)}", f"  address = {k + 1}", "  outputs = 64",
                "  inputs = 64", ""]
    for i, g in enumerate(j.groups):
        if g.kind == "pedestrian":
            lk = g.links[0]
            out += ["  [[intersection.group]]", f"  id = {_q(g.id)}   # SUMO link "
                    f"{', '.join(map(str, g.indices))}: crossing {lk.to_lane}, "
                    f"{lk.crossing_m:g} m", '  kind = "pedestrian"',
                    f"  min_green_s = {g.min_green_s:g}   # walk"]
            if opts.profile == "US":
                out.append(f"  ped_clear_s = {ped_clear_s(lk)}   # flashing don't walk, "
                           f"{lk.crossing_m:g} m at {PED_SPEED:g} m/s")
            out += [f"  node = {_q(f'{sig.id}-n{i // 21 + 1}')}",
                    f"  channels = [{3 * (i % 21)}, {3 * (i % 21) + 1}]", ""]
            continue
        moves = ", ".join(f"{lk.from_lane}→{lk.to_lane} ({lk.turn})" for lk in g.links)
        out += ["  [[intersection.group]]", f"  id = {_q(g.id)}   # SUMO links "
                f"{', '.join(map(str, g.indices))}: {moves}",
                f"  kind = {_q(g.kind)}", f"  amber_s = {opts.amber_s:g}",
                f"  min_green_s = {g.min_green_s:g}",
                f"  node = {_q(f'{sig.id}-n{i // 21 + 1}')}",
                f"  channels = [{3 * (i % 21)}, {3 * (i % 21) + 1}, {3 * (i % 21) + 2}]", ""]
    out += ["  [intersection.conflicts]"]
    for g in j.groups:
        later = [b for b in (x.id for x in j.groups) if (g.id, b) in j.conflicts
                 and [x.id for x in j.groups].index(b) > [x.id for x in j.groups].index(g.id)]
        if later:
            out.append(f"  {_key(g.id)} = [{', '.join(map(_q, later))}]")
    out.append("")
    if j.permissive:
        out += ["  # Permissive (conditionally compatible) pairs: the group on the left may be",
                "  # green with the groups listed and gives way to them (SUMO shows it as 'g').",
                "  [intersection.permissive]"]
        for g in j.groups:
            prio = [b for a, b in sorted(j.permissive) if a == g.id]
            if prio:
                out.append(f"  {_key(g.id)} = [{', '.join(map(_q, prio))}]")
        out.append("")
    floor = math.ceil(opts.amber_s + opts.all_red_s - 1e-9)
    if opts.profile == "US":
        out += ["  # Intergreens (s): yellow plus the ITE red clearance (W + L) / v, W the clearing",
                "  # path to the far side of the conflict, L 6 m, v the approach speed limit,",
                "  # rounded up, for the governing pair of links; never below amber",
                f"  # {opts.amber_s:g} s + red clearance {opts.all_red_s:g} s = {floor} s."]
    else:
        out += ["  # Intergreens (s) from the paths through the junction with the RiLSA formula",
                "  # tz = tü + (s_clear + l) / v_clear − s_entry / v_entry, rounded up (tü 3 s, l 6 m,",
                "  # v_clear 10 m/s through, 7 m/s turning, v_entry 11.1 m/s), for the governing pair",
                f"  # of links; never below amber {opts.amber_s:g} s + red clearance "
                f"{opts.all_red_s:g} s = {floor} s."]
    out += [
            "  # Each row: the clearing group; per entering group: s_clear / s_entry (m) → formula.",
            "  [intersection.intergreen]"]
    for g in j.groups:
        row = [(b, v) for (a, b), v in sorted(j.intergreen.items()) if a == g.id]
        if not row:
            continue
        notes = "; ".join(f"{b} {j.geometry[(g.id, b)][0]:g}/{j.geometry[(g.id, b)][1]:g} → "
                          f"{j.geometry[(g.id, b)][2]:g}" for b, _ in row)
        out.append(f"  # {notes}")
        out.append(f"  {_key(g.id)} = {{ {', '.join(f'{_key(b)} = {v:g}' for b, v in row)} }}")
    out.append("")
    for k, st in enumerate(j.stages):
        perm = [g for g in st if any((g, o) in j.permissive for o in st)]
        note = f"   # permissive: {', '.join(perm)}" if perm else ""
        out += ["  [[intersection.stage]]", f"  id = \"S{k + 1}\"{note}",
                f"  groups = [{', '.join(map(_q, st))}]", ""]
    node_of = {}
    for k, (lid, kind, dist, gids) in enumerate(j.loops):
        node_of[lid] = (f"{sig.id}-n{k // 64 + 1}", k % 64)
        speed = min(lk.speed for g in gids for lk in by_id[g].links)
        out += ["  [[intersection.detector]]", f"  id = {_q(lid)}   # {dist:g} m before the "
                "stop line", f"  kind = {_q(kind)}", f"  node = {_q(node_of[lid][0])}",
                f"  input = {node_of[lid][1]}"]
        if dist <= ADVANCE_M:
            out += [f"  calls = [{', '.join(map(_q, gids))}]",
                    f"  extends = [{', '.join(map(_q, gids))}]"]
            # stop bar: the discharge headway; advance: until the vehicle is committed
            # (inside about 25 m of the stop line it no longer stops at the amber: 50 km/h
            # braking at 3.9 m/s²)
            passage = 2.0 if dist <= STOP_BAR_M else \
                max(1.0, min(6.0, round(2 * (dist - COMMITTED_M) / speed) / 2))
            out.append(f"  passage_s = {passage:g}")
        out.append("")
    out += _plans_toml(j, coord)
    out += ["  [intersection.sumo]", f"  tls = {_q(sig.id)}", "  [intersection.sumo.links]"]
    for g in j.groups:
        out.append(f"  {_key(g.id)} = [{', '.join(map(str, g.indices))}]")
    out.append("")
    return out


def _plans_toml(j: Junction, coord: Coordination | None) -> list[str]:
    limits = [_stage_green_limits(j, st) for st in j.stages]
    peds = {g.id for g in j.groups if g.kind == "pedestrian"}
    main = main_stage(j)
    out = []
    if coord is not None:
        sid = j.signal.id
        out += [f"  # Coordinated: {coord.note}; offset for green waves; the other stages'",
                "  # maxima are their splits (windows), the main stage keeps what they leave.",
                "  [[intersection.plan]]", '  id = "coordinated"', '  mode = "coordinated"',
                f"  cycle_s = {coord.cycle_s:g}", f"  offset_s = {coord.offsets[sid]:g}",
                f'  main_stage = "S{main + 1}"', "  [intersection.plan.stages]"]
        for k, (lo, _) in enumerate(limits):
            recall = ', recall = "ped"' if any(g in peds for g in j.stages[k]) else ""
            out.append(f"  S{k + 1} = {{ min_green_s = {lo:g}, "
                       f"max_green_s = {coord.splits[sid][f'S{k + 1}']:g}{recall} }}")
        out.append("")
    for pid, mode, note in (
            ("adaptive", "adaptive", "Adaptive: protected turns only when their queue needs "
             "them, greens held by streams with right of way, maxima from measured flows."),
            ("actuated", "actuated", "Fully actuated: stages nobody asks for are skipped, "
             "the major road rests.")):
        out += [f"  # {note}", "  [[intersection.plan]]", f'  id = "{pid}"', f'  mode = "{mode}"',
                f'  main_stage = "S{main + 1}"', "  [intersection.plan.stages]"]
        for k, (lo, hi) in enumerate(limits):
            recall = ', recall = "min"' if k == main and mode == "actuated" else ""
            if any(g in peds for g in j.stages[k]):
                recall = ', recall = "ped"'       # no push buttons in SUMO: walk every time
            out.append(f"  S{k + 1} = {{ min_green_s = {lo:g}, max_green_s = {hi:g}{recall} }}")
        out.append("")
    return out
