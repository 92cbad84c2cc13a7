"""`check` on preemption and transit priority sections: each bad file is the US example
with one small edit, refused with a located message (cfgtools.problems_of)."""

import pytest
from cfgtools import edit, example_text, find, problems_of

from controller.config import loads

US = example_text("us_junction.toml")
P = "intersection[main-5th].preempt[ev-main]"
T = "intersection[main-5th].priority[route-12]"

RAIL = """
  [[intersection.preempt]]
  id = "rail"
  kind = "rail"
  priority = 1
  route = ["ph2"]
  track_clearance = { groups = ["ph4"], green_s = 15 }
  min_dwell_s = 15
  min_green_s = 5
  warning_time_s = 60
"""
R = "intersection[main-5th].preempt[rail]"


def test_the_example_preempt_and_priority_are_read():
    inter = loads(US).intersections[0]
    p, = inter.preempts
    assert (p.id, p.kind, p.route, p.min_green_s, p.min_walk_s) == (
        "ev-main", "emergency", ("ph2",), 5.0, None)
    q, = inter.priorities
    assert (q.checkin, q.checkout, q.stage, q.max_extend_s) == ("bus-in", "bus-out", "S2", 10.0)
    # the guard's and the monitor's minimum: cut to the floor where a preempt may cut it
    assert inter.green_floor_s("ph4") == 5.0
    assert inter.green_floor_s("ph2") == 15.0        # in the route: never cut
    assert inter.green_floor_s("ped4") == 7.0        # walks are not cut (no min_walk_s)


@pytest.mark.parametrize("old, new, path, words", [
    ('route = ["ph2"]            # Main St', 'route = ["ph2", "ph4"]  # Main St', f"{P}.route",
     ("ph2 and ph4 conflict",)),
    ("min_dwell_s = 15 ", "min_dwell_s = 10 ", f"{P}.min_dwell_s",
     ("shorter than the minimum green of route group ph2",)),
    ("min_dwell_s = 15 ", "min_dwell_s = 3 ", f"{P}.min_dwell_s",
     ("shorter than the clearance of route group ph2", "never shorter than a clearance")),
    ("min_green_s = 5            # ph4", "min_green_s = 1            # ph4", f"{P}.min_green_s",
     ("2 s at the least",)),
    ('route = ["ph2"]            # Main St', 'route = ["ph9"]  # Main St', f"{P}.route",
     ("ph9", "not defined")),
    ('detector = "ev-main"', 'detector = "det7"', f"{P}.detector",
     ("presence detector", "'preempt'")),
    ('kind = "emergency"', 'kind = "fire"', f"{P}.kind", ("must be one of",)),
    ('exit_stage = "S2"', 'exit_stage = "S9"', f"{P}.exit_stage", ("S9", "not defined")),
    ("max_presence_s = 180", "max_presence_s = 12", f"{P}.max_presence_s",
     ("longer than the delay and the minimum dwell",)),
    ('checkin = "bus-in"', 'checkin = "pb2"', f"{T}.checkin", ("ped_button detector",)),
    ('checkout = "bus-out"', 'checkout = "bus-in"', f"{T}.checkout", ("of their own",)),
    ('stage = "S2"\n  max_early_s', 'stage = "S7"\n  max_early_s', f"{T}.stage", ("not defined",)),
    ("max_early_s = 10\n  max_extend_s = 10", "max_early_s = 0\n  max_extend_s = 0",
     f"{T}.max_extend_s", ("never do anything",)),
    ('id = "ev-main"             # optical preempt receiver, Main St both ways\n  kind = "preempt"',
     'id = "ev-main"\n  kind = "preempt"\n  calls = ["ph2"]',
     "intersection[main-5th].detector[ev-main].calls", ("not signal groups",)),
], ids=["route-conflicts", "dwell-below-min-green", "dwell-below-clearance", "floor-too-low",
        "route-undefined", "detector-kind", "preempt-kind", "exit-stage", "presence-short",
        "checkin-kind", "checkout-same", "tsp-stage", "tsp-does-nothing", "preempt-det-calls"])
def test_bad_preempt_and_priority_sections(tmp_path, old, new, path, words):
    problems = problems_of(tmp_path, edit(US, (old, new)))
    assert find(problems, path, *words), "\n".join(map(str, problems))


def test_a_valid_rail_preempt_is_read():
    p = next(p for p in loads(US + RAIL).intersections[0].preempts if p.id == "rail")
    assert p.track.groups == ("ph4",) and p.track.green_s == 15.0
    assert loads(US + RAIL).intersections[0].preempts[0].id == "rail"   # by priority


@pytest.mark.parametrize("old, new, path, words", [
    ('route = ["ph2"]\n  track', 'route = ["ph1", "ph2"]\n  track', f"{R}.route",
     ("ph1 and ph2 conflict",)),
    ('route = ["ph2"]\n  track', 'route = ["ph4"]\n  track', f"{R}.route",
     ("never serves the movements that cross the tracks", "ph4")),
    ("warning_time_s = 60", "warning_time_s = 40", f"{R}.warning_time_s",
     ("take 41.5 s",)),
    ("warning_time_s = 60", "warning_time_s = 15", f"{R}.warning_time_s", ("at least 20 s",)),
    ("warning_time_s = 60\n", "", f"{R}.warning_time_s", ("needs the railroad's warning time",)),
    ("  track_clearance = { groups = [\"ph4\"], green_s = 15 }\n", "", f"{R}.track_clearance",
     ("needs a track clearance",)),
    ('["ph4"], green_s = 15 }', '["ph4"], green_s = 6 }', f"{R}.track_clearance.green_s",
     ("shorter than the minimum green of ph4",)),
    ("priority = 1\n  route", "priority = 2\n  route", f"{P}.priority",
     ("must outrank every emergency preempt",)),
], ids=["route-conflicts", "dwell-crosses-tracks", "warning-too-short", "warning-under-20",
        "no-warning", "no-track-clearance", "track-below-min-green", "rail-outranked"])
def test_unsafe_rail_preempts_are_refused(tmp_path, old, new, path, words):
    problems = problems_of(tmp_path, edit(US + RAIL, (old, new)))
    assert find(problems, path, *words), "\n".join(map(str, problems))


def test_check_exits_2_with_the_located_message(tmp_path, capsys):
    from controller.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_text(edit(US, ('route = ["ph2"]            # Main St',
                             'route = ["ph1", "ph2"]  # Main St')), encoding="utf-8")
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{P}.route: ph1 and ph2 conflict" in err
    assert "Traceback" not in err
