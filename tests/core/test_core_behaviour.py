"""What practitioners expect of the timing core, checked to the tenth of a second."""

import dataclasses

from controller.config import load
from controller.core import events as E
from controller.engine import Inputs, IntersectionCore
from protocols import aspects as A

from sc_paths import ROOT

ASTANA = load(ROOT / "examples" / "astana_cis.toml").intersections[0]


class Run:
    """Steps a core and keeps every aspect change and event."""

    def __init__(self, inter, plan, start=0.0):
        self.core = IntersectionCore(inter, plan, start)
        self.k = int(round(start * 10))
        self.changes: dict[str, list[tuple[float, int]]] = {g.id: [] for g in inter.groups}
        self.events: list[E.Event] = []
        self.last = {}

    def step(self, n=1, presence=(), faults=(), flash=False, fault_flash=False):
        for _ in range(n):
            t = self.k / 10
            out = self.core.step(t, Inputs(frozenset(presence), frozenset(faults), flash,
                                           fault_flash))
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

    def first(self, group, aspect, after=-1.0):
        return next(t for t, a in self.changes[group] if a == aspect and t > after)

    def seq(self, group):
        return [a for _, a in self.changes[group]]

    def codes(self, code):
        return [e for e in self.events if e.code == code]


def test_start_up_flash_then_all_red_then_main_stage():
    r = Run(ASTANA, "day").step(200)
    # flash 6 s (vehicles flashing amber, pedestrians dark), all red 3 s, then S1
    assert r.changes["V1"][0] == (0.0, A.FLASH_AMBER)
    assert r.changes["P1"][0] == (0.0, A.DARK)
    assert r.first("V1", A.RED) == 6.0
    assert r.first("V1", A.RED_AMBER) == 9.0        # all red 3 s
    assert r.first("V1", A.GREEN) == 11.0           # red+amber 2 s (CIS)
    flash = r.codes(E.FLASH_STATUS)
    assert [(e.t, e.param) for e in flash] == [(0.0, E.FLASH_STARTUP), (6.0, E.FLASH_NOT)]


def test_all_red_is_held_while_a_node_still_finishes_its_start_up():
    """A node late into its own all-red refuses anything but red until that is over: the
    core holds the all-red while told so, then runs the main stage as usual."""
    r = Run(ASTANA, "day").step(60)                     # the start-up flash, 6 s
    core = r.core
    for k in range(60, 150):                            # held 9 s instead of 3
        t = k / 10
        out = core.step(t, Inputs(hold_all_red=True))
        assert set(out.aspects.values()) == {A.RED}, (t, out.aspects)
    r.k = 150
    r.step(60)
    assert r.first("V1", A.RED_AMBER) == 15.0           # released: red+amber at once
    assert r.first("V1", A.GREEN) == 17.0


def test_cis_vehicle_sequence_with_flashing_green():
    r = Run(ASTANA, "day").step(1200, presence={"D-N1"})
    seq = r.seq("V1")
    i = seq.index(A.GREEN)
    assert seq[i:i + 5] == [A.GREEN, A.FLASH_GREEN, A.AMBER, A.RED, A.RED_AMBER]
    g_end = r.first("V1", A.FLASH_GREEN)
    assert r.first("V1", A.AMBER, g_end) - g_end == 3.0      # flashing green 3 s
    assert r.first("V1", A.RED, g_end) - g_end == 6.0        # then amber 3 s


def test_actuated_rests_in_main_stage_without_calls():
    r = Run(ASTANA, "day").step(3000)
    assert r.seq("V1") == [A.FLASH_AMBER, A.RED, A.RED_AMBER, A.GREEN]
    assert r.seq("V3") == [A.FLASH_AMBER, A.RED]


def test_actuated_skips_stages_nobody_asks_for():
    # only the side street asks: S2 and S4 (left arrows) are skipped
    r = Run(ASTANA, "day").step(2000, presence={"D-N1"})
    assert A.GREEN in r.seq("V3")
    assert A.GREEN not in r.seq("V2") and A.GREEN not in r.seq("V4")


def test_gap_out_after_passage_time():
    r = Run(ASTANA, "day").step(150)              # V1 green at 11 s, rests in S1
    r.step(1, presence={"D-N1"})                  # a side-street call...
    r.step(600, presence={"D-E1"})                # ...while main-street traffic holds S1
    assert r.codes(E.GAP_OUT) == [] and r.codes(E.MAX_OUT) != []
    # the max timer runs from the conflicting call: 50 s max on S1
    call = r.codes(E.CALL_REGISTERED)[0].t
    assert r.codes(E.MAX_OUT)[0].t - call == 50.0

    r2 = Run(ASTANA, "day").step(150)
    r2.step(1, presence={"D-N1"})
    r2.step(100, presence={"D-E1"})               # traffic until 25.1 s, then nothing
    r2.step(100)
    gap = r2.codes(E.GAP_OUT)[0].t
    assert gap == 25.1 + 2.5                      # D-E1 passage 2.5 s


def test_every_intergreen_kept_exactly_and_leaving_groups_hold_green():
    # S3 -> S4: V3 (IG to V4 5 s) and P1 (IG to V4 4 s) end as late as allowed
    r = Run(ASTANA, "day").step(4000, presence={"D-N1", "D-NL", "B-P1"})
    s4 = r.first("V4", A.GREEN)
    v3_end = max(t for t, a in r.changes["V3"] if a == A.AMBER and t < s4)   # after flash green
    p1_end = max(t for t, a in r.changes["P1"] if a == A.RED and t < s4)
    assert s4 - v3_end == 5.0
    assert s4 - p1_end == 4.0


def test_pedestrian_walk_only_on_call():
    quiet = Run(ASTANA, "day").step(2000, presence={"D-N1"})
    assert A.GREEN not in quiet.seq("P1")
    called = Run(ASTANA, "day").step(150)
    called.step(1, presence={"B-P1"})
    called.step(1200)
    assert A.GREEN in called.seq("P1")
    assert [e.param for e in called.codes(E.PED_CALL)] == [5]      # P1 is group number 5
    walk = called.first("P1", A.GREEN)
    clear = called.first("P1", A.FLASH_GREEN, walk)
    assert clear - walk >= 7.0                    # minimum walk
    assert called.first("P1", A.RED, clear) - clear == 3.0


def test_failed_detector_places_a_recall():
    # D-N1 failed: the side street is served every cycle without anyone there
    r = Run(ASTANA, "day").step(3000, faults={"D-N1"})
    greens = [t for t, a in r.changes["V3"] if a == A.GREEN]
    assert len(greens) >= 5
    assert [e.param for e in r.codes(E.DETECTOR_FAULT)] == [4]


def test_fixed_time_cycle_and_offset():
    r = Run(ASTANA, "peak", start=7 * 3600).step(3000)
    starts = [t for t, a in r.changes["V1"] if a == A.GREEN]
    cycles = {round(b - a, 1) for a, b in zip(starts[1:], starts[2:])}
    assert cycles == {120.0}
    # the main stage's green starts at cycle time 0 (offset 0, midnight reference)
    assert all(round(t % 120, 1) == 0.0 for t in starts[1:])


def test_flash_command_ends_greens_through_amber_and_returns_through_all_red():
    r = Run(ASTANA, "day").step(300)
    r.step(200, flash=True)
    seq = r.seq("V1")
    assert seq[-4:] == [A.GREEN, A.FLASH_GREEN, A.AMBER, A.RED] or seq[-5:-1] == [
        A.GREEN, A.FLASH_GREEN, A.AMBER, A.RED]
    assert seq[-1] == A.FLASH_AMBER
    assert r.codes(E.FLASH_STATUS)[-1].param == E.FLASH_MANUAL
    t_flash = r.k / 10
    r.step(200)
    assert r.seq("V1")[-3:] == [A.RED, A.RED_AMBER, A.GREEN]
    red = r.first("V1", A.RED, t_flash - 0.1)     # flash ends into all red
    assert red - t_flash <= 6.0
    assert r.first("V1", A.RED_AMBER, red) - red == 3.0        # all red before the stage


def test_fault_flash_is_immediate():
    r = Run(ASTANA, "day").step(200)
    assert r.last["V1"] == A.GREEN
    r.step(1, fault_flash=True)
    assert r.last["V1"] == A.FLASH_AMBER and r.last["P2"] == A.DARK
    assert r.codes(E.FLASH_STATUS)[-1].param == E.FLASH_FAULT


def test_events_of_a_green_period_in_indiana_order():
    r = Run(ASTANA, "day").step(150)
    r.step(1, presence={"D-N1"})
    r.step(400)
    v1 = [e.code for e in r.events if e.param == 1 and e.code in (
        E.BEGIN_GREEN, E.MIN_COMPLETE, E.GAP_OUT, E.GREEN_TERMINATION, E.BEGIN_YELLOW,
        E.END_YELLOW, E.BEGIN_RED_CLEARANCE, E.END_RED_CLEARANCE)]
    assert v1[:8] == [E.BEGIN_GREEN, E.MIN_COMPLETE, E.GAP_OUT, E.GREEN_TERMINATION,
                      E.BEGIN_YELLOW, E.END_YELLOW, E.BEGIN_RED_CLEARANCE, E.END_RED_CLEARANCE]


def test_red_amber_begins_only_once_every_conflicting_group_is_red():
    # An intergreen V1 -> V3 of 4 s is shorter than V1's amber (3 s) and V3's red+amber
    # (2 s) together: a TS2 monitor counts red+amber as right of way, so V3's red+amber
    # waits for V1's red and V3's green starts 5 s after V1's end of green, not 4 s.
    ig = dict(ASTANA.intergreen)
    ig[("V1", "V3")] = 4.0
    inter = dataclasses.replace(ASTANA, intergreen=ig)
    r = Run(inter, "day").step(300)
    r.until(lambda r: r.last.get("V3") == A.GREEN, presence={"D-N1"})   # the side street calls
    ra = r.first("V3", A.RED_AMBER)
    v1_red = r.first("V1", A.RED, 30.0)
    assert ra == v1_red, "red+amber starts with the conflicting red, not before"
    v1_eog = r.first("V1", A.AMBER)                 # end of its (flashing) green
    assert r.first("V3", A.GREEN, ra) - v1_eog == 5.0
    for gid in ("V1", "V2", "V4", "P2"):            # V3's conflicts, at its red+amber
        shown = [a for t, a in r.changes[gid] if t <= ra][-1]
        assert shown in (A.RED, A.DARK), gid
