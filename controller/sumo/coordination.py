"""A coordinated plan for a group of neighbouring signals: common cycle (Webster for the
critical intersection), splits in proportion to the flows, offsets for green waves in the
heavier direction (two-way when balanced)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..control import design
from .movements import Junction, Options
from .network import Network
from .stages import (
    cycle_order,
    interstages_s,
    j_interstage,
    main_stage,
    stage_green_limits,
    turn_stage,
)
from .sumocfg import Demand

COORD_FACTOR = 0.85      # common cycle of a coordinated plan, relative to Webster


@dataclass
class Coordination:
    cycle_s: float
    offsets: dict[str, float]
    splits: dict[str, dict[str, float]]       # signal -> stage -> window (max green) s
    note: str


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
    by_id = j.by_id
    out = []
    for st in j.stages:
        ys = []
        for gid in st:
            g = by_id[gid]
            if g.kind == "pedestrian" or any((gid, o) in j.permissive
                                             and by_id[o].kind != "pedestrian" for o in st):
                continue                       # permissive here: not the critical stream
            sat = design.SAT_TURN if g.turning_only else design.SAT_THROUGH
            ys.append(flows[gid] / (len(g.lanes) * sat))
        out.append(max(ys, default=0.0))
    return out


def _needed(j: Junction, flows: dict[str, float]) -> list[bool]:
    """Per stage: does it count for the cycle? A protected-turn stage counts when the turn
    exceeds what it can do permissively: gaps of 4.5 s in the opposing stream during about
    half the cycle, and two vehicles clearing at the end of each green (of a 90 s cycle)."""
    need = []
    for k, st in enumerate(j.stages):
        if not turn_stage(j, k):
            need.append(True)
            continue
        over = False
        for a, b in j.permissive:
            if a in st:
                gaps = design.SAT_TURN * math.exp(-flows[b] * 4.5 / 3600.0) * 0.5
                over = over or flows[a] > 0.8 * (gaps + 80.0)
        need.append(over)
    return need


def _common_cycle(juncs: list[Junction], webster: list[float], demand: Demand | None,
                  opts: Options) -> tuple[float, str]:
    if opts.cycle_s:
        cycle = opts.cycle_s
        note = f"cycle {cycle:g} s as asked"
    elif demand:
        # coordinated-actuated: the other stages gap out and give their time back, so the
        # common cycle is shorter than Webster's fixed-time optimum (0.85 of it, measured
        # on the shared corridor), in whole 5 s
        cycle = float(min(120, max(45, 5 * round(COORD_FACTOR * max(webster) / 5))))
        note = (f"cycle {cycle:g} s: {COORD_FACTOR:g} × Webster for the critical "
                f"intersection ({max(webster):.0f} s) from the routes' flows")
    else:
        cycle = 60.0
        note = "cycle 60 s (no flows given: a typical urban cycle; pass --routes)"
    # never shorter than what every intersection needs for its minimum greens
    need_min = [sum(stage_green_limits(j, j.stages[k])[0] for k in cycle_order(j))
                + interstages_s(j) for j in juncs]
    if max(need_min) > cycle:
        cycle = float(5 * math.ceil(max(need_min) / 5))
        note += f", raised to {cycle:g} s for the minimum greens"
    return cycle, note


def _splits(j: Junction, cycle: float, ys: list[float], used: list[int],
            lost: float) -> dict[str, float]:
    """Per stage its window (max green); the main stage keeps what the others leave."""
    m = main_stage(j)
    greens = design.splits(cycle, [ys[k] for k in used], lost)
    sp = {}
    for k, st in enumerate(j.stages):
        lo, hi = stage_green_limits(j, st)
        g = 1.4 * greens[used.index(k)] + 2.0 if k in used else lo  # room to vary
        sp[f"S{k + 1}"] = float(max(lo, min(hi, math.ceil(g))))
    # the other stages' windows, the main minimum and the interstages fit in the cycle
    inter_s = interstages_s(j)
    main_min = stage_green_limits(j, j.stages[m])[0]

    def lo_of(key: str) -> float:
        return stage_green_limits(j, j.stages[int(key[1:]) - 1])[0]

    while sum(v for k, v in sp.items() if k != f"S{m + 1}") + main_min + inter_s > cycle:
        k = max((k for k in sp if k != f"S{m + 1}"), key=lambda k: sp[k] - lo_of(k))
        if sp[k] <= lo_of(k):
            raise ValueError(f"{j.signal.id}: cycle {cycle:g} s is too short for the "
                             "minimum greens")
        sp[k] -= 1.0
    sp[f"S{m + 1}"] = cycle
    return sp


def coordinate(juncs: list[Junction], net: Network, demand: Demand | None,
               opts: Options) -> Coordination | None:
    """A coordinated plan for a group of neighbouring signals: common cycle (Webster for
    the critical intersection), splits in proportion to the flows, offsets for green
    waves in the heavier direction (two-way when balanced)."""
    ids = {j.signal.id for j in juncs}
    links = {k: v[0] for k, v in net.neighbours.items() if k[0] in ids and k[1] in ids}
    if len(juncs) < 2 or not links:
        return None
    used: dict[str, list[int]] = {}
    ys: dict[str, list[float]] = {}
    lost: dict[str, float] = {}
    cycles = []
    for j in juncs:
        sid = j.signal.id
        flows = group_flows(j, demand) if demand else {g.id: 0.0 for g in j.groups}
        ys[sid] = _stage_y(j, flows)
        need = _needed(j, flows)
        u = used[sid] = [k for k in range(len(j.stages)) if need[k]]
        lost[sid] = sum(j_interstage(j, u[i - 1], u[i]) + design.STARTUP_LOSS_S
                        for i in range(len(u))) if len(u) > 1 else 0.0
        cycles.append(design.webster([ys[sid][k] for k in u], lost[sid]))
    cycle, note = _common_cycle(juncs, cycles, demand, opts)
    splits = {j.signal.id: _splits(j, cycle, ys[j.signal.id], used[j.signal.id],
                                   lost[j.signal.id]) for j in juncs}
    edge_flow = {k: (demand.edges.get(v[2], 0.0) if demand else 0.0)
                 for k, v in net.neighbours.items()}
    offs = design.offsets([j.signal.id for j in juncs], links, edge_flow, cycle)
    return Coordination(cycle, offs, splits, note)
