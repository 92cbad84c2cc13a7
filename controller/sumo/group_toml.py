"""The intersection-group TOML of imported junctions, written with tomlkit.

Readable for a traffic engineer: sections in the order of the configuration reference
(buses, schedule, then per intersection its nodes, groups, conflicts, permissive pairs,
intergreens, stages, detectors, plans and the SUMO links), and comments that say where a
value comes from (the SUMO links of a group, the distances behind an intergreen).
"""

from __future__ import annotations

import math
import textwrap

import tomlkit
from tomlkit.items import AoT, InlineTable, Table

from .coordination import Coordination
from .detectors import calls, passage_s
from .intergreen import PED_SPEED, floor_s, ped_clear_s
from .movements import Group, Junction, Options
from .stages import main_stage, stage_green_limits

HEADS_PER_NODE = 7       # three-lamp heads per signal node (an ESP32-S3: 22 pins)
INPUTS_PER_NODE = 16     # loops per detector node (an ESP32: 16 inputs)
INDENT = 2               # sections of an intersection are indented under it
COMMENT_WIDTH = 88
MAX2_FACTOR = 1.6      # oversaturated maximum (max2_green_s) / green limit of the stage


def _num(v: float) -> int | float:
    """A number as a person writes it: whole numbers without a decimal point (as `:g`)."""
    x = float(f"{v:g}")
    return int(x) if x.is_integer() else x


def _indent(t: Table, blank: bool) -> None:
    """Indent a section of an intersection (and its own sub-tables) under it; a blank
    line after it if asked (tomlkit sets the tables of an array apart itself)."""
    t.indent(INDENT)
    subs = [v for _, v in t.value.body if isinstance(v, Table)]
    for v in subs:
        _indent(v, blank and v is subs[-1])
    if blank and not subs:
        t.add(tomlkit.nl())


def _table(*comments: str, **values) -> Table:
    """A table: comment lines (wrapped) first, then the values."""
    t = tomlkit.table()
    for c in comments:
        for line in textwrap.wrap(c, COMMENT_WIDTH):
            t.add(tomlkit.comment(line))
    for k, v in values.items():
        t.add(k, v)
    return t


def _note(t: Table, key: str, text: str) -> None:
    """An end-of-line comment on `key`, set off from the value."""
    t[key].comment(text)
    t[key].trivia.comment_ws = "   "


def _inline(**values) -> InlineTable:
    t = tomlkit.inline_table()
    t.update(values)
    return t


def _aot(tables: list[Table]) -> AoT:
    out = tomlkit.aot()
    for t in tables:
        out.append(t)
    return out


def document(juncs: list[Junction], coord: Coordination | None, plan: str, opts: Options,
             source: str) -> str:
    """The TOML text of the intersection group."""
    doc = tomlkit.document()
    for line in (f"Intersection group imported from the SUMO network {source}",
                 "by `smartcross import-sumo`. Signal groups, conflicts, intergreens (RiLSA),",
                 "detectors and stages come from the network; check the plans before field use."):
        doc.add(tomlkit.comment(line))
    doc.add(tomlkit.nl())
    doc.add("name", opts.name or f"imported from {source or 'a SUMO network'}")
    doc.add("bus", _aot([_table(id=f"rs485-{j.signal.id}", port=f"sumo://{j.signal.id}",
                                baud=115200) for j in juncs]))
    doc.add("schedule", _aot([_table(at="00:00", plan=plan)]))
    doc.add("intersection", _aot([_intersection(j, opts, coord) for j in juncs]))
    return tomlkit.dumps(doc)


def _intersection(j: Junction, opts: Options, coord: Coordination | None) -> Table:
    sig = j.signal
    t = _table(id=sig.id, name=f"SUMO traffic light {sig.id}", profile=opts.profile,
               startup_flash_s=4, startup_all_red_s=2)
    # Signal nodes (-n1, ...) on ESP32-S3s, detector nodes (-d1, ...) on ESP32s; their pins
    # are assigned from the boards (controller/config/wiring.py).
    n_heads = max(1, math.ceil(len(j.groups) / HEADS_PER_NODE))
    n_det = math.ceil(len(j.loops) / INPUTS_PER_NODE)
    nodes = [_table(id=f"{sig.id}-n{k + 1}", bus=f"rs485-{sig.id}", address=k + 1,
                    board="esp32s3") for k in range(n_heads)]
    nodes += [_table(id=f"{sig.id}-d{k + 1}", bus=f"rs485-{sig.id}", address=n_heads + k + 1,
                     board="esp32") for k in range(n_det)]
    sections = {
        "node": _aot(nodes),
        "group": _aot([_group(j, i, g, opts) for i, g in enumerate(j.groups)]),
        "conflicts": _conflicts(j),
        "permissive": _permissive(j) if j.permissive else None,
        "intergreen": _intergreen(j, opts),
        "stage": _aot([_stage(j, k, st) for k, st in enumerate(j.stages)]),
        "detector": _aot(_detectors(j)) if j.loops else None,
        "plan": _aot(_plans(j, coord)),
        "sumo": _table(tls=sig.id, links=_table(**{g.id: g.indices for g in j.groups})),
    }
    for key, section in sections.items():
        if section is None:
            continue
        subs = section.body if isinstance(section, AoT) else [section]
        for sub in subs:
            _indent(sub, sub is subs[-1])
        t.add(key, section)
    return t


def _group(j: Junction, i: int, g: Group, opts: Options) -> Table:
    node = f"{j.signal.id}-n{i // HEADS_PER_NODE + 1}"
    t = _table(id=g.id)
    if g.kind == "pedestrian":
        lk = g.links[0]
        _note(t, "id", f"SUMO link {', '.join(map(str, g.indices))}: crossing {lk.to_lane}, "
                        f"{lk.crossing_m:g} m")
        t.add("kind", "pedestrian")
        t.add("min_green_s", _num(g.min_green_s))
        _note(t, "min_green_s", "walk")
        if opts.profile == "US":
            t.add("ped_clear_s", ped_clear_s(lk))
            _note(t, "ped_clear_s", f"flashing don't walk, {lk.crossing_m:g} m at "
                                     f"{PED_SPEED:g} m/s")
        t.add("node", node)
        return t
    moves = ", ".join(f"{lk.from_lane}→{lk.to_lane} ({lk.turn})" for lk in g.links)
    _note(t, "id", f"SUMO links {', '.join(map(str, g.indices))}: {moves}")
    for k, v in (("kind", g.kind), ("amber_s", _num(opts.amber_s)),
                 ("min_green_s", _num(g.min_green_s)), ("node", node)):
        t.add(k, v)
    return t


def _conflicts(j: Junction) -> Table:
    """Each conflict once, on the row of the group listed first."""
    ids = [g.id for g in j.groups]
    t = _table()
    for a in ids:
        later = [b for b in ids if (a, b) in j.conflicts and ids.index(b) > ids.index(a)]
        if later:
            t.add(a, later)
    return t


def _permissive(j: Junction) -> Table:
    t = _table("Permissive (conditionally compatible) pairs: the group on the left may be",
               "green with the groups listed and gives way to them (SUMO shows it as 'g').")
    for g in j.groups:
        prio = [b for a, b in sorted(j.permissive) if a == g.id]
        if prio:
            t.add(g.id, prio)
    return t


def _intergreen_notes(opts: Options) -> tuple[str, ...]:
    floor = floor_s(opts)
    if opts.profile == "US":
        head = ("Intergreens (s): yellow plus the ITE red clearance (W + L) / v, W the clearing",
                "path to the far side of the conflict, L 6 m, v the approach speed limit,",
                "rounded up, for the governing pair of links; never below amber",
                f"{opts.amber_s:g} s + red clearance {opts.all_red_s:g} s = {floor} s.")
    else:
        head = ("Intergreens (s) from the paths through the junction with the RiLSA formula",
                "tz = tü + (s_clear + l) / v_clear − s_entry / v_entry, rounded up (tü 3 s, l 6 m,",
                "v_clear 10 m/s through, 7 m/s turning, v_entry 11.1 m/s), for the governing pair",
                f"of links; never below amber {opts.amber_s:g} s + red clearance "
                f"{opts.all_red_s:g} s = {floor} s.")
    return head + ("Each row: the clearing group; per entering group: s_clear / s_entry (m) "
                   "→ formula.",)


def _intergreen(j: Junction, opts: Options) -> Table:
    t = _table(*_intergreen_notes(opts))
    for g in j.groups:
        row = [(b, v) for (a, b), v in sorted(j.intergreen.items()) if a == g.id]
        if not row:
            continue
        t.add(tomlkit.comment("; ".join(
            f"{b} {j.geometry[(g.id, b)][0]:g}/{j.geometry[(g.id, b)][1]:g} → "
            f"{j.geometry[(g.id, b)][2]:g}" for b, _ in row)))
        t.add(g.id, _inline(**{b: _num(v) for b, v in row}))
    return t


def _stage(j: Junction, k: int, st: list[str]) -> Table:
    t = _table(id=f"S{k + 1}", groups=list(st))
    perm = [g for g in st if any((g, o) in j.permissive for o in st)]
    if perm:
        _note(t, "id", f"permissive: {', '.join(perm)}")
    return t


def _detectors(j: Junction) -> list[Table]:
    by_id = j.by_id
    out = []
    for k, (lid, kind, dist, gids) in enumerate(j.loops):
        t = _table(id=lid, kind=kind, node=f"{j.signal.id}-d{k // INPUTS_PER_NODE + 1}")
        _note(t, "id", f"{dist:g} m before the stop line")
        if calls(dist):
            speed = min(lk.speed for g in gids for lk in by_id[g].links)
            t.add("calls", list(gids))
            t.add("extends", list(gids))
            t.add("passage_s", _num(passage_s(dist, speed)))
        out.append(t)
    return out


def max2_green(max_green: float) -> float:
    """The maximum while oversaturated (NTCIP Maximum 2): 1.6 × the stage's green limit,
    in whole seconds. Beyond capacity a longer cycle loses less time to stage changes; the
    policy only reaches it stage by stage, for queues that outlast their green
    (docs/CONTROL.md, "Beyond capacity")."""
    return float(round(MAX2_FACTOR * max_green))


def _plans(j: Junction, coord: Coordination | None) -> list[Table]:
    limits = [stage_green_limits(j, st) for st in j.stages]
    peds = j.pedestrians
    main = f"S{main_stage(j) + 1}"
    walks = [any(g in peds for g in st) for st in j.stages]
    out = []
    if coord is not None:
        sid = j.signal.id
        stages = _table()
        for k, (lo, hi) in enumerate(limits):
            split = coord.splits[sid][f"S{k + 1}"]
            s = _inline(min_green_s=_num(lo), max_green_s=_num(split),
                        max2_green_s=_num(max(split, max2_green(hi))))
            if walks[k]:
                s["recall"] = "ped"
            stages.add(f"S{k + 1}", s)
        out.append(_table(
            f"Coordinated: {coord.note}; offset for green waves; the other stages' "
            "maxima are their splits (windows), the main stage keeps what they leave; "
            "oversaturated: acyclic up to max2_green_s.",
            id="coordinated", mode="coordinated", cycle_s=_num(coord.cycle_s),
            offset_s=_num(coord.offsets[sid]), main_stage=main, stages=stages))
    for mode, note in (
            ("adaptive", "Adaptive: protected turns only when their queue needs them, greens "
             "held by streams with right of way, maxima from measured flows (max2_green_s "
             "while oversaturated)."),
            ("actuated", "Fully actuated: stages nobody asks for are skipped, the major road "
             "rests.")):
        stages = _table()
        for k, (lo, hi) in enumerate(limits):
            s = _inline(min_green_s=_num(lo), max_green_s=_num(hi))
            if mode == "adaptive":
                s["max2_green_s"] = _num(max2_green(hi))
            if walks[k]:
                s["recall"] = "ped"              # no push buttons in SUMO: walk every time
            elif f"S{k + 1}" == main and mode == "actuated":
                s["recall"] = "min"
            stages.add(f"S{k + 1}", s)
        out.append(_table(note, id=mode, mode=mode, main_stage=main, stages=stages))
    return out
