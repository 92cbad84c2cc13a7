"""Read an intersection-group TOML file into the checked model, or fail with every reason.

`load(path)` returns a `GroupConfig` or raises `ConfigError` whose `problems` each name
the file, the key path and what is wrong. Nothing is half-applied: the model exists only
when the whole file is right.

This module only orchestrates; each section has its reader:

| module | sections |
|---|---|
| `buses.py` | `[[bus]]`, `[[intersection.node]]`, node capacity, addresses, `comm_timeout_ms` |
| `boards.py` | board profiles: what a node uses each pin of its module for |
| `monitor_unit.py` | `[intersection.monitor_unit]`: the monitor unit's bus, board, pins, comm timeout |
| `wiring.py` | each node's pins: lamps, lamp sense, detectors (given or assigned), checked |
| `intersections.py` | `[[intersection]]` header, `[[intersection.group]]` and their channels |
| `conflicts.py` | conflicts, permissive pairs, intergreens (given or from RiLSA geometry) |
| `stages.py` | `[[intersection.stage]]` |
| `detectors.py` | `[[parking_area]]`, `[[intersection.detector]]`, `[intersection.sumo]` |
| `plans.py` | `[[intersection.plan]]`, `[[schedule]]` |
| `civil.py` | `timezone`, `clock_step_alarm_s` (the zone and the schedule on aware instants) |
| `telemetry.py` | `[telemetry]` (the MQTT broker the cabinet publishes to) |
| `common.py` | unique ids, declared references, the group × group table reader |
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from .buses import check_addresses, check_comm_timeouts, read_bus
from .civil import read_time
from .common import unique
from .detectors import read_parking_areas
from .intersections import read_intersection
from .model import GroupConfig
from .monitor_unit import check_units
from .plans import read_schedule
from .reader import ConfigError, Problems, Table
from .telemetry import read_telemetry


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


def _group(root: Table, source: str) -> GroupConfig | None:
    name = root.get_str("name")
    zone, clock_alarm = read_time(root)
    bus_tables = unique(root.get_tables("bus", required=True), "bus")
    buses = [read_bus(t, i) for t, i in bus_tables]
    areas = read_parking_areas(root)
    bus_ids = {i for _, i in bus_tables}      # declared: a bad bus is reported once
    area_ids = {a.id for a in areas}
    inters = [read_intersection(t, i, bus_ids, area_ids)
              for t, i in unique(root.get_tables("intersection", required=True), "intersection")]
    schedule = read_schedule(root, [i for i in inters if i])
    telemetry = read_telemetry(root, source)
    root.finish()
    if root.problems or None in buses or None in inters or zone is None or clock_alarm is None:
        return None
    check_addresses(root, inters)
    check_comm_timeouts(root, buses, inters)
    check_units(root, buses, inters)
    if root.problems:
        return None
    return GroupConfig(name, source, tuple(inters), tuple(buses), schedule, tuple(areas),
                       zone, clock_alarm, telemetry)
