"""CRC-16/MODBUS against published vectors. Runs on CPython (pytest) and MicroPython."""

from protocols.modbus_rtu import check_crc, crc16
from protocols.rtu.crc16 import put


def _bitwise(data):
    # The textbook definition, one bit at a time: the reference the table must match.
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def test_catalogue_check_value():
    # CRC catalogue (reveng), CRC-16/MODBUS: check = 0x4B37 for "123456789".
    assert crc16(b"123456789") == 0x4B37


def test_empty_is_init():
    assert crc16(b"") == 0xFFFF


def test_known_frames():
    # Frames quoted in Modbus documentation and vendor manuals (CRC low byte first).
    for frame in (
        bytes((0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD)),
        bytes((0x11, 0x03, 0x00, 0x6B, 0x00, 0x03, 0x76, 0x87)),
        bytes((0x01, 0x06, 0x00, 0x01, 0x00, 0x03, 0x98, 0x0B)),
    ):
        assert check_crc(frame)
        assert crc16(frame) == 0      # a frame followed by its CRC leaves 0


def test_table_matches_bitwise():
    data = bytes(range(256)) + b"smartcross"
    for n in (1, 2, 7, 100, len(data)):
        assert crc16(data[:n]) == _bitwise(data[:n])


def test_continuation():
    data = b"abcdefghijklmnop"
    assert crc16(data[6:], crc16(data[:6])) == crc16(data)


def test_accepts_bytearray_and_memoryview():
    data = bytearray(b"\x01\x03\x00\x00\x00\x0a")
    assert crc16(data) == crc16(memoryview(data)) == crc16(bytes(data))


def test_put_appends_low_byte_first():
    buf = bytearray(8)
    buf[0:6] = b"\x01\x03\x00\x00\x00\x0a"
    assert put(buf, 6) == 8
    assert bytes(buf[6:]) == b"\xc5\xcd"


def test_every_single_bit_flip_is_detected():
    frame = bytearray(b"\x11\x03\x00\x6b\x00\x03\x76\x87")
    for i in range(len(frame) * 8):
        bad = bytearray(frame)
        bad[i >> 3] ^= 1 << (i & 7)
        assert not check_crc(bad)


def test_short_frames_never_check():
    for n in range(4):
        assert not check_crc(b"\x00" * n)
