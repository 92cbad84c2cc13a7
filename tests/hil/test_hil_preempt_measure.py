"""The HIL verdict's preempt measure on lamp traces written by hand: the clearance time of
what was running when the call came (hil/preempt.py)."""

from pathlib import Path

from controller.config import load
from hil.preempt import clearance_bound_s, conflicting, route_green_at
from protocols import aspects as A

ROOT = Path(__file__).resolve().parent.parent.parent
INTER = load(ROOT / "examples" / "us_junction.toml").intersection("main-5th")
P = INTER.preempts[0]           # ev-main: route ph2, running greens cut to 5 s
G, Y, R = A.LAMP_GREEN, A.LAMP_AMBER, A.LAMP_RED


def test_the_conflicting_groups_are_those_of_the_route():
    assert P.route == ("ph2",) and P.min_green_s == 5
    assert sorted(conflicting(INTER, P)) == ["ped4", "ph1", "ph3", "ph4"]


def test_a_green_that_just_began_runs_to_the_preempt_floor_then_its_intergreen():
    trace = {"main-5th/ph4": [(0.0, R), (100.0, G)]}
    # called 1 s into ph4's green: 4 s more to the 5 s floor, then ph4 -> ph2 5.5 s
    assert clearance_bound_s(INTER, P, trace, 101.0) == 4.0 + 5.5


def test_a_green_past_its_floor_ends_at_the_call():
    trace = {"main-5th/ph4": [(0.0, R), (100.0, G)]}
    assert clearance_bound_s(INTER, P, trace, 130.0) == 5.5


def test_a_walk_is_not_cut_without_min_walk_and_its_clearance_is_kept():
    trace = {"main-5th/ph4": [(0.0, R), (100.0, G)], "main-5th/ped4": [(0.0, R), (100.0, G)]}
    # ped4 walks 7 s (no min_walk_s: never cut), then its 22.5 s to ph2
    assert clearance_bound_s(INTER, P, trace, 101.0) == 6.0 + 22.5


def test_a_group_already_clearing_counts_from_its_end_of_green():
    trace = {"main-5th/ph3": [(0.0, R), (90.0, G), (99.0, Y), (102.0, R)]}
    assert clearance_bound_s(INTER, P, trace, 101.0) == 99.0 + 6.2 - 101.0
    assert clearance_bound_s(INTER, P, trace, 120.0) == P.delay_s    # long cleared


def test_the_route_green_is_its_first_green_after_the_call():
    trace = {"main-5th/ph2": [(0.0, G), (40.0, Y), (44.0, R), (111.0, G)]}
    assert route_green_at(trace, "main-5th", ("ph2",), 101.0) == 111.0
    assert route_green_at(trace, "main-5th", ("ph2",), 112.0) is None


class _FlashingRig:
    """A rig whose intersection never serves anything: every wait runs out."""

    def __init__(self, folder):
        self.lamps, self.forced, self.data_dir = {}, [], folder

    def wait_until(self, predicate, timeout_s, what):
        assert predicate(), f"not within {timeout_s} s: {what}"

    def mark(self, label):
        return 40.0

    def force_detector(self, iid, did, level):
        self.forced.append((iid, did, level))


def test_no_conflicting_green_is_a_failed_verdict_not_a_traceback(tmp_path):
    from hil.preempt import call_preempt, judge_preempt
    from hil.runner import Verdict

    cfg = load(ROOT / "examples" / "us_junction.toml")
    rig = _FlashingRig(tmp_path)
    call = call_preempt(rig, cfg, {"intersection": "main-5th", "detector": "ev-main"})
    assert call == (40.0, "main-5th", "ev-main", None)
    assert rig.forced == [("main-5th", "ev-main", 1)]      # called anyway
    v = Verdict("s")
    judge_preempt(rig, cfg, [call], v)
    assert not v.passed and "no movement conflicting" in v.checks[0]["detail"]
