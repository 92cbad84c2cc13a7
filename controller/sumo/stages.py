"""Stages that cover every signal group, and what the plans need to know about them.

The major road comes first; a group that only ever runs permissively gets a protected
stage just after the first stage that runs it permissively (lagging turns).
"""

from __future__ import annotations

from .movements import Group, Junction


def build_stages(groups: list[Group], conflicts, permissive) -> list[list[str]]:
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


def stage_green_limits(j: Junction, stage: list[str]) -> tuple[float, float]:
    """(minimum, maximum) green of a stage: its groups' largest minimum; 20 s for turns
    only, 50 s with a group of the major road, else 35 s."""
    by_id = j.by_id
    top = max(g.score for g in j.groups)
    floor = max(by_id[g].min_green_s for g in stage)
    major = any(by_id[g].score >= top - 1.0 for g in stage)
    turning = all(by_id[g].turning_only for g in stage)
    max_green = 20.0 if turning else (50.0 if major else 35.0)
    return floor, max_green


def main_stage(j: Junction) -> int:
    return max(range(len(j.stages)), key=lambda k: (sum(
        g.score for g in j.groups if g.id in j.stages[k] and g.kind != "pedestrian"), -k))


def j_interstage(j: Junction, a: int, b: int) -> float:
    """Interstage time from stage index a to b, as the configuration will compute it."""
    sa, sb = set(j.stages[a]), set(j.stages[b])
    worst = 0.0
    for x in sa - sb:
        for y in sb - sa:
            if (x, y) in j.intergreen and (x, y) in j.conflicts:
                worst = max(worst, j.intergreen[(x, y)])
    return worst


def cycle_order(j: Junction) -> list[int]:
    """Stage indices from the main stage round the cycle."""
    m = main_stage(j)
    return [(m + i) % len(j.stages) for i in range(len(j.stages))]


def interstages_s(j: Junction) -> float:
    """The interstage times of one cycle, main stage first."""
    order = cycle_order(j)
    return sum(j_interstage(j, order[i], order[(i + 1) % len(order)]) for i in range(len(order)))


def turn_stage(j: Junction, k: int) -> bool:
    """Stage k only protects turns that other stages run permissively."""
    others = [s for i, s in enumerate(j.stages) if i != k]
    perm = {a for a, b in j.permissive if b not in j.pedestrians}
    return all(g in perm and any(g in s for s in others) for g in j.stages[k])
