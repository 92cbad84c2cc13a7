"""The field tooling knows the monitor unit: `nodes provision` writes its monitor.json,
`flash` deploys the same bundle with it onto a board (whose boot check passes), and `nodes
scan` lists the unit beside the nodes, with its table CRC compared to the configuration's."""

from __future__ import annotations

import json

import pytest

from controller.cli import main
from controller.config import load
from controller.provisioning import node_documents
from controller.provisioning.unit_file import unit_documents
from controller.tooling import bundle
from hil.bus import RS485Bus
from hil.emu.host import Board
from hil.monitor_unit import MonitorBoard
from hil.repl import ReplBoard
from hil.rig import HOST_BUDGET_MS

from sc_paths import ROOT

pytestmark = [pytest.mark.micropython, pytest.mark.pty]

CONFIG = ROOT / "examples" / "astana_monitor_unit.toml"


def test_provision_flash_and_boot_check_of_a_unit(tmp_path, capsys):
    unit_json = tmp_path / "kbt-mu.json"
    assert main(["nodes", "provision", str(CONFIG), "kbt-mu", "-o", str(unit_json)]) == 0
    assert "monitor unit kbt-mu (kb-turan): address 9" in capsys.readouterr().err
    doc = json.loads(unit_json.read_text())
    built = tmp_path / "fw"
    bundle.build(built)
    with ReplBoard(tmp_path / "fs") as board:
        board.wait_console(">>> ")
        code = main(["flash", "--port", board.port, "--node", str(unit_json), "--bundle",
                     str(built), "--boot-timeout", "30"])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert f"flash: monitor unit kbt-mu (Modbus address 9, 115200 baud N, table CRC " \
               f"0x{doc['crc']:08X})" in out
        assert 'its boot check says "manifest: ok' in out
        assert "done: monitor unit kbt-mu deployed and verified" in out
        assert (board.fs / "monitor.json").read_bytes() == unit_json.read_bytes()
        assert not (board.fs / "node.json").exists()
        m = bundle.Manifest.parse((board.fs / "manifest.json").read_bytes(), "board")
        assert m.node_id == "kbt-mu" and m.safety_crc == doc["crc"]
        assert m.entry("monitor.json") is not None


def test_a_node_json_passed_where_a_unit_file_is_refused_by_the_units_parser(tmp_path, capsys):
    bad = unit_documents(load(CONFIG))["kbt-mu"]
    bad["table"]["groups"][0]["amber_ms"] = 1000        # not what its CRC covers
    p = tmp_path / "monitor.json"
    p.write_text(json.dumps(bad))
    assert main(["flash", "--port", str(tmp_path / "none"), "--node", str(p)]) == 2
    assert "the monitor unit would refuse this file" in capsys.readouterr().err


def test_scan_lists_the_unit_beside_the_nodes(capsys):
    cfg = load(CONFIG)
    bus = RS485Bus(baud=115200)
    boards = []
    try:
        for doc in node_documents(cfg).values():
            b = Board(doc)
            b.start()
            bus.attach(b)
            boards.append(b)
        unit = MonitorBoard(unit_documents(cfg)["kbt-mu"])
        unit.start()
        bus.attach(unit)
        boards.append(unit)
        code = main(["nodes", "scan", "--port", bus.port, "--json", "--config", str(CONFIG),
                     "--timeout-ms", str(HOST_BUDGET_MS), "--last", "12"])
        out, err = capsys.readouterr()
        assert code == 0, err
        doc = json.loads(out)
        units = [n for n in doc["nodes"] if n["kind"] == "monitor-unit"]
        assert [(n["address"], n["node_id"]) for n in units] == [(9, "kbt-mu")]
        assert units[0]["safety_crc"] == f"{unit_documents(cfg)['kbt-mu']['crc']:08X}"
        assert units[0]["mode"].startswith("monitor ") and units[0]["groups"] == 6
        assert doc["config_problems"] == []
        assert {n["node_id"] for n in doc["nodes"]} == {"kbt-1", "kbt-2", "kbt-mu"}
    finally:
        for b in boards:
            b.close()
        bus.close()
