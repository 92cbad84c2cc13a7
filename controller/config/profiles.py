"""Signal-sequence profiles as data (see shared DOMAIN.md, "Signal sequences").

A profile says which aspects a group passes through and the usual durations; the
configuration may override the durations per group, within the limits given here.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    red_amber: bool              # red+amber before green (CIS, EU)
    flash_green: bool            # flashing green at the end of green (CIS)
    ped_clearance: str           # "flash_green" (CIS), "flash_red" (US FDW) or "none" (EU)
    amber_s: float
    red_amber_s: float
    flash_green_s: float
    description: str


PROFILES = {
    "CIS": Profile("CIS", True, True, "flash_green", 3.0, 2.0, 3.0,
                   "green, flashing green 3 s, amber, red, red+amber (GOST R 52289)"),
    "EU": Profile("EU", True, False, "none", 3.0, 1.0, 0.0,
                  "green, amber, red, red+amber (VwV-StVO §37, RiLSA)"),
    "US": Profile("US", False, False, "flash_red", 3.5, 0.0, 0.0,
                  "green, yellow, red clearance (MUTCD, NEMA)"),
}

AMBER_MIN_S = 3.0          # NTCIP yellowChange lower bound; a monitor faults below 2.7 s
AMBER_MAX_S = 25.5
RED_AMBER_MAX_S = 2.0
STARTUP_FLASH_RANGE_S = (4.0, 11.0)   # TS2: initial flash must last 4-11 s
