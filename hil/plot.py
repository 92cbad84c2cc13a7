"""A rig run's timing diagram: lamps as seen on the wires, detector inputs, fault markers."""

from __future__ import annotations

from controller.plot import timing_diagram
from protocols import aspects as A

# lamp bits -> the aspect a viewer would name (flashing shows as on/off bars)
BITS = {0: A.DARK, A.LAMP_RED: A.RED, A.LAMP_RED | A.LAMP_AMBER: A.RED_AMBER,
        A.LAMP_GREEN: A.GREEN, A.LAMP_AMBER: A.AMBER}


def rig_diagram(rig, path: str, title: str) -> None:
    aspects = {k: [(t, BITS.get(b, A.FLASH_RED)) for t, b in v]
               for k, v in sorted(rig.trace.lamps.items())}
    detectors = {}
    for k, changes in sorted(rig.trace.inputs.items()):
        spans, on = [], None
        for t, level in changes:
            if level and on is None:
                on = t
            elif not level and on is not None:
                spans.append((on, t))
                on = None
        if on is not None:
            spans.append((on, rig.now()))
        if spans:
            detectors[k] = spans
    timing_diagram(aspects, detectors, rig.now(), path, title=title,
                   markers=list(rig.trace.markers))
