"""The master (client) side of Modbus RTU, sans-IO: build request frames, then check and decode
the response frames. Used by tests and tools (the cabinet runtime uses pymodbus).

Every request function returns the whole frame (address .. CRC) as bytes. `decode(request,
response)` returns the result, raises ModbusError for an exception response and FrameError
for anything that is not a valid answer to that request (bad CRC, wrong unit, function,
length or echo). Broadcast requests (unit 0) get no response: do not wait for one.

Results: FC01/02 a list of 0/1 (count items); FC03/04/23 a list of ints; FC05/06 the tuple
(addr, value) echoed (value 0/1 for FC05); FC15/16 (addr, count); FC43 a dict (devid.decode).
"""

from . import devid
from .const import (
    ENCAPSULATED_INTERFACE,
    MEI_READ_DEVICE_ID,
    FrameError,
    ModbusError,
)
from .crc16 import check, put


def _frame(unit, fc, words, tail=b""):
    buf = bytearray(2 + 2 * len(words) + len(tail) + 2)
    buf[0] = unit
    buf[1] = fc
    k = 2
    for w in words:
        buf[k] = (w >> 8) & 0xFF
        buf[k + 1] = w & 0xFF
        k += 2
    buf[k:k + len(tail)] = tail
    put(buf, k + len(tail))
    return bytes(buf)


def _words(values):
    out = bytearray(2 * len(values))
    for i in range(len(values)):
        out[2 * i] = (values[i] >> 8) & 0xFF
        out[2 * i + 1] = values[i] & 0xFF
    return out


def _bits(values):
    out = bytearray((len(values) + 7) >> 3)
    for i in range(len(values)):
        if values[i]:
            out[i >> 3] |= 1 << (i & 7)
    return out


def read_coils(unit, addr, count):
    return _frame(unit, 1, (addr, count))


def read_discrete_inputs(unit, addr, count):
    return _frame(unit, 2, (addr, count))


def read_holding_registers(unit, addr, count):
    return _frame(unit, 3, (addr, count))


def read_input_registers(unit, addr, count):
    return _frame(unit, 4, (addr, count))


def write_coil(unit, addr, on):
    return _frame(unit, 5, (addr, 0xFF00 if on else 0))


def write_register(unit, addr, value):
    return _frame(unit, 6, (addr, value))


def write_coils(unit, addr, values):
    data = _bits(values)
    return _frame(unit, 15, (addr, len(values)), bytes((len(data),)) + data)


def write_registers(unit, addr, values):
    return _frame(unit, 16, (addr, len(values)), bytes((2 * len(values),)) + _words(values))


def read_write_registers(unit, read_addr, read_count, write_addr, values):
    """FC23: the slave writes `values` at write_addr, then reads read_count at read_addr."""
    return _frame(unit, 23, (read_addr, read_count, write_addr, len(values)),
                  bytes((2 * len(values),)) + _words(values))


def read_device_id(unit, code=1, object_id=0):
    return _frame(unit, ENCAPSULATED_INTERFACE, (), bytes((MEI_READ_DEVICE_ID, code, object_id)))


def _u16(b, i):
    return (b[i] << 8) | b[i + 1]


def response_length(request):
    """Length (address .. CRC) of a normal response to `request`; 0 if it varies (FC43)."""
    fc = request[1]
    if fc == 1 or fc == 2:
        return 5 + ((_u16(request, 4) + 7) >> 3)
    if fc == 3 or fc == 4 or fc == 23:
        return 5 + 2 * _u16(request, 4)
    if fc == 5 or fc == 6 or fc == 15 or fc == 16:
        return 8
    return 0


def decode(request, response):
    """Result of `response` to `request` (both whole frames), see the module docstring."""
    n = len(response)
    if not check(response):
        raise FrameError("bad CRC or short frame")
    if response[0] != request[0]:
        raise FrameError(f"response from unit {response[0]} to a request for {request[0]}")
    fc = request[1]
    if response[1] == fc | 0x80:
        if n != 5:
            raise FrameError("exception response of the wrong length")
        raise ModbusError(response[2], fc)
    if response[1] != fc:
        raise FrameError(f"function {fc} answered with {response[1]}")
    if fc == ENCAPSULATED_INTERFACE:
        return devid.decode(memoryview(response)[1:n - 2])
    want = response_length(request)
    if n != want:
        raise FrameError(f"response length {n}, expected {want}")
    if fc == 5 or fc == 6 or fc == 15 or fc == 16:
        if response[2:6] != request[2:6]:
            raise FrameError("write echo differs from the request")
        addr = _u16(response, 2)
        value = _u16(response, 4)
        if fc == 5:
            value = 1 if value == 0xFF00 else 0
        return (addr, value)
    if response[2] != n - 5:
        raise FrameError("byte count does not match the length")
    if fc == 1 or fc == 2:
        return [(response[3 + (i >> 3)] >> (i & 7)) & 1 for i in range(_u16(request, 4))]
    return [_u16(response, 3 + 2 * i) for i in range((n - 5) >> 1)]
