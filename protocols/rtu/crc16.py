"""CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), table-driven; the table is built once
at import. On the wire the CRC goes low byte first."""

from array import array


def _build():
    # 16-bit entries in one array (512 bytes; a tuple of ints takes a machine word per
    # entry, twice that on the ESP32 and four times on a 64-bit host); indexing gives a
    # small int: no allocation, on MicroPython or CPython.
    t = array("H", bytes(512))
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
        t[i] = c
    return t


_TABLE = _build()


def crc16(data, crc=0xFFFF):
    """CRC-16/MODBUS of `data` (bytes, bytearray or memoryview); pass `crc` to continue."""
    t = _TABLE
    for b in data:
        crc = (crc >> 8) ^ t[(crc ^ b) & 0xFF]
    return crc


def check(frame):
    """True if `frame` (address .. CRC) is at least 4 bytes and its CRC matches."""
    n = len(frame)
    if n < 4:
        return False
    c = crc16(memoryview(frame)[: n - 2])
    return frame[n - 2] == c & 0xFF and frame[n - 1] == c >> 8


def put(buf, n):
    """Append the CRC of buf[:n] at buf[n], buf[n+1]; return the new length n + 2."""
    c = crc16(memoryview(buf)[:n])
    buf[n] = c & 0xFF
    buf[n + 1] = c >> 8
    return n + 2
