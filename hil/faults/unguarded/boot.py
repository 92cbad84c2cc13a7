# Rig-only fault injection (hil/faults/README.md): a node whose guard lets every command
# through, so that a rogue controller can drive conflicting greens onto the lamps and only
# the monitor unit stands between them and the street. First on this board's MICROPYPATH,
# this file runs instead of the firmware's boot.py, then runs that one (EMU_FIRMWARE).
import os

from node import guard


def _anything_goes(self, g, want, now):
    self._wait = 0
    return guard.OK


guard.Guard.check = _anything_goes
print("FAULT INJECTED: the node's guard is disabled")
with open(os.getenv("EMU_FIRMWARE") + "/boot.py") as _f:
    exec(_f.read())
