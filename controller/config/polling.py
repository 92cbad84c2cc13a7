"""The cabinet's poll cycle: how often each node of a bus is polled, and the wire time of
one cycle's polls. Pure arithmetic (no I/O, no pymodbus), so that `smartcross check` can
hold a node's comm watchdog against it (controller/config/buses.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from protocols import register_map as rm
from protocols.modbus_rtu import silence_us

if TYPE_CHECKING:
    from .model import Bus

CYCLE_S = 0.1                # the runtime's cycle: one poll of every node, one core step
TURNAROUND_S = 0.0025        # what a node may take to answer, in the wire budget

BITS_PER_CHAR = {"N": 10, "E": 11, "O": 11}
POLL_REQUEST_BYTES = 9 + 2 * rm.POLL_WRITE_COUNT + 2     # FC23 request ADU
POLL_RESPONSE_BYTES = 3 + 2 * rm.POLL_READ_COUNT + 2     # FC23 response ADU


def poll_wire_s(baud: int, parity: str = "N", stopbits: int = 1, nodes: int = 1,
                turnaround_s: float = 0.0) -> float:
    """Wire time of one cycle's polls: characters, two silences and turnaround per node."""
    bits = BITS_PER_CHAR[parity] + (stopbits - 1)
    chars = POLL_REQUEST_BYTES + POLL_RESPONSE_BYTES
    per_node = chars * bits / baud + 2 * silence_us(baud, bits) / 1e6 + turnaround_s
    return nodes * per_node


def bus_wire_s(bus: Bus, nodes: int) -> float:
    """Wire time of one cycle's polls of `nodes` nodes on `bus`, with their turnaround."""
    return poll_wire_s(bus.baud, bus.parity, bus.stopbits, nodes, TURNAROUND_S)


def bus_period_s(bus: Bus, nodes: int) -> float:
    """How often each node of `bus` is polled: every cycle, or as often as the wire allows
    when its polls need longer than a cycle (the cycle stretches)."""
    return max(CYCLE_S, bus_wire_s(bus, nodes))
