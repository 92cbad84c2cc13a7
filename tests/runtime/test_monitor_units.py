"""The cabinet's view of a monitor unit (controller/runtime/units.py): when it must keep its
intersection in flash. Pure bookkeeping: fed status blocks and failed reads with times."""

from controller.config import load
from controller.runtime.units import unit_states
from monitor.violation import KINDS
from protocols import monitor_map as mm

from sc_paths import ROOT

CFG = load(ROOT / "examples" / "astana_monitor_unit.toml")


def regs(state=mm.MU_NORMAL, relay=1, crc=None, faults=0, first=(None, None), cfg_error=0):
    u = unit_states(CFG.intersections)["kbt-mu"]
    c = u.expected_crc if crc is None else crc
    r = [0] * mm.MU_BLOCK_COUNT
    r[mm.MU_LAYOUT] = mm.MU_LAYOUT_VERSION
    r[mm.MU_FW_VERSION] = 1 << 8
    r[mm.MU_STATE], r[mm.MU_RELAY], r[mm.MU_FAULTS] = state, relay, faults
    r[mm.MU_TABLE_CRC], r[mm.MU_TABLE_CRC + 1] = c >> 16, c & 0xFFFF
    r[mm.MU_CONFIG_ERROR] = cfg_error
    r[mm.MU_FIRST_GROUPS] = mm.first_groups(*first)
    return r


def unit():
    return unit_states(CFG.intersections)["kbt-mu"]


def test_healthy_unit_lets_the_intersection_run():
    u = unit()
    assert u.blocks_intersection(0.0) == "not answering"
    u.answered(10.0, regs())
    assert u.blocks_intersection(10.0) is None


def test_silence_beyond_the_comm_timeout_flashes():
    u = unit()
    u.answered(10.0, regs())
    for t in (10.1, 10.2, 10.3, 10.4):
        u.missed("timeout")
        assert u.blocks_intersection(t) is None, t          # 400 ms: not yet
    u.missed("timeout")
    assert "silent for more than its 400 ms" in u.blocks_intersection(10.5)
    u.answered(10.6, regs())
    assert u.blocks_intersection(10.6) is None


def test_a_transfer_names_its_fault_and_groups():
    u = unit()
    u.answered(1.0, regs(state=mm.MU_TRANSFER, relay=0, faults=1 << KINDS.index("conflict"),
                         first=(0, 2)))
    why = u.blocks_intersection(1.0)
    assert why.startswith("transferred to flash (conflict V1/V3)") and "local reset" in why


def test_another_table_crc_a_start_up_flash_and_a_bad_file_all_flash():
    u = unit()
    u.answered(1.0, regs(crc=0x12345678))
    assert "table CRC 0x12345678" in u.blocks_intersection(1.0)
    u.answered(1.1, regs(state=mm.MU_STARTING, relay=0))
    assert "start-up flash" in u.blocks_intersection(1.1)
    u.answered(1.2, regs(cfg_error=mm.MU_CFG_CRC))
    assert "crc-mismatch" in u.blocks_intersection(1.2)


def test_status_shows_the_unit_and_its_problem():
    from controller.runtime.status import render

    u = unit()
    u.answered(1.0, regs(crc=0x12345678))
    doc = {"group": "g", "local_time": "t", "cycles": 1, "overruns": 0, "bus_ms": {},
           "intersections": {}, "nodes": {}, "parking": {},
           "monitor_units": {u.id: u.snapshot(1.0)}}
    text = render(doc)
    assert "kbt-mu (cabinet-rs485#9, kb-turan): online, normal, relay energised, table CRC " \
           "0x12345678  PROBLEM: table CRC 0x12345678" in text
