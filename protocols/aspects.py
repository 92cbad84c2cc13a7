"""Signal-group aspects: the one vocabulary of node, controller and monitor.

Plain integers so that they fit a Modbus register and cost nothing on the node.
"""

DARK = 0
RED = 1
RED_AMBER = 2
GREEN = 3
FLASH_GREEN = 4
AMBER = 5
FLASH_AMBER = 6
FLASH_RED = 7

COUNT = 8

NAMES = ("dark", "red", "red+amber", "green", "flashing green", "amber",
         "flashing amber", "flashing red")

# Lamp bits of a head: red, amber, green.
LAMP_RED = 1
LAMP_AMBER = 2
LAMP_GREEN = 4

# Steady lamps and flashing lamps for every aspect, as (steady_bits, flashing_bits).
LAMPS = (
    (0, 0),                      # DARK
    (LAMP_RED, 0),               # RED
    (LAMP_RED | LAMP_AMBER, 0),  # RED_AMBER
    (LAMP_GREEN, 0),             # GREEN
    (0, LAMP_GREEN),             # FLASH_GREEN
    (LAMP_AMBER, 0),             # AMBER
    (0, LAMP_AMBER),             # FLASH_AMBER
    (0, LAMP_RED),               # FLASH_RED
)

FLASH_PERIOD_MS = 1000
FLASH_ON_MS = 500


def lamps(aspect, ms):
    """Lamp bits lit at time `ms` (milliseconds, any origin shared by all heads)."""
    steady, flashing = LAMPS[aspect]
    if flashing and ms % FLASH_PERIOD_MS < FLASH_ON_MS:
        return steady | flashing
    return steady


def is_green(aspect):
    """GREEN or FLASH_GREEN: the group has right of way and is not yet clearing."""
    return aspect == GREEN or aspect == FLASH_GREEN


def name(aspect):
    if 0 <= aspect < COUNT:
        return NAMES[aspect]
    return f"invalid({aspect})"
