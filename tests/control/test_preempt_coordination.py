"""A coordinated plan finds its cycle again after a preemption and after a bus priority
service: the main stage's green starts at the same cycle time as before, within two
cycles, and the side road is still served."""

from control_junction import junction_toml

from controller.config import loads
from controller.core import events as E
from controller.engine import Inputs, IntersectionCore

EXTRA = """
  [[intersection.preempt]]
  id = "ev-side"
  kind = "emergency"
  priority = 2
  route = ["NB_TR", "SB_TR"]
  min_dwell_s = 8
  min_green_s = 4
  [[intersection.priority]]
  id = "bus"
  checkin = "bus-in"
  stage = "S"
  max_early_s = 10
  max_extend_s = 10
  [[intersection.detector]]
  id = "bus-in"
  kind = "priority"
  node = "d"
"""
CYCLE = 70.0


def main_starts(preempt_at: float, bus_at: float, hours: float = 1.0):
    inter = loads(junction_toml("coordinated") + EXTRA).intersections[0]
    loops = sorted(d.id for d in inter.detectors if d.kind == "presence")
    core = IntersectionCore(inter, "coordinated")
    starts, last, codes, served = [], None, set(), set()
    for k in range(int(hours * 36000)):
        t = k / 10
        on = {d for i, d in enumerate(loops) if (k // 40 + 3 * i) % 5 == 0}
        if bus_at <= t < bus_at + 0.5:
            on.add("bus-in")
        calls = {"ev-side"} if preempt_at <= t < preempt_at + 30 else set()
        out = core.step(t, Inputs(frozenset(on), preempt_calls=frozenset(calls)))
        codes.update(e.code for e in out.events)
        if core.mode == "run" and not core.in_transition:
            served.add(core.stage)
            if core.stage == "M" and core.stage_start != last:
                last = core.stage_start
                starts.append((t, round(core.stage_start / 10 % CYCLE, 1)))
    return starts, codes, served


def test_coordination_recovers_after_preemption_and_priority():
    starts, codes, served = main_starts(preempt_at=1000.0, bus_at=2000.0)
    assert {E.PREEMPT_ENTRY, E.PREEMPT_EXIT, E.TSP_CHECK_IN, E.TSP_SERVICE_START} <= codes
    assert {"M", "S"} <= served
    before = {c for t, c in starts if 3 * CYCLE < t < 1000.0}   # past the start-up
    assert len(before) == 1, before                       # the plan's own phase
    phase = before.pop()
    for event in (1000.0, 2000.0):
        after = [c for t, c in starts if event + 2 * CYCLE + 60 < t < event + 900]
        assert after and set(after) == {phase}, (event, after)
