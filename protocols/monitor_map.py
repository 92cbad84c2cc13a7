"""The register map of a smartcross monitor unit (firmware/munit/): status only.

A monitor unit is the signal monitor (monitor/) on a board of its own, wired to the lamp
sense of every head of one intersection and to the cabinet's flash-transfer relay. The
cabinet reads its status; nothing about it can be written over the bus: every write
function (FC05, FC06, FC15, FC16, FC23) is answered with exception 01 ILLEGAL_FUNCTION,
so that a controller fault can never change what the unit checks or clear its latch.

Holding registers (FC03) and input registers (FC04), the same block, read-only:

| addr | name | meaning |
|---:|---|---|
| 0 | MU_LAYOUT | MU_LAYOUT_VERSION |
| 1 | MU_FW_VERSION | firmware major << 8 \\| minor |
| 2 | MU_FW_PATCH | firmware patch level |
| 3 | MU_STATE | MU_STARTING, MU_NORMAL or MU_TRANSFER |
| 4 | MU_RELAY | 1 while the transfer relay is energised (normal), 0 when dropped (flash) |
| 5 | MU_FAULTS | latched fault bits, one per monitor.violation.KINDS entry (bit i = KINDS[i]) |
| 6-7 | MU_TABLE_CRC | CRC-32 of the provisioned compatibility table (monitor.table.crc) |
| 8 | MU_CONFIG_ERROR | MU_CFG_* (0: the unit's file is sound) |
| 9 | MU_N_GROUPS | signal groups in its table |
| 10-11 | MU_UPTIME_S | seconds since boot (32-bit) |
| 12 | MU_RESET_CAUSE | the register_map RESET_* codes |
| 13 | MU_SCANS | lamp-sense scans done (wraps): moves while the unit watches |
| 14 | MU_VIOLATIONS | violations seen since boot (wraps) |
| 15 | MU_FIRST_GROUPS | the first latched violation's groups: table index + 1 of the first in the low byte, of the second in the high byte (0: none) |

Reads outside 0-15 answer ILLEGAL_DATA_ADDRESS. The unit also answers FC43/14 device
identification (ProductCode "SC-MONITOR", ModelName its unit id), as a node does. No I/O.
"""

MU_LAYOUT_VERSION = 1

MU_LAYOUT = 0
MU_FW_VERSION = 1
MU_FW_PATCH = 2
MU_STATE = 3
MU_RELAY = 4
MU_FAULTS = 5
MU_TABLE_CRC = 6            # 2 registers, high word first
MU_CONFIG_ERROR = 8
MU_N_GROUPS = 9
MU_UPTIME_S = 10            # 2 registers
MU_RESET_CAUSE = 12
MU_SCANS = 13
MU_VIOLATIONS = 14
MU_FIRST_GROUPS = 15
MU_BLOCK = 0
MU_BLOCK_COUNT = 16

PRODUCT_CODE = "SC-MONITOR"

# MU_STATE
MU_STARTING = 0             # after a reset: the relay stays dropped for the start-up flash
MU_NORMAL = 1               # relay energised: the heads are the controller's
MU_TRANSFER = 2             # a violation latched: relay dropped until a local reset
MU_STATE_NAMES = ("starting", "normal", "transfer")

# MU_CONFIG_ERROR
MU_CFG_OK = 0
MU_CFG_UNREADABLE = 1       # no monitor.json, not readable, or not JSON
MU_CFG_TABLE = 2            # monitor.table.validate() refused the table
MU_CFG_CRC = 3              # the stored crc differs from the table's
MU_CFG_OTHER = 4            # a missing key, a bad pin, a head without sense inputs, ...
MU_CFG_FILES = 5            # the unit's files differ from manifest.json (the boot's check)
MU_CFG_NAMES = ("ok", "unreadable", "invalid-table", "crc-mismatch", "other", "files")


def first_groups(a, b):
    """MU_FIRST_GROUPS of table indices a and b (None: no group)."""
    return (0 if a is None else a + 1) | ((0 if b is None else b + 1) << 8)


def decode_status(regs):
    """The MU_BLOCK_COUNT registers as a dict (cabinet side)."""
    fw = regs[MU_FW_VERSION]
    fg = regs[MU_FIRST_GROUPS]
    return {
        "layout": regs[MU_LAYOUT],
        "firmware": f"{fw >> 8}.{fw & 0xFF}.{regs[MU_FW_PATCH]}",
        "fw_major": fw >> 8,
        "state": regs[MU_STATE],
        "relay": regs[MU_RELAY],
        "faults": regs[MU_FAULTS],
        "table_crc": (regs[MU_TABLE_CRC] << 16) | regs[MU_TABLE_CRC + 1],
        "config_error": regs[MU_CONFIG_ERROR],
        "groups": regs[MU_N_GROUPS],
        "uptime_s": (regs[MU_UPTIME_S] << 16) | regs[MU_UPTIME_S + 1],
        "reset_cause": regs[MU_RESET_CAUSE],
        "scans": regs[MU_SCANS],
        "violations": regs[MU_VIOLATIONS],
        "first_groups": ((fg & 0xFF) - 1, (fg >> 8) - 1),
    }
