"""`smartcross nodes scan` on the HIL bus: emulated RS-485 line (hil/bus.py) with several
emulated nodes running the real firmware, provisioned from examples/corridor.toml."""

from __future__ import annotations

import json

import pytest
from tool_helpers import CORRIDOR, corridor_doc

from controller.cli import main
from controller.config import load
from controller.provisioning import layouts
from controller.tooling import bundle, scan
from hil.bus import RS485Bus, nodes_on_a_line
from hil.rig import HOST_BUDGET_MS
from protocols import safety_tables

pytestmark = [pytest.mark.micropython, pytest.mark.pty]

CORRIDOR_NODES = ("a1-n1", "a2-heads", "a2-det", "a3-n1")

# An emulated board answers when the host schedules its process: on a loaded machine that
# is hundreds of ms, not the few ms of a real node. The wait for a first byte gets the rig's
# real-time budget (hil/rig.py), so a busy machine does not turn a node silent.
HOST_MS = str(HOST_BUDGET_MS)


# A board's hello comes before its Modbus server listens: a scan right after boot on a busy
# host found no node at all. nodes_on_a_line yields once every node answers.
@pytest.fixture(scope="module")
def corridor_bus():
    with nodes_on_a_line([corridor_doc(n) for n in CORRIDOR_NODES]) as (bus, _):
        yield bus


def test_scan_finds_every_node_of_the_corridor_and_what_it_runs(corridor_bus, capsys):
    # 50 ms a silent address (the tool's 20 ms is for real nodes): 12 s for the line, and
    # the configured nodes that stayed silent are asked again with 0.5 s (scan.scan)
    code = main(["nodes", "scan", "--port", corridor_bus.port, "--json", "--config",
                 str(CORRIDOR), "--bus", "abay-rs485", "--timeout-ms", "50"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    lays = layouts(load(CORRIDOR))
    assert [(n["address"], n["node_id"]) for n in doc["nodes"]] == \
        sorted((lays[n].node.address, n) for n in CORRIDOR_NODES)
    fw = bundle.firmware_version()
    for n in doc["nodes"]:
        lay = lays[n["node_id"]]
        assert n["firmware"] == fw and n["layout_version"] == 1
        assert n["safety_crc"] == f"{lay.safety_crc():08X}"
        assert n["config_error"] == "ok" and n["reset_cause"] == "power-on"
        assert n["mode"] == "boot-flash" and n["uptime_s"] < 600
        assert n["groups"] == len(lay.groups) and n["detectors"] == len(lay.detectors)
        assert n["bays"] == len(lay.bays)
    assert doc["addresses"] == 247 and doc["garbled"] == [] and doc["config_problems"] == []
    assert "scanning 247 addresses" in err                  # the progress line
    # how long a scan takes at the tool's own 20 ms: bench/bus_scan.py (a figure, not a test)


def test_scan_prints_a_table_for_people(corridor_bus, capsys):
    assert main(["nodes", "scan", "--port", corridor_bus.port, "--last", "8",
                 "--timeout-ms", HOST_MS]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["addr", "node", "firmware", "layout", "safety", "CRC",
                                "uptime", "reset", "mode", "config", "faults"]
    a1 = next(line for line in lines if line.startswith("1 "))
    assert "a1-n1" in a1 and "power-on" in a1 and "boot-flash" in a1
    crc = layouts(load(CORRIDOR))["a1-n1"].safety_crc()
    assert f"{crc:08X}" in a1
    assert lines[-1].startswith("4 node(s) on ") and "8 addresses" in lines[-1]


def test_scan_says_where_the_bus_differs_from_the_configuration(capsys):
    good = corridor_doc("a1-n1")
    stale = corridor_doc("a2-heads")               # tables from an older configuration:
    stale["safety"]["intergreen_ms"][0][2] += 1000   # the node accepts them (CRC right)...
    stale["safety"]["crc"] = safety_tables.crc(stale["safety"])
    broken = corridor_doc("a3-n1")                 # ...this one refuses its file
    broken["safety"]["crc"] ^= 1
    stranger = corridor_doc("a2-det")
    stranger["modbus"]["address"] = 9
    stranger["node_id"] = "spare"
    with nodes_on_a_line([good, stale, broken, stranger]) as (bus, _):
        code = main(["nodes", "scan", "--port", bus.port, "--config", str(CORRIDOR),
                     "--last", "12", "--timeout-ms", HOST_MS])
    out = capsys.readouterr().out
    assert code == 1
    lays = layouts(load(CORRIDOR))
    assert (f"config: node a2-heads (address 2): safety CRC {stale['safety']['crc']:08X}, "
            f"the configuration gives {lays['a2-heads'].safety_crc():08X}") in out
    assert "config: node a3-n1 (address 4): config error crc-mismatch" in out
    assert "config: node a2-det (address 3) did not answer" in out
    assert "config: address 9: node 'spare' is not in the configuration" in out
    assert "node a1-n1" not in out.split("config:", 1)[1]


def test_an_empty_bus_is_an_error(capsys):
    bus = RS485Bus(baud=115200)
    try:
        res = scan.scan(bus.port, 115200, "N", 20.0, range(1, 248))
        assert main(["nodes", "scan", "--port", bus.port, "--last", "5"]) == 1
    finally:
        bus.close()
    assert res.nodes == [] and res.garbled == [] and res.others == []
    assert "no node answered" in capsys.readouterr().err


def test_bad_scan_input_is_a_message(capsys):
    assert main(["nodes", "scan", "--port", "/nonexistent/tty"]) == 2
    assert "cannot open" in capsys.readouterr().err
    assert main(["nodes", "scan", "--port", "/dev/null", "--first", "9", "--last", "3"]) == 2
    assert "--first and --last" in capsys.readouterr().err
