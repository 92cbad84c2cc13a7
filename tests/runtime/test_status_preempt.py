"""`smartcross status` shows a running preemption, a stuck preempt call and a transit
priority service from the status document (the core's state, as the service writes it)."""

from controller.config import load
from controller.engine import Inputs, IntersectionCore
from controller.runtime.status import render

from sc_paths import ROOT


def doc_of(core) -> dict:
    return {"group": "g", "local_time": "07:00", "cycles": 1, "overruns": 0, "bus_ms": {},
            "intersections": {core.id: {"name": "x", **core.state, "aspects": {},
                                        "detectors": {}}},
            "nodes": {}, "parking": {}}


def test_status_shows_preemption_and_a_stuck_call():
    inter = load(ROOT / "examples" / "us_junction.toml").intersections[0]
    core = IntersectionCore(inter, "free")
    for k in range(400):
        core.step(k / 10, Inputs(frozenset({"ev-main"})))
    text = render(doc_of(core))
    assert "PREEMPT ev-main: dwell" in text and "STUCK" not in text
    for k in range(400, 2500):
        core.step(k / 10, Inputs(frozenset({"ev-main"})))
    text = render(doc_of(core))
    assert "PREEMPT CALL STUCK (max presence, ignored): ev-main" in text
    assert "PREEMPT ev-main" not in text
