"""The canonical encoding of a node's provisioned safety tables, and its CRC-32.

The node's guard and the controller's provisioning both call `encode`/`crc`/`validate`, so
they agree on the tables by construction; the node publishes `crc(tables)` in the register
map's SAFETY_CRC and the controller compares it with its own.

Input, a plain dict (other keys are ignored and not covered by the CRC):

    {"groups": [{"id": "A1", "kind": "vehicle" | "pedestrian" | "arrow",
                 "amber_ms": 3000, "red_amber_ms": 2000, "flash_green_ms": 3000,
                 "min_green_ms": 5000, "clearance_ms": 0}, ...],   # list order = local index
     "conflicts": [[i, j], ...],          # local indices; (i, j) implies (j, i)
     "intergreen_ms": [[i, j, ms], ...],  # ordered: end of green of i -> start of green of j
     "startup_flash_ms": 6000,            # optional, with all_red_ms: the node's minimum
     "all_red_ms": 2500}                  # boot flash and its start-up all-red

Missing timing keys count as 0. `clearance_ms` is what follows the end of green before the
group is at steady red: the red clearance after amber (NTCIP redClear) for vehicles and
arrows, the pedestrian clearance shown as FLASH_RED (US flashing don't walk) for pedestrians
(0 where pedestrians clear with flashing green, before the end of green).

`startup_flash_ms` (4000..11000, TS2) and `all_red_ms` (1000..60000) come together or not
at all. They are the node's start-up timing, in the tables so that the CRC covers them:
the controller's identity check then also proves that the node will flash and hold all red
as long as the cabinet was provisioned for. Tables without them mean the firmware's
defaults (5000 and 3000 ms).

Encoding (big-endian), version 1 (tables without start-up times):

    b"SCST" 0x01  n_groups:u8
    per group, in list order: kind:u8 (vehicle 0, pedestrian 1, arrow 2)
        id_len:u8 id:utf-8  amber red_amber flash_green min_green clearance: u32 each
    n_conflicts:u16  (i:u8 j:u8) with i < j, sorted, without duplicates
    n_intergreen:u16 (i:u8 j:u8 ms:u32) sorted, without exact duplicates

Version 2 (tables with start-up times): the same with 0x02 for the version byte, followed by

    startup_flash_ms:u32 all_red_ms:u32

so the CRC of tables without start-up times is what it always was (version 1), and tables
that differ only in their start-up times never share an encoding.

The encoding does not depend on key order, on the direction a conflict is written in, or on
repeated entries; it is total for anything that `validate` accepts and raises ValueError
for what it cannot represent.
"""

import binascii
import struct

MAGIC = b"SCST"
VERSION = 1                 # tables without start-up times
VERSION_STARTUP = 2         # tables with startup_flash_ms and all_red_ms
STARTUP = ("startup_flash_ms", "all_red_ms")
STARTUP_RANGES = ((4000, 11000), (1000, 60000))    # TS2: start-up flash 4-11 s
KINDS = ("vehicle", "pedestrian", "arrow")
TIMES = ("amber_ms", "red_amber_ms", "flash_green_ms", "min_green_ms", "clearance_ms")

MAX_GROUPS = 16             # register_map.MAX_GROUPS: aspects are packed for 16 groups
MAX_ID_BYTES = 32
MIN_AMBER_MS = 3000         # ITE / MUTCD >= 3.0 s; EU 3 s at 50 km/h; CIS 3 s
MAX_RED_AMBER_MS = 2000     # VwV-StVO: red+amber 1 s, at most 2 s
MAX_TIME_MS = 600000        # no single interval of a safety table is longer than 10 min


def _conflicts(tables):
    out = set()
    for pair in tables.get("conflicts", ()):
        i, j = pair[0], pair[1]
        out.add((i, j) if i <= j else (j, i))
    return sorted(out)


def _intergreens(tables):
    out = set()
    for t in tables.get("intergreen_ms", ()):
        out.add((t[0], t[1], t[2]))
    return sorted(out)


def _u32(v):
    if not isinstance(v, int) or v < 0 or v > 0xFFFFFFFF:
        raise ValueError("not a 32-bit unsigned integer: " + repr(v))
    return struct.pack(">I", v)


def _u8(v):
    if not isinstance(v, int) or v < 0 or v > 0xFF:
        raise ValueError("not an 8-bit index: " + repr(v))
    return bytes((v,))


def encode(tables):
    """The canonical bytes of `tables` (see the module docstring)."""
    groups = tables.get("groups", ())
    startup = has_startup(tables)
    parts = [MAGIC, bytes((VERSION_STARTUP if startup else VERSION,)), _u8(len(groups))]
    for g in groups:
        kind = g.get("kind")
        if kind not in KINDS:
            raise ValueError("unknown group kind: " + repr(kind))
        gid = str(g.get("id", "")).encode("utf-8")
        parts.append(bytes((KINDS.index(kind),)))
        parts.append(_u8(len(gid)))
        parts.append(gid)
        for key in TIMES:
            parts.append(_u32(g.get(key, 0)))
    conflicts = _conflicts(tables)
    parts.append(struct.pack(">H", len(conflicts)))
    for i, j in conflicts:
        parts.append(_u8(i) + _u8(j))
    inter = _intergreens(tables)
    parts.append(struct.pack(">H", len(inter)))
    for i, j, ms in inter:
        parts.append(_u8(i) + _u8(j) + _u32(ms))
    if startup:
        for key in STARTUP:
            parts.append(_u32(tables.get(key)))
    return b"".join(parts)


def has_startup(tables):
    """True if the tables carry start-up times (either key: encode then needs both)."""
    return STARTUP[0] in tables or STARTUP[1] in tables


def crc(tables):
    """CRC-32 (binascii.crc32, the zlib/IEEE one) of encode(tables), as 0..2**32-1."""
    return binascii.crc32(encode(tables)) & 0xFFFFFFFF


def clearing_ms(group):
    """Time from the end of green of `group` until it shows steady red: amber plus red
    clearance for vehicles and arrows, the pedestrian clearance for pedestrians."""
    if group.get("kind") == "pedestrian":
        return group.get("clearance_ms", 0)
    return group.get("amber_ms", 0) + group.get("clearance_ms", 0)


def intergreen_table(tables):
    """{(i, j): ms} of the (validated) tables."""
    out = {}
    for i, j, ms in _intergreens(tables):
        out[(i, j)] = ms
    return out


def conflict_set(tables):
    """Every conflicting ordered pair (i, j), both directions."""
    out = set()
    for i, j in _conflicts(tables):
        out.add((i, j))
        out.add((j, i))
    return out


def _is_index(v, n):
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v < n


def _check_group(k, g):
    if not isinstance(g, dict):
        return f"group {k} is not a dict"
    gid = g.get("id")
    if not isinstance(gid, str) or not gid or len(gid.encode("utf-8")) > MAX_ID_BYTES:
        return f"group {k}: id must be a non-empty string of at most {MAX_ID_BYTES} bytes"
    kind = g.get("kind")
    if kind not in KINDS:
        return f"group {gid}: kind must be one of " + ", ".join(KINDS)
    for key in TIMES:
        v = g.get(key, 0)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v > MAX_TIME_MS:
            return f"group {gid}: {key} must be an integer 0..{MAX_TIME_MS}"
    amber = g.get("amber_ms", 0)
    if kind == "vehicle" and amber < MIN_AMBER_MS:
        return f"group {gid}: vehicle amber {amber} ms < {MIN_AMBER_MS} ms"
    if kind == "arrow" and 0 < amber < MIN_AMBER_MS:
        return (f"group {gid}: arrow amber {amber} ms must be 0 (green-only)"
                f" or >= {MIN_AMBER_MS} ms")
    if kind == "pedestrian" and (amber or g.get("red_amber_ms", 0)):
        return f"group {gid}: a pedestrian group has no amber"
    if g.get("red_amber_ms", 0) > MAX_RED_AMBER_MS:
        return f"group {gid}: red+amber longer than {MAX_RED_AMBER_MS} ms"
    if g.get("min_green_ms", 0) <= 0:
        return f"group {gid}: min_green_ms must be > 0"
    return None


def validate(tables):
    """None if the tables are consistent and safe to run, else the first problem found."""
    if not isinstance(tables, dict):
        return "tables must be a dict"
    groups = tables.get("groups")
    if not isinstance(groups, list):
        return "groups must be a list (empty for a node that drives no heads)"
    n = len(groups)
    if n > MAX_GROUPS:
        return f"{n} groups, at most {MAX_GROUPS}"
    ids = []
    for k in range(n):
        err = _check_group(k, groups[k])
        if err:
            return err
        if groups[k]["id"] in ids:
            return "duplicate group id " + groups[k]["id"]
        ids.append(groups[k]["id"])
    for pair in tables.get("conflicts", ()):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            return f"conflict {pair} is not a pair"
        if not (_is_index(pair[0], n) and _is_index(pair[1], n)):
            return f"conflict {pair}: index out of range"
        if pair[0] == pair[1]:
            return f"conflict {pair}: a group cannot conflict with itself"
    if has_startup(tables):
        for k in range(2):
            key = STARTUP[k]
            lo, hi = STARTUP_RANGES[k]
            v = tables.get(key)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                return f"{key} must be an integer {lo}..{hi} (with {STARTUP[1 - k]})"
    seen: dict = {}
    for t in tables.get("intergreen_ms", ()):
        if not isinstance(t, (list, tuple)) or len(t) != 3:
            return f"intergreen {t} is not [i, j, ms]"
        i, j, ms = t[0], t[1], t[2]
        if not (_is_index(i, n) and _is_index(j, n)) or i == j:
            return f"intergreen {t}: bad group indices"
        if not isinstance(ms, int) or isinstance(ms, bool) or not 0 <= ms <= MAX_TIME_MS:
            return f"intergreen {t}: ms must be an integer 0..{MAX_TIME_MS}"
        if seen.get((i, j), ms) != ms:
            return f"intergreen {ids[i]}->{ids[j]} given twice with different times"
        seen[(i, j)] = ms
    for i, j in sorted(conflict_set(tables)):
        if (i, j) not in seen:
            return f"conflicting {ids[i]}->{ids[j]} has no intergreen"
        need = clearing_ms(groups[i])
        if seen[(i, j)] < need:
            return (f"intergreen {ids[i]}->{ids[j]} {seen[(i, j)]} ms < {need} ms"
                    f" (change and clearance of {ids[i]})")
    return None
