# node.json: what is accepted, and which CFG_* code each kind of malformed file gets;
# the boot counter and maintenance pin (unix port; files in a fresh working directory).
import json

from node import bootmode, config

from fx import clear_pins, eq, level, node_json
from protocols import register_map as rm
from protocols import safety_tables


def setup():
    clear_pins()


def code(d):
    return config.parse(d).error


def test_good_config():
    c = config.parse(node_json())
    eq(c.error, rm.CFG_OK, c.error_text)
    eq(c.address, 7)
    eq(len(c.groups), 3)
    eq(c.groups[2].kind, "pedestrian")
    eq(c.tables_crc, node_json()["safety"]["crc"])


def test_example_file_is_good():
    # The example shipped with the firmware (the test runs in a temp dir: find it).
    import sys

    for p in sys.path:
        if p.endswith("firmware"):
            c = config.load(p + "/node.example.json")
            eq(c.error, rm.CFG_OK, c.error_text)
            return
    raise AssertionError("firmware dir not on sys.path")


def test_json_error():
    with open("node.json", "w") as f:
        f.write('{"node_id": "x", "modbus": {')
    c = config.load("node.json")
    eq(c.error, rm.CFG_UNREADABLE, "a JSON syntax error is not a missing key")
    eq(c.groups, [])
    eq(c.address, 247, "answers on the fallback address")
    with open("node.json", "wb") as f:
        f.write(b"\xff\xfe{}")
    eq(config.load("node.json").error, rm.CFG_UNREADABLE, "not text")
    with open("node.json", "w") as f:
        f.write(json.dumps(node_json())[:-1])
    eq(config.load("node.json").error, rm.CFG_UNREADABLE, "cut short")
    with open("node.json", "w") as f:
        f.write(json.dumps(node_json()))
    eq(config.load("node.json").error, rm.CFG_OK, "the same file, whole")


def test_missing_file():
    eq(config.load("nope.json").error, rm.CFG_UNREADABLE)


def test_missing_key():
    d = node_json()
    del d["node_id"]
    eq(code(d), rm.CFG_OTHER)
    with open("node.json", "w") as f:
        f.write(json.dumps(d))
    eq(config.load("node.json").error, rm.CFG_OTHER, "readable JSON, a key missing")
    d = node_json()
    del d["groups"][0]["green"]
    eq(code(d), rm.CFG_OTHER)


def test_bad_modbus_field_falls_back_but_is_an_error():
    d = node_json()
    d["modbus"]["address"] = 300
    c = config.parse(d)
    eq(c.error, rm.CFG_OTHER)
    eq(c.address, 247)
    eq(c.baud, 115200, "the good fields are kept")
    eq(len(c.groups), 3, "the heads can still flash")


def test_no_tables():
    d = node_json()
    del d["safety"]
    eq(code(d), rm.CFG_NO_TABLES)


def test_invalid_tables():
    d = node_json()
    d["safety"]["groups"][0]["amber_ms"] = 2000        # below 3 s
    eq(code(d), rm.CFG_INVALID_TABLES)
    d = node_json()
    d["safety"]["intergreen_ms"] = [[0, 1, 5000]]       # 1 -> 0 missing
    eq(code(d), rm.CFG_INVALID_TABLES)


def test_crc_mismatch():
    d = node_json()
    d["safety"]["crc"] = (d["safety"]["crc"] + 1) & 0xFFFFFFFF
    eq(code(d), rm.CFG_CRC_MISMATCH)
    d = node_json()
    d["safety"]["intergreen_ms"][0][2] = 9000           # tables changed, crc not
    eq(code(d), rm.CFG_CRC_MISMATCH)


def test_groups_must_match_tables():
    d = node_json()
    d["groups"][0]["id"] = "X1"
    eq(code(d), rm.CFG_OTHER)
    d = node_json()
    del d["groups"][0]["amber"]                          # a vehicle without amber lamp
    eq(code(d), rm.CFG_OTHER)


def test_too_many():
    d = node_json()
    d["detectors"] = [{"id": "D%d" % i, "pin": 0} for i in range(33)]
    eq(code(d), rm.CFG_TOO_MANY)


def test_pin_used_twice():
    d = node_json()
    d["detectors"][1]["pin"] = d["groups"][0]["red"]
    eq(code(d), rm.CFG_OTHER)


def test_board_pins():
    # node.json names its board: a pin the module cannot use at all is refused.
    d = node_json()
    d["board"] = "esp32"
    c = config.parse(d)
    eq(c.error, rm.CFG_OK, c.error_text)                # the fixture's pins fit an ESP32
    for where, key, pin in (("detectors", "pin", 20),   # no GPIO 20 on an ESP32
                            ("detectors", "pin", 38),   # on the chip, not on the module
                            ("detectors", "pin", 6)):   # the module's SPI flash
        d = node_json()
        d["board"] = "esp32"
        d[where][0][key] = pin
        c = config.parse(d)
        eq(c.error, rm.CFG_OTHER)
        assert ("GPIO %d" % pin) in c.error_text, c.error_text
    d = node_json()
    d["board"] = "esp32"
    d["groups"][0]["green"] = 34                        # input only: it cannot drive a lamp
    c = config.parse(d)
    eq(c.error, rm.CFG_OTHER)
    eq(len(c.groups), 0)                                # never driven, not even to flash
    d = node_json()
    d["board"] = "esp32"
    d["modbus"]["de"] = 35
    eq(code(d), rm.CFG_OTHER)
    d = node_json()
    d["board"] = "esp32s3"                              # GPIO 22-25 do not exist on an S3
    eq(code(d), rm.CFG_OTHER)
    d = node_json()
    d["board"] = "esp8266"
    eq(code(d), rm.CFG_OTHER)
    d = node_json()
    d["detectors"][0]["pin"] = 20                       # no board named: range only
    eq(code(d), rm.CFG_OK)


def test_ranges():
    d = node_json()
    d["safety"]["startup_flash_ms"] = 2000              # TS2: start-up flash 4..11 s
    eq(code(d), rm.CFG_INVALID_TABLES)
    d = node_json()
    d["bays"][1]["free_cm"] = 50                        # below occupied_cm
    eq(code(d), rm.CFG_OTHER)
    d = node_json()
    d["guard"]["defer_ms"] = 1001
    eq(code(d), rm.CFG_OTHER)


def test_startup_times_come_from_the_tables():
    d = node_json()
    d["safety"]["startup_flash_ms"] = 7000
    d["safety"]["all_red_ms"] = 2500
    eq(code(d), rm.CFG_CRC_MISMATCH, "covered by the CRC")
    d["safety"]["crc"] = safety_tables.crc(d["safety"])
    c = config.parse(d)
    eq((c.error, c.startup_flash_ms, c.all_red_ms), (rm.CFG_OK, 7000, 2500))
    d = node_json()
    del d["safety"]["startup_flash_ms"]
    del d["safety"]["all_red_ms"]
    d["safety"]["crc"] = safety_tables.crc(d["safety"])
    c = config.parse(d)
    eq((c.error, c.startup_flash_ms, c.all_red_ms), (rm.CFG_OK, 5000, 3000), "defaults")
    d = node_json()
    del d["safety"]["all_red_ms"]
    eq(code(d), rm.CFG_INVALID_TABLES, "both or neither")


def test_old_startup_section_is_an_error():
    d = node_json()
    d["startup"] = {"flash_ms": 8000, "all_red_ms": 4000}
    c = config.parse(d)
    eq(c.error, rm.CFG_OTHER)
    eq("safety.startup_flash_ms" in c.error_text, True, c.error_text)


def test_defer_ms():
    eq(config.parse(node_json()).defer_ms, 250, "default")
    d = node_json()
    d["guard"]["defer_ms"] = 0
    eq(config.parse(d).defer_ms, 0, "off")


def test_not_an_object():
    eq(code([1, 2]), rm.CFG_OTHER)
    with open("node.json", "w") as f:
        f.write(json.dumps("hello"))
    eq(config.load("node.json").error, rm.CFG_OTHER)


def test_boot_counter_to_safe_mode():
    c = config.parse(node_json())
    bootmode.set_unstable_boots(0)
    for n in (1, 2, 3):
        b = bootmode.BootState(c)
        eq(b.unstable, n)
        eq(b.safe, False, "boot %d" % n)
    b = bootmode.BootState(c)
    eq(b.safe, True, "the 4th boot without a stable run")
    bootmode.set_unstable_boots(0)                      # what a stable run does
    eq(bootmode.BootState(c).safe, False)


def test_maintenance_pin_clears_boot_counter():
    c = config.parse(node_json())
    bootmode.set_unstable_boots(9)
    level(c.maintenance_pin, 1)                         # active low: not held
    eq(bootmode.BootState(c).maintenance, False)
    level(c.maintenance_pin, 0)                         # held
    b = bootmode.BootState(c)
    eq(b.maintenance, True)
    eq(b.safe, False)
    eq(bootmode.unstable_boots(), 0)


def test_boots_since_provisioning():
    c = config.parse(node_json())
    a = bootmode.BootState(c).boots
    eq(bootmode.BootState(c).boots, a + 1)


def test_detector_only_node():
    from node.core import Node
    from node.datastore import Datastore

    from fx import t
    from protocols import safety_tables

    d = node_json()
    d["groups"] = []
    tables = {"groups": [], "conflicts": [], "intergreen_ms": []}
    tables["crc"] = safety_tables.crc(tables)
    d["safety"] = tables
    c = config.parse(d)
    eq(c.error, rm.CFG_OK, c.error_text)
    n = Node(c, t(0))
    ds = Datastore(n, ticks_ms=lambda: t(0))
    for ms in range(0, 1000, 10):
        level(39, 1 if ms > 500 else 0)
        n.scan_inputs(t(ms))
        n.tick(t(ms))
    pi = ds.read_regs("holding", rm.PI_BLOCK, rm.PI_BLOCK_COUNT)
    eq(pi[rm.PI_DET_PRESENCE - rm.PI_BLOCK] & 1, 1)
    eq(ds.read_regs("holding", rm.N_GROUPS, 1)[0], 0)
