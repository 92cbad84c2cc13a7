"""The monitor unit's file (monitor.json), read once at boot. Schema: firmware/README.md.

`load(path)` never raises: it returns a Config whose `error` is a monitor_map.MU_CFG_* code
with `error_text`. A unit with a bad file keeps its relay dropped (the intersection stays in
flash) and still answers the bus, so the cabinet can say why. Everything the unit checks
comes from this file: the compatibility table is never writable over the bus.
"""

import json

from monitor.table import crc as table_crc
from monitor.table import validate
from protocols import boards
from protocols import monitor_map as mm

MAX_PIN = 48
LAMPS = ("red", "amber", "green")


class Bad(Exception):
    """(MU_CFG_* code, text)"""


class Config:
    def __init__(self):
        self.error = mm.MU_CFG_OK
        self.error_text = ""
        self.unit_id = "monitor"
        self.address, self.baud, self.parity = 247, 19200, "E"
        self.uart_id, self.tx, self.rx, self.de = 1, 17, 16, 4
        self.relay, self.relay_active_low = None, False
        self.reset_pin, self.reset_active_low = None, True
        self.sense = []          # per table group: (red, amber, green) GPIO or None
        self.sense_active_low = False
        self.scan_ms = 10
        self.tolerance_ms = 200
        self.startup_ms = 6000
        self.wdt_ms = 2000
        self.table = None
        self.crc = 0

    def fail(self, code, text):
        if self.error == mm.MU_CFG_OK:
            self.error, self.error_text = code, text


def _get(d, key, kind, default=None, lo=None, hi=None, required=False):
    if not isinstance(d, dict):
        raise Bad(mm.MU_CFG_OTHER, "not an object where %s was expected" % key)
    if key not in d:
        if required:
            raise Bad(mm.MU_CFG_OTHER, "missing key: " + key)
        return default
    v = d[key]
    if kind is int and (not isinstance(v, int) or isinstance(v, bool)):
        raise Bad(mm.MU_CFG_OTHER, "%s must be an integer" % key)
    if kind is not int and not isinstance(v, kind):
        raise Bad(mm.MU_CFG_OTHER, "%s has the wrong type" % key)
    if lo is not None and v < lo or hi is not None and v > hi:
        raise Bad(mm.MU_CFG_OTHER, "%s out of range %s..%s" % (key, lo, hi))
    return v


class _Pins:
    """Pins as they are claimed: each usable on the board, and used once."""

    def __init__(self, board):
        self.board = board
        self.used = []

    def take(self, where, v, output):
        if v is None:
            return None
        if self.board is not None:
            why = boards.unusable(self.board, v, output)
            if why:
                raise Bad(mm.MU_CFG_OTHER, "%s: GPIO %d %s" % (where, v, why))
        if v in self.used:
            raise Bad(mm.MU_CFG_OTHER, "%s: GPIO %d used twice" % (where, v))
        self.used.append(v)
        return v


def _bus(cfg, d, pins):
    m = _get(d, "modbus", dict, required=True)
    cfg.address = _get(m, "address", int, required=True, lo=1, hi=247)
    cfg.baud = _get(m, "baud", int, required=True, lo=1200, hi=1000000)
    p = _get(m, "parity", str, required=True)
    if p not in ("N", "E", "O"):
        raise Bad(mm.MU_CFG_OTHER, "parity must be N, E or O")
    cfg.parity = p
    cfg.uart_id = _get(m, "uart", int, required=True, lo=0, hi=2)
    for key in ("tx", "rx", "de"):
        v = _get(m, key, int, required=True, lo=0, hi=MAX_PIN)
        setattr(cfg, key, pins.take("modbus." + key, v, key != "rx"))


def _sense(cfg, d, pins, table):
    cfg.sense_active_low = _get(d, "sense_active_low", bool, False)
    given = {}
    for s in _get(d, "sense", list, required=True):
        gid = _get(s, "group", str, required=True)
        given[gid] = s
    sense = []
    for g in table["groups"]:
        s = given.get(g["id"])
        if s is None:
            raise Bad(mm.MU_CFG_OTHER, "group %s has no sense inputs" % g["id"])
        row = []  # type: list[int | None]
        for lamp in LAMPS:
            if lamp == "amber" and g["kind"] == "pedestrian":
                row.append(None)
                continue
            v = _get(s, lamp, int, required=True, lo=0, hi=MAX_PIN)
            row.append(pins.take("sense %s %s" % (g["id"], lamp), v, False))
        sense.append(row)
    if len(given) != len(sense):
        raise Bad(mm.MU_CFG_OTHER, "sense names a group the table lacks")
    cfg.sense = sense


def parse(d):
    cfg = Config()
    try:
        _parse(cfg, d)
    except Bad as e:
        cfg.fail(e.args[0], e.args[1])
    except Exception as e:  # noqa: BLE001 - any other surprise is a bad file too
        cfg.fail(mm.MU_CFG_OTHER, repr(e))
    return cfg


def _parse(cfg, d):
    if not isinstance(d, dict):
        raise Bad(mm.MU_CFG_OTHER, "monitor.json is not an object")
    cfg.unit_id = _get(d, "unit_id", str, required=True)
    name = _get(d, "board", str)
    board = None
    if name is not None:
        board = boards.BOARDS.get(name)
        if board is None:
            raise Bad(mm.MU_CFG_OTHER, "board %r is unknown" % name)
    pins = _Pins(board)
    _bus(cfg, d, pins)
    # the relay first: a unit whose table is bad still holds its relay pin dropped
    relay = _get(d, "relay", dict, required=True)
    cfg.relay = pins.take("relay.pin", _get(relay, "pin", int, required=True, lo=0,
                                            hi=MAX_PIN), True)
    cfg.relay_active_low = _get(relay, "active_low", bool, False)
    table = _get(d, "table", dict, required=True)
    problem = validate(table)
    if problem:
        raise Bad(mm.MU_CFG_TABLE, problem)
    cfg.crc = table_crc(table)
    want = _get(d, "crc", int, required=True, lo=0, hi=0xFFFFFFFF)
    if want != cfg.crc:
        raise Bad(mm.MU_CFG_CRC, "table crc %d, the table gives %d" % (want, cfg.crc))
    reset = _get(d, "reset", dict, {})
    cfg.reset_pin = pins.take("reset.pin", _get(reset, "pin", int, None, 0, MAX_PIN), False)
    cfg.reset_active_low = _get(reset, "active_low", bool, True)
    _sense(cfg, d, pins, table)
    cfg.scan_ms = _get(d, "scan_ms", int, 10, 2, 100)
    cfg.tolerance_ms = _get(d, "tolerance_ms", int, 200, 0, 1000)
    cfg.startup_ms = _get(d, "startup_flash_ms", int, 6000, 4000, 11000)
    cfg.wdt_ms = _get(d, "wdt_ms", int, 2000, 1000, 60000)
    cfg.table = table


def load(path):
    try:
        with open(path) as f:
            d = json.load(f)
    except Exception as e:  # noqa: BLE001 - any of those: the relay stays dropped
        cfg = Config()
        cfg.fail(mm.MU_CFG_UNREADABLE, "cannot read %s: %r" % (path, e))
        return cfg
    return parse(d)
