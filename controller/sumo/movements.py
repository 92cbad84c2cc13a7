"""Signal groups of one traffic light: which SUMO links show one signal, how "major" each
group is, and which groups conflict or may run together permissively.

    groups = signal_groups(sig)
    conflicts, permissive = relations(sig, groups, permissive_ok=True)
"""

from __future__ import annotations

from dataclasses import dataclass

from .network import LEFT, RIGHT, THROUGH, UTURN, Link, Signal


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

    @property
    def turning_only(self) -> bool:
        return self.turns <= {LEFT, RIGHT, UTURN}


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

    @property
    def by_id(self) -> dict[str, Group]:
        return {g.id: g for g in self.groups}

    @property
    def pedestrians(self) -> set[str]:
        return {g.id for g in self.groups if g.kind == "pedestrian"}


# -- groups -----------------------------------------------------------------------------
def _bound(heading: float) -> str:
    return ("EB", "NB", "WB", "SB")[int(((heading + 45.0) % 360.0) // 90.0)]


def _components(sig: Signal) -> list[list[Link]]:
    """Links that share an approach lane, or leave one approach in the same direction (or
    cross on one crossing), in order of their lowest link index."""
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
    return sorted(comps.values(), key=lambda ls: min(lk.index for lk in ls))


def signal_groups(sig: Signal) -> list[Group]:
    """One group per component, named by travel direction and turns (`EB_TR`); approaches
    sharing a direction get a number, pedestrian crossings are `P1`, `P2`, ..."""
    groups = []
    used: dict[str, int] = {}
    edges_by_bound: dict[str, list[str]] = {}
    crossings = 0
    for lk in sig.links:
        if lk.pedestrian:
            continue
        b = _bound(lk.heading)
        if lk.from_edge not in edges_by_bound.setdefault(b, []):
            edges_by_bound[b].append(lk.from_edge)
    for links in _components(sig):
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


def score(g: Group, sig: Signal) -> float:
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


def relations(sig: Signal, groups: list[Group], permissive_ok: bool):
    """(conflicts, permissive pairs) between groups, both as sets of (a, b); a permissive
    pair (a, b): a may be green with b and gives way to it."""
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
