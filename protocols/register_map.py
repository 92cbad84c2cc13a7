"""THE register map of a smartcross field node: one source of truth for firmware and controller.

Every address below is a PDU address (0-based, as sent on the wire). Registers are 16-bit;
32-bit values take two registers, HIGH word first. Bitmaps over several registers are
indexed, not numeric: item i is bit (i % 16) of register base + i // 16. Aspect codes
(protocols/aspects.py) are packed four per register: group g is bits 4*(g % 4) .. +3 of
register base + g // 4.

Holding registers (FC03 read, FC06/FC16 write, FC23 both)

| addr | name | access | meaning |
|---:|---|---|---|
| 0 | HEARTBEAT | rw | counter written by the controller every poll (any change = alive) |
| 1 | COMMAND | rw | bits 0-2 requested mode (MODE_FLASH/ALL_RED/RUN); bit 8 ACK_FAULTS |
| 2-5 | SIGNAL_CMD | rw | commanded aspect per local group 0..15, nibble-packed |
| 16 | PI_HEARTBEAT | r | last heartbeat the node accepted |
| 17 | PI_MODE | r | node mode (MODE_*) |
| 18 | PI_FAULTS | r | fault flags (FAULT_*) |
| 19 | PI_GUARD_REFUSALS | r | guard refusal counter (16-bit, wraps) |
| 20-23 | PI_LAMP_ASPECT | r | observed aspect per group, nibble-packed (ASPECT_INVALID = 15) |
| 24 | PI_RED_FAIL | r | red-fail bit per group |
| 25 | PI_LAMP_FAIL | r | lamp-fail bit per group |
| 26-27 | PI_DET_PRESENCE | r | presence bit per detector 0..31 |
| 28-29 | PI_DET_FAULT | r | fault bit per detector 0..31 |
| 30-31 | PI_BAY_OCCUPIED | r | occupied bit per parking bay 0..31 |
| 32-33 | PI_BAY_FAULT | r | sensor-fault bit per parking bay 0..31 |
| 64 | DET_INTERVAL_SEQ | r | number of the last completed detector interval (wraps) |
| 65 | DET_INTERVAL_S | r | detector interval length, seconds |
| 96-127 | DET_COUNT | r | vehicle count per detector since boot/reset (16-bit, wraps) |
| 128-159 | DET_OCCUPANCY | r | occupancy per detector in the last interval, 0.1 % (0..1000) |
| 160-191 | DET_DIAG | r | diagnostic flags per detector (DIAG_*; NTCIP 1202 names) |
| 256 | LAYOUT_VERSION_REG | r | LAYOUT_VERSION (stays at 256 in every layout) |
| 257 | FW_VERSION | r | firmware major << 8 \\| minor |
| 258 | FW_PATCH | r | firmware patch level |
| 259-260 | UPTIME_S | r | uptime, seconds (32-bit) |
| 261 | RESET_CAUSE | r | RESET_* |
| 262 | BOOT_COUNT | r | boots since provisioning (wraps) |
| 263 | FAULTS | r | same as PI_FAULTS |
| 264 | MODE | r | same as PI_MODE |
| 265 | FRAMES_OK | r | good frames addressed to this node (wraps) |
| 266 | CRC_ERRORS | r | frames dropped for a bad CRC (wraps) |
| 267 | EXCEPTIONS | r | exception responses sent (wraps) |
| 268-269 | SAFETY_CRC | r | CRC-32 of the provisioned safety tables (protocols/safety_tables) |
| 270 | CONFIG_ERROR | r | CFG_* |
| 271 | N_GROUPS | r | signal groups configured |
| 272 | N_DETECTORS | r | detectors configured |
| 273 | N_BAYS | r | parking bays configured |
| 274 | GUARD_REFUSALS | r | same as PI_GUARD_REFUSALS |

Input registers (FC04): the read-only holding blocks again, at the same addresses
(16-33, 64-65, 96-191, 256-274); the command block 0-5 is not an input register.

Discrete inputs (FC02)

| addr | name | meaning |
|---:|---|---|
| 0-31 | DI_DET_PRESENCE | presence per detector |
| 32-63 | DI_DET_FAULT | fault per detector |
| 64-95 | DI_BAY_OCCUPIED | occupied per bay |
| 96-127 | DI_BAY_FAULT | sensor fault per bay |
| 128-143 | DI_RED_FAIL | red fail per group |
| 144-159 | DI_LAMP_FAIL | lamp fail per group |

Coils (FC01 read, FC05/FC15 write)

| addr | name | meaning |
|---:|---|---|
| 0 | COIL_REQUEST_FLASH | maintained: 1 = go to flash and stay there until cleared |
| 1 | COIL_RESET_COMM_COUNTERS | pulse: write 1 to zero FRAMES_OK/CRC_ERRORS/EXCEPTIONS; reads 0 |
| 2 | COIL_RESET_DET_COUNTS | pulse: write 1 to zero DET_COUNT; reads 0 |
| 3 | COIL_IDENTIFY | maintained: 1 = blink the node's status LED |

The cyclic poll is ONE FC23 per node every 100 ms: write POLL_WRITE_COUNT (6) registers at
POLL_WRITE_ADDR (0), read POLL_READ_COUNT (18) registers at POLL_READ_ADDR (16). Request
25 bytes, response 41 bytes: 66 characters x 95.5 us (115200 baud, 11 bits) = 6.3 ms, plus
the 1.75 ms silence before the master's next request = 8.1 ms, plus the node's turnaround
(from the request's last stop bit to the response's first start bit: the node ends a request
by its length and does not wait for a silence, the master ends the response by its length);
8 nodes fit in 100 ms only if each node answers within about 4.4 ms.

FC23 applies its write before its read, so in a healthy poll PI_HEARTBEAT already equals the
HEARTBEAT just written: the node copies HEARTBEAT to PI_HEARTBEAT when it accepts the
command block, and a mismatch tells the controller its command was not taken. A command the
guard refuses is still accepted as a write (the guard counts it in PI_GUARD_REFUSALS and
keeps the lamps safe): the datastore raises ILLEGAL_DATA_VALUE only for malformed values
(an aspect code >= aspects.COUNT, a mode that is not requestable), because an exception
response carries no process image.

Addresses outside the blocks above answer ILLEGAL_DATA_ADDRESS; `readable` and `writable`
say which, so the firmware's datastore and generic tools agree. No I/O here.
"""

from .rtu.const import COIL, DISCRETE, HOLDING, INPUT
from .words import (  # noqa: F401  (re-exported: the map's helpers)
    bits_to_regs,
    get_bit,
    get_nibble,
    get_u32,
    join_u32,
    regs_to_bits,
    set_bit,
    set_nibble,
    set_u32,
    split_u32,
)

LAYOUT_VERSION = 1

MAX_GROUPS = 16
MAX_DETECTORS = 32
MAX_BAYS = 32

# --- holding: command block (written by the controller) ---------------------------------
HEARTBEAT = 0
COMMAND = 1
SIGNAL_CMD = 2              # 4 registers
CMD_BLOCK = 0
CMD_BLOCK_COUNT = 6

CMD_MODE_MASK = 0x0007      # requested mode: MODE_FLASH, MODE_ALL_RED or MODE_RUN
CMD_ACK_FAULTS = 0x0100     # acknowledge the faults the node lets the controller clear

# --- holding/input: per-cycle process image ---------------------------------------------
PI_HEARTBEAT = 16
PI_MODE = 17
PI_FAULTS = 18
PI_GUARD_REFUSALS = 19
PI_LAMP_ASPECT = 20         # 4 registers
PI_RED_FAIL = 24
PI_LAMP_FAIL = 25
PI_DET_PRESENCE = 26        # 2 registers
PI_DET_FAULT = 28           # 2 registers
PI_BAY_OCCUPIED = 30        # 2 registers
PI_BAY_FAULT = 32           # 2 registers
PI_BLOCK = 16
PI_BLOCK_COUNT = 18

POLL_WRITE_ADDR = CMD_BLOCK
POLL_WRITE_COUNT = CMD_BLOCK_COUNT
POLL_READ_ADDR = PI_BLOCK
POLL_READ_COUNT = PI_BLOCK_COUNT

# --- holding/input: detector data --------------------------------------------------------
DET_INTERVAL_SEQ = 64
DET_INTERVAL_S = 65
DET_HEAD_BLOCK = 64
DET_HEAD_COUNT = 2
DET_COUNT = 96              # 32 registers
DET_OCCUPANCY = 128         # 32 registers
DET_DIAG = 160              # 32 registers
DET_BLOCK = 96
DET_BLOCK_COUNT = 96

# Per-detector diagnostic flags (DET_DIAG). Low byte: the node's own diagnostics, the TS2 /
# NTCIP 1202 detector diagnostics (noActivity, maxPresence, erraticCounts parameters).
# High byte: what the detector card reports, bit k + 8 = bit k of NTCIP 1202
# vehicleDetectorReportedAlarms (0 other, 1 watchdog, 2 open loop, 3 shorted loop,
# 4 excessive change). DIAG_FAULTS: the flags that make a detector "failed" (PI_DET_FAULT).
DIAG_NO_ACTIVITY = 0x0001
DIAG_MAX_PRESENCE = 0x0002
DIAG_ERRATIC_COUNTS = 0x0004
DIAG_REPORTED_OTHER = 0x0100
DIAG_WATCHDOG = 0x0200
DIAG_OPEN_LOOP = 0x0400
DIAG_SHORTED_LOOP = 0x0800
DIAG_EXCESSIVE_CHANGE = 0x1000
DIAG_FAULTS = 0x1F07

# --- holding/input: node status ----------------------------------------------------------
LAYOUT_VERSION_REG = 256
FW_VERSION = 257
FW_PATCH = 258
UPTIME_S = 259              # 2 registers
RESET_CAUSE = 261
BOOT_COUNT = 262
FAULTS = 263
MODE = 264
FRAMES_OK = 265
CRC_ERRORS = 266
EXCEPTIONS = 267
SAFETY_CRC = 268            # 2 registers
CONFIG_ERROR = 270
N_GROUPS = 271
N_DETECTORS = 272
N_BAYS = 273
GUARD_REFUSALS = 274
STATUS_BLOCK = 256
STATUS_BLOCK_COUNT = 19

# --- discrete inputs ---------------------------------------------------------------------
DI_DET_PRESENCE = 0
DI_DET_FAULT = 32
DI_BAY_OCCUPIED = 64
DI_BAY_FAULT = 96
DI_RED_FAIL = 128
DI_LAMP_FAIL = 144
DI_COUNT = 160

# --- coils -------------------------------------------------------------------------------
COIL_REQUEST_FLASH = 0
COIL_RESET_COMM_COUNTERS = 1
COIL_RESET_DET_COUNTS = 2
COIL_IDENTIFY = 3
COIL_COUNT = 4

# --- values ------------------------------------------------------------------------------
# Node modes (PI_MODE, MODE; the low bits of COMMAND use the same codes).
MODE_BOOT_FLASH = 0         # start-up flash after a reset
MODE_FLASH = 1
MODE_ALL_RED = 2
MODE_RUN = 3                # lamps follow SIGNAL_CMD through the guard
MODE_SAFE = 4               # the node's own safe state after a latched fault or comm loss
MODE_NAMES = ("boot-flash", "flash", "all-red", "run", "safe-mode")
REQUESTABLE_MODES = (MODE_FLASH, MODE_ALL_RED, MODE_RUN)

ASPECT_INVALID = 15         # lamp feedback that is no aspect (e.g. green and red together)

# Fault flags (PI_FAULTS, FAULTS).
FAULT_GUARD_REFUSED = 0x0001    # the guard refused a command since the last ACK_FAULTS
FAULT_CONFLICT = 0x0002         # conflicting non-red indications sensed on the lamps (latched)
FAULT_RED_FAIL = 0x0004
FAULT_LAMP_FAIL = 0x0008
FAULT_COMM_LOSS = 0x0010        # heartbeat did not change within the node's timeout
FAULT_CONFIG = 0x0020           # CONFIG_ERROR is not CFG_OK
FAULT_WATCHDOG = 0x0040         # the last reset was a watchdog reset
FAULT_DETECTOR = 0x0080         # any bit in PI_DET_FAULT
FAULT_BAY = 0x0100              # any bit in PI_BAY_FAULT
FAULT_POWER = 0x0200            # supply low / brown-out seen
FAULT_BOOT_LOOP = 0x0400        # boot-loop safe mode: flashing for good (until power cycle)
FAULT_DUAL = 0x0800             # dual indication sensed on one head, e.g. green+red (latched)
FAULT_NAMES = ("guard-refused", "conflict", "red-fail", "lamp-fail", "comm-loss", "config",
               "watchdog", "detector", "bay", "power", "boot-loop", "dual-indication")

# Reset causes (RESET_CAUSE).
RESET_UNKNOWN = 0
RESET_POWER_ON = 1
RESET_HARD = 2
RESET_WATCHDOG = 3
RESET_DEEPSLEEP = 4
RESET_SOFT = 5
RESET_BROWNOUT = 6

# Configuration errors (CONFIG_ERROR).
CFG_OK = 0
CFG_NO_TABLES = 1           # no safety tables provisioned
CFG_INVALID_TABLES = 2      # safety_tables.validate() refused them
CFG_CRC_MISMATCH = 3        # stored CRC differs from safety_tables.crc() of the stored tables
CFG_TOO_MANY = 4            # more groups/detectors/bays than the hardware has
CFG_OTHER = 5               # a missing key, bad type or range, pin used twice, ...
CFG_UNREADABLE = 6          # no file, not readable, or not JSON (a syntax error)
CFG_FILES = 7               # the node's files differ from manifest.json (node/manifest_check)
CFG_NAMES = ("ok", "no-tables", "invalid-tables", "crc-mismatch", "too-many", "other",
             "unreadable", "files")

# (kind, first address, count, writable) for every block; everything else is illegal.
BLOCKS = (
    (HOLDING, CMD_BLOCK, CMD_BLOCK_COUNT, True),
    (HOLDING, PI_BLOCK, PI_BLOCK_COUNT, False),
    (HOLDING, DET_HEAD_BLOCK, DET_HEAD_COUNT, False),
    (HOLDING, DET_BLOCK, DET_BLOCK_COUNT, False),
    (HOLDING, STATUS_BLOCK, STATUS_BLOCK_COUNT, False),
    (INPUT, PI_BLOCK, PI_BLOCK_COUNT, False),
    (INPUT, DET_HEAD_BLOCK, DET_HEAD_COUNT, False),
    (INPUT, DET_BLOCK, DET_BLOCK_COUNT, False),
    (INPUT, STATUS_BLOCK, STATUS_BLOCK_COUNT, False),
    (DISCRETE, 0, DI_COUNT, False),
    (COIL, 0, COIL_COUNT, True),
)


def block_of(kind, addr, count):
    """The BLOCKS entry that holds all of addr .. addr+count-1, or None."""
    for b in BLOCKS:
        if b[0] == kind and b[1] <= addr and addr + count <= b[1] + b[2]:
            return b
    return None


def readable(kind, addr, count):
    return count > 0 and block_of(kind, addr, count) is not None


def writable(kind, addr, count):
    b = block_of(kind, addr, count)
    return count > 0 and b is not None and b[3]


# --- aspects, four per register ----------------------------------------------------------
def pack_aspects(aspects, regs, index):
    """Aspect per group (a sequence, up to MAX_GROUPS) into 4 registers at index; groups
    beyond len(aspects) get 0 (DARK)."""
    for k in range(MAX_GROUPS // 4):
        regs[index + k] = 0
    for g in range(len(aspects)):
        set_nibble(regs, index, g, aspects[g])


def unpack_aspects(regs, index, n=MAX_GROUPS):
    return [get_nibble(regs, index, g) for g in range(n)]


# --- the cyclic poll ---------------------------------------------------------------------
def command_regs(heartbeat, command, aspects):
    """The POLL_WRITE_COUNT registers the controller writes each cycle (controller side)."""
    regs = [0] * CMD_BLOCK_COUNT
    regs[HEARTBEAT - CMD_BLOCK] = heartbeat & 0xFFFF
    regs[COMMAND - CMD_BLOCK] = command & 0xFFFF
    pack_aspects(aspects, regs, SIGNAL_CMD - CMD_BLOCK)
    return regs


def decode_process_image(regs, n_groups=MAX_GROUPS):
    """The POLL_READ_COUNT registers read each cycle, as a dict (controller side)."""
    b = PI_BLOCK
    return {
        "heartbeat": regs[PI_HEARTBEAT - b],
        "mode": regs[PI_MODE - b],
        "faults": regs[PI_FAULTS - b],
        "guard_refusals": regs[PI_GUARD_REFUSALS - b],
        "aspects": unpack_aspects(regs, PI_LAMP_ASPECT - b, n_groups),
        "red_fail": regs[PI_RED_FAIL - b],
        "lamp_fail": regs[PI_LAMP_FAIL - b],
        "det_presence": regs_to_bits(regs, PI_DET_PRESENCE - b, 2),
        "det_fault": regs_to_bits(regs, PI_DET_FAULT - b, 2),
        "bay_occupied": regs_to_bits(regs, PI_BAY_OCCUPIED - b, 2),
        "bay_fault": regs_to_bits(regs, PI_BAY_FAULT - b, 2),
    }
