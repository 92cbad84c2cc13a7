"""[[bus]] and [[intersection.node]]: the RS-485 lines, the field nodes on them, what a
node's register map can carry, and each node's comm watchdog (`comm_timeout_ms`)."""

from __future__ import annotations

import math

from protocols import register_map as rm

from .boards import BOARDS, DEFAULT_BOARD
from .common import Declared
from .model import COMM_TIMEOUT_MS, COMM_TIMEOUT_RANGE_MS, PARKING_BAY, Bus, Intersection, Node
from .polling import bus_period_s
from .reader import Table

BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
COMM_TIMEOUT_POLLS = 3       # a node's comm watchdog outlasts this many poll cycles of its bus


def read_bus(t: Table, ident: str) -> Bus | None:
    port = t.get_str("port")
    baud = t.get_int("baud", 115200)
    if baud is not None and baud not in BAUDS:
        t.error("baud", f"must be a standard baud rate ({', '.join(map(str, BAUDS))}); got {baud}")
    parity = t.get_str("parity", "N", choices=("N", "E", "O"))
    stopbits = t.get_int("stopbits", 1, lo=1, hi=2)
    lo, hi = COMM_TIMEOUT_RANGE_MS
    comm_timeout = t.get_int("comm_timeout_ms", COMM_TIMEOUT_MS, lo=lo, hi=hi)
    t.finish()
    if None in (port, baud, parity, stopbits, comm_timeout):
        return None
    return Bus(ident, port, baud, parity, stopbits, comm_timeout)


def read_node(t: Table, ident: str, bus_ids: set[str]) -> Node | None:
    bus = t.get_str("bus")
    if bus is not None and bus not in bus_ids:
        t.error("bus", f"names bus {bus!r}, which is not defined in [[bus]]")
    address = t.get_int("address", lo=1, hi=247)
    board = t.get_str("board", None, choices=tuple(BOARDS))
    if board is None and not t.has("board"):
        board = DEFAULT_BOARD                                # a bad one stays None: reported
    for gone in ("outputs", "inputs"):
        if t.has(gone):
            t.seen.add(gone)
            t.error(gone, "is no longer used: the node's board says which pins it has ("
                    + " or ".join(f'board = "{b}"' for b in BOARDS) + ")")
    lo, hi = COMM_TIMEOUT_RANGE_MS
    comm_timeout = t.get_int("comm_timeout_ms", None, lo=lo, hi=hi)     # None: the bus's
    t.finish()
    if None in (bus, address, board) or bus not in bus_ids:
        return None
    if comm_timeout is None and t.has("comm_timeout_ms"):                # reported
        return None
    if t.has("outputs") or t.has("inputs"):
        return None
    return Node(ident, bus, address, board, comm_timeout)


def check_capacity(t: Table, groups: list, detectors: list, nodes: dict) -> None:
    """What one node's register map can carry (protocols/register_map.py)."""
    for n in nodes:
        counts = (("signal groups", sum(g.node == n for g in groups), rm.MAX_GROUPS),
                  ("detectors", sum(d.node == n and d.kind != PARKING_BAY for d in detectors),
                   rm.MAX_DETECTORS),
                  ("parking bays", sum(d.node == n and d.kind == PARKING_BAY for d in detectors),
                   rm.MAX_BAYS))
        for what, count, limit in counts:
            if count > limit:
                t.error(f"node[{n}]", f"has {count} {what}; a node carries at most {limit}")


def check_addresses(root: Table, inters: list[Intersection]) -> None:
    seen: dict[tuple[str, int], str] = {}
    ids: dict[str, str] = {}
    for i in inters:
        for n in i.nodes:
            if n.id in ids:
                root.error(f"intersection[{i.id}].node[{n.id}]",
                           f"node id {n.id!r} is also used in intersection {ids[n.id]}")
            ids[n.id] = i.id
            key = (n.bus, n.address)
            if key in seen:
                root.error(f"intersection[{i.id}].node[{n.id}].address",
                           f"address {n.address} on bus {n.bus} is already used by node {seen[key]}")
            seen[key] = n.id


def poll_period_ms(bus: Bus, nodes: int) -> int:
    """How often the runtime polls each node of `bus`: its cycle (100 ms), or longer when
    the bus's polls take longer on the wire (the cycle stretches)."""
    return math.ceil(bus_period_s(bus, nodes) * 1000 - 1e-6)


def check_comm_timeouts(root: Table, buses: list[Bus], inters: list[Intersection]) -> None:
    """Every node's comm watchdog (its own `comm_timeout_ms`, else its bus's) must outlast
    COMM_TIMEOUT_POLLS poll cycles of its bus, or a node flashes between good polls."""
    on_bus = {b.id: [(i, n) for i in inters for n in i.nodes if n.bus == b.id] for b in buses}
    for b in buses:
        period = poll_period_ms(b, len(on_bus[b.id]))
        floor = COMM_TIMEOUT_POLLS * period
        why = (f"{COMM_TIMEOUT_POLLS} poll cycles of bus {b.id} "
               f"({COMM_TIMEOUT_POLLS} × {period} ms = {floor} ms"
               + (f", {len(on_bus[b.id])} nodes at {b.baud} baud stretch its cycle"
                  if period > poll_period_ms(b, 0) else "") + ")")
        if b.comm_timeout_ms < floor:
            root.error(f"bus[{b.id}].comm_timeout_ms", f"is {b.comm_timeout_ms} ms, shorter "
                       f"than {why}: its nodes would flash between good polls")
        for i, n in on_bus[b.id]:
            if n.comm_timeout_ms is not None and n.comm_timeout_ms < floor:
                root.error(f"intersection[{i.id}].node[{n.id}].comm_timeout_ms",
                           f"is {n.comm_timeout_ms} ms, shorter than {why}: the node would "
                           "flash between good polls")


def node_map(nodes: list[Node | None], node_tables: list[tuple[Table, str]]) -> Declared:
    return Declared({n.id: n for n in nodes if n}, {nid for _, nid in node_tables})
