"""The node configuration file (node.json), read once at boot. Schema: firmware/README.md.

Boot-only code: app.py unloads this module once the node is built; what it reads lives on in
plain records (settings.py). `load(path)` never raises: it returns a Config whose `error` is
register_map.CFG_OK or the first problem's CFG_* code (CFG_UNREADABLE: no file or not JSON;
CFG_OTHER: a missing key, bad type or range; ...) with `error_text` for the console. A
config with an error never lets the heads follow commands; what could still be read is kept
so the node can answer the bus (the `modbus` section falls back field by field to its
defaults) and flash its heads (`groups` with their pins, when that section itself is sound).
With a `board`, a pin the board cannot use at all (protocols/boards.py) is refused; a
group's lamp on such a pin refuses the `groups` section, so the node never drives it.
"""

import json

from protocols import boards, safety_tables
from protocols import register_map as rm

from . import settings

MAX_PIN = 48                    # ESP32-S3 has GPIO 0..48, the ESP32 0..39

_REQUIRED = object()
_board = None                   # while parse() runs: the protocols.boards entry of "board"


class Bad(Exception):
    """A malformed field: (CFG_* code, text)."""


def _get(d, key, kind, default=_REQUIRED, lo=None, hi=None):
    if not isinstance(d, dict):
        raise Bad(rm.CFG_OTHER, "not an object where %s was expected" % key)
    if key not in d:
        if default is _REQUIRED:
            raise Bad(rm.CFG_OTHER, "missing key: " + key)
        return default
    v = d[key]
    if kind is int and (not isinstance(v, int) or isinstance(v, bool)):
        raise Bad(rm.CFG_OTHER, "%s must be an integer" % key)
    if kind is bool and not isinstance(v, bool):
        raise Bad(rm.CFG_OTHER, "%s must be true or false" % key)
    if kind is str and not isinstance(v, str):
        raise Bad(rm.CFG_OTHER, "%s must be a string" % key)
    if kind is list and not isinstance(v, list):
        raise Bad(rm.CFG_OTHER, "%s must be a list" % key)
    if kind is dict and not isinstance(v, dict):
        raise Bad(rm.CFG_OTHER, "%s must be an object" % key)
    if lo is not None and v < lo or hi is not None and v > hi:
        raise Bad(rm.CFG_OTHER, "%s out of range %s..%s" % (key, lo, hi))
    return v


def _usable(key, v, output):
    """A pin its board cannot use at all (with no "board" in node.json: any 0..MAX_PIN)."""
    if v is not None and _board is not None:
        why = boards.unusable(_board, v, output)
        if why:
            raise Bad(rm.CFG_OTHER, "%s: GPIO %d %s" % (key, v, why))
    return v


def _pin(d, key, default=_REQUIRED, output=False):
    return _usable(key, _get(d, key, int, default, 0, MAX_PIN), output)


def _out(d, key, default=_REQUIRED):
    return _pin(d, key, default, True)


def _group(d):
    g = settings.Group()
    g.id = _get(d, "id", str)
    g.red = _out(d, "red", None)
    g.amber = _out(d, "amber", None)
    g.green = _out(d, "green", None)
    if g.green is None:
        raise Bad(rm.CFG_OTHER, "group %s has no green output" % g.id)
    g.flash_red = _get(d, "flash", str, "amber") == "red"
    fb = _get(d, "feedback", dict, {})
    g.fb_red = _pin(fb, "red", None)
    g.fb_amber = _pin(fb, "amber", None)
    g.fb_green = _pin(fb, "green", None)
    g.fb_active_low = _get(fb, "active_low", bool, False)
    return g


def _detector(d):
    x = settings.Detector()
    x.id = _get(d, "id", str)
    x.pin = _pin(d, "pin")
    x.active_low = _get(d, "active_low", bool, False)
    x.debounce_ms = _get(d, "debounce_ms", int, 20, 0, 1000)
    # NTCIP 1202 detector diagnostics; 0 disables one.
    x.no_activity_min = _get(d, "no_activity_min", int, 0, 0, 255)
    x.max_presence_min = _get(d, "max_presence_min", int, 0, 0, 255)
    x.erratic_per_min = _get(d, "erratic_per_min", int, 0, 0, 255)
    return x


def _bay(d):
    b = settings.Bay()
    b.id = _get(d, "id", str)
    b.type = _get(d, "type", str)
    if b.type == "digital":
        b.pin = _pin(d, "pin")
        b.active_low = _get(d, "active_low", bool, False)
        b.debounce_ms = _get(d, "debounce_ms", int, 2000, 0, 600000)
    elif b.type == "ultrasonic":
        b.trigger = _out(d, "trigger")
        b.echo = _pin(d, "echo")
        b.period_ms = _get(d, "period_ms", int, 500, 50, 60000)
        b.occupied_cm = _get(d, "occupied_cm", int, 100, 2, 400)
        b.free_cm = _get(d, "free_cm", int, 130, 2, 400)
        b.max_cm = _get(d, "max_cm", int, 150, 10, 400)
        b.confirm = _get(d, "confirm", int, 3, 1, 100)
        b.fault_after = _get(d, "fault_after", int, 5, 1, 100)
        if not b.occupied_cm < b.free_cm <= b.max_cm:
            raise Bad(rm.CFG_OTHER, "bay %s: need occupied_cm < free_cm <= max_cm" % b.id)
    else:
        raise Bad(rm.CFG_OTHER, "bay %s: type must be digital or ultrasonic" % b.id)
    return b


def _bus(cfg, d):
    """The modbus section, field by field: a bad field falls back but is still an error."""
    m = d.get("modbus")
    fields = (("address", "address", 1, 247), ("baud", "baud", 1200, 1000000),
              ("uart", "uart_id", 0, 2), ("tx", "tx", 0, MAX_PIN), ("rx", "rx", 0, MAX_PIN),
              ("de", "de", 0, MAX_PIN))
    for key, attr, lo, hi in fields:
        try:
            v = _get(m, key, int, _REQUIRED, lo, hi)
            if key in ("tx", "rx", "de"):
                _usable(key, v, key != "rx")
            setattr(cfg, attr, v)
        except Bad as e:
            cfg.fail(e.args[0], "modbus: " + e.args[1])
    try:
        cfg.comm_timeout_ms = _get(m, "comm_timeout_ms", int, 1000, 100, 60000)
        p = _get(m, "parity", str)
        if p not in ("N", "E", "O"):
            raise Bad(rm.CFG_OTHER, "parity must be N, E or O")
        cfg.parity = p
    except Bad as e:
        cfg.fail(e.args[0], "modbus: " + e.args[1])


def _heads(cfg, d):
    groups = [_group(g) for g in _get(d, "groups", list)]
    if len(groups) > rm.MAX_GROUPS:
        raise Bad(rm.CFG_TOO_MANY, "%d groups, at most %d" % (len(groups), rm.MAX_GROUPS))
    cfg.groups = groups


def _tables(cfg, d):
    if "safety" not in d:
        raise Bad(rm.CFG_NO_TABLES, "no safety tables")
    tables = _get(d, "safety", dict)
    problem = safety_tables.validate(tables)
    if problem:
        raise Bad(rm.CFG_INVALID_TABLES, problem)
    want = _get(tables, "crc", int, _REQUIRED, 0, 0xFFFFFFFF)
    have = safety_tables.crc(tables)
    cfg.tables_crc = have
    if want != have:
        raise Bad(rm.CFG_CRC_MISMATCH, "safety crc %d, tables give %d" % (want, have))
    tg = tables["groups"]
    if len(tg) != len(cfg.groups):
        raise Bad(rm.CFG_OTHER, "groups and safety.groups differ in length")
    for i in range(len(tg)):
        hw = cfg.groups[i]
        if tg[i]["id"] != hw.id:
            raise Bad(rm.CFG_OTHER, "group %d is %s in groups, %s in safety" % (
                i, hw.id, tg[i]["id"]))
        hw.kind = tg[i]["kind"]
        need_amber = hw.kind == "vehicle" or (hw.kind == "arrow" and tg[i].get("amber_ms", 0))
        if need_amber and (hw.red is None or hw.amber is None):
            raise Bad(rm.CFG_OTHER, "group %s needs red and amber outputs" % hw.id)
        if hw.kind == "pedestrian" and hw.red is None:
            raise Bad(rm.CFG_OTHER, "group %s needs a red output" % hw.id)
    if safety_tables.has_startup(tables):   # validated, and covered by the CRC
        cfg.startup_flash_ms = tables["startup_flash_ms"]
        cfg.all_red_ms = tables["all_red_ms"]
    cfg.tables = tables


def _rest(cfg, d):
    cfg.node_id = _get(d, "node_id", str)
    cfg.scan_ms = _get(d, "scan_ms", int, 10, 2, 100)
    mp = _get(d, "maintenance", dict, None)
    if mp is not None:
        cfg.maintenance_pin = _pin(mp, "pin")
        cfg.maintenance_active_low = _get(mp, "active_low", bool, True)
    cfg.status_led = _out(d, "status_led", None)
    cfg.outputs_active_low = _get(d, "outputs_active_low", bool, False)
    cfg.detectors = [_detector(x) for x in _get(d, "detectors", list, [])]
    cfg.bays = [_bay(x) for x in _get(d, "bays", list, [])]
    if len(cfg.detectors) > rm.MAX_DETECTORS or len(cfg.bays) > rm.MAX_BAYS:
        raise Bad(rm.CFG_TOO_MANY, "at most %d detectors and %d bays" % (
            rm.MAX_DETECTORS, rm.MAX_BAYS))
    cfg.interval_s = _get(d, "interval_s", int, 60, 1, 3600)
    if "startup" in d:
        # Written for older firmware: its times would be ignored, not covered by the CRC.
        raise Bad(rm.CFG_OTHER, "startup: now safety.startup_flash_ms and safety.all_red_ms")
    gu = _get(d, "guard", dict, {})
    cfg.refusal_limit = _get(gu, "refusal_limit", int, 5, 1, 1000)
    cfg.refusal_window_ms = _get(gu, "refusal_window_ms", int, 10000, 100, 3600000)
    cfg.defer_ms = _get(gu, "defer_ms", int, 250, 0, 1000)
    wd = _get(d, "watchdog", dict, {})
    cfg.wdt_ms = _get(wd, "wdt_ms", int, 5000, 1000, 60000)
    cfg.boot_limit = _get(wd, "boot_limit", int, 3, 1, 100)
    cfg.stable_s = _get(wd, "stable_s", int, 30, 1, 3600)
    _unique_pins(cfg)


def _unique_pins(cfg):
    seen = [cfg.tx, cfg.rx, cfg.de]
    extra = [cfg.maintenance_pin, cfg.status_led]
    for part in (cfg.groups, cfg.detectors, cfg.bays):
        for x in part:
            extra.extend(x.pins())
    for p in extra:
        if p is None:
            continue
        if p in seen:
            raise Bad(rm.CFG_OTHER, "pin %d used twice" % p)
        seen.append(p)


def parse(d):
    """A Config from the decoded JSON document `d`."""
    global _board
    cfg = settings.Config()
    if not isinstance(d, dict):
        cfg.fail(rm.CFG_OTHER, "node.json is not an object")
        return cfg
    _board = _read_board(cfg, d)
    try:
        _parse(cfg, d)
    finally:
        _board = None
    return cfg


def _read_board(cfg, d):
    """The board named by "board" (optional: without it, pins are only range-checked)."""
    name = d.get("board")
    if name is None:
        return None
    b = boards.BOARDS.get(name) if isinstance(name, str) else None
    if b is None:
        cfg.fail(rm.CFG_OTHER, "board %r is not one of %s" % (
            name, ", ".join(sorted(boards.BOARDS))))
    return b


def _parse(cfg, d):
    _bus(cfg, d)
    for name, step in (("groups", _heads), ("safety", _tables), ("node", _rest)):
        try:
            step(cfg, d)
        except Bad as e:
            cfg.fail(e.args[0], e.args[1])
            if step is _heads:
                return
        except Exception as e:  # noqa: BLE001 - any other surprise is a bad file too
            cfg.fail(rm.CFG_OTHER, "%s: %r" % (name, e))


def load(path):
    """CFG_UNREADABLE when there is no file, it cannot be read or it is not JSON (a
    syntax error, a broken encoding); a file that is JSON is judged by parse()."""
    try:
        with open(path) as f:
            d = json.load(f)
    except Exception as e:  # noqa: BLE001 - any of those: the node flashes
        cfg = settings.Config()
        cfg.fail(rm.CFG_UNREADABLE, "cannot read %s: %r" % (path, e))
        return cfg
    return parse(d)
