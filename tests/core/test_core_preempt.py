"""Preemption and transit priority in the timing core, to the tenth of a second, on the US
example (an emergency preempt on Main St, route 12's bus priority) and on variants of it:
a rail crossing, a second emergency preempt."""

from controller.config import loads
from controller.core import events as E
from controller.engine import Inputs, IntersectionCore
from protocols import aspects as A

from sc_paths import ROOT

US_TEXT = (ROOT / "examples" / "us_junction.toml").read_text(encoding="utf-8")
NO_PED_RECALL = ('S4 = { max_green_s = 30, recall = "ped" }', "S4 = { max_green_s = 30 }")


def us(*edits, extra=""):
    text = US_TEXT
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return loads(text + extra).intersections[0]


RAIL = """
  [[intersection.preempt]]
  id = "rail"                # the railroad just north, across 5th Ave
  kind = "rail"
  priority = 1
  route = ["ph2"]
  track_clearance = { groups = ["ph4"], green_s = 15 }
  min_dwell_s = 15
  min_green_s = 5
  warning_time_s = 60
"""

EV_5TH = """
  [[intersection.preempt]]
  id = "ev-5th"
  kind = "emergency"
  priority = {priority}
  route = ["ph4"]
  min_dwell_s = 10
"""


class Run:
    def __init__(self, inter, plan="free"):
        self.inter = inter
        self.core = IntersectionCore(inter, plan)
        self.k = 0
        self.changes = {g.id: [] for g in inter.groups}
        self.events: list[E.Event] = []
        self.last: dict = {}

    def step(self, n=1, presence=(), calls=(), buses=()):
        for _ in range(n):
            t = self.k / 10
            out = self.core.step(t, Inputs(frozenset(presence), preempt_calls=frozenset(calls),
                                           priority_calls=frozenset(buses)))
            for g, a in out.aspects.items():
                if self.last.get(g) != a:
                    self.changes[g].append((t, a))
                    self.last[g] = a
            self.events.extend(out.events)
            self.k += 1
        return self

    def until(self, cond, limit_s=600.0, **kw):
        end = self.k + int(limit_s * 10)
        while not cond(self):
            assert self.k < end, "condition not reached"
            self.step(**kw)
        return self

    @property
    def t(self):
        return self.k / 10

    def aspect(self, gid):
        return self.core.aspects[gid]

    def at(self, code, param=None):
        return [e.t for e in self.events if e.code == code and (param is None or e.param == param)]

    def green_spans(self, gid):
        spans, start = [], None
        for t, a in self.changes[gid]:
            if a == A.GREEN and start is None:
                start = t
            elif a != A.GREEN and start is not None:
                spans.append((start, t))
                start = None
        return spans


def in_s4(r, **kw):
    """Run the free plan until 5th Ave (ph4) has been green for a second."""
    r.until(lambda r: r.aspect("ph4") == A.GREEN, presence={"det7"}, **kw)
    return r.step(10, presence={"det7"})


def test_entry_runs_full_clearances_then_dwells_then_exits_to_main_street():
    r = in_s4(Run(us(NO_PED_RECALL)))
    call = r.t
    r.until(lambda r: r.core.preempt.phase == "dwell", presence={"ev-main"})
    assert r.at(E.PREEMPT_CALL_ON) == [call] and r.at(E.PREEMPT_ENTRY) == [call]
    # ph4 (minimum 8 s, one run) is cut to the preempt floor of 5 s, then its full yellow
    # (3.5 s) and red clearance: Main St gets green 5 + 5.5 s after ph4 began
    (g4_start, g4_end), = r.green_spans("ph4")
    assert g4_end - g4_start == 5.0
    assert r.at(E.PREEMPT_FORCE_OFF, 4) == [call]
    amber = [t for t, a in r.changes["ph4"] if a == A.AMBER][0]
    assert [t for t, a in r.changes["ph4"] if t > amber][0] - amber == 3.5
    ph2_green = r.green_spans("ph2")[-1][0] if r.aspect("ph2") != A.GREEN else \
        [t for t, a in r.changes["ph2"] if a == A.GREEN][-1]
    assert ph2_green == g4_end + 5.5
    assert r.at(E.PREEMPT_DWELL) == [ph2_green]   # the same tick
    # the dwell lasts while called, then the minimum dwell (15 s) holds it once released
    r.step(200, presence={"ev-main"}).step(1)
    off = round(r.t - 0.1, 1)
    r.until(lambda r: r.core.preempt.phase == "idle")
    assert r.at(E.PREEMPT_CALL_OFF) == [off]
    assert r.at(E.PREEMPT_EXIT) == [off]              # dwell was already over 15 s
    assert r.core.stage == "S2" and r.aspect("ph2") == A.GREEN
    # the policy runs again: 5th Ave is served on its call
    r.until(lambda r: r.aspect("ph4") == A.GREEN, presence={"det7"})


def test_a_short_call_still_gets_the_minimum_dwell():
    r = in_s4(Run(us(NO_PED_RECALL)))
    r.step(1, presence={"ev-main"})
    r.until(lambda r: r.core.preempt.phase == "idle", limit_s=120)
    dwell, = r.at(E.PREEMPT_DWELL)
    exit_, = r.at(E.PREEMPT_EXIT)
    assert exit_ - dwell == 15.0


def test_walks_and_pedestrian_clearance_are_never_cut_without_min_walk():
    r = in_s4(Run(us()))              # ped4 walks with ph4 (ped recall on S4)
    r.until(lambda r: r.core.preempt.phase == "dwell", presence={"ev-main"})
    walk, = r.green_spans("ped4")
    assert walk[1] - walk[0] >= 7.0
    fdw = [t for t, a in r.changes["ped4"] if a == A.FLASH_RED][0]
    assert [t for t, a in r.changes["ped4"] if t > fdw][0] - fdw == 17.0


def test_a_stuck_call_times_out_with_a_fault_and_never_holds_the_intersection():
    r = in_s4(Run(us(NO_PED_RECALL)))
    on = r.t
    r.step(3000, presence={"ev-main", "det7"})        # stuck on for 300 s
    assert r.at(E.PREEMPT_MAX_PRESENCE) == [on + 180.0]
    assert r.at(E.PREEMPT_EXIT) == [on + 180.0]
    # 5th Ave is served again while the call is still on, and the call is not re-served
    assert any(s > on + 180.0 for s, _ in r.green_spans("ph4"))
    assert len(r.at(E.PREEMPT_ENTRY)) == 1
    # once it goes off and comes back, it is served again
    r.step(5, presence={"det7"}).step(5, presence={"ev-main"})
    assert len(r.at(E.PREEMPT_ENTRY)) == 2


def test_a_higher_priority_call_takes_over_a_running_preempt():
    r = in_s4(Run(us(NO_PED_RECALL, extra=EV_5TH.format(priority=3))))
    r.until(lambda r: r.core.preempt.phase == "dwell", calls={"ev-5th"}, presence={"det7"})
    assert r.core.preempt.active.id == "ev-5th"
    take = r.t
    r.until(lambda r: r.core.preempt.phase == "dwell" and r.core.preempt.active.id == "ev-main",
            calls={"ev-5th"}, presence={"ev-main"})
    assert r.at(E.PREEMPT_ENTRY, 1)[-1] == take       # ev-main is preempt 1 (file order)
    assert r.aspect("ph2") == A.GREEN and r.aspect("ph4") == A.RED


def test_equal_priorities_are_served_first_come_first_served():
    r = in_s4(Run(us(NO_PED_RECALL, extra=EV_5TH.format(priority=2))))
    r.until(lambda r: r.core.preempt.phase == "dwell", calls={"ev-5th"}, presence={"det7"})
    r.step(300, calls={"ev-5th"}, presence={"ev-main"})
    assert r.core.preempt.active.id == "ev-5th" and r.aspect("ph4") == A.GREEN
    # released: the waiting call is served next, straight from the dwell
    r.until(lambda r: r.core.preempt.active is not None and r.core.preempt.active.id == "ev-main",
            presence={"ev-main"})
    r.until(lambda r: r.core.preempt.phase == "dwell", presence={"ev-main"})
    assert r.aspect("ph2") == A.GREEN


def test_rail_clears_the_track_first_and_its_dwell_never_serves_the_crossing_movement():
    r = Run(us(NO_PED_RECALL, extra=RAIL))
    r.until(lambda r: r.aspect("ph2") == A.GREEN)
    r.step(200)
    call = r.t
    r.until(lambda r: r.core.preempt.phase == "dwell", calls={"rail"})
    track, = r.at(E.PREEMPT_TRACK_CLEARANCE)
    dwell, = r.at(E.PREEMPT_DWELL)
    (g4_start, g4_end), = [s for s in r.green_spans("ph4") if s[0] >= call]
    assert track == g4_start and g4_end - g4_start >= 15.0
    assert dwell > g4_end
    for _ in range(600):
        r.step(calls={"rail"})
        assert r.aspect("ph4") == A.RED and r.aspect("ph2") == A.GREEN


def test_rail_outranks_an_emergency_preempt():
    r = Run(us(NO_PED_RECALL, extra=RAIL))
    r.until(lambda r: r.aspect("ph2") == A.GREEN)
    r.until(lambda r: r.core.preempt.phase == "dwell", presence={"ev-main"})
    r.until(lambda r: r.core.preempt.phase == "dwell" and r.core.preempt.active.id == "rail",
            presence={"ev-main"}, calls={"rail"})
    assert r.at(E.PREEMPT_TRACK_CLEARANCE)


def test_transit_early_green_cuts_the_conflicting_stage_within_its_bound():
    r = in_s4(Run(us(NO_PED_RECALL)))
    s4 = r.core.stage_start / 10
    r.step(1, presence={"det7", "bus-in"})
    r.until(lambda r: r.at(E.TSP_EARLY_GREEN), presence={"det7"})
    # S4's maximum is 30 s, max_early_s 10: it ends 20 s into its green, not before
    assert r.at(E.TSP_EARLY_GREEN) == [s4 + 20.0]
    assert r.at(E.TSP_EARLY_FORCE_OFF, 4) == [s4 + 20.0]
    r.until(lambda r: r.aspect("ph2") == A.GREEN, presence={"det7"})
    r.step(1, presence={"det7", "bus-out"})
    assert r.at(E.TSP_CHECK_OUT) and r.at(E.TSP_SERVICE_END)


def test_transit_extension_is_bounded_and_once_per_cycle():
    def run(bus):
        r = Run(us(NO_PED_RECALL))
        r.until(lambda r: r.aspect("ph2") == A.GREEN)
        r.step(100)
        r.step(1, presence={"det7", "bus-in"} if bus else {"det7"})
        r.until(lambda r: r.aspect("ph2") != A.GREEN, presence={"det7"})
        return r
    plain, bus = run(False), run(True)
    end = round(plain.t - 0.1, 1)                               # where the policy ends Main St
    assert bus.at(E.TSP_EXTEND_GREEN) == [end]
    assert bus.at(E.TSP_SERVICE_END) == [round(end + 10.0, 1)]   # max_extend_s, no check-out
    assert bus.t == round(plain.t + 10.0, 1)
    # a second bus in the same cycle gets nothing
    bus.step(1, presence={"det7", "bus-in"})
    bus.until(lambda r: r.aspect("ph4") == A.GREEN, presence={"det7"})
    bus.until(lambda r: r.aspect("ph2") == A.GREEN, presence={"det7"})
    assert len(bus.at(E.TSP_SERVICE_START)) == 1


def test_a_bus_checked_in_that_never_checks_out_is_a_fault_and_released():
    r = in_s4(Run(us(NO_PED_RECALL)))
    r.step(1, presence={"bus-in"})
    r.step(1200)
    dets = {d.id: d.number for d in r.inter.detectors}
    assert E.DETECTOR_FAULT in [e.code for e in r.events if e.param == dets["bus-in"]]
    assert r.core.priority.checked_in == {}


def test_preemption_cancels_a_transit_service():
    r = in_s4(Run(us(NO_PED_RECALL)))
    r.step(1, presence={"det7", "bus-in"})
    r.until(lambda r: r.at(E.TSP_SERVICE_START), presence={"det7"})
    r.step(1, presence={"ev-main"})
    assert r.at(E.TSP_SERVICE_END) == [r.at(E.PREEMPT_ENTRY)[0]]


def test_a_dwell_begins_only_once_the_track_clearance_groups_are_red():
    """Found by the generated runs: a dwell whose route starts nothing (an uncalled walk)
    used to begin while the track clearance movement still showed its yellow."""
    r = Run(us(NO_PED_RECALL, extra=RAIL.replace('route = ["ph2"]', 'route = ["ped4"]')
                                            .replace("min_dwell_s = 15", "min_dwell_s = 17")))
    r.until(lambda r: r.aspect("ph2") == A.GREEN)
    r.until(lambda r: r.core.preempt.phase == "dwell", calls={"rail"})
    assert r.aspect("ph4") == A.RED
    amber_end = [t for t, a in r.changes["ph4"] if a == A.RED][-1]
    assert r.at(E.PREEMPT_DWELL) == [amber_end]


def test_stepping_at_deadlines_gives_what_stepping_every_tick_gives():
    """The simulator steps the core only at its deadlines and input changes: with preempt
    calls (one stuck past its max presence) and bus check-ins, the events are the same as
    stepping every 0.1 s."""
    from controller.config import load
    from controller.simulate import Call, simulate

    cfg = load(ROOT / "examples" / "us_junction.toml")
    calls = (Call("preempt", "ev-main", 60.0, 20.0), Call("priority", "route-12", 200.0, 30.0),
             Call("priority", "route-12", 420.0, 200.0), Call("preempt", "ev-main", 700.0, 300.0))
    fast = simulate(cfg, 1200.0, seed=3, calls=calls)
    slow = simulate(cfg, 1200.0, seed=3, calls=calls, every_tick=True)
    assert fast.events == slow.events
    codes = {e.code for e in fast.events}
    assert {E.PREEMPT_MAX_PRESENCE, E.TSP_SERVICE_START, E.DETECTOR_FAULT} <= codes


def test_min_walk_cuts_a_walk_but_never_the_pedestrian_clearance():
    r = in_s4(Run(us(("  max_presence_s = 180\n", "  max_presence_s = 180\n  min_walk_s = 4\n"))))
    walk_start = [t for t, a in r.changes["ped4"] if a == A.GREEN][-1]
    r.until(lambda r: r.core.preempt.phase == "dwell", presence={"ev-main"})
    (w0, w1), = [s for s in r.green_spans("ped4") if s[0] == walk_start]
    assert w1 - w0 == 4.0                               # the walk (7 s) cut to min_walk_s
    fdw = [t for t, a in r.changes["ped4"] if a == A.FLASH_RED][-1]
    assert fdw == w1
    assert [t for t, a in r.changes["ped4"] if t > fdw][0] - fdw == 17.0   # full clearance
    assert r.inter.green_floor_s("ped4") == 4.0         # and the guard/monitor know it
