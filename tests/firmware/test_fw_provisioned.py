"""A node.json from controller/provision.py on an emulated board: the node accepts it, the
SAFETY_CRC it reports is the one the controller's identity check expects
(node_layout.safety_crc()), and that CRC covers the start-up timing the node runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.config.load import load
from controller.provisioning import ALL_RED_MARGIN_MS, NodeLayout, layouts, node_documents
from hil.emu.host import Board
from protocols import register_map as rm
from protocols import safety_tables
from protocols.rtu import master

pytestmark = pytest.mark.micropython

ROOT = Path(__file__).resolve().parent.parent.parent
EU = ROOT / "examples" / "eu_junction.toml"


@pytest.fixture(scope="module")
def provisioned() -> tuple[dict, NodeLayout]:
    config = load(EU)
    nid, doc = next(iter(node_documents(config).items()))
    return doc, layouts(config)[nid]


def test_startup_timing_is_in_the_tables_only(provisioned: tuple[dict, NodeLayout]) -> None:
    doc, layout = provisioned
    inter = layout.intersection
    assert "startup" not in doc, "one place for the start-up timing"
    tables = doc["safety"]
    assert tables["startup_flash_ms"] == round(inter.startup_flash_s * 1000)
    assert tables["all_red_ms"] == max(1000, round(inter.startup_all_red_s * 1000)
                                       - ALL_RED_MARGIN_MS)
    assert safety_tables.validate(tables) is None
    assert tables["crc"] == layout.safety_crc()
    assert safety_tables.encode(tables)[4] == safety_tables.VERSION_STARTUP


def test_node_reports_the_crc_the_controller_expects(provisioned: tuple[dict, NodeLayout]) -> None:
    doc, layout = provisioned
    unit = doc["modbus"]["address"]
    doc = dict(doc, modbus=dict(doc["modbus"], parity="N"))
    with Board(doc, clock="virtual") as b:
        b.advance(20)
        status = b.transact(master.read_holding_registers(unit, rm.STATUS_BLOCK,
                                                          rm.STATUS_BLOCK_COUNT))
        reg = lambda a: status[a - rm.STATUS_BLOCK]  # noqa: E731
        assert reg(rm.CONFIG_ERROR) == rm.CFG_OK
        crc = rm.join_u32(reg(rm.SAFETY_CRC), reg(rm.SAFETY_CRC + 1))
        assert crc == layout.safety_crc()


def test_changing_the_startup_timing_changes_the_identity() -> None:
    config = load(EU)
    lay = next(iter(layouts(config).values()))
    t = lay.safety_tables()
    other = dict(t, all_red_ms=t["all_red_ms"] + 100)
    assert safety_tables.crc(other) != safety_tables.crc(t)
