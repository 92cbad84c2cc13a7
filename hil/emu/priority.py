"""The rig claims the CPU its emulated hardware would have.

An emulated board stands in for a chip with a CPU of its own, and the emulated RS-485 line
for copper that never waits: on a real street neither shares a core with a compiler or a
browser. The rig's real-time parts (the board processes, the line's thread, the cabinet
service a scenario runs) therefore ask the kernel for a larger share of the CPU than the
other work on the host, as HIL benches do: `claim()` raises the calling process's share
(its autogroup, the unit the Linux scheduler divides the CPU between, and its own nice
value, inherited by the processes it starts); `raise_child(pid)` raises one child's.

The share is a request, never a condition: without the privilege (not root, no
CAP_SYS_NICE) or on a system without autogroups it is silently left as it is, and every
wait in the rig still stretches with the load (hil/emu/patience.py). SMARTCROSS_RIG_NICE
sets the nice value asked for (default -10; 0 leaves the priority alone).
"""

from __future__ import annotations

import os
from pathlib import Path

AUTOGROUP = Path("/proc/self/autogroup")
DEFAULT_NICE = -10

_claimed = False


def wanted() -> int:
    """The nice value the rig asks for (SMARTCROSS_RIG_NICE, default -10; 0 = no claim)."""
    try:
        nice = int(os.environ.get("SMARTCROSS_RIG_NICE", DEFAULT_NICE))
    except ValueError:
        return 0
    return max(-20, min(0, nice))


def claim() -> None:
    """Raise this process's share of the CPU (once per process; silent without privilege)."""
    global _claimed
    nice = wanted()
    if _claimed or nice == 0:
        return
    _claimed = True
    try:
        AUTOGROUP.write_text(f"{nice}\n")
    except OSError:
        pass
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) > nice:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
    except OSError:
        pass


def raise_child(pid: int) -> None:
    """Give a process the rig started the rig's share (silent without privilege)."""
    nice = wanted()
    if nice == 0:
        return
    try:
        if os.getpriority(os.PRIO_PROCESS, pid) > nice:
            os.setpriority(os.PRIO_PROCESS, pid, nice)
    except OSError:
        pass
