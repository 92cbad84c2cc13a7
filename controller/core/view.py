"""The read-only view of an intersection that its policy decides on (policy.StageView):
what the core's detectors and calls say about each stage. `IntersectionCore` inherits it."""

from __future__ import annotations

from protocols import aspects as A

from .signal_group import INF, GroupTimer


class PolicyView:
    t: int
    stage: str
    stage_start: int
    groups: dict[str, GroupTimer]
    stage_groups: dict[str, tuple[str, ...]]
    extenders: dict[str, list]
    calls: set[str]
    ped_calls: set[str]
    present: set[str]
    faulty: set[str]
    last_on: dict[str, int]
    on_since: dict[str, int]
    passage: dict[str, int]
    volume: dict[str, int]
    _conflict_call_since: int | None

    def demand(self, stage: str) -> bool:
        for gid in self.stage_groups[stage]:
            g = self.groups[gid]
            if g.aspect == A.GREEN:
                continue
            if gid in self.calls or gid in self.ped_calls:
                return True
        return False

    def extending(self, stage: str) -> bool:
        for d in self.extenders[stage]:
            if d.id in self.faulty:
                continue
            if d.id in self.present or self.t - self.last_on[d.id] < self.passage[d.id]:
                return True
        return False

    def extension_end(self, stage: str) -> int:
        """When the extension of `stage` runs out if no detector changes (INF: held)."""
        end = self.t
        for d in self.extenders[stage]:
            if d.id in self.faulty:
                continue
            if d.id in self.present:
                return INF
            end = max(end, self.last_on[d.id] + self.passage[d.id])
        return end

    def conflicting_call_since(self) -> int | None:
        return self._conflict_call_since

    def count(self, detector: str) -> int:
        """Vehicles the detector has counted since the core started."""
        return self.volume[detector]

    def present_since(self, detector: str) -> int | None:
        """The tenth since which the detector reports presence, or None (absent or failed)."""
        if detector in self.faulty:
            return None
        return self.on_since.get(detector)

    def last_seen(self, detector: str) -> int:
        """The last tenth the detector reported presence (now while it does; NEVER if never)."""
        if detector in self.present:
            return self.t
        return self.last_on[detector]

