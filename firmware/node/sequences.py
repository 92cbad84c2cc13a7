"""Legal aspect sequences of one signal group, derived from its provisioned safety times.

A group's row of the safety tables (protocols/safety_tables.py) says which aspects it has:
red+amber if red_amber_ms > 0, flashing green if flash_green_ms > 0, amber if amber_ms > 0
(vehicles always; arrows without amber are green-only), and for pedestrians a flashing-red
clearance if clearance_ms > 0. From that, the transitions a group may make:

  vehicle / arrow with amber   GREEN -> [FLASH_GREEN] -> AMBER -> RED|DARK
                               RED -> [RED_AMBER] -> GREEN,  RED <-> DARK
  green-only arrow             GREEN -> [FLASH_GREEN] -> RED|DARK,  RED|DARK -> GREEN,
                               RED <-> DARK
  pedestrian                   GREEN -> [FLASH_GREEN] -> [FLASH_RED] -> RED|DARK,
                               RED -> GREEN,  RED <-> DARK

FLASH_AMBER (and FLASH_RED for vehicles) belong to the node's flash mode, never to a
command. Each row is a bitmask over the target aspect, indexed by the present aspect.
"""

from protocols.aspects import (
    AMBER,
    DARK,
    FLASH_GREEN,
    FLASH_RED,
    GREEN,
    RED,
    RED_AMBER,
)

VEHICLE = 0
PEDESTRIAN = 1
ARROW = 2
KINDS = ("vehicle", "pedestrian", "arrow")


def _bit(a):
    return 1 << a


def legal_rows(kind, has_amber, has_red_amber, has_flash_green, has_ped_clearance):
    """bytearray(8): row[present] = bitmask of the aspects the group may go to next."""
    row = bytearray(8)
    rest = _bit(RED) | _bit(DARK)
    row[DARK] = _bit(RED)
    if kind == PEDESTRIAN:
        after_fg = _bit(FLASH_RED) if has_ped_clearance else rest
        row[GREEN] = _bit(FLASH_GREEN) if has_flash_green else after_fg
        row[FLASH_GREEN] = after_fg
        row[FLASH_RED] = rest
        row[RED] = _bit(GREEN) | _bit(DARK)
    elif has_amber:
        row[GREEN] = _bit(FLASH_GREEN) if has_flash_green else _bit(AMBER)
        row[FLASH_GREEN] = _bit(AMBER)
        row[AMBER] = rest
        row[RED] = (_bit(RED_AMBER) if has_red_amber else _bit(GREEN)) | _bit(DARK)
        row[RED_AMBER] = _bit(GREEN)
    else:   # green-only arrow: RED means "off" (it has no red lamp)
        row[GREEN] = _bit(FLASH_GREEN) if has_flash_green else rest
        row[FLASH_GREEN] = rest
        row[RED] = _bit(GREEN) | _bit(DARK)
        row[DARK] = _bit(GREEN) | _bit(RED)
    return row


def is_legal(row, present, target):
    return bool(row[present] & (1 << target))


def clearance_step(row, present):
    """The next aspect on the way from `present` to rest (RED/DARK), or -1 if the group can
    go to rest at once. Used when the node runs a group's clearance itself."""
    for a in (FLASH_GREEN, AMBER, FLASH_RED):
        if row[present] & (1 << a):
            return a
    return -1


def reaches_rest_through(row, present):
    """True if rest (RED/DARK) is a clearance away, not directly reachable."""
    return not row[present] & (_bit(RED) | _bit(DARK)) and clearance_step(row, present) >= 0
