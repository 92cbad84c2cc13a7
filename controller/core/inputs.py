"""What the timing core is stepped with, and what one step gives back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from . import events as E


class Inputs(NamedTuple):
    presence: frozenset[str] | set[str] = frozenset()   # detector ids reporting presence
    faults: frozenset[str] | set[str] = frozenset()     # detector ids in fault
    flash: bool = False          # flash on command (controlled entry)
    fault_flash: bool = False    # flash now (a lost node, a fault elsewhere)
    # vehicles each detector counted since the previous step (the node's DET_COUNT
    # registers, differenced); detectors never given here are counted by their on-edges
    counts: Mapping[str, int] | None = None
    # Preempt ids called from outside the intersection's own detectors (the central system,
    # SUMO): on while present. A `preempt` detector's presence calls its preempt as well.
    preempt_calls: frozenset[str] | set[str] = frozenset()
    # Transit priority ids checked in from outside (AVL, SUMO): checked in while present,
    # checked out when gone. A `priority` detector's check-in/check-out works as well.
    priority_calls: frozenset[str] | set[str] = frozenset()


NO_INPUTS = Inputs()


class Output(NamedTuple):
    aspects: dict[str, int]
    events: list[E.Event]
