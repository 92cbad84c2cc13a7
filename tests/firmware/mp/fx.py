# Fixtures for the node's unit tests on the unix port: configurations as node.json would
# have them, input levels on the emulated board, and a time origin just before the ticks
# wrap (2**30 ms), so that every test also checks wrap-safe time arithmetic.
import machine
from node import config

from protocols import safety_tables

T0 = (1 << 30) - 3000

V1, V2, P1 = 0, 1, 2
# Pins of the fixture heads: (red, amber, green) per group, feedback red per group.
PINS = {V1: (25, 26, 27), V2: (14, 23, 13), P1: (32, None, 33)}
FB_RED = {V1: 34, V2: 35, P1: 36}
DET_PINS = (39, 18)
BAY_PIN = 19
TRIG, ECHO = 21, 22


def t(ms):
    """The ticks value `ms` after T0 (wrapping like an ESP32's)."""
    return (T0 + ms) & ((1 << 30) - 1)


def vehicle(gid, profile="EU", min_green=5000):
    g = {"id": gid, "kind": "vehicle", "amber_ms": 3000, "min_green_ms": min_green,
         "clearance_ms": 0}
    if profile in ("EU", "CIS"):
        g["red_amber_ms"] = 1000 if profile == "EU" else 2000
    if profile == "CIS":
        g["flash_green_ms"] = 3000
    return g


def pedestrian(gid, profile="EU"):
    g = {"id": gid, "kind": "pedestrian", "min_green_ms": 5000}
    if profile == "US":
        g["clearance_ms"] = 7000
    if profile == "CIS":
        g["flash_green_ms"] = 3000
    return g


def tables(profile="EU"):
    t = {"groups": [vehicle("V1", profile), vehicle("V2", profile), pedestrian("P1", profile)],
         "conflicts": [[0, 1], [1, 2]],
         "intergreen_ms": [[0, 1, 5000], [1, 0, 6000], [1, 2, 5000], [2, 1, 8000]],
         "startup_flash_ms": 5000, "all_red_ms": 3000}
    t["crc"] = safety_tables.crc(t)
    return t


def node_json(profile="EU", feedback=True, detectors=True, bays=True):
    groups = []
    for i, gid in ((V1, "V1"), (V2, "V2"), (P1, "P1")):
        r, a, g = PINS[i]
        d = {"id": gid, "red": r, "green": g}
        if a is not None:
            d["amber"] = a
        if feedback:
            d["feedback"] = {"red": FB_RED[i]}
        groups.append(d)
    d = {
        "node_id": "test-node",
        "modbus": {"address": 7, "baud": 115200, "parity": "N", "uart": 1, "tx": 17,
                   "rx": 16, "de": 4, "comm_timeout_ms": 1000},
        "scan_ms": 10,
        "maintenance": {"pin": 0, "active_low": True},
        "groups": groups,
        "interval_s": 60,
        "guard": {"refusal_limit": 5, "refusal_window_ms": 10000},
        "watchdog": {"wdt_ms": 5000, "boot_limit": 3, "stable_s": 30},
        "safety": tables(profile),
    }
    if detectors:
        d["detectors"] = [
            {"id": "D1", "pin": DET_PINS[0], "debounce_ms": 20, "no_activity_min": 2,
             "max_presence_min": 1, "erratic_per_min": 30},
            {"id": "D2", "pin": DET_PINS[1], "debounce_ms": 20},
        ]
    if bays:
        d["bays"] = [
            {"id": "B1", "type": "digital", "pin": BAY_PIN, "debounce_ms": 1000},
            {"id": "B2", "type": "ultrasonic", "trigger": TRIG, "echo": ECHO,
             "period_ms": 500, "occupied_cm": 80, "free_cm": 100, "max_cm": 120,
             "confirm": 3, "fault_after": 5},
        ]
    return d


def cfg(d=None, **kw):
    c = config.parse(node_json(**kw) if d is None else d)
    assert c.error == 0, c.error_text
    return c


def level(pin, v):
    """The host's level on an input wire of the emulated board."""
    machine._levels[pin] = v


def echo(pin, us):
    machine._echo[pin] = us


def clear_pins():
    machine._levels.clear()
    machine._echo.clear()


def out(pin):
    """The level the firmware drives on an output pin."""
    return machine._outputs[pin]._out


def eq(a, b, what=""):
    if a != b:
        raise AssertionError("%s: %r != %r" % (what, a, b))
