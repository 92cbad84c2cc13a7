"""The verdict's monitor-unit checks (hil/runner.py calls `judge_unit`).

`transfer_within_s`: from the first moment two conflicting groups of the unit's
intersection drive their greens together (after the scenario's first fault) to the moment
the unit drops its transfer relay, from which the cabinet's flasher has the heads
(hil/monitor_unit.py). Both instants are the boards' own reports of their output pins, as
they arrive, so a host that stalls the rig's lamp sampler cannot hide a short conflict.
That time is the verdict's `flash_latency_s`; the check also wants every vehicle head
flashing from then on.

`cabinet_log`: a phrase the cabinet's own log must contain (why it flashed).
`running_before_fault`: a green was shown in the 10 s before the first fault, so that a
flash measured after it (`flash_within_s`) is the fault's doing.
"""

from __future__ import annotations

from protocols.aspects import LAMP_GREEN

from .rig import Rig


def conflict_onset(rig: Rig, iid: str, since: float) -> float | None:
    """First time at or after `since` at which two conflicting groups of `iid` drove their
    green lamps together (the nodes' output changes, as their boards reported them)."""
    inter = rig.config.intersection(iid)
    lit: set[str] = set()
    for t, gid, level in rig.units.greens(iid):
        if not level:
            lit.discard(gid)
            continue
        lit.add(gid)
        if t >= since and any((gid, o) in inter.conflicts for o in lit):
            return t
    return None


def judge_unit(scn, rig: Rig, v) -> None:
    exp = scn.expect
    since = scn.faults[0].at_s if scn.faults else 0.0
    if "transfer_within_s" in exp:
        limit = exp["transfer_within_s"]
        for uid, iid in rig.units.inter.items():
            onset = conflict_onset(rig, iid, since)
            if onset is None:
                v.check("monitor unit transfer", False, f"{iid}: no conflicting greens shown "
                        f"after {since:g} s: the fault did not take")
                continue
            drops = rig.units.transfers(uid, onset)
            lat = drops[0] - onset if drops else None
            flashing = rig.flashing(iid, onset)
            v.flash_latency_s = lat if v.flash_latency_s is None or lat is None \
                else max(v.flash_latency_s, lat)
            v.check("monitor unit transfer", lat is not None and lat <= limit
                    and flashing is not None,
                    f"{uid}: conflicting greens at {onset:.2f} s, "
                    + ("the relay never dropped" if lat is None else
                       f"relay dropped {lat:.2f} s later")
                    + (", every head flashing since" if flashing is not None else
                       ", but the heads are not flashing") + f" (at most {limit:g} s)")
    if exp.get("running_before_fault"):
        # a head showed green at some time in the window: one lit when it began (its last
        # change before) or one that lit within it
        green = sorted(key for key, changes in rig.trace.lamps.items()
                       if any(b & LAMP_GREEN for _, b in _shown(changes, since - 10, since)))
        v.check("running before the fault", bool(green),
                f"green on {', '.join(green) or 'no head'} in the 10 s before {since:g} s")
    if "cabinet_log" in exp:
        try:
            text = (rig.dir / "controller.log").read_text(errors="replace")
        except OSError:
            text = ""
        want = exp["cabinet_log"]
        line = next((x for x in text.splitlines() if want in x), None)
        v.check("cabinet log", line is not None,
                line.split(" ", 2)[-1] if line else f"no line with {want!r}")


def _shown(changes: list[tuple[float, int]], lo: float, hi: float) -> list[tuple[float, int]]:
    """The (time, lamp bits) a head showed from lo to hi: what it showed at lo (its last
    change before), then its changes up to hi."""
    before = [c for c in changes if c[0] <= lo]
    return before[-1:] + [c for c in changes if lo < c[0] <= hi]
