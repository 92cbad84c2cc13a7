"""The TS2 figures the checks use, and the lamp rules they share.

Conventions every check follows:
- Sample-and-hold: a sample's lamps hold until the next sample; a duration is measured
  from the first sample that shows a state to the first sample that no longer does.
- Flashing is recognised from the lamps, not from a phase: a lamp re-lit within
  FLASH_GAP_S of going dark is flashing; one lit without a break for more than STEADY_S
  is steady. Until a pulse is classified, judgements that depend on it wait.
- Where the lamps leave a boundary uncertain (the first lit half of a flashing green
  merges into the steady green before it) the controller gets the benefit of the doubt,
  which is at most one flash on-time (0.5 s).
"""

from protocols.aspects import LAMP_AMBER, LAMP_GREEN, LAMP_RED

R, A, G = LAMP_RED, LAMP_AMBER, LAMP_GREEN

CONFLICT_S = 0.3            # TS2: ignore < 0.2 s, must fault > 0.45 s (any non-red: G, A, R+A, FDW)
DUAL_S = 0.3                # the MMU dual-indication timer, same window as conflicts
RED_FAIL_S = 0.8            # TS2: ignore < 0.7 s, must fault > 1.0 s
SHORT_AMBER_S = 2.7         # TS2 short yellow, whatever the configuration says
STARTUP_FLASH_S = (4.0, 11.0)
FLASH_GAP_S = 1.2           # a lamp re-lit within this after going dark is flashing
STEADY_S = 1.0              # a lamp lit longer than this without a break is steady
FLASH_OFF_S = 0.5           # the dark half of a 1 Hz flash
QUIET_S = 1.5               # after a change a head times nothing longer than this
EPS = 1e-6                  # times are sums of 0.1 s steps
NEVER = float("-inf")       # before any time (math.inf is optional in MicroPython builds)
