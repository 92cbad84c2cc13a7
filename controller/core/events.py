"""Indiana high-resolution controller event codes (ATSPM), as the log writes them.

An event is (time s, intersection id, code, parameter). Parameters: signal-group
(phase) numbers, detector channel numbers, plan numbers or NTCIP flash status.
"""

from typing import NamedTuple

PHASE_ON = 0
BEGIN_GREEN = 1
MIN_COMPLETE = 3
GAP_OUT = 4
MAX_OUT = 5
FORCE_OFF = 6
GREEN_TERMINATION = 7
BEGIN_YELLOW = 8
END_YELLOW = 9
BEGIN_RED_CLEARANCE = 10
END_RED_CLEARANCE = 11
PHASE_INACTIVE = 12
PED_WALK = 21
PED_CLEARANCE = 22
PED_DONT_WALK = 23
PED_DARK = 24
CALL_REGISTERED = 43
CALL_DROPPED = 44
PED_CALL = 45
DETECTOR_OFF = 81
DETECTOR_ON = 82
DETECTOR_RESTORED = 83
DETECTOR_FAULT = 84
# Preemption (parameter: the preempt's number) and transit priority (the priority's
# number), Indiana enumerations 2012 and the 2019 additions 116-119.
PREEMPT_ADVANCE_WARNING = 101
PREEMPT_CALL_ON = 102
PREEMPT_GATE_DOWN = 103
PREEMPT_CALL_OFF = 104
PREEMPT_ENTRY = 105
PREEMPT_TRACK_CLEARANCE = 106
PREEMPT_DWELL = 107
PREEMPT_LINK_ON = 108
PREEMPT_LINK_OFF = 109
PREEMPT_MAX_PRESENCE = 110      # the call was on too long: dropped, a fault
PREEMPT_EXIT = 111
TSP_CHECK_IN = 112
TSP_EARLY_GREEN = 113
TSP_EXTEND_GREEN = 114
TSP_CHECK_OUT = 115
PREEMPT_FORCE_OFF = 116         # a green ended early (cut below its minimum) by entry
TSP_EARLY_FORCE_OFF = 117       # a conflicting green ended early for a bus
TSP_SERVICE_START = 118
TSP_SERVICE_END = 119
PATTERN_CHANGE = 131
CYCLE_CHANGE = 132
OFFSET_CHANGE = 133
FLASH_STATUS = 173

# NTCIP 1202 unitFlashStatus, the parameter of FLASH_STATUS.
FLASH_NOT = 2          # flash ended
FLASH_AUTOMATIC = 3
FLASH_MANUAL = 4       # commanded by an operator or the runtime
FLASH_FAULT = 5        # fault monitor: the controller's own check or a lost node
FLASH_STARTUP = 7


class Event(NamedTuple):
    t: float
    intersection: str
    code: int
    param: int
