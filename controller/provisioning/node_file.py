"""`smartcross nodes provision`: one node's node.json from the group configuration, as a file.

The document comes from document.py (pins, bus settings, and the guard's safety tables with
their CRC, from layout.py: the controller and the node agree by construction).
Before anything is written it is read back through the node's own parser,
firmware/node/config.py, run here on CPython: a file the node would refuse is never written.
The same check guards `smartcross flash` against a hand-edited node.json.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from types import ModuleType

from protocols import register_map as rm
from protocols import safety_tables

from ..errors import INPUT, ToolError
from .document import ProvisionError, node_document
from .firmware_parser import load_parser
from .layout import layouts

ROOT = Path(__file__).resolve().parent.parent.parent

CFG_NAMES = dict(enumerate(rm.CFG_NAMES))
_FW_PKG = "_smartcross_fw_node"


def _firmware_config(root: Path = ROOT) -> ModuleType:
    """firmware/node/config.py (and settings.py) as a private package, imported once."""
    return load_parser(_FW_PKG, root / "firmware" / "node", ("settings", "config"),
                       "the node's config parser")


def node_verdict(doc: object) -> tuple[int, str]:
    """(CONFIG_ERROR code, text) the node's own parser gives this document; (0, "") = ok."""
    cfg = _firmware_config().parse(doc)
    return cfg.error, cfg.error_text


def check_node_doc(doc: object, where: str) -> dict:
    """The node.json document if the node would run it, else ToolError (exit 2)."""
    code, text = node_verdict(doc)
    if code != rm.CFG_OK:
        raise ToolError(f"{where}: the node would refuse this file "
                        f"(CONFIG_ERROR {code}, {CFG_NAMES.get(code, '?')}: {text})", INPUT)
    assert isinstance(doc, dict)
    tables = doc["safety"]
    problem = safety_tables.validate(tables)
    if problem or tables.get("crc") != safety_tables.crc(tables):
        raise ToolError(f"{where}: safety tables refused ({problem or 'CRC mismatch'})", INPUT)
    return doc


def read_node_json(path: str | os.PathLike[str]) -> dict:
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ToolError(f"{path}: cannot read ({e.strerror or e})", INPUT) from None
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise ToolError(f"{path}: not JSON ({e})", INPUT) from None
    return check_node_doc(doc, str(path))


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write a whole file or nothing (temporary file, then rename)."""
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=target.name + ".", dir=target.parent or ".")
    except OSError as e:
        raise ToolError(f"{path}: cannot write ({e.strerror or e})", INPUT) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except OSError as e:
        os.unlink(tmp)
        raise ToolError(f"{path}: cannot write ({e.strerror or e})", INPUT) from None


def provision(config_path: str, node_id: str) -> dict:
    """node.json for `node_id` of the group configuration (ConfigError if it is invalid)."""
    return provision_noted(config_path, node_id)[0]


def provision_noted(config_path: str, node_id: str) -> tuple[dict, list[str]]:
    """node.json for `node_id`, and what the technician should know about it (the lamps
    its board has no sense input for); for a monitor unit's id, its monitor.json."""
    from ..config import load
    from .unit_file import provision_unit

    config = load(config_path)
    lays = layouts(config)
    if node_id not in lays:
        unit = provision_unit(config, node_id, config_path)   # a monitor unit's monitor.json
        if unit is not None:
            return unit, []
        units = [i.monitor_unit.id for i in config.intersections if i.monitor_unit]
        known = ", ".join(sorted(lays)) or "none"
        raise ToolError(f"{config_path}: no node {node_id!r} (nodes: {known}"
                        + (f"; monitor units: {', '.join(units)}" if units else "") + ")",
                        INPUT)
    try:
        doc = node_document(lays[node_id], config)
    except ProvisionError as e:
        raise ToolError(f"{config_path}: node {node_id}: {e}", INPUT) from None
    if doc["safety"]["crc"] != lays[node_id].safety_crc():
        raise ToolError(f"node {node_id}: provisioned CRC differs from the controller's", INPUT)
    note = lays[node_id].wiring.sense_note()
    return (check_node_doc(doc, f"{config_path}: node {node_id}"),
            [f"node {node_id}: {note}"] if note else [])


def read_field_json(path: str | os.PathLike[str]) -> dict:
    """A node's node.json or a monitor unit's monitor.json, checked by its own parser."""
    from . import unit_file

    try:
        doc = json.loads(Path(path).read_bytes())
    except (OSError, ValueError, UnicodeDecodeError):
        return read_node_json(path)              # says what is wrong with the file
    if unit_file.is_unit_doc(doc):
        return unit_file.check_unit_doc(doc, str(path))
    return check_node_doc(doc, str(path))


def render(doc: dict) -> bytes:
    return (json.dumps(doc, indent=1) + "\n").encode()


def summary(doc: dict) -> str:
    if "unit_id" in doc:
        from .unit_file import summary as unit_summary

        return unit_summary(doc)
    mb = doc["modbus"]
    groups = ", ".join(g["id"] for g in doc["groups"]) or "none"
    return (f"node {doc['node_id']} ({doc.get('intersection', '?')}): address {mb['address']}, "
            f"{mb['baud']} baud {mb['parity']}, groups {groups}, "
            f"{len(doc.get('detectors', []))} detectors, {len(doc.get('bays', []))} bays, "
            f"board {doc.get('board', '?')}, "
            f"safety CRC 0x{doc['safety']['crc']:08X}")
