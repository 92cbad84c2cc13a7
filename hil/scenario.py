"""HIL scenarios as files: what to run, which faults when, what verdict is expected.

    name = "bus cut"
    config = "../../examples/corridor.toml"   # relative to this file
    duration_s = 60                            # street seconds
    time_scale = 3                             # the rig runs 3x faster than life
    [[fault]]
    at_s = 25
    kind = "bus_cut"
    duration_s = 8
    [expect]
    flash_within_s = 1.0
    recover_within_s = 30

Fault kinds and their keys are in FAULTS below; expectations in EXPECT. A scenario file
is checked whole before anything starts, and every problem names its key. Two rig settings
serve the monitor unit's scenarios: `unguarded_node = "ID"` (that node's guard lets every
command through and its lamp sense is unwired: rig-only fault injection, hil/faults/) and
`cabinet = false` (no cabinet service until a fault starts one).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from controller.config import ConfigError, load
from controller.config.model import COMM_TIMEOUT_RANGE_MS, GroupConfig
from controller.config.reader import Problems, Table

from .rig import HOST_BUDGET_MS

# kind -> {key: (type, required)}; "intersection"/"group"/"node"/"detector" name things
FAULTS = {
    "bus_cut": {"duration_s": (float, True)},
    "corrupt": {"probability": (float, True), "duration_s": (float, False)},
    "drop": {"probability": (float, True), "duration_s": (float, False)},
    "noise": {"bytes": (int, True)},
    "delay": {"ms": (int, True), "duration_s": (float, True)},
    "two_talkers": {"node": (str, True), "duration_s": (float, True)},
    "kill_controller": {},
    "start_controller": {},
    "node_reset": {"node": (str, True)},
    "node_hang": {"node": (str, True), "duration_s": (float, True)},
    "red_lamp_fail": {"intersection": (str, True), "group": (str, True)},
    "loop_stuck_on": {"intersection": (str, True), "detector": (str, True)},
    "loop_open": {"intersection": (str, True), "detector": (str, True)},
    "loop_chatter": {"intersection": (str, True), "detector": (str, True)},
    "corrupt_node_config": {"node": (str, True)},
    "bay_silent": {"intersection": (str, True), "detector": (str, True)},
    "rogue_controller": {"node": (str, True), "duration_s": (float, True),
                         "startup_s": (float, False)},
    # the monitor unit hangs with its relay held energised (only the cabinet can notice)
    # until its watchdog resets it
    "monitor_unit_hang": {"unit": (str, True), "duration_s": (float, True)},
    # not a fault: an emergency vehicle's preempt input, held on for duration_s from the
    # first moment at or after at_s that a movement conflicting with its route is green
    "preempt_call": {"intersection": (str, True), "detector": (str, True),
                     "duration_s": (float, True)},
}

EXPECT = {
    "violations": (int, "number of monitor violations (0)"),
    "allow": (list, "violation kinds that do not count, e.g. [\"red_fail\"]"),
    "flash_within_s": (float, "every head of the affected intersections flashing this soon"),
    "recover_within_s": (float, "back to normal operation this soon after the fault ends"),
    "all_stages_served": (bool, "every signal group showed green during the run"),
    "running_at_end": (bool, "every intersection running, every node online at the end"),
    "detector_fault": (str, "this detector is reported faulty (intersection/detector)"),
    "recall_group": (str, "this group keeps being served with no traffic (intersection/group)"),
    "refusals": (bool, "the nodes' guards refused commands"),
    "no_fault_flash": (bool, "no intersection went to flash after its start-up"),
    "bay_fault": (str, "this parking bay's sensor is reported faulty (intersection/bay)"),
    "transfer_within_s": (float, "the monitor unit drops its transfer relay and the heads "
                          "flash this soon after conflicting greens appear (flash_latency_s)"),
    "cabinet_log": (str, "the cabinet's log says this (e.g. why it flashed)"),
    "running_before_fault": (bool, "some head showed green in the 10 s before the first "
                             "fault (so that a flash after it is the fault's doing)"),
    "preempt_within_clearance": (bool, "the preempt route green within the clearance time the "
                                 "configuration allows (hil/preempt.py), the entry in the record"),
}


@dataclass
class Fault:
    at_s: float
    kind: str
    args: dict


@dataclass
class Scenario:
    path: Path
    name: str
    description: str
    config: GroupConfig
    duration_s: float
    time_scale: float
    seed: int
    traffic_scale: float
    faults: list[Fault]
    expect: dict = field(default_factory=dict)
    tune: dict = field(default_factory=dict)     # detector diagnostics for every node
    comm_timeout_ms: int | None = None           # the nodes' comm watchdog (None: the config's)
    ultrasonic_bays: bool = False                # bays as ultrasonic sensors (can go silent)
    # rig-only fault injection: this node's guard lets every command through and its lamp
    # sense is unwired (hil/faults/unguarded/), so only the monitor unit can stop a conflict
    unguarded_node: str | None = None
    cabinet: bool = True                         # false: no cabinet service until a fault starts it


class ScenarioError(Exception):
    def __init__(self, problems):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    problems = Problems(str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        problems.add("", f"cannot read the file: {e.strerror or e}")
        raise ScenarioError(problems.items) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        problems.add("", f"is not valid TOML: {e}")
        raise ScenarioError(problems.items) from None
    t = Table(data, "", problems)
    name = t.get_str("name", path.stem)
    description = t.get_str("description", "")
    cfg_rel = t.get_str("config")
    duration = t.get_number("duration_s", 60.0)
    scale = t.get_number("time_scale", 1.0)
    seed = t.get_int("seed", 1)
    traffic = t.get_number("traffic_scale", 1.0)
    comm = t.get_int("comm_timeout_ms", None, lo=COMM_TIMEOUT_RANGE_MS[0], hi=COMM_TIMEOUT_RANGE_MS[1])
    ultrasonic = bool(t.data.get("ultrasonic_bays", False))
    t.seen.add("ultrasonic_bays")
    unguarded, cabinet = _unit_settings(t)
    faults = []
    for ft in t.get_tables("fault"):
        kind = ft.get_str("kind", choices=tuple(FAULTS))
        at = ft.get_number("at_s")
        args = {}
        for key, (typ, required) in FAULTS.get(kind, {}).items():
            getter = {float: ft.get_number, int: ft.get_int, str: ft.get_str}[typ]
            value = getter(key) if required else getter(key, None)
            if value is not None:
                args[key] = value
        ft.finish()
        if kind is not None and at is not None:
            faults.append(Fault(at, kind, args))
    tune = {}
    tt = t.get_table("tune")
    if tt is not None:
        for key in ("max_presence_min", "no_activity_min", "erratic_per_min"):
            v = tt.get_int(key, None, lo=0, hi=255)
            if v is not None:
                tune[key] = v
        tt.finish()
    expect = {}
    et = t.get_table("expect")
    if et is not None:
        for key, (typ, _) in EXPECT.items():
            if not et.has(key):
                continue
            getter = {float: et.get_number, int: et.get_int, str: et.get_str, bool: None,
                      list: et.get_str_list}[typ]
            if typ is bool:
                et.seen.add(key)
                v = et.data[key]
                if not isinstance(v, bool):
                    et.error(key, "must be true or false")
                expect[key] = v
            else:
                expect[key] = getter(key)
        et.finish()
    t.finish()
    config = None
    if cfg_rel is not None:
        try:
            config = load(path.parent / cfg_rel)
        except ConfigError as e:
            problems.items.extend(e.problems)
    if scale is not None and not 0.5 <= scale <= 10:
        t.error("time_scale", "must be between 0.5 and 10")
    if config is not None:
        _check_names(t, faults, config, unguarded)
        if scale is not None:
            _check_host_budget(t, config, scale, comm)
    if problems.items or config is None:
        raise ScenarioError(problems.items)
    return Scenario(path, name, description, config, duration, scale, seed, traffic,
                    sorted(faults, key=lambda f: f.at_s), expect, tune, comm, ultrasonic,
                    unguarded, cabinet)


def _unit_settings(t: Table) -> tuple[str | None, bool]:
    """`unguarded_node` and `cabinet` (the monitor unit's scenarios)."""
    unguarded = t.get_str("unguarded_node", None)
    cabinet = t.data.get("cabinet", True)
    t.seen.add("cabinet")
    if not isinstance(cabinet, bool):
        t.error("cabinet", "must be true or false")
    return unguarded, cabinet is not False


def _check_host_budget(t: Table, config: GroupConfig, scale: float, comm: int | None) -> None:
    """The rig's HOST_BUDGET_MS, said in the scenario file rather than applied silently."""
    nodes = [n for i in config.intersections for n in i.nodes]
    shortest = comm if comm is not None else min(config.comm_timeout_ms(n) for n in nodes)
    host_ms = shortest / scale
    if host_ms < HOST_BUDGET_MS:
        t.error("comm_timeout_ms",
                f"{shortest} ms of street at time_scale {scale:g} is {host_ms:.0f} ms of real "
                f"time, less than the {HOST_BUDGET_MS} ms a loaded machine needs between two "
                f"polls; set comm_timeout_ms to at least {int(HOST_BUDGET_MS * scale)} or "
                "lower time_scale")


def _check_names(t: Table, faults: list[Fault], config: GroupConfig,
                 unguarded: str | None) -> None:
    inters = {i.id: i for i in config.intersections}
    nodes = {n.id for i in config.intersections for n in i.nodes}
    if unguarded is not None and unguarded not in nodes:
        t.error("unguarded_node", f"names node {unguarded!r}, which the configuration lacks")
    units = {i.monitor_unit.id for i in config.intersections if i.monitor_unit}
    for k, f in enumerate(faults):
        where = f"fault[{k}]"
        if "unit" in f.args and f.args["unit"] not in units:
            t.error(where, f"names monitor unit {f.args['unit']!r}, which the configuration "
                    "lacks")
        if "node" in f.args and f.args["node"] not in nodes:
            t.error(where, f"names node {f.args['node']!r}, which the configuration lacks")
        iid = f.args.get("intersection")
        if iid is not None and iid not in inters:
            t.error(where, f"names intersection {iid!r}, which the configuration lacks")
            continue
        if "group" in f.args and f.args["group"] not in {g.id for g in inters[iid].groups}:
            t.error(where, f"names group {f.args['group']!r}, which {iid} lacks")
        if "detector" in f.args and f.args["detector"] not in {d.id for d in
                                                               inters[iid].detectors}:
            t.error(where, f"names detector {f.args['detector']!r}, which {iid} lacks")
        elif f.kind == "preempt_call" and not any(p.detector == f.args["detector"]
                                                  for p in inters[iid].preempts):
            t.error(where, f"detector {f.args['detector']!r} calls no [[intersection.preempt]] "
                    f"of {iid}")
