"""The monitor unit on the rig: an emulated monitor board on the RS-485 line beside the
nodes, read by the real cabinet service. (The two scenarios, monitor_unit_conflict and
monitor_unit_dies, run with every other in test_hil_scenarios.py.)"""

import json
from pathlib import Path

import pytest
import serial

from controller.config import load
from controller.provisioning.unit_file import unit_documents
from hil.emu import patience
from hil.rig import HOST_BUDGET_MS
from hil.scenario import ScenarioError, load_scenario
from monitor.table import crc
from protocols import monitor_map as mm
from protocols.rtu import master
from protocols.rtu.const import ILLEGAL_FUNCTION, ModbusError

ROOT = Path(__file__).resolve().parent.parent.parent
CONFIG = "examples/astana_monitor_unit.toml"


def status(r):
    return (r.status() or {}).get("monitor_units", {}).get("kbt-mu", {})


def flash_reason(r):
    return ((r.status() or {}).get("intersections", {}).get("kb-turan", {})
            .get("flash_reason") or "")


@pytest.mark.hil
@pytest.mark.micropython
@pytest.mark.pty
def test_a_unit_provisioned_with_another_table_keeps_its_intersection_in_flash(rig):
    docs = unit_documents(load(ROOT / CONFIG))
    doc = json.loads(json.dumps(docs["kbt-mu"]))
    doc["table"]["groups"][0]["min_green_ms"] -= 2000     # a table the cabinet never made
    doc["crc"] = crc(doc["table"])
    r = rig(CONFIG, unit_docs={"kbt-mu": doc})
    r.wait_until(lambda: "table CRC" in flash_reason(r), 30, "the CRC mismatch reported")
    assert f"0x{doc['crc']:08X}" in flash_reason(r)
    r.run_for(8)                               # past the unit's start-up flash: still flash
    st = r.status()
    assert st["intersections"]["kb-turan"]["mode"] == "flash"
    assert "table CRC" in flash_reason(r)
    assert status(r)["state"] == "normal" and status(r)["online"]


@pytest.mark.hil
@pytest.mark.micropython
@pytest.mark.pty
def test_the_unit_answers_status_and_refuses_every_write_on_the_line(rig):
    r = rig(CONFIG, controller=False)
    # the emulated unit answers when the host runs its process: the rig's budget for a
    # reply, stretched on a busy host (0.5 s once turned a late answer into a bad frame)
    ser = serial.Serial(r.bus.port, 115200, timeout=patience.scaled(HOST_BUDGET_MS / 1000))
    try:
        def ask(req):
            ser.reset_input_buffer()
            ser.write(req)
            want = master.response_length(req)
            buf = b""
            while len(buf) < want:
                got = ser.read(want - len(buf))
                if not got:
                    break
                buf += got
                if len(buf) >= 5 and buf[1] & 0x80:
                    break
            return master.decode(req, buf)

        regs = None
        for _ in range(20):                    # the unit may still be booting
            try:
                regs = ask(master.read_input_registers(9, mm.MU_BLOCK, mm.MU_BLOCK_COUNT))
                break
            except (ModbusError, ValueError):
                r.run_for(0.5)
        assert regs is not None
        st = mm.decode_status(regs)
        assert st["table_crc"] == unit_documents(load(ROOT / CONFIG))["kbt-mu"]["crc"]
        assert st["groups"] == 6 and st["config_error"] == mm.MU_CFG_OK
        for req in (master.write_register(9, mm.MU_STATE, mm.MU_NORMAL),
                    master.write_registers(9, mm.MU_FAULTS, [0, 0]),
                    master.write_coil(9, 0, True),
                    master.read_write_registers(9, 0, 4, mm.MU_STATE, [1])):
            with pytest.raises(ModbusError) as e:
                ask(req)
            assert e.value.code == ILLEGAL_FUNCTION
    finally:
        ser.close()


def _scenario(tmp_path, body):
    p = tmp_path / "s.toml"
    p.write_text(f'name = "s"\nconfig = "{ROOT / CONFIG}"\nduration_s = 10\n{body}')
    return p


def test_a_scenario_naming_an_unknown_unit_or_node_is_refused_with_its_key(tmp_path):
    with pytest.raises(ScenarioError) as e:
        load_scenario(_scenario(tmp_path, 'unguarded_node = "nope"\n[[fault]]\nat_s = 1\n'
                                'kind = "monitor_unit_hang"\nunit = "mu-x"\nduration_s = 1\n'))
    text = str(e.value)
    assert "unguarded_node: names node 'nope'" in text
    assert "fault[0]: names monitor unit 'mu-x'" in text


def test_the_unit_scenarios_ask_for_what_the_issue_asks():
    c = load_scenario(ROOT / "hil" / "scenarios" / "monitor_unit_conflict.toml")
    assert c.unguarded_node == "kbt-1" and c.expect["transfer_within_s"] == 0.5
    d = load_scenario(ROOT / "hil" / "scenarios" / "monitor_unit_dies.toml")
    assert d.expect["flash_within_s"] == 1.0
    assert [f.kind for f in d.faults] == ["monitor_unit_hang"]
