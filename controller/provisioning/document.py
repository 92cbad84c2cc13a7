"""A node's configuration file (node.json) from the intersection-group configuration.

The node's guard tables come from `layout.NodeLayout.safety_tables()`, with their
CRC, so the node and the cabinet agree by construction; they carry the node's start-up
timing too (startup_flash_ms, all_red_ms: node.json has no separate `startup` section any
more, the firmware refuses one). Pins: output channels, lamp
feedback, detector and bay inputs are given GPIO numbers in channel order from the
board's free pins (the UART, DE, maintenance and status-LED pins are reserved).
"""

from __future__ import annotations

from protocols import safety_tables

from ..config.model import PED_BUTTON, GroupConfig
from .layout import NodeLayout, layouts

MAX_PIN = 48                       # GPIO numbers the node accepts (ESP32-S3: 0..48)
UART = {"uart": 2, "tx": 17, "rx": 16, "de": 4}
MAINTENANCE_PIN = 0
STATUS_LED = 2
RESERVED = {UART["tx"], UART["rx"], UART["de"], MAINTENANCE_PIN, STATUS_LED}
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
    pool = [p for p in range(MAX_PIN + 1) if p not in RESERVED]
    out_ch = sorted({c for g in layout.groups for c in g.channels})
    needed = len(out_ch) + len(layout.groups) + len(layout.detectors) + len(layout.bays)
    if needed > len(pool):
        raise ProvisionError(f"node {node.id} needs {needed} pins, the board has {len(pool)}")
    it = iter(pool)
    out_pin = {c: next(it) for c in out_ch}
    groups = []
    for g in layout.groups:
        doc = {"id": g.id, "red": out_pin[g.channels[0]], "green": out_pin[g.channels[-1]],
               "flash": inter.flash_aspect, "feedback": {"red": next(it)}}
        if not g.is_pedestrian:
            doc["amber"] = out_pin[g.channels[1]]
        groups.append(doc)
    detectors = [{"id": d.id, "pin": next(it), "active_low": False,
                  "debounce_ms": BUTTON_DEBOUNCE_MS if d.kind == PED_BUTTON else LOOP_DEBOUNCE_MS,
                  "no_activity_min": min(255, round(d.no_activity_min)),
                  "max_presence_min": min(255, round(d.max_presence_min)),
                  "erratic_per_min": min(255, round(d.erratic_per_min))}
                 for d in layout.detectors]
    bays = [{"id": b.id, "type": "digital", "pin": next(it), "active_low": False,
             "debounce_ms": 2000} for b in layout.bays]
    tables = layout.safety_tables()
    tables["crc"] = safety_tables.crc(tables)
    return {
        "node_id": node.id,
        "intersection": inter.id,
        "modbus": {"address": node.address, "baud": bus.baud, "parity": bus.parity,
                   **UART, "comm_timeout_ms": config.comm_timeout_ms(node)},
        "scan_ms": 10,
        "maintenance": {"pin": MAINTENANCE_PIN, "active_low": True},
        "status_led": STATUS_LED,
        "groups": groups,
        "detectors": detectors,
        "bays": bays,
        "interval_s": 60,
        "safety": tables,
    }


def node_documents(config: GroupConfig) -> dict[str, dict]:
    return {nid: node_document(lay, config) for nid, lay in layouts(config).items()}
