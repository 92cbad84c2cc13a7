"""Intergreen times from geometry, with the RiLSA formula (shared DOMAIN.md).

    tz = tü + tr − te,   tr = (s_clear + l) / v_clear,   te = s_entry / v_entry

tü: amber-overrun time of the clearing stream; s_clear: its clearing path to the
conflict point, l: vehicle length (0 for pedestrians); s_entry: the entering stream's
path to the same point. The result is rounded up to whole seconds and never shorter
than the clearing group's change interval (amber), which lies inside it.
"""

import math
from dataclasses import dataclass

# Defaults by kind of stream: (overrun s, clearing speed m/s, entry speed m/s, length m)
DEFAULTS = {
    "vehicle": (3.0, 10.0, 11.1, 6.0),
    "arrow": (3.0, 7.0, 11.1, 6.0),      # turning streams clear slower
    "pedestrian": (0.0, 1.2, 1.5, 0.0),
}


@dataclass(frozen=True)
class Movement:
    kind: str
    overrun_s: float
    clear_speed_mps: float
    entry_speed_mps: float
    length_m: float


def movement(kind: str, overrides: dict) -> Movement:
    tu, vc, ve, length = DEFAULTS[kind]
    return Movement(kind, overrides.get("overrun_s", tu), overrides.get("clear_speed_mps", vc),
                    overrides.get("entry_speed_mps", ve), overrides.get("length_m", length))


def intergreen_s(clearing: Movement, entering: Movement, clear_m: float, entry_m: float,
                 change_s: float) -> float:
    tz = (clearing.overrun_s + (clear_m + clearing.length_m) / clearing.clear_speed_mps
          - entry_m / entering.entry_speed_mps)
    return float(max(math.ceil(tz - 1e-9), math.ceil(change_s - 1e-9), 0))
