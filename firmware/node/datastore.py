"""The Modbus datastore: protocols/register_map.py's registers, read from and written to
the node. The slave (protocols.modbus_rtu) calls the four methods below.

Reads fill preallocated images and return views of them (no allocation per register).
Writes are checked whole before anything is applied: an address outside a writable block
answers ILLEGAL_DATA_ADDRESS, a bad COMMAND or an aspect code >= 8 ILLEGAL_DATA_VALUE, and
then nothing of the request is applied. The safety tables have no register at all.
"""

from array import array

import board
from protocols import register_map as rm
from protocols.rtu.const import (
    COIL,
    HOLDING,
    ILLEGAL_DATA_ADDRESS,
    ILLEGAL_DATA_VALUE,
    ModbusError,
)

from .core import FW_MAJOR, FW_MINOR, FW_PATCH

N_REGS = rm.STATUS_BLOCK + rm.STATUS_BLOCK_COUNT
_CMD_END = rm.CMD_BLOCK + rm.CMD_BLOCK_COUNT
_COMMAND_BITS = rm.CMD_MODE_MASK | rm.CMD_ACK_FAULTS


def _overlaps(addr, count, first, n):
    return addr < first + n and first < addr + count


class Datastore:
    def __init__(self, node, ticks_ms=board.ticks_ms):
        self.node = node
        self.ticks_ms = ticks_ms
        self.regs = array("H", bytes(2 * N_REGS))
        self.rv = memoryview(self.regs)
        self.bits = bytearray(rm.DI_COUNT)
        self.bv = memoryview(self.bits)
        self.coils = bytearray(rm.COIL_COUNT)
        self.cv = memoryview(self.coils)
        self.wants = bytearray(rm.MAX_GROUPS)

    # ------------------------------------------------------------ reads
    def read_regs(self, kind, addr, count):
        if not rm.readable(kind, addr, count):
            raise ModbusError(ILLEGAL_DATA_ADDRESS)
        if _overlaps(addr, count, rm.PI_BLOCK, rm.PI_BLOCK_COUNT):
            self._fill_pi()
        if _overlaps(addr, count, rm.DET_HEAD_BLOCK, rm.DET_HEAD_COUNT):
            self.regs[rm.DET_INTERVAL_SEQ] = self.node.interval_seq
            self.regs[rm.DET_INTERVAL_S] = self.node.cfg.interval_s
        if _overlaps(addr, count, rm.DET_BLOCK, rm.DET_BLOCK_COUNT):
            self._fill_det()
        if _overlaps(addr, count, rm.STATUS_BLOCK, rm.STATUS_BLOCK_COUNT):
            self._fill_status()
        return self.rv[addr:addr + count]

    def _fill_pi(self):
        node = self.node
        r = self.regs
        r[rm.PI_HEARTBEAT] = node.modes.hb & 0xFFFF if node.modes.hb >= 0 else 0
        r[rm.PI_MODE] = node.modes.mode
        r[rm.PI_FAULTS] = node.fault_bits()
        r[rm.PI_GUARD_REFUSALS] = node.guard.refusals if node.guard is not None else 0
        shown = node.shown()
        fb = node.feedback
        for k in range(4):
            r[rm.PI_LAMP_ASPECT + k] = 0
        for g in range(len(shown)):
            rm.set_nibble(r, rm.PI_LAMP_ASPECT, g, fb.observed(g, shown[g], node.heads.lit[g]))
        r[rm.PI_RED_FAIL] = fb.red_fail
        r[rm.PI_LAMP_FAIL] = fb.lamp_fail
        presence = fault = occupied = bay_fault = 0
        dets = node.detectors
        node.sample_detectors(self.ticks_ms())
        for i in range(len(dets)):
            presence |= dets[i].presence() << i
            fault |= dets[i].faulty() << i
            dets[i].reported()
        bays = node.bays
        for i in range(len(bays)):
            occupied |= bays[i].occupied << i
            bay_fault |= bays[i].fault << i
        rm.bits_to_regs(presence, r, rm.PI_DET_PRESENCE, 2)
        rm.bits_to_regs(fault, r, rm.PI_DET_FAULT, 2)
        rm.bits_to_regs(occupied, r, rm.PI_BAY_OCCUPIED, 2)
        rm.bits_to_regs(bay_fault, r, rm.PI_BAY_FAULT, 2)

    def _fill_det(self):
        r = self.regs
        dets = self.node.detectors
        for i in range(len(dets)):
            d = dets[i]
            r[rm.DET_COUNT + i] = d.count
            r[rm.DET_OCCUPANCY + i] = d.occupancy
            r[rm.DET_DIAG + i] = d.diag

    def _fill_status(self):
        node = self.node
        r = self.regs
        bus = node.bus
        r[rm.LAYOUT_VERSION_REG] = rm.LAYOUT_VERSION
        r[rm.FW_VERSION] = (FW_MAJOR << 8) | FW_MINOR
        r[rm.FW_PATCH] = FW_PATCH
        rm.set_u32(r, rm.UPTIME_S, node.uptime_s)
        r[rm.RESET_CAUSE] = node.reset_cause
        r[rm.BOOT_COUNT] = node.boot_count & 0xFFFF
        r[rm.FAULTS] = node.fault_bits()
        r[rm.MODE] = node.modes.mode
        if bus is not None:
            r[rm.FRAMES_OK] = bus.frames_ok() & 0xFFFF
            r[rm.CRC_ERRORS] = bus.crc_errors() & 0xFFFF
            r[rm.EXCEPTIONS] = bus.exceptions() & 0xFFFF
        rm.set_u32(r, rm.SAFETY_CRC, node.cfg.tables_crc)
        r[rm.CONFIG_ERROR] = node.cfg.error
        r[rm.N_GROUPS] = len(node.cfg.groups)
        r[rm.N_DETECTORS] = len(node.detectors)
        r[rm.N_BAYS] = len(node.bays)
        r[rm.GUARD_REFUSALS] = node.guard.refusals if node.guard is not None else 0

    def read_bits(self, kind, addr, count):
        if not rm.readable(kind, addr, count):
            raise ModbusError(ILLEGAL_DATA_ADDRESS)
        if kind == COIL:
            c = self.coils
            c[rm.COIL_REQUEST_FLASH] = 1 if self.node.modes.flash_coil else 0
            c[rm.COIL_IDENTIFY] = 1 if self.node.identify else 0
            return self.cv[addr:addr + count]
        b = self.bits
        node = self.node
        for i in range(rm.DI_COUNT):
            b[i] = 0
        dets = node.detectors
        for i in range(len(dets)):
            b[rm.DI_DET_PRESENCE + i] = dets[i].presence()
            b[rm.DI_DET_FAULT + i] = dets[i].faulty()
        bays = node.bays
        for i in range(len(bays)):
            b[rm.DI_BAY_OCCUPIED + i] = bays[i].occupied
            b[rm.DI_BAY_FAULT + i] = bays[i].fault
        fb = node.feedback
        for g in range(fb.n):
            b[rm.DI_RED_FAIL + g] = (fb.red_fail >> g) & 1
            b[rm.DI_LAMP_FAIL + g] = (fb.lamp_fail >> g) & 1
        return self.bv[addr:addr + count]

    # ------------------------------------------------------------ writes
    def write_regs(self, kind, addr, values):
        if kind != HOLDING or not rm.writable(kind, addr, len(values)):
            raise ModbusError(ILLEGAL_DATA_ADDRESS)
        for i in range(len(values)):
            a = addr + i
            v = values[i]
            if a == rm.COMMAND:
                if v & ~_COMMAND_BITS or (v & rm.CMD_MODE_MASK) not in rm.REQUESTABLE_MODES:
                    raise ModbusError(ILLEGAL_DATA_VALUE)
            elif rm.SIGNAL_CMD <= a < _CMD_END:
                for s in (0, 4, 8, 12):
                    if (v >> s) & 0xF >= 8:
                        raise ModbusError(ILLEGAL_DATA_VALUE)
        now = self.ticks_ms()
        node = self.node
        modes = node.modes
        mask = 0
        for i in range(len(values)):
            a = addr + i
            v = values[i]
            self.regs[a] = v
            if a == rm.HEARTBEAT:
                modes.heartbeat(v, now)
            elif a == rm.COMMAND:
                modes.request(v)
                if v & rm.CMD_ACK_FAULTS:
                    node.ack_faults(now)
            else:
                k = a - rm.SIGNAL_CMD
                for j in range(4):
                    self.wants[4 * k + j] = (v >> (4 * j)) & 0xF
                mask |= 0xF << (4 * k)
        if mask:
            modes.commands(self.wants, mask, now)
        node.apply(now)

    def write_bits(self, kind, addr, values):
        if not rm.writable(kind, addr, len(values)):
            raise ModbusError(ILLEGAL_DATA_ADDRESS)
        node = self.node
        for i in range(len(values)):
            a = addr + i
            on = bool(values[i])
            if a == rm.COIL_REQUEST_FLASH:
                node.modes.flash_coil = on
            elif a == rm.COIL_RESET_COMM_COUNTERS and on and node.bus is not None:
                node.bus.reset_counters()
            elif a == rm.COIL_RESET_DET_COUNTS and on:
                for d in node.detectors:
                    d.reset_count()
            elif a == rm.COIL_IDENTIFY:
                node.identify = on
        node.apply(self.ticks_ms())
