"""The half-cycle read of the nodes with loop detectors (controller/runtime/inputs.py),
against emulated nodes on the emulated line: it reads only those nodes, writes no command,
and says when a detector changed."""

import asyncio

import pytest

from controller.config import load
from controller.provisioning import layouts
from controller.runtime.fieldbus import BusLink
from controller.runtime.inputs import input_nodes, read_inputs
from controller.runtime.nodes import NodeState
from protocols import register_map as rm

from sc_paths import ROOT

pytestmark = [pytest.mark.hil, pytest.mark.micropython, pytest.mark.pty]
CORRIDOR = "examples/corridor.toml"
PATIENCE = 60            # tries (each a 0.5 s timeout at worst): generous, for a loaded host


def test_only_nodes_with_loops_are_read_again():
    cfg = load(ROOT / CORRIDOR)
    nodes = {nid: NodeState(lay, 3) for nid, lay in layouts(cfg).items()}
    by_bus = {b.id: [n for n in nodes.values() if n.layout.node.bus == b.id]
              for b in cfg.buses}
    chosen = input_nodes(by_bus)
    assert {n.id for ns in chosen.values() for n in ns} == {
        n.id for n in nodes.values() if n.layout.detectors}
    assert all(not n.layout.detectors for n in nodes.values()
               if n not in chosen.get(n.layout.node.bus, []))


def test_a_detector_edge_is_seen_by_the_read_and_no_command_is_written(rig):
    r = rig(CORRIDOR, controller=False, traffic_scale=0.0)
    cfg = r.config
    bus = cfg.buses[0]
    nodes = {nid: NodeState(lay, 3) for nid, lay in layouts(cfg).items()}
    chosen = input_nodes({bus.id: list(nodes.values())})
    node = chosen[bus.id][0]
    det = node.layout.detectors[0]
    pin = next(d["pin"] for d in r.docs[node.id]["detectors"] if d["id"] == det.id)

    async def scenario():
        link = BusLink(bus, r.bus.port, timeout_s=0.5, retries=1)
        assert await link.connect()
        try:
            for n in chosen[bus.id]:                 # the sweep's poll: online, an image
                for _ in range(PATIENCE):            # a loaded host: until the node answers
                    tx = await link.poll(n.layout.node.address, 7, rm.MODE_FLASH, [])
                    if tx.ok:
                        break
                assert tx.ok, tx.error
                n.answered(tx.regs)
            polls = {n.id: n.polls for n in chosen[bus.id]}
            quiet = await read_inputs({bus.id: link}, chosen)
            r.boards[node.id].set_input(pin, 1)
            seen = False
            for _ in range(PATIENCE):                # the node's debounce, then a read
                await asyncio.sleep(0.02)
                if await read_inputs({bus.id: link}, chosen):
                    seen = True
                    break
            again = await read_inputs({bus.id: link}, chosen)
            status = await link.read_image(node.layout.node.address)
        finally:
            link.close()
        return quiet, seen, again, polls, status

    quiet, seen, again, polls, status = asyncio.run(scenario())
    assert quiet is False                            # nothing changed: nothing to step for
    assert seen is True and node.image["det_presence"] & 1
    assert again is False                            # the same presence: no second step
    # the reads are not the sweep's polls: the link's counts are untouched, and the node's
    # accepted heartbeat is still the one the poll wrote (no command went out)
    assert {n.id: n.polls for n in chosen[bus.id]} == polls
    assert status.ok and status.regs[rm.PI_HEARTBEAT - rm.PI_BLOCK] == 7


@pytest.mark.parametrize("baud, warned", [(115200, False), (38400, True)])
def test_the_start_up_report_says_when_the_half_cycle_read_cannot_fit(tmp_path, baud, warned):
    from controller.runtime.service import Service, ServiceOptions

    path = tmp_path / "corridor.toml"
    path.write_text((ROOT / CORRIDOR).read_text().replace("baud = 115200", f"baud = {baud}"))
    svc = Service(load(path), ServiceOptions(ports={}, data=tmp_path / "data"))
    report = svc.budget_report()
    svc.record.close()
    assert not report[0].startswith("WARNING")            # the cycle itself fits
    half = [line for line in report if "read once a cycle" in line]
    assert bool(half) == warned, report
    if warned:
        assert "its 3 node(s) with loop detectors" in half[0]     # a1-n1, a2-det, a3-n1
