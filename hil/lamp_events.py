"""What the lamps do, as the rig sees them: the boards' output events put on the street's
time line, the trace of every head, and the independent monitor fed from it.

Each board emulates its own lamp current (hil/lamps.py wires it in, hil/emu/machine.py
does it) and reports every output change with its own time stamp; `_on_output` puts it on
the street's time line (events before the street's time 0 are held until the rig starts),
so a stalled host delays what the rig sees but never changes when, or in which order, it
happened. A head's lamp bits go to the trace and, once all of an intersection's vehicle
heads have lit in the boot flash, to its monitor. Where a monitor unit's transfer relay is
dropped the cabinet's flasher has the heads (`_flasher`, hil/monitor_unit.py).

A mixin of `Rig` (rig.py), kept apart so that the rig's wiring and driving read on their
own.
"""

from __future__ import annotations

from protocols import aspects as A

from .emu.host import Board


class LampEvents:
    """Mixed into Rig: uses its config, panel, units, monitors, trace, lamps, t0, scale and
    lock, and the state `_early`, `_closed`, `_fed`, `_transferred`, `_lit`, `_watched`,
    `_ped` (Rig.__init__ sets them all)."""

    def _on_output(self, nid: str, board: Board, pin: int, level: int, t_us: int) -> None:
        """A board's output changed at board time `t_us` (its pins reader thread)."""
        host_ns = board.host_ns(t_us)
        with self._lock:
            if self._closed:
                return
            if self._early is not None:         # before the street's time 0: hold it
                self._early.append((nid, pin, level, host_ns))
                return
            self._lamp_event(nid, pin, level, host_ns)

    def _lamp_event(self, nid: str, pin: int, level: int, host_ns: int) -> None:
        change = self.panel.output(nid, pin, level)
        if change is not None:
            iid, gid, b = change
            if iid in self._transferred:        # the flasher has the heads, not the node
                return
            self._head_changed((host_ns / 1e9 - self.t0) * self.scale, iid, gid, b)

    def _head_changed(self, t: float, iid: str, gid: str, b: int) -> None:
        """A head's lamp bits changed at street time t (called with the lock held)."""
        # Each board reports in its own order; an intersection whose heads hang on two
        # boards could see them interleaved a little out of order: keep its time line
        # monotone (the monitor requires it).
        t = max(t, self._fed.get(iid, t))
        heads = self.lamps.get(iid, {})
        if heads.get(gid) == b:
            return
        self._fed[iid] = t
        heads = {**heads, gid: b}
        self.lamps[iid] = heads
        self.trace.lamps.setdefault(f"{iid}/{gid}", []).append((t, b))
        if b:
            self._lit.add((iid, gid))
        # the monitor is powered with the cabinet: it watches an intersection from the
        # moment all its heads have lit up in the boot flash
        if iid in self._watched or all((iid, g) in self._lit for g in heads
                                       if not self._ped[(iid, g)]):
            self._watched.add(iid)
            self.monitors[iid].feed(t, heads)

    def _flasher(self, t: float) -> None:
        """Where a monitor unit's transfer relay is dropped, the cabinet's flasher has the
        heads (hil/monitor_unit.py `overlay`); once it is energised again, the nodes do.
        Called every traffic step, with the lock held."""
        bits = self.units.overlay(self.panel.bits(), t)
        for uid, iid in self.units.inter.items():
            if self.units.energised(uid):
                self._transferred.discard(iid)
            else:
                self._transferred.add(iid)
            for gid, b in bits.get(iid, {}).items():
                self._head_changed(t, iid, gid, b)

    # -- reading the trace ---------------------------------------------------------------
    def flashing(self, intersection: str, since: float) -> float | None:
        """When every vehicle head of the intersection was flashing after `since`: the
        first moment from which each showed only its flash lamp (or dark) and toggled."""
        inter = self.config.intersection(intersection)
        latest = 0.0
        with self._lock:
            for g in inter.groups:
                if g.is_pedestrian:
                    continue
                changes = [c for c in self.trace.lamps.get(f"{intersection}/{g.id}", [])]
                start = _flash_start(changes, since)
                if start is None:
                    return None
                latest = max(latest, start)
        return latest


def _flash_start(changes: list[tuple[float, int]], since: float) -> float | None:
    """When the head began the flash it still shows at the end of the trace: the trailing
    run of states that are one lamp (amber, or red) alone or dark, the lamp lit at least
    twice; `since` if it was flashing before. None if it does not flash now."""
    lamp = 0
    lit = 0
    first = None
    for t, b in reversed(changes):
        if b and lamp and b != lamp or b not in (0, A.LAMP_AMBER, A.LAMP_RED):
            break
        if b:
            lamp = b
            lit += 1
        first = t
    if first is None or lit < 2:
        return None
    return max(first, since)
