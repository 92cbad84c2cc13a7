"""Rail preemption entry, to the tenth of a second: the track clearance (event 106) begins
within the worst entry `check` counts against the railroad's warning time
(`worst_entry_s`), from every state the intersection can be in at the call.

The generated CIS junction the preempt safety test found: V1 and V3 run together (S1), V2
conflicts with V1 only; the rail dwell shows V1, the track clearance V3. A call at
start-up entered at 5.1 s with V1 and V3 in red+amber; the core ended V1 (a dwell group,
compatible with V3) through its whole minimum green, flashing green and amber and began
the track clearance only at 17.0 s, while the bound said 0 s (it counted only groups that
conflict with the track clearance, and not the track group's own red+amber).
"""

from controller.config import loads
from controller.config.preempts import worst_entry_s
from controller.core import events as E
from controller.engine import Inputs, IntersectionCore
from protocols import aspects as A

CIS = """name = "generated CIS"
[[bus]]
id = "b"
port = "/dev/null"
[[schedule]]
at = "00:00"
plan = "act"
[[intersection]]
id = "x"
profile = "CIS"
startup_flash_s = 4
startup_all_red_s = 1
flash = "amber"
[[intersection.node]]
id = "n"
bus = "b"
address = 1
board = "esp32s3"
[[intersection.group]]
id = "V1"
kind = "vehicle"
min_green_s = 4.0
node = "n"
channels = [0, 1, 2]
amber_s = 3.0
[[intersection.group]]
id = "V2"
kind = "vehicle"
min_green_s = 4.0
node = "n"
channels = [3, 4, 5]
amber_s = 3.0
[[intersection.group]]
id = "V3"
kind = "vehicle"
min_green_s = 4.0
node = "n"
channels = [6, 7, 8]
amber_s = 3.0
[intersection.conflicts]
V1 = ["V2"]
[intersection.intergreen]
V1 = { V2 = 3.0 }
V2 = { V1 = 3.0 }
[[intersection.stage]]
id = "S1"
groups = ["V1", "V3"]
[[intersection.stage]]
id = "S2"
groups = ["V2"]
[[intersection.stage]]
id = "S3"
groups = ["V1"]
[[intersection.plan]]
id = "act"
mode = "actuated"
[intersection.plan.stages]
S1 = { max_green_s = 20, recall = "none" }
S2 = { max_green_s = 20, recall = "none" }
S3 = { max_green_s = 20, recall = "none" }
[[intersection.preempt]]
id = "E1"
kind = "rail"
priority = 1
route = ["V1"]
min_dwell_s = 6
max_presence_s = 16
warning_time_s = 600
track_clearance = { groups = ["V3"], green_s = 5 }
[[intersection.preempt]]
id = "E2"
kind = "emergency"
priority = 2
route = ["V1"]
min_dwell_s = 6
max_presence_s = 20
[[intersection.preempt]]
id = "E3"
kind = "emergency"
priority = 2
route = ["V1"]
min_dwell_s = 6
max_presence_s = 20"""

V2_CROSSES = ("V1 = [\"V2\"]", "V1 = [\"V2\"]\nV2 = [\"V3\"]",
              "V2 = { V1 = 3.0 }", "V2 = { V1 = 3.0, V3 = 4.0 }\nV3 = { V2 = 5.0 }")


def inter(*edits, recall="none"):
    text = CIS.replace('recall = "none"', f'recall = "{recall}"')
    for i in range(0, len(edits), 2):
        assert text.count(edits[i]) == 1, edits[i]
        text = text.replace(edits[i], edits[i + 1])
    return loads(text).intersections[0]


def bound(x):
    return worst_entry_s(x.preempts[0], {g.id: g for g in x.groups}, x.conflicts, x.intergreen)


def run(x, call_at, until):
    """The core stepped every tenth, E1 called from `call_at` on: aspects and events."""
    core = IntersectionCore(x, "act", start=0)
    seen, events = [], []
    for k in range(int(until * 10)):
        calls = frozenset({"E1"}) if k >= call_at * 10 else frozenset()
        out = core.step(k / 10, Inputs(frozenset(), preempt_calls=calls))
        seen.append((k / 10, dict(out.aspects)))
        events += out.events
    return seen, events


def at(events, code):
    return [e.t for e in events if e.code == code and e.param == 1]


def test_the_found_example_clears_the_track_within_its_bound_and_keeps_the_dwell_green():
    x = inter()
    seen, events = run(x, 5.1, 30.0)        # V1 and V3 in the start-up's red+amber
    entry, = at(events, E.PREEMPT_ENTRY)
    track, = at(events, E.PREEMPT_TRACK_CLEARANCE)
    dwell, = at(events, E.PREEMPT_DWELL)
    assert entry == 5.1
    assert track == 7.0                     # V3's red+amber from the start-up's S1, no more
    assert track - entry <= bound(x)
    # V1 (dwell, compatible with V3) stays green from its start into the dwell
    assert all(a["V1"] == A.GREEN for t, a in seen if 7.0 <= t <= dwell)
    assert dwell == 18.0                    # 5 s track clearance, V3's flashing green + amber
    assert all(a["V3"] == A.RED and a["V2"] == A.RED and a["V1"] == A.GREEN
               for t, a in seen if dwell <= t < dwell + 6.0)      # the minimum dwell


def test_the_bound_counts_every_group_that_must_rest_or_start_first():
    # V2 compatible with V3, outside the route: it rests first (2 + 4 + 3 + 3 s); V3 caught
    # in its flashing green: 3 + 3 + 2 s; V1 (route, kept green or caught ending): 6 s
    assert bound(inter()) == 12.0
    # V2 conflicts with V3: its red+amber, minimum, flashing green, then max(IG 4, amber 3
    # + V3's red+amber 2)
    assert bound(inter(*V2_CROSSES)) == 2 + 4 + 3 + 5


def test_a_call_at_any_moment_of_the_cycle_clears_the_track_within_the_bound():
    for edits in ((), V2_CROSSES):
        for recall in ("min", "max"):
            x = inter(*edits, recall=recall)
            worst = bound(x)
            for call_at in [5.0 + k * 0.3 for k in range(150)]:
                _, events = run(x, call_at, call_at + worst + 2.0)
                entry, = at(events, E.PREEMPT_ENTRY)
                track = at(events, E.PREEMPT_TRACK_CLEARANCE)
                assert track and track[0] - entry <= worst + 1e-9, (edits, recall, call_at)
