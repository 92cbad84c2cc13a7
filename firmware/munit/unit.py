"""The unit: lamp sense in, the signal monitor judging it, the flash-transfer relay out.

Fail-safe relay: energised (the heads are the controller's) only in NORMAL; dropped (the
cabinet's flasher takes the heads) while STARTING after a reset, in TRANSFER, with a bad
configuration, and whenever the board is dead or resetting (its pin is not driven then).
A violation of a TRANSFER_KINDS kind latches TRANSFER: it is written to the unit's flash
(latch.json), so a reset or a power cut does not clear it; only the local reset button
does (held RESET_HOLD_MS while the unit runs).

Status for the cabinet: `Status`, a read-only Modbus datastore (protocols/monitor_map.py);
every write is refused with ILLEGAL_FUNCTION.
"""

import json

import board
from monitor import KINDS, SignalMonitor
from protocols import monitor_map as mm
from protocols.aspects import LAMP_AMBER, LAMP_GREEN, LAMP_RED
from protocols.modbus_rtu import HOLDING, ILLEGAL_DATA_ADDRESS, ILLEGAL_FUNCTION, INPUT, ModbusError

FW_MAJOR, FW_MINOR, FW_PATCH = 1, 0, 0
LATCH_PATH = "latch.json"
RESET_HOLD_MS = 1000
# What a TS2 MMU transfers on: conflicting indications, a dual indication, a red fail, a
# short yellow change (and green straight to red). Minimum greens and intergreens are the
# controller's business: they are counted (MU_VIOLATIONS), never a transfer.
TRANSFER_KINDS = ("conflict", "dual_indication", "red_fail", "short_amber", "green_to_red")
_BITS = (LAMP_RED, LAMP_AMBER, LAMP_GREEN)


class Unit:
    def __init__(self, cfg, now_ms, reset_cause=0):
        self.cfg = cfg
        self.state = mm.MU_STARTING
        self.faults = 0
        self.first = (None, None)  # type: tuple[int | None, int | None]
        self.violations = 0
        self.scans = 0
        self.reset_cause = reset_cause
        self.boot_ms = self.last_ms = now_ms
        self.elapsed_ms = 0
        self.held_ms = 0
        self.alive = 0
        self.relay = board.output_pin(cfg.relay, 1 if cfg.relay_active_low else 0) \
            if cfg.relay is not None else None
        self.reset_btn = None
        if cfg.reset_pin is not None:
            self.reset_btn = board.input_pin(cfg.reset_pin, cfg.reset_active_low)
        self.pins = []
        self.ids = []
        self.lamps = {}
        self.monitor = None
        if cfg.error == mm.MU_CFG_OK:
            for k in range(len(cfg.sense)):
                row = [None if p is None else board.input_pin(p) for p in cfg.sense[k]]
                self.pins.append(row)
                gid = cfg.table["groups"][k]["id"]
                self.ids.append(gid)
                self.lamps[gid] = 0
            self.monitor = self._new_monitor()
            self._load_latch()
        self._drive()

    def _new_monitor(self):
        return SignalMonitor(self.cfg.table, tolerance_s=self.cfg.tolerance_ms / 1000)

    # ------------------------------------------------------------ latch (unit's flash)
    def _load_latch(self):
        try:
            with open(LATCH_PATH) as f:
                d = json.load(f)
            self.faults = int(d["faults"]) or 1
            self.first = (d.get("a"), d.get("b"))
            self.state = mm.MU_TRANSFER
        except Exception:  # noqa: BLE001 - no latch file (or an unreadable one: none)
            pass

    def _store_latch(self):
        try:
            with open(LATCH_PATH, "w") as f:
                json.dump({"faults": self.faults, "a": self.first[0], "b": self.first[1]}, f)
        except OSError:
            pass                # the relay is dropped whatever the flash says

    def _clear_latch(self):
        import os
        try:
            os.remove(LATCH_PATH)
        except OSError:
            pass

    # ------------------------------------------------------------ the scan
    def _drive(self):
        if self.relay is not None:
            on = self.state == mm.MU_NORMAL and self.cfg.error == mm.MU_CFG_OK
            self.relay.value((0 if on else 1) if self.cfg.relay_active_low else (1 if on else 0))

    def energised(self):
        return self.state == mm.MU_NORMAL and self.cfg.error == mm.MU_CFG_OK

    def scan(self, now_ms):
        """One scan of the lamp sense (every scan_ms)."""
        d = board.diff(now_ms, self.last_ms)
        self.last_ms = now_ms
        self.elapsed_ms += d if d > 0 else 0
        self.scans = (self.scans + 1) & 0xFFFF
        self.alive += 1
        self._reset_button(d)
        mon = self.monitor
        if mon is None:
            return
        low = self.cfg.sense_active_low
        lamps = self.lamps
        for k in range(len(self.pins)):
            bits = 0
            row = self.pins[k]
            for i in range(3):
                p = row[i]
                if p is not None and (p.value() != 0) != low:
                    bits |= _BITS[i]
            lamps[self.ids[k]] = bits
        found = mon.feed(self.elapsed_ms / 1000, lamps)
        if found:
            self._judge(found)
        if self.state == mm.MU_STARTING and self.elapsed_ms >= self.cfg.startup_ms:
            self.state = mm.MU_NORMAL
            self._drive()
        if len(mon.violations) > 8:
            del mon.violations[:]           # counted in self.violations; keep the heap flat

    def _judge(self, found):
        for v in found:
            self.violations = (self.violations + 1) & 0xFFFF
            print("monitor: %s %s: %s" % (v.kind, "/".join(v.groups), v.detail))
            if v.kind not in TRANSFER_KINDS or self.state == mm.MU_STARTING:
                continue
            if self.state != mm.MU_TRANSFER:
                g = v.groups
                self.first = (self.ids.index(g[0]) if g else None,
                              self.ids.index(g[1]) if len(g) > 1 else None)
                self.state = mm.MU_TRANSFER
            bit = 1 << KINDS.index(v.kind)
            if not self.faults & bit:           # the unit's flash is written once per kind
                self.faults |= bit
                self._store_latch()
            self._drive()

    def _reset_button(self, d):
        b = self.reset_btn
        if b is None:
            return
        pressed = (b.value() == 0) if self.cfg.reset_active_low else (b.value() == 1)
        if not pressed:
            self.held_ms = 0
            return
        self.held_ms += d
        if self.held_ms >= RESET_HOLD_MS and self.state == mm.MU_TRANSFER:
            print("monitor: local reset, latch cleared")
            self._clear_latch()
            self.faults = 0
            self.first = (None, None)
            self.monitor = self._new_monitor()
            self.state = mm.MU_NORMAL
            self._drive()


class Status:
    """The unit's Modbus datastore: status registers, read-only."""

    def __init__(self, unit):
        self.unit = unit
        self.regs = [0] * mm.MU_BLOCK_COUNT

    def read_regs(self, kind, addr, count):
        if kind != HOLDING and kind != INPUT or addr < 0 or addr + count > mm.MU_BLOCK_COUNT:
            raise ModbusError(ILLEGAL_DATA_ADDRESS)
        u = self.unit
        r = self.regs
        r[mm.MU_LAYOUT] = mm.MU_LAYOUT_VERSION
        r[mm.MU_FW_VERSION] = (FW_MAJOR << 8) | FW_MINOR
        r[mm.MU_FW_PATCH] = FW_PATCH
        r[mm.MU_STATE] = u.state
        r[mm.MU_RELAY] = 1 if u.energised() else 0
        r[mm.MU_FAULTS] = u.faults
        r[mm.MU_TABLE_CRC] = (u.cfg.crc >> 16) & 0xFFFF
        r[mm.MU_TABLE_CRC + 1] = u.cfg.crc & 0xFFFF
        r[mm.MU_CONFIG_ERROR] = u.cfg.error
        r[mm.MU_N_GROUPS] = len(u.ids)
        up = u.elapsed_ms // 1000
        r[mm.MU_UPTIME_S] = (up >> 16) & 0xFFFF
        r[mm.MU_UPTIME_S + 1] = up & 0xFFFF
        r[mm.MU_RESET_CAUSE] = u.reset_cause
        r[mm.MU_SCANS] = u.scans
        r[mm.MU_VIOLATIONS] = u.violations
        r[mm.MU_FIRST_GROUPS] = mm.first_groups(u.first[0], u.first[1])
        return r[addr:addr + count]

    def read_bits(self, kind, addr, count):
        raise ModbusError(ILLEGAL_DATA_ADDRESS)

    def write_regs(self, kind, addr, values):
        raise ModbusError(ILLEGAL_FUNCTION)

    def write_bits(self, kind, addr, values):
        raise ModbusError(ILLEGAL_FUNCTION)
