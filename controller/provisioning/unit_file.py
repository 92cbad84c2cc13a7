"""A monitor unit's monitor.json: its bus settings, pins, and its own compatibility table.

The unit's file is written apart from the signal nodes' node.json: the table comes from
controller/config/monitor_table.py (the monitor's plain-data table, never the nodes' guard
tables), with its CRC (monitor.table.crc), which the unit publishes and the cabinet compares.
Before it is written the document is read back through the unit's own parser
(firmware/munit/config.py, run here on CPython, loaded by path like the node's: the cabinet
never imports firmware), so a file the unit would refuse is never written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import ModuleType

from monitor.table import crc as table_crc
from protocols import monitor_map as mm

from ..config.model import GroupConfig, Intersection
from ..config.monitor_table import monitor_table
from ..config.monitor_unit import SENSE_POLL_MS, TOLERANCE_MS, lamps_of
from ..errors import INPUT, ToolError
from .firmware_parser import load_parser

ROOT = Path(__file__).resolve().parent.parent.parent
_FW_PKG = "_smartcross_fw_munit"
UNIT_WDT_MS = 2000          # a hung unit resets (and its relay drops) within this
CFG_NAMES = dict(enumerate(mm.MU_CFG_NAMES))


def _unit_config(root: Path = ROOT) -> ModuleType:
    """firmware/munit/config.py as a private package, imported once."""
    return load_parser(_FW_PKG, root / "firmware" / "munit", ("config",),
                       "the monitor unit's config parser")


def unit_document(inter: Intersection, config: GroupConfig) -> dict:
    """monitor.json of the intersection's monitor unit."""
    u = inter.monitor_unit
    assert u is not None
    w = u.wiring
    bus = config.bus(u.bus)
    board = w.board
    table = monitor_table(inter)
    sense = []
    for g in inter.groups:
        s: dict = {"group": g.id}
        s.update({lamp: w.sense[g.id][lamp] for lamp in lamps_of(g.kind)})
        sense.append(s)
    return {
        "unit_id": u.id,
        "intersection": inter.id,
        "board": board.name,
        "modbus": {"address": u.address, "baud": bus.baud, "parity": bus.parity,
                   "uart": board.uart, "tx": board.tx, "rx": board.rx, "de": board.de},
        "relay": {"pin": w.relay, "active_low": False},
        "reset": {"pin": w.reset, "active_low": True},
        "sense": sense,
        "sense_active_low": False,
        "scan_ms": SENSE_POLL_MS,
        "tolerance_ms": TOLERANCE_MS,
        "startup_flash_ms": min(11000, max(4000, round(inter.startup_flash_s * 1000))),
        "wdt_ms": UNIT_WDT_MS,
        "table": table,
        "crc": table_crc(table),
    }


def unit_documents(config: GroupConfig) -> dict[str, dict]:
    """unit id -> monitor.json, for every intersection that has a unit."""
    return {i.monitor_unit.id: unit_document(i, config) for i in config.intersections
            if i.monitor_unit is not None}


def unit_verdict(doc: object) -> tuple[int, str]:
    cfg = _unit_config().parse(doc)
    return cfg.error, cfg.error_text


def check_unit_doc(doc: object, where: str) -> dict:
    """The document if the unit would run it, else ToolError (exit 2)."""
    code, text = unit_verdict(doc)
    if code != mm.MU_CFG_OK:
        raise ToolError(f"{where}: the monitor unit would refuse this file (error {code}, "
                        f"{CFG_NAMES.get(code, '?')}: {text})", INPUT)
    assert isinstance(doc, dict)
    return doc


def is_unit_doc(doc: object) -> bool:
    return isinstance(doc, dict) and "unit_id" in doc


def read_unit_json(path: str | os.PathLike[str]) -> dict:
    try:
        doc = json.loads(Path(path).read_bytes())
    except OSError as e:
        raise ToolError(f"{path}: cannot read ({e.strerror or e})", INPUT) from None
    except (ValueError, UnicodeDecodeError) as e:
        raise ToolError(f"{path}: not JSON ({e})", INPUT) from None
    return check_unit_doc(doc, str(path))


def provision_unit(config: GroupConfig, unit_id: str, source: str) -> dict | None:
    """monitor.json for `unit_id`, or None when no intersection has a unit of that id."""
    for inter in config.intersections:
        if inter.monitor_unit is not None and inter.monitor_unit.id == unit_id:
            doc = unit_document(inter, config)
            return check_unit_doc(doc, f"{source}: monitor unit {unit_id}")
    return None


def summary(doc: dict) -> str:
    mb = doc["modbus"]
    return (f"monitor unit {doc['unit_id']} ({doc.get('intersection', '?')}): address "
            f"{mb['address']}, {mb['baud']} baud {mb['parity']}, board {doc.get('board', '?')}, "
            f"transfer relay GPIO {doc['relay']['pin']}, lamp sense on "
            f"{sum(len(s) - 1 for s in doc['sense'])} lamps of {len(doc['sense'])} heads, "
            f"table CRC 0x{doc['crc']:08X}")
