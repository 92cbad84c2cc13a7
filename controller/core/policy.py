"""What the timing core asks of a control policy, and what it shows one.

The core takes a `PolicyFactory` from its caller and never imports a policy: the policies
(controller/policies) build on this interface, the caller chooses them. A policy only
chooses when to leave the running stage and for which one; the signal groups below it
keep every safety time whatever it chooses.

Times are integer tenths of a second, as everywhere in the core.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..config.model import Intersection, Plan


class StageView(Protocol):
    """The read-only view of one intersection a policy decides on (the core itself)."""

    t: int                  # now
    stage: str              # the running stage
    stage_start: int        # when its green began (the end of the transition to it)

    def demand(self, stage: str) -> bool:
        """A vehicle or pedestrian call for a group of `stage` that is not green."""
        ...

    def extending(self, stage: str) -> bool:
        """A working extension detector of `stage` is occupied or within its passage time."""
        ...

    def extension_end(self, stage: str) -> int:
        """When the extension of `stage` runs out if no detector changes (INF: held)."""
        ...

    def conflicting_call_since(self) -> int | None:
        """Since when another stage has been called (None: nobody else calls)."""
        ...

    def count(self, detector: str) -> int:
        """Vehicles the detector has counted since the core started."""
        ...

    def present_since(self, detector: str) -> int | None:
        """Since when the detector reports presence (None: absent or failed)."""
        ...

    def last_seen(self, detector: str) -> int:
        """The last tenth the detector reported presence (now while it does)."""
        ...


class Policy(Protocol):
    order: list[str]        # the stages the plan runs, in the order it runs them
    ref: int                # tenths civil time runs ahead of the core's t

    def called(self, stage: str, view: StageView) -> bool:
        """Whether `stage` asks for the green (the core times the conflicting call by it)."""
        ...

    def decide(self, view: StageView) -> tuple[str, int] | None:
        """None to keep the running stage, else (next stage, event code of the end)."""
        ...

    def deadline(self, view: StageView) -> int:
        """The next tenth at which `decide` may answer differently with the same inputs."""
        ...

    def take_over(self, old: Policy, view: StageView) -> None:
        """Called once when this policy replaces `old` at a plan change."""
        ...

    def resync(self, ref: int, view: StageView, smooth: bool = True) -> None:
        """Civil time now runs `ref` tenths ahead of the core's t (it moved: a
        daylight-saving change, a step of the cabinet's clock). A policy with a cycle moves
        its cycle to the new reference: `smooth`ly, through its normal stage changes, or
        at once while the intersection runs no stages (start-up, flash)."""
        ...


PolicyFactory = Callable[[Intersection, Plan], Policy]
