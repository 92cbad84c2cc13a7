"""A node's configuration file (node.json) from the intersection-group configuration.

The node's guard tables come from `layout.NodeLayout.safety_tables()`, with their
CRC, so the node and the cabinet agree by construction; they carry the node's start-up
timing too (startup_flash_ms, all_red_ms: node.json has no separate `startup` section any
more, the firmware refuses one). Pins come from the node's wiring, resolved and checked
when the configuration was read (controller/config/wiring.py): lamp outputs, lamp sense,
detector and bay inputs, and the board's own RS-485, maintenance and status-LED pins
(controller/config/boards.py). node.json names the board, so the node refuses a pin its
module does not have.
"""

from __future__ import annotations

from protocols import safety_tables

from ..config.model import PED_BUTTON, GroupConfig
from .layout import NodeLayout, layouts

# Debounce of a detector input. A loop detector card's presence output is already filtered
# by the card (about 10 ms response, shared/DOMAIN.md); the node only rejects the bounce of
# its output relay (a few ms): every ms of it is latency from the vehicle to the timing
# core. A push button bounces longer, and its call is latched by the core anyway.
LOOP_DEBOUNCE_MS = 5
BUTTON_DEBOUNCE_MS = 20


class ProvisionError(Exception):
    pass


def node_document(layout: NodeLayout, config: GroupConfig) -> dict:
    inter = layout.intersection
    node = layout.node
    bus = config.bus(node.bus)
    wiring = layout.wiring
    board = wiring.board
    groups = []
    for g in layout.groups:
        head = wiring.heads[g.id]
        doc = {"id": g.id, **head.lamps, "flash": inter.flash_aspect,
               "feedback": dict(head.sense)}
        groups.append(doc)
    detectors = [{"id": d.id, "pin": wiring.inputs[d.id], "active_low": False,
                  "debounce_ms": BUTTON_DEBOUNCE_MS if d.kind == PED_BUTTON else LOOP_DEBOUNCE_MS,
                  "no_activity_min": min(255, round(d.no_activity_min)),
                  "max_presence_min": min(255, round(d.max_presence_min)),
                  "erratic_per_min": min(255, round(d.erratic_per_min))}
                 for d in layout.detectors]
    bays = [{"id": b.id, "type": "digital", "pin": wiring.inputs[b.id], "active_low": False,
             "debounce_ms": 2000} for b in layout.bays]
    tables = layout.safety_tables()
    tables["crc"] = safety_tables.crc(tables)
    doc = {
        "node_id": node.id,
        "intersection": inter.id,
        "board": board.name,
        "modbus": {"address": node.address, "baud": bus.baud, "parity": bus.parity,
                   "uart": board.uart, "tx": board.tx, "rx": board.rx, "de": board.de,
                   "comm_timeout_ms": config.comm_timeout_ms(node)},
        "scan_ms": 10,
        "maintenance": {"pin": board.maintenance, "active_low": True},
    }
    if board.status_led is not None:
        doc["status_led"] = board.status_led
    doc.update({
        "groups": groups,
        "detectors": detectors,
        "bays": bays,
        "interval_s": 60,
        "safety": tables,
    })
    return doc


def node_documents(config: GroupConfig) -> dict[str, dict]:
    return {nid: node_document(lay, config) for nid, lay in layouts(config).items()}
