"""The half-cycle input read: detector edges reach the timing core twice as often.

The service's cycle (service.py) polls every node and steps the core every 100 ms. A
loop's edge waits for the next poll of its node (0..100 ms) and then for the step: sampled
only once a cycle, the edge-to-core latency has a p99 just under 100 ms from the poll
alone, and the node's debounce and the transaction come on top (bench/fieldbus.py).

So half-way through each cycle, when the sweep has left the bus idle, the nodes with
loop detectors are read again: an FC03 read of the process image, which makes the node
sample its loops exactly as the cyclic FC23 poll does, but writes no command (the
commands of every node keep their place in the cycle, so the timing between groups on
different nodes is that of the sweep). When a read brings a detector change (presence
or fault), the core is stepped again at once, at the cycle's tenth: the core's time has
0.1 s resolution, and this is the same tenth seen a second time with newer inputs (a
repeated step with unchanged inputs changes nothing; tests/runtime). Its commands go out
with the next sweep, as the first step's would have: only the input is fresher.

A read that fails is not counted against the node, nor one that succeeds for it (its
link, and the status's poll counts, are the sweep's polls alone); a read is skipped when the sweep ran past the half-cycle (the bus is busy).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from protocols import register_map as rm

from ..config.model import Bus
from ..config.polling import CYCLE_S
from .fieldbus import BusLink
from .nodes import NodeState


def half_read_note(bus: Bus, sweep_s: float, readers: int) -> list[str]:
    """A line for the start-up report when the half-cycle read of `readers` detector nodes
    cannot happen on this bus: its sweep (`sweep_s` on the wire) runs past half a cycle."""
    if not readers or sweep_s <= CYCLE_S / 2:
        return []
    return [f"WARNING bus {bus.id}: its polls need {sweep_s * 1000:.0f} ms, more than half the "
            f"cycle, so its {readers} node(s) with loop detectors are read once a cycle, not "
            "twice: a detector edge may wait a whole cycle for the timing core. Raise the "
            "baud rate or split the bus."]


def input_nodes(by_bus: dict[str, list[NodeState]]) -> dict[str, list[NodeState]]:
    """The nodes with loop detectors, per bus (buses without any left out)."""
    out = {bid: [n for n in nodes if n.layout.detectors] for bid, nodes in by_bus.items()}
    return {bid: nodes for bid, nodes in out.items() if nodes}


async def _read_bus(link: BusLink, nodes: list[NodeState]) -> bool:
    changed = False
    for node in nodes:
        if not (link.connected and node.online and node.image):
            continue
        before = (node.image["det_presence"], node.image["det_fault"])
        tx = await link.read_image(node.layout.node.address)
        if tx.ok and len(tx.regs or ()) == rm.POLL_READ_COUNT:
            image = rm.decode_process_image(tx.regs, len(node.layout.groups))
            node.image = image
            changed |= (image["det_presence"], image["det_fault"]) != before
    return changed


async def read_inputs(links: dict[str, BusLink], nodes: dict[str, list[NodeState]]) -> bool:
    """Read every node with detectors once (buses in parallel); True if any detector's
    presence or fault differs from what the last poll brought."""
    done = await asyncio.gather(*(_read_bus(links[b], ns) for b, ns in nodes.items()
                                  if b in links))
    return any(done)


async def half_cycle(links: dict[str, BusLink], nodes: dict[str, list[NodeState]],
                     stop: asyncio.Event, wait: float, scale: float,
                     step: Callable[[], None]) -> float:
    """Half-way to the next cycle (due in `wait` real seconds), read the detector nodes
    again; a detector change calls `step` (the core, at this cycle's tenth, at once). The
    wait that is left: 0 on a stop (the next cycle begins it now)."""
    half = wait - CYCLE_S / 2 / scale
    if not nodes or half <= 0:
        return wait
    t = time.monotonic()
    try:
        await asyncio.wait_for(stop.wait(), timeout=half)
        return 0.0                        # a stop: the next cycle begins it now
    except TimeoutError:
        pass
    if await read_inputs(links, nodes):
        step()
    return wait - (time.monotonic() - t)
