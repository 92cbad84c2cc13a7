"""The slave (server) side of Modbus RTU: a complete request frame in, the response frame
out. No I/O, no clock, no idea what the registers mean: that is the datastore's business.

The datastore is any object with four methods (kinds: COIL, DISCRETE, HOLDING, INPUT):

    read_bits(kind, addr, count)    -> sequence of count truthy/falsy values
    write_bits(kind, addr, values)  # values: list of 0/1
    read_regs(kind, addr, count)    -> sequence of count ints (taken & 0xFFFF)
    write_regs(kind, addr, values)  # values: list of ints 0..0xFFFF

It raises ModbusError(ILLEGAL_DATA_ADDRESS) (or ILLEGAL_DATA_VALUE) to refuse a request;
any other exception is answered as DEVICE_FAILURE. A read may return a reused sequence:
the slave copies it into the response before calling the datastore again.

Order of checks (the spec's flowcharts): function code (01), then quantity and frame
shape (03), then address + quantity <= 65536 (02), then the datastore (02/03/04).
FC23 applies its write before its read; if the read then fails the write stays applied.
Broadcasts (address 0) are honoured for FC05, FC06, FC15 and FC16 only and never answered.
"""

from . import devid
from .const import (
    BROADCAST,
    COIL,
    DEVICE_FAILURE,
    DISCRETE,
    ENCAPSULATED_INTERFACE,
    HOLDING,
    ILLEGAL_DATA_ADDRESS,
    ILLEGAL_DATA_VALUE,
    ILLEGAL_FUNCTION,
    INPUT,
    MAX_ADU,
    MAX_READ_BITS,
    MAX_READ_REGS,
    MAX_RW_WRITE_REGS,
    MAX_WRITE_BITS,
    MAX_WRITE_REGS,
    ModbusError,
)
from .crc16 import check, put

_BIT_KIND = {1: COIL, 2: DISCRETE}
_REG_KIND = {3: HOLDING, 4: INPUT}


def _u16(b, i):
    return (b[i] << 8) | b[i + 1]


def _range(addr, count):
    if addr + count > 0x10000:
        raise ModbusError(ILLEGAL_DATA_ADDRESS)


def _quantity(count, limit):
    if count < 1 or count > limit:
        raise ModbusError(ILLEGAL_DATA_VALUE)


def _shape(ok):
    if not ok:
        raise ModbusError(ILLEGAL_DATA_VALUE)


class SlaveProtocol:
    """One Modbus RTU slave. `ident` maps device-identification object ids (OBJ_*) to str
    or bytes; VendorName, ProductCode and MajorMinorRevision default to empty.

    Counters (16-bit wrapping is the register map's business, these just count):
    frames_ok (good frames for this address or broadcast), crc_errors, exceptions,
    ignored (good frames for another address)."""

    def __init__(self, address, datastore, ident=None):
        if not 1 <= address <= 247:
            raise ValueError("slave address must be 1..247")
        self.address = address
        self.store = datastore
        self.ident = devid.Identity(ident)
        self._tx = bytearray(MAX_ADU)
        self._txv = memoryview(self._tx)
        self.frames_ok = 0
        self.crc_errors = 0
        self.exceptions = 0
        self.ignored = 0

    def handle(self, frame):
        """Response frame (memoryview, valid until the next call) or None for no answer."""
        n = len(frame)
        if n < 4 or not check(frame):
            self.crc_errors += 1
            return None
        unit = frame[0]
        if unit != self.address and unit != BROADCAST:
            self.ignored += 1
            return None
        self.frames_ok += 1
        pdu = memoryview(frame)[1:n - 2]
        fc = pdu[0]
        tx = self._tx
        tx[0] = unit
        tx[1] = fc
        try:
            end = self._dispatch(fc, pdu, unit == BROADCAST)
        except ModbusError as e:
            end = self._exception(fc, e.code)
        except Exception:
            end = self._exception(fc, DEVICE_FAILURE)
        if unit == BROADCAST or not end:
            return None
        return self._txv[:put(tx, end)]

    def _exception(self, fc, code):
        self.exceptions += 1
        self._tx[1] = (fc | 0x80) & 0xFF
        self._tx[2] = code
        return 3

    def _dispatch(self, fc, pdu, broadcast):
        # Returns the length of the response written into _tx (address .. data), or 0.
        if fc == 3 or fc == 4 or fc == 1 or fc == 2:
            return 0 if broadcast else self._read(fc, pdu)
        if fc == 5 or fc == 6:
            return self._write_single(fc, pdu)
        if fc == 15 or fc == 16:
            return self._write_multiple(fc, pdu)
        if fc == 23:
            return 0 if broadcast else self._read_write(pdu)
        if fc == ENCAPSULATED_INTERFACE:
            return 0 if broadcast else self.ident.respond(pdu, self._tx, 1)
        raise ModbusError(ILLEGAL_FUNCTION)

    def _read(self, fc, pdu):
        _shape(len(pdu) == 5)
        addr = _u16(pdu, 1)
        count = _u16(pdu, 3)
        if fc <= 2:
            _quantity(count, MAX_READ_BITS)
            _range(addr, count)
            return self._put_bits(self.store.read_bits(_BIT_KIND[fc], addr, count), count)
        _quantity(count, MAX_READ_REGS)
        _range(addr, count)
        return self._put_regs(self.store.read_regs(_REG_KIND[fc], addr, count), count)

    def _put_bits(self, bits, count):
        if len(bits) != count:
            raise ModbusError(DEVICE_FAILURE)
        tx = self._tx
        nbytes = (count + 7) >> 3
        tx[2] = nbytes
        for k in range(3, 3 + nbytes):
            tx[k] = 0
        for i in range(count):
            if bits[i]:
                tx[3 + (i >> 3)] |= 1 << (i & 7)
        return 3 + nbytes

    def _put_regs(self, regs, count):
        if len(regs) != count:
            raise ModbusError(DEVICE_FAILURE)
        tx = self._tx
        tx[2] = 2 * count
        k = 3
        for i in range(count):
            v = regs[i]
            tx[k] = (v >> 8) & 0xFF
            tx[k + 1] = v & 0xFF
            k += 2
        return k

    def _echo(self, pdu, nbytes):
        # FC05/06 echo the request, FC15/16 echo its first five bytes.
        self._txv[1:1 + nbytes] = pdu[:nbytes]
        return 1 + nbytes

    def _write_single(self, fc, pdu):
        _shape(len(pdu) == 5)
        addr = _u16(pdu, 1)
        value = _u16(pdu, 3)
        if fc == 5:
            if value != 0xFF00 and value != 0x0000:
                raise ModbusError(ILLEGAL_DATA_VALUE)
            self.store.write_bits(COIL, addr, [1 if value else 0])
        else:
            self.store.write_regs(HOLDING, addr, [value])
        return self._echo(pdu, 5)

    def _write_multiple(self, fc, pdu):
        _shape(len(pdu) >= 6)
        addr = _u16(pdu, 1)
        count = _u16(pdu, 3)
        nbytes = pdu[5]
        if fc == 15:
            _quantity(count, MAX_WRITE_BITS)
            _shape(nbytes == (count + 7) >> 3 and len(pdu) == 6 + nbytes)
            _range(addr, count)
            values = [(pdu[6 + (i >> 3)] >> (i & 7)) & 1 for i in range(count)]
            self.store.write_bits(COIL, addr, values)
        else:
            _quantity(count, MAX_WRITE_REGS)
            _shape(nbytes == 2 * count and len(pdu) == 6 + nbytes)
            _range(addr, count)
            self.store.write_regs(HOLDING, addr, [_u16(pdu, 6 + 2 * i) for i in range(count)])
        return self._echo(pdu, 5)

    def _read_write(self, pdu):
        _shape(len(pdu) >= 10)
        raddr = _u16(pdu, 1)
        rcount = _u16(pdu, 3)
        waddr = _u16(pdu, 5)
        wcount = _u16(pdu, 7)
        nbytes = pdu[9]
        _quantity(rcount, MAX_READ_REGS)
        _quantity(wcount, MAX_RW_WRITE_REGS)
        _shape(nbytes == 2 * wcount and len(pdu) == 10 + nbytes)
        _range(raddr, rcount)
        _range(waddr, wcount)
        self.store.write_regs(HOLDING, waddr, [_u16(pdu, 10 + 2 * i) for i in range(wcount)])
        return self._put_regs(self.store.read_regs(HOLDING, raddr, rcount), rcount)
