"""[intersection.conflicts], [intersection.permissive] and the intergreens between
conflicting groups: given in [intersection.intergreen], or computed from
[intersection.geometry] with the RiLSA formula (geometry.py). Both matrices are read by
one helper, common.group_matrix."""

from __future__ import annotations

from . import geometry
from .common import Declared, group_matrix, undefined_group
from .reader import Table

Pairs = set[tuple[str, str]]


def read_conflicts(t: Table, groups: Declared) -> Pairs:
    out: Pairs = set()
    ct = t.get_table("conflicts", required=True)
    if ct is None:
        return out
    for a in ct.data:
        bs = ct.get_str_list(a)
        if a not in groups:
            undefined_group(ct, a, a, groups)
            continue
        for b in bs:
            if b not in groups:
                undefined_group(ct, a, b, groups)
            elif b == a:
                ct.error(a, "a group cannot conflict with itself")
            else:
                out.add((a, b))
                out.add((b, a))
    return out


def read_permissive(t: Table, groups: Declared, conflicts: Pairs) -> Pairs:
    """[intersection.permissive]: yielding group = [groups it may be green with and gives way to]."""
    out: Pairs = set()
    pt = t.get_table("permissive")
    if pt is None:
        return out
    for a in pt.data:
        bs = pt.get_str_list(a)
        if a not in groups:
            undefined_group(pt, a, a, groups)
            continue
        if groups[a].is_pedestrian:
            pt.error(a, f"{a} is a pedestrian group; only vehicle streams give way permissively")
            continue
        for b in bs:
            if b not in groups:
                undefined_group(pt, a, b, groups)
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


def _speeds(gt: Table, groups: Declared) -> dict[str, dict]:
    """[intersection.geometry.speeds]: per-group overrides of the RiLSA movement values."""
    speeds = gt.get_table("speeds")
    overrides: dict[str, dict] = {}
    if speeds is None:
        return overrides
    for gid in list(speeds.data):
        st = speeds.get_table(gid)
        if gid not in groups:
            undefined_group(speeds, gid, gid, groups)
            continue
        if st is not None:
            values = {"overrun_s": st.get_number("overrun_s", None),
                      "clear_speed_mps": st.get_positive("clear_speed_mps", None),
                      "entry_speed_mps": st.get_positive("entry_speed_mps", None),
                      "length_m": st.get_number("length_m", None)}
            overrides[gid] = {k: v for k, v in values.items() if v is not None}
            st.finish()
    return overrides


def read_geometry(t: Table, groups: Declared) -> dict[tuple[str, str], float]:
    """Intergreens computed from [intersection.geometry] (RiLSA)."""
    out: dict[tuple[str, str], float] = {}
    gt = t.get_table("geometry")
    if gt is None:
        return out
    overrides = _speeds(gt, groups)
    for a, b, cell in group_matrix(gt, groups, Table.get_table, skip=("speeds",)):
        clear_m = cell.get_number("clear_m")
        entry_m = cell.get_number("entry_m")
        cell.finish()
        if clear_m is None or entry_m is None:
            continue
        ga, gb = groups[a], groups[b]
        ma = geometry.movement(ga.kind, overrides.get(a, {}))
        mb = geometry.movement(gb.kind, overrides.get(b, {}))
        out[(a, b)] = geometry.intergreen_s(ma, mb, clear_m, entry_m, ga.change_s)
    gt.finish()
    return out


def _seconds(row: Table, b: str) -> float | None:
    return row.get_seconds(b, lo=0.0, hi=120.0)


def read_intergreen(t: Table, groups: Declared, conflicts: Pairs, geom: dict,
                    permissive: Pairs | frozenset = frozenset()) -> dict[tuple[str, str], float]:
    out = dict(geom)
    given_in = {pair: "geometry" for pair in geom}
    it = t.get_table("intergreen")
    if it is not None:
        for a, b, v in group_matrix(it, groups, _seconds):
            out[(a, b)] = v
            given_in[(a, b)] = "intergreen"
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
