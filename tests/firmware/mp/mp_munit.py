# The monitor unit on the unix port: its file, the lamp-sense scan, the latched transfer
# and its relay, the local reset, and a bus that answers status and refuses every write.
import json
import os

import machine
from munit import config
from munit.unit import LATCH_PATH, Status, Unit

from fx import eq, level, out
from monitor.table import crc
from protocols import monitor_map as mm
from protocols.modbus_rtu import ILLEGAL_FUNCTION, SlaveProtocol
from protocols.rtu import master
from protocols.rtu.const import ModbusError

RELAY, RESET = 21, 0
SENSE = {"V1": (4, 5, 6), "V2": (7, 15, 16), "P1": (17, None, 18)}
R, A, G = 1, 2, 4


def table():
    g = [{"id": "V1", "kind": "vehicle", "min_green_ms": 5000, "amber_ms": 3000,
          "red_amber": True, "flash_dont_walk": False},
         {"id": "V2", "kind": "vehicle", "min_green_ms": 5000, "amber_ms": 3000,
          "red_amber": True, "flash_dont_walk": False},
         {"id": "P1", "kind": "pedestrian", "min_green_ms": 5000, "amber_ms": 0,
          "red_amber": False, "flash_dont_walk": False}]
    return {"format": 1, "intersection": "x", "flash": "amber", "groups": g,
            "conflicts": [["V1", "V2", 5000], ["V2", "V1", 5000], ["V2", "P1", 5000],
                          ["P1", "V2", 8000]]}


def doc(**kw):
    t = table()
    sense = []
    for gid in ("V1", "V2", "P1"):
        r, a, g = SENSE[gid]
        s = {"group": gid, "red": r, "green": g}
        if a is not None:
            s["amber"] = a
        sense.append(s)
    d = {"unit_id": "mu-1", "board": "esp32s3",
         "modbus": {"address": 9, "baud": 115200, "parity": "N", "uart": 1, "tx": 43,
                    "rx": 44, "de": 8},
         "relay": {"pin": RELAY}, "reset": {"pin": RESET, "active_low": True},
         "sense": sense, "startup_flash_ms": 4000, "tolerance_ms": 100,
         "table": t, "crc": crc(t)}
    d.update(kw)
    return d


def setup():
    machine._levels.clear()
    machine._outputs.clear()
    level(RESET, 1)                 # the button is not pressed (active low)
    try:
        os.remove(LATCH_PATH)
    except OSError:
        pass


def show(lamps):
    for gid, bits in lamps.items():
        for k, b in ((0, R), (1, A), (2, G)):
            p = SENSE[gid][k]
            if p is not None:
                level(p, 1 if bits & b else 0)


def run(unit, t0, t1, step=10):
    t = t0
    while t < t1:
        unit.scan(t)
        t += step
    return t


def started():
    """A unit past its start-up with every head red."""
    u = Unit(config.parse(doc()), 0)
    eq(u.state, mm.MU_STARTING, "state at boot")
    eq(out(RELAY), 0, "relay dropped at boot")
    show({"V1": R, "V2": R, "P1": R})
    t = run(u, 0, 4200)
    eq(u.state, mm.MU_NORMAL, "state after the start-up flash")
    eq(out(RELAY), 1, "relay energised")
    return u, t


def test_config_good():
    c = config.parse(doc())
    eq(c.error, mm.MU_CFG_OK, c.error_text)
    eq(c.sense[2], [17, None, 18], "pedestrian sense")


def test_config_refusals():
    eq(config.parse(doc(crc=1)).error, mm.MU_CFG_CRC, "crc")
    bad = doc()
    bad["sense"] = bad["sense"][:2]
    c = config.parse(bad)
    eq(c.error, mm.MU_CFG_OTHER, "a head without sense")
    assert "P1" in c.error_text, c.error_text
    c = config.parse(doc(relay={"pin": 27}))            # S3: flash
    assert "flash" in c.error_text, c.error_text
    c = config.parse(doc(relay={"pin": 4}))             # a sense pin too
    assert "twice" in c.error_text, c.error_text
    eq(config.load("no-such.json").error, mm.MU_CFG_UNREADABLE, "missing file")


def test_bad_config_keeps_relay_dropped():
    u = Unit(config.parse(doc(crc=1)), 0)
    run(u, 0, 8000)
    eq(u.energised(), False, "energised")
    eq(out(RELAY), 0, "relay")


def test_normal_cycle_no_transfer():
    u, t = started()
    show({"V1": G, "V2": R, "P1": G})
    t = run(u, t, t + 6000)
    show({"V1": A, "V2": R, "P1": R})
    t = run(u, t, t + 3000)
    show({"V1": R, "V2": R, "P1": R})
    t = run(u, t, t + 5000)
    show({"V1": R, "V2": R | A, "P1": R})
    t = run(u, t, t + 1000)
    show({"V1": R, "V2": G, "P1": R})
    run(u, t, t + 6000)
    eq(u.state, mm.MU_NORMAL, "state")
    eq(out(RELAY), 1, "relay")


def test_conflict_transfers_within_window():
    u, t = started()
    show({"V1": G, "V2": G, "P1": R})
    t0 = t
    while u.state == mm.MU_NORMAL and t < t0 + 2000:
        u.scan(t)
        t += 10
    eq(u.state, mm.MU_TRANSFER, "state")
    eq(out(RELAY), 0, "relay dropped")
    assert t - t0 <= 460, "transfer %d ms after the conflict" % (t - t0)
    assert u.faults & 1, u.faults      # KINDS[0] = conflict
    eq(u.first, (0, 1), "first groups")
    # latched: the heads clear, the relay stays dropped
    show({"V1": R, "V2": R, "P1": R})
    run(u, t, t + 5000)
    eq(out(RELAY), 0, "relay still dropped")


def test_latch_survives_a_reset_until_local_reset():
    u, t = started()
    show({"V1": G, "V2": G, "P1": R})
    t = run(u, t, t + 1000)
    eq(u.state, mm.MU_TRANSFER, "state")
    show({"V1": R, "V2": R, "P1": R})
    again = Unit(config.parse(doc()), 0)                # the unit resets
    run(again, 0, 8000)
    eq(again.state, mm.MU_TRANSFER, "latched across the reset")
    eq(out(RELAY), 0, "relay")
    level(RESET, 0)                                     # the technician holds reset
    run(again, 8000, 8500)
    eq(again.state, mm.MU_TRANSFER, "a short press does nothing")
    run(again, 8500, 9200)
    eq(again.state, mm.MU_NORMAL, "reset")
    eq(out(RELAY), 1, "relay energised")
    level(RESET, 1)


def test_status_and_writes_refused():
    u, t = started()
    slave = SlaveProtocol(9, Status(u))
    req = master.read_holding_registers(9, mm.MU_BLOCK, mm.MU_BLOCK_COUNT)
    st = mm.decode_status(master.decode(req, bytes(slave.handle(req))))
    eq(st["state"], mm.MU_NORMAL, "state")
    eq(st["relay"], 1, "relay")
    eq(st["table_crc"], crc(table()), "crc")
    eq(st["groups"], 3, "groups")
    for w in (master.write_register(9, 3, 0), master.write_registers(9, 0, [0, 0]),
              master.write_coil(9, 0, True),
              master.read_write_registers(9, 0, 4, 3, [0])):
        try:
            master.decode(w, bytes(slave.handle(w)))
            raise AssertionError("a write was accepted")
        except ModbusError as e:
            eq(e.code, ILLEGAL_FUNCTION, "exception code")
    req = master.read_holding_registers(9, 10, 10)
    try:
        master.decode(req, bytes(slave.handle(req)))
        raise AssertionError("a read beyond the block")
    except ModbusError as e:
        eq(e.code, 2, "illegal address")


def test_latch_file_is_json():
    u, t = started()
    show({"V1": G, "V2": G, "P1": R})
    run(u, t, t + 1000)
    with open(LATCH_PATH) as f:
        d = json.load(f)
    assert d["faults"] & 1, d
