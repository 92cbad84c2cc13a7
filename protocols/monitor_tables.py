"""The canonical encoding of a monitor table (monitor/table.py, format 1) and its CRC-32.

A monitor unit (firmware/munit/) publishes `crc(table)` of the table it was provisioned
with (protocols/monitor_map.py MU_TABLE_CRC); the cabinet compares it with `crc` of the
table it makes from its configuration (controller/config/monitor_table.py). Both call
this one function, so they agree by construction, as the node and the cabinet do on the
guard's tables (safety_tables.py).

Encoding (big-endian), for a table that monitor.table.validate accepts:

    b"SCMT" 0x01  flash:u8 (amber 0, red 1)  len:u8 intersection:utf-8  n_groups:u8
    per group, in table order: kind:u8 (vehicle 0, arrow 1, pedestrian 2)  len:u8 id:utf-8
        min_green_ms:u32  amber_ms:u32  flags:u8 (1 red_amber, 2 flash_dont_walk)
    n_conflicts:u16, then per conflict sorted by (index of clearing, index of entering):
        clearing:u8 entering:u8 intergreen_ms:u32

so that it depends neither on key order nor on the order the conflicts are listed in.
"""

import binascii
import struct

MAGIC = b"SCMT"
VERSION = 1
KINDS = ("vehicle", "arrow", "pedestrian")
FLASH = ("amber", "red")


def _text(s) -> bytes:
    b = s.encode()
    if len(b) > 255:
        raise ValueError("an id longer than 255 bytes")
    return bytes((len(b),)) + b


def encode(table) -> bytes:
    """The canonical bytes of a valid monitor table."""
    groups = table["groups"]
    index = {}
    out = [MAGIC, bytes((VERSION, FLASH.index(table["flash"]))), _text(table["intersection"]),
           bytes((len(groups),))]
    for k in range(len(groups)):
        g = groups[k]
        index[g["id"]] = k
        flags = (1 if g["red_amber"] else 0) | (2 if g["flash_dont_walk"] else 0)
        out.append(bytes((KINDS.index(g["kind"]),)) + _text(g["id"])
                   + struct.pack(">IIB", g["min_green_ms"], g["amber_ms"], flags))
    pairs = sorted([(index[c[0]], index[c[1]], c[2]) for c in table["conflicts"]])
    out.append(struct.pack(">H", len(pairs)))
    for a, b, ms in pairs:
        out.append(struct.pack(">BBI", a, b, ms))
    return b"".join(out)


def crc(table) -> int:
    """CRC-32 (binascii.crc32, the zlib/IEEE one) of encode(table), as 0..2**32-1."""
    return binascii.crc32(encode(table)) & 0xFFFFFFFF
