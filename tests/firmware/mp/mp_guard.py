# The guard's rules, one refusal kind at a time (runs on the MicroPython unix port).
from node import guard as gm

from fx import P1, V1, V2, eq, t, tables
from protocols.aspects import (
    AMBER,
    DARK,
    FLASH_AMBER,
    FLASH_GREEN,
    FLASH_RED,
    GREEN,
    RED,
    RED_AMBER,
)

# A minimum (or an intergreen) of m ms is over at tick since + m + 1, not + m: ticks_ms
# truncates, so only then has the change surely lasted m (guard._left_ms). "+ 1" below.


def make(profile="EU", limit=5, window=10000, tabs=None):
    tb = tables(profile) if tabs is None else tabs
    g = gm.Guard(tb, [False] * len(tb["groups"]), t(0), limit, window)
    g.enter_all_red(t(0))
    return g


def go_green(g, grp, at):
    """Drive group `grp` legally from RED to GREEN starting at `at` (ms after T0)."""
    if g.rows[grp][RED] & (1 << RED_AMBER):
        eq(g.command(grp, RED_AMBER, t(at)), gm.OK, "red+amber")
        at += g.min_ms[grp][RED_AMBER] + 1
    eq(g.command(grp, GREEN, t(at)), gm.OK, "green")
    return at


def test_legal_cycle_eu():
    g = make()
    at = go_green(g, V1, 0)
    eq(g.aspect[V1], GREEN)
    eq(g.command(V1, AMBER, t(at + 5001)), gm.OK)
    eq(g.command(V1, RED, t(at + 8002)), gm.OK)
    eq(g.aspect[V1], RED)
    eq(g.refusals, 0)


def test_sequence_refused_and_aspect_kept():
    g = make()
    for want in (AMBER, FLASH_GREEN, FLASH_AMBER, FLASH_RED):
        eq(g.command(V1, want, t(10)), gm.SEQUENCE, "red -> %d" % want)
        eq(g.aspect[V1], RED)
    at = go_green(g, V1, 0)
    eq(g.command(V1, RED_AMBER, t(at + 6000)), gm.SEQUENCE, "green -> red+amber")
    eq(g.aspect[V1], GREEN)
    eq(g.command(V1, 9, t(at + 6000)), gm.SEQUENCE, "no such aspect")
    eq(g.by_kind[gm.SEQUENCE], 6)


def test_amber_cannot_go_back_to_green():
    g = make()
    at = go_green(g, V1, 0)
    eq(g.command(V1, AMBER, t(at + 5001)), gm.OK)
    eq(g.command(V1, GREEN, t(at + 9000)), gm.SEQUENCE)
    eq(g.aspect[V1], AMBER)


def test_conflict_with_green():
    g = make("US")                        # no red+amber: straight to green
    go_green(g, V1, 0)
    eq(g.command(V2, GREEN, t(4000)), gm.CONFLICT)
    eq(g.aspect[V2], RED)


def test_red_amber_is_right_of_way_about_to_begin():
    # A TS2 monitor counts any non-red indication: red+amber waits, like green, until
    # every conflicting group is red (RED or DARK).
    g = make()
    go_green(g, V1, 0)
    eq(g.command(V2, RED_AMBER, t(2000)), gm.CONFLICT, "V1 green")
    eq(g.aspect[V2], RED)
    g = make()
    eq(g.command(V1, RED_AMBER, t(0)), gm.OK)
    eq(g.command(V2, RED_AMBER, t(10)), gm.CONFLICT, "V1 red+amber")
    eq(g.command(P1, GREEN, t(20)), gm.OK, "P1 does not conflict with V1")
    eq(g.command(V2, RED_AMBER, t(30)), gm.CONFLICT, "P1 walks")
    eq(g.by_kind[gm.CONFLICT], 2)
    g = make()
    eq(g.command(V2, RED_AMBER, t(0)), gm.OK)
    eq(g.command(P1, GREEN, t(10)), gm.CONFLICT, "no walk beside a conflicting red+amber")


def test_red_amber_against_a_walk_is_refused():
    # The case: red+amber on V2 while the crossing P1 shows walk, flashing green
    # (CIS) or flashing don't walk (US).
    for profile, clearance in (("EU", None), ("CIS", FLASH_GREEN), ("US", FLASH_RED)):
        g = make(profile)
        eq(g.command(P1, GREEN, t(0)), gm.OK)
        want = GREEN if profile == "US" else RED_AMBER
        eq(g.command(V2, want, t(100)), gm.CONFLICT, profile + ": walk")
        if clearance is not None:
            eq(g.command(P1, clearance, t(5001)), gm.OK)
            eq(g.command(V2, want, t(5100)), gm.CONFLICT, profile + ": clearance")
        eq(g.aspect[V2], RED, profile)


def test_conflict_with_amber_that_has_right_of_way():
    g = make()
    at = go_green(g, V1, 0)
    eq(g.command(V1, AMBER, t(at + 5001)), gm.OK)
    eq(g.command(V2, RED_AMBER, t(at + 5100)), gm.CONFLICT)
    eq(g.command(V1, RED, t(at + 8002)), gm.OK)
    eq(g.command(V2, RED_AMBER, t(at + 8002)), gm.OK, "once V1 is red")


def test_intergreen():
    g = make()
    at = go_green(g, V1, 0)
    end = at + 5001                       # end of green of V1
    eq(g.command(V1, AMBER, t(end)), gm.OK)
    eq(g.command(V1, RED, t(end + 3001)), gm.OK)
    eq(g.command(V2, RED_AMBER, t(end + 3500)), gm.OK)
    eq(g.command(V2, GREEN, t(end + 5000)), gm.INTERGREEN, "5000 ms not surely over")
    eq(g.aspect[V2], RED_AMBER)
    eq(g.command(V2, GREEN, t(end + 5001)), gm.OK)


def test_intergreen_is_directional():
    g = make()
    at = go_green(g, V2, 0)
    end = at + 5001
    g.command(V2, AMBER, t(end))
    g.command(V2, RED, t(end + 3001))
    g.command(V1, RED_AMBER, t(end + 4000))
    eq(g.command(V1, GREEN, t(end + 5500)), gm.INTERGREEN, "V2 -> V1 is 6000 ms")
    eq(g.command(V1, GREEN, t(end + 6001)), gm.OK)


def test_min_green():
    g = make()
    at = go_green(g, V1, 0)
    eq(g.command(V1, AMBER, t(at + 5000)), gm.MIN_GREEN)
    eq(g.aspect[V1], GREEN)
    eq(g.command(V1, AMBER, t(at + 5001)), gm.OK)


def test_min_amber():
    g = make()
    at = go_green(g, V1, 0)
    g.command(V1, AMBER, t(at + 5001))
    eq(g.command(V1, RED, t(at + 8001)), gm.MIN_AMBER)
    eq(g.aspect[V1], AMBER)
    eq(g.command(V1, RED, t(at + 8002)), gm.OK)


def test_min_red_amber():
    g = make()
    eq(g.command(V1, RED_AMBER, t(0)), gm.OK)
    eq(g.command(V1, GREEN, t(1000)), gm.MIN_RED_AMBER)
    eq(g.command(V1, GREEN, t(1001)), gm.OK)


def test_min_flash_green_cis():
    g = make("CIS")
    at = go_green(g, V1, 0)
    eq(g.command(V1, AMBER, t(at + 6000)), gm.SEQUENCE, "CIS: flashing green first")
    eq(g.command(V1, FLASH_GREEN, t(at + 6000)), gm.OK)
    eq(g.command(V1, AMBER, t(at + 9000)), gm.MIN_CLEARANCE)
    eq(g.command(V1, AMBER, t(at + 9001)), gm.OK)


def test_us_pedestrian_clearance():
    g = make("US")
    eq(g.command(P1, GREEN, t(0)), gm.OK)
    eq(g.command(P1, RED, t(6000)), gm.SKIPPED_CLEARANCE, "walk straight to don't walk")
    eq(g.aspect[P1], FLASH_RED)
    eq(g.command(P1, RED, t(6100)), gm.OK, "the node's clearance already ends in red")
    g.tick(t(13000))
    eq(g.aspect[P1], FLASH_RED)
    g.tick(t(13001))
    eq(g.aspect[P1], RED)
    eq(g.refusals, 1)


def test_us_pedestrian_min_clearance():
    g = make("US")
    g.command(P1, GREEN, t(0))
    eq(g.command(P1, FLASH_RED, t(5001)), gm.OK)
    eq(g.command(P1, RED, t(12001)), gm.MIN_CLEARANCE)
    eq(g.command(P1, RED, t(12002)), gm.OK)


def test_us_vehicle_has_no_red_amber():
    g = make("US")
    eq(g.command(V1, RED_AMBER, t(0)), gm.SEQUENCE)
    eq(g.command(V1, GREEN, t(0)), gm.OK)


def test_green_to_red_goes_through_own_amber():
    g = make()
    at = go_green(g, V1, 0)
    eq(g.command(V1, RED, t(at + 6000)), gm.SKIPPED_CLEARANCE)
    eq(g.aspect[V1], AMBER, "never straight to red")
    g.tick(t(at + 9000))
    eq(g.aspect[V1], AMBER)
    g.tick(t(at + 9001))
    eq(g.aspect[V1], RED)
    # The end of green was when the amber began: the intergreen counts from there.
    g.command(V2, RED_AMBER, t(at + 9500))
    eq(g.command(V2, GREEN, t(at + 11000)), gm.INTERGREEN)
    eq(g.command(V2, GREEN, t(at + 11001)), gm.OK)


def test_green_to_dark_goes_through_own_clearance_cis():
    g = make("CIS")
    at = go_green(g, V1, 0)
    eq(g.command(V1, DARK, t(at + 5001)), gm.SKIPPED_CLEARANCE)
    eq(g.aspect[V1], FLASH_GREEN)
    g.tick(t(at + 8002))
    eq(g.aspect[V1], AMBER)
    g.tick(t(at + 11003))
    eq(g.aspect[V1], DARK)


def test_green_to_red_before_min_green_keeps_green():
    g = make()
    at = go_green(g, V1, 0)
    eq(g.command(V1, RED, t(at + 1000)), gm.MIN_GREEN)
    eq(g.aspect[V1], GREEN)


def test_frame_closes_before_it_opens():
    g = make()
    at = go_green(g, V1, 0)
    wants = bytearray(3)
    wants[V1] = AMBER
    wants[V2] = RED_AMBER
    wants[P1] = RED
    eq(g.command_all(wants, 0b011, t(at + 5001)), 1)
    eq(g.aspect[V1], AMBER, "closing applied")
    eq(g.aspect[V2], RED, "opening refused: V1 amber has right of way")
    eq(g.last_refusal, gm.CONFLICT)
    wants[V1] = RED
    eq(g.command_all(wants, 0b011, t(at + 8002)), 0, "red first, then red+amber")
    eq((g.aspect[V1], g.aspect[V2]), (RED, RED_AMBER))


def test_refusal_limit_within_window_trips():
    g = make(limit=3, window=1000)
    g.command(V1, AMBER, t(0))
    g.command(V1, AMBER, t(600))
    eq(g.tripped, False)
    g.command(V1, AMBER, t(1500))
    eq(g.tripped, False, "the first refusal fell out of the window")
    g.command(V1, AMBER, t(1600))
    eq(g.tripped, True)
    g.enter_all_red(t(2000))
    eq(g.tripped, False, "a new start-up starts a new count")


def test_flash_allowed_at_any_time():
    g = make()
    at = go_green(g, V1, 0)
    g.enter_flash(t(at + 100))            # well before min green
    eq(g.aspect[V1], FLASH_AMBER)
    eq(g.aspect[P1], DARK, "pedestrians dark")
    g.enter_all_red(t(at + 1100))
    g.command(V2, RED_AMBER, t(at + 1200))
    eq(g.command(V2, GREEN, t(at + 5100)), gm.INTERGREEN, "counts from the flash")
    eq(g.command(V2, GREEN, t(at + 5101)), gm.OK)


def test_flash_red_when_configured():
    tb = tables()
    g = gm.Guard(tb, [True, False, False], t(0), 5, 10000)
    eq(g.aspect[V1], FLASH_RED)
    eq(g.aspect[V2], FLASH_AMBER)


def test_green_only_arrow():
    tb = {"groups": [{"id": "A", "kind": "arrow", "min_green_ms": 4000},
                     {"id": "V", "kind": "vehicle", "amber_ms": 3000, "min_green_ms": 5000}],
          "conflicts": [[0, 1]], "intergreen_ms": [[0, 1, 2000], [1, 0, 5000]]}
    g = gm.Guard(tb, [False, False], t(0), 5, 10000)
    eq(g.aspect[0], DARK, "a green-only arrow is dark in flash")
    g.enter_all_red(t(0))
    eq(g.command(0, GREEN, t(0)), gm.OK)
    eq(g.command(0, DARK, t(4001)), gm.OK, "no amber: green goes out")
    eq(g.command(1, GREEN, t(6001)), gm.INTERGREEN)
    eq(g.command(1, GREEN, t(6002)), gm.OK)


def test_ticks_wrap_and_aging():
    g = make()
    at = go_green(g, V1, 0)               # T0 is 3 s before the wrap
    eq(g.command(V1, AMBER, t(at + 5001)), gm.OK)
    eq(g.command(V1, RED, t(at + 8002)), gm.OK)
    g.tick(t(gm.AGE_MS + 20000))
    eq(g.eog_old[V1], 1, "an old end of green is remembered as long ago")
    g.command(V2, RED_AMBER, t(2 * gm.AGE_MS))
    eq(g.command(V2, GREEN, t(2 * gm.AGE_MS + 1001)), gm.OK)


# ---------------------------------------------------------------- transport jitter (defer_ms)
def deferring(profile="EU", defer=250, limit=5):
    tb = tables(profile)
    g = gm.Guard(tb, [False] * len(tb["groups"]), t(0), limit, 10000, defer)
    g.enter_all_red(t(0))
    return g


def held_then_applied(g, grp, want, ends, early=10):
    """`want` commanded `early` ms before the minimum (or intergreen) in its way `ends`:
    held, not counted, and applied by the tick at which it becomes legal (ends + 1, see
    the top of this file), not a ms before, with its own timer starting there."""
    have = g.aspect[grp]
    refusals = g.refusals
    eq(g.command(grp, want, t(ends - early)), gm.DEFERRED, "held")
    eq(g.aspect[grp], have, "not yet")
    eq(g.due_ms(t(ends - early)), early + 1, "due when it becomes legal")
    g.tick(t(ends))
    eq(g.aspect[grp], have, "1 ms before: still not")
    eq(g.command(grp, want, t(ends)), gm.DEFERRED, "a repeat changes nothing")
    g.tick(t(ends + 1))
    eq(g.aspect[grp], want, "applied at the exact moment")
    eq(g.since[grp], t(ends + 1), "its minimum counts from there")
    eq(g.refusals, refusals, "not counted")
    eq(g.npend, 0)
    eq(g.due_ms(t(ends + 1)), -1)
    return ends + 1


def test_defer_min_red_amber():
    g = deferring()
    eq(g.command(V1, RED_AMBER, t(0)), gm.OK)
    held_then_applied(g, V1, GREEN, 1000)


def test_defer_min_green_and_min_amber():
    g = deferring()
    at = go_green(g, V1, 0)
    at = held_then_applied(g, V1, AMBER, at + 5000)
    held_then_applied(g, V1, RED, at + 3000)
    eq(g.refusals, 0)


def test_defer_min_clearance_flashing_green_cis():
    g = deferring("CIS")
    at = go_green(g, V1, 0)
    at = held_then_applied(g, V1, FLASH_GREEN, at + 5000)
    held_then_applied(g, V1, AMBER, at + 3000)


def test_defer_min_clearance_pedestrian_us():
    g = deferring("US")
    eq(g.command(P1, GREEN, t(0)), gm.OK)
    at = held_then_applied(g, P1, FLASH_RED, 5000)
    held_then_applied(g, P1, RED, at + 7000)


def v1_green_ended(g):
    """V1 green, amber, red; returns its end of green."""
    at = go_green(g, V1, 0)
    end = at + 5001
    eq(g.command(V1, AMBER, t(end)), gm.OK)
    eq(g.command(V1, RED, t(end + 3001)), gm.OK)
    return end


def test_defer_intergreen():
    g = deferring()
    end = v1_green_ended(g)
    g.command(V2, RED_AMBER, t(end + 3500))
    held_then_applied(g, V2, GREEN, end + 5000)       # intergreen V1 -> V2: 5000 ms


def test_defer_waits_for_the_last_of_its_times():
    g = deferring()
    end = v1_green_ended(g)
    g.command(V2, RED_AMBER, t(end + 4100))           # red+amber until end + 5100
    eq(g.command(V2, GREEN, t(end + 4900)), gm.DEFERRED)
    eq(g.due_ms(t(end + 4900)), 201)
    g.tick(t(end + 5001))
    eq(g.aspect[V2], RED_AMBER, "the intergreen is over, the red+amber is not")
    g.tick(t(end + 5100))
    eq(g.aspect[V2], RED_AMBER)
    g.tick(t(end + 5101))
    eq(g.aspect[V2], GREEN)
    eq(g.refusals, 0)


# Every kind that can be deferred: (name, kind, profile, setup); setup(g) brings the guard
# to where group grp's command `want` is held back only by that kind until `ends` (legal at
# ends + 1), and returns (grp, want, ends).
def _red_amber(g):
    g.command(V1, RED_AMBER, t(0))
    return V1, GREEN, 1000


def _green(g):
    return V1, AMBER, go_green(g, V1, 0) + 5000


def _amber(g):
    at = go_green(g, V1, 0)
    g.command(V1, AMBER, t(at + 5001))
    return V1, RED, at + 5001 + 3000


def _flash_green(g):
    at = go_green(g, V1, 0)
    g.command(V1, FLASH_GREEN, t(at + 5001))
    return V1, AMBER, at + 5001 + 3000


def _ped_clearance(g):
    g.command(P1, GREEN, t(0))
    g.command(P1, FLASH_RED, t(5001))
    return P1, RED, 5001 + 7000


def _intergreen(g):
    end = v1_green_ended(g)
    g.command(V2, RED_AMBER, t(end + 3500))
    return V2, GREEN, end + 5000


KINDS = (("min-red-amber", gm.MIN_RED_AMBER, "EU", _red_amber),
         ("min-green", gm.MIN_GREEN, "EU", _green),
         ("min-amber", gm.MIN_AMBER, "EU", _amber),
         ("min-clearance (flashing green)", gm.MIN_CLEARANCE, "CIS", _flash_green),
         ("min-clearance (flashing don't walk)", gm.MIN_CLEARANCE, "US", _ped_clearance),
         ("intergreen", gm.INTERGREEN, "EU", _intergreen))


def test_every_kind_10_ms_early_is_applied_at_its_minimum():
    for name, kind, profile, setup in KINDS:
        g = deferring(profile)
        grp, want, ends = setup(g)
        before = g.refusals
        eq(g.check(grp, want, t(ends - 10)), kind, name)
        held_then_applied(g, grp, want, ends)
        eq(g.refusals, before, name)


def test_every_kind_too_early_is_refused_and_counted():
    for name, kind, profile, setup in KINDS:
        g = deferring(profile)
        grp, want, ends = setup(g)
        have = g.aspect[grp]
        before = g.refusals
        eq(g.command(grp, want, t(ends + 1 - 251)), kind, name + ": 251 ms early")
        eq((g.refusals, g.npend, g.aspect[grp]), (before + 1, 0, have), name)
        g.tick(t(ends + 1))
        eq(g.aspect[grp], have, name + ": nothing left to apply")


def test_every_kind_pending_is_replaced_by_a_newer_command():
    for name, _kind, profile, setup in KINDS:
        g = deferring(profile)
        grp, want, ends = setup(g)
        have = g.aspect[grp]
        eq(g.command(grp, want, t(ends - 10)), gm.DEFERRED, name)
        eq(g.command(grp, have, t(ends - 5)), gm.OK, name + ": newer: stay")
        eq(g.npend, 0, name)
        g.tick(t(ends + 1))
        eq(g.aspect[grp], have, name + ": the held command is gone")
        eq(g.refusals, 0, name)


def test_every_kind_pending_loses_to_flash():
    for name, _kind, profile, setup in KINDS:
        g = deferring(profile)
        grp, want, ends = setup(g)
        eq(g.command(grp, want, t(ends - 10)), gm.DEFERRED, name)
        g.enter_flash(t(ends - 5))
        eq(g.aspect[grp], g.flash_aspect[grp], name + ": flash at once")
        eq(g.npend, 0, name)
        g.tick(t(ends + 1))
        eq(g.aspect[grp], g.flash_aspect[grp], name)


def test_too_early_is_still_refused_and_counted():
    g = deferring()
    g.command(V1, RED_AMBER, t(0))
    eq(g.command(V1, GREEN, t(1001 - 251)), gm.MIN_RED_AMBER, "251 ms early")
    eq((g.refusals, g.npend), (1, 0))
    g.tick(t(1001))
    eq(g.aspect[V1], RED_AMBER, "dropped, as without deferral")
    eq(g.command(V1, GREEN, t(1001)), gm.OK, "the next poll's command is judged afresh")

    g = deferring()
    at = go_green(g, V1, 0)
    eq(g.command(V1, AMBER, t(at + 4500)), gm.MIN_GREEN, "500 ms early")
    eq((g.refusals, g.npend), (1, 0))

    g = deferring()
    end = v1_green_ended(g)
    g.command(V2, RED_AMBER, t(end + 3500))
    eq(g.command(V2, GREEN, t(end + 4700)), gm.INTERGREEN, "300 ms early")
    eq((g.refusals, g.npend), (1, 0))

    g = deferring()
    g.command(V1, RED_AMBER, t(0))
    eq(g.command(V1, GREEN, t(1001 - 250)), gm.DEFERRED, "exactly defer_ms early is held")


def test_defer_zero_disables_it():
    g = deferring(defer=0)
    g.command(V1, RED_AMBER, t(0))
    eq(g.command(V1, GREEN, t(999)), gm.MIN_RED_AMBER)
    eq(g.refusals, 1)


def test_only_time_is_deferred():
    g = deferring()
    at = go_green(g, V1, 0)
    eq(g.command(V2, RED_AMBER, t(at + 4990)), gm.CONFLICT, "V1 green: no time ends that")
    eq(g.command(V1, RED, t(at + 4990)), gm.MIN_GREEN, "green to red is no deferral")
    eq(g.command(V1, RED_AMBER, t(at + 4990)), gm.SEQUENCE)
    eq(g.refusals, 3)
    eq(g.npend, 0)


def test_newer_command_replaces_a_pending_one():
    g = deferring()
    at = go_green(g, V1, 0)
    eq(g.command(V1, AMBER, t(at + 5001)), gm.OK)
    eq(g.command(V1, RED, t(at + 7990)), gm.DEFERRED)
    eq(g.command(V1, DARK, t(at + 7995)), gm.DEFERRED, "replaced")
    g.tick(t(at + 8002))
    eq(g.aspect[V1], DARK)
    eq(g.command(V1, RED_AMBER, t(at + 8100)), gm.SEQUENCE)
    g = deferring()
    g.command(V1, RED_AMBER, t(0))
    eq(g.command(V1, GREEN, t(990)), gm.DEFERRED)
    eq(g.command(V1, RED_AMBER, t(995)), gm.OK, "the present aspect: stay")
    eq(g.npend, 0)
    g.tick(t(1001))
    eq(g.aspect[V1], RED_AMBER, "the pending green is gone")
    eq(g.refusals, 0)


def test_flash_wins_over_a_pending_command():
    g = deferring()
    g.command(V1, RED_AMBER, t(0))
    eq(g.command(V1, GREEN, t(990)), gm.DEFERRED)
    g.enter_flash(t(995))
    eq(g.aspect[V1], FLASH_AMBER, "at once")
    eq(g.npend, 0)
    g.tick(t(1001))
    eq(g.aspect[V1], FLASH_AMBER)
    g.enter_all_red(t(2000))
    g.tick(t(3000))
    eq(g.aspect[V1], RED, "nothing left over for after the flash")


def test_pending_refused_when_its_time_comes_unsafe():
    g = deferring()
    at = go_green(g, V1, 0)
    eq(g.command(V1, AMBER, t(at + 5001)), gm.OK)
    eq(g.command(V1, RED, t(at + 7995)), gm.DEFERRED, "amber ends at at + 8002")
    eq(g.command(V2, RED_AMBER, t(at + 7996)), gm.DEFERRED, "V1's end is decided")
    eq(g.command(V1, AMBER, t(at + 7997)), gm.OK, "newer: V1 stays amber")
    g.tick(t(at + 8002))
    eq(g.aspect[V2], RED, "V1 amber with no end in sight: refused at its time")
    eq(g.refusals, 1)
    eq(g.last_refusal, gm.CONFLICT)
    eq(g.npend, 0)


def test_pending_changes_close_before_they_open():
    g = deferring()
    at = go_green(g, V1, 0)
    g.command(V2, RED_AMBER, t(at + 4000))
    wants = bytearray((AMBER, GREEN, RED))
    eq(g.command_all(wants, 0b011, t(at + 4995)), 1, "V2 green refused: V1 still green")
    eq(g.aspect[V1], GREEN)
    eq(g.pend[V1], AMBER)
    g.tick(t(at + 5001))
    eq(g.aspect[V1], AMBER)


def test_red_and_red_amber_in_one_frame_a_little_early():
    """Intergreen = amber (no red clearance): the controller ends V1's amber and starts
    V2's red+amber in the same poll; 10 ms early, both are held and applied in one tick,
    the red first. The green follows the red+amber: 4 s after V1's end of green."""
    tb = tables()
    tb["intergreen_ms"][0][2] = 3000                   # V1 -> V2: just the amber
    g = gm.Guard(tb, [False] * 3, t(0), 5, 10000, 250)
    g.enter_all_red(t(0))
    at = go_green(g, V1, 0)
    eq(g.command(V1, AMBER, t(at + 5001)), gm.OK)
    wants = bytearray((RED, RED_AMBER, RED))
    eq(g.command_all(wants, 0b111, t(at + 5001 + 3000 - 10)), 0, "nothing refused")
    eq((g.pend[V1], g.pend[V2]), (RED, RED_AMBER))
    eq(g.due_ms(t(at + 7991)), 11)
    g.tick(t(at + 8001))
    eq((g.aspect[V1], g.aspect[V2]), (AMBER, RED))
    g.tick(t(at + 8002))
    eq((g.aspect[V1], g.aspect[V2]), (RED, RED_AMBER))
    eq(g.command(V2, GREEN, t(at + 9003)), gm.OK)
    eq(g.refusals, 0)


def test_conflicting_amber_without_a_decided_end_is_no_deferral():
    g = deferring()
    at = go_green(g, V1, 0)
    eq(g.command(V1, AMBER, t(at + 5001)), gm.OK)
    eq(g.command(V2, RED_AMBER, t(at + 7990)), gm.CONFLICT, "V1's red is not commanded")
    eq((g.refusals, g.npend), (1, 0))
    eq(g.aspect[V2], RED)


# ---------------------------------------------------------------- maintenance flash: wind down
def test_wind_down_ends_greens_through_their_clearance_then_all_red():
    g = make()
    at = go_green(g, V1, 0)                # V1 green from `at`, min green 5000
    g.wind_down(t(at + 1000))
    eq(g.aspect[V1], GREEN, "min green first")
    g.tick(t(at + 5000))
    eq(g.aspect[V1], GREEN)
    g.tick(t(at + 5001))
    eq(g.aspect[V1], AMBER, "then amber")
    eow = at + 5001                        # end of green
    g.tick(t(eow + 3000))
    eq(g.aspect[V1], AMBER, "its whole amber")
    g.tick(t(eow + 3001))
    eq(g.aspect[V1], RED)
    eq(g.cleared(t(eow + 3001)), False, "all red: V1 -> V2 intergreen 5000 not run")
    eq(g.cleared(t(eow + 5000)), False)
    eq(g.cleared(t(eow + 5001)), True)
    eq(g.refusals, 0)


def test_wind_down_cis_flashing_green_and_pedestrian_clearance_us():
    g = make("CIS")
    at = go_green(g, V1, 0)
    g.wind_down(t(at + 6000))
    eq(g.aspect[V1], FLASH_GREEN)
    g.tick(t(at + 9001))
    eq(g.aspect[V1], AMBER)
    g.tick(t(at + 12002))
    eq(g.aspect[V1], RED)
    g = make("US")
    eq(g.command(P1, GREEN, t(0)), gm.OK)
    g.wind_down(t(5001))
    eq(g.aspect[P1], FLASH_RED, "flashing don't walk")
    g.tick(t(12001))
    eq(g.aspect[P1], FLASH_RED)
    g.tick(t(12002))
    eq(g.aspect[P1], RED)


def test_wind_down_red_amber_back_to_red_and_pending_dropped():
    g = deferring()
    eq(g.command(V1, RED_AMBER, t(0)), gm.OK)
    eq(g.command(V1, GREEN, t(990)), gm.DEFERRED)
    g.wind_down(t(995))
    eq(g.aspect[V1], RED, "no green follows")
    eq(g.npend, 0)
    g.tick(t(1001))
    eq(g.aspect[V1], RED)
    eq(g.cleared(t(1001)), True, "no end of green: nothing to clear")


def test_green_after_a_pedestrian_clearance_in_one_frame_a_little_early():
    """US, intergreen P1 -> V2 = the flashing don't walk (7000 ms from the end of walk):
    the controller ends P1's clearance and starts V2's green in one poll, 10 ms early:
    both held and applied in one tick, the red first."""
    tb = tables("US")
    tb["intergreen_ms"][3][2] = 7000                   # P1 -> V2
    g = gm.Guard(tb, [False] * 3, t(0), 5, 10000, 250)
    g.enter_all_red(t(0))
    eq(g.command(P1, GREEN, t(0)), gm.OK)
    eq(g.command(P1, FLASH_RED, t(5001)), gm.OK)      # end of walk: 5001
    eq(g.command(V2, GREEN, t(11992)), gm.CONFLICT, "P1 clearing, its end not decided")
    wants = bytearray((RED, GREEN, RED))
    eq(g.command_all(wants, 0b111, t(11992)), 0, "nothing refused")
    eq((g.pend[P1], g.pend[V2]), (RED, GREEN))
    g.tick(t(12001))
    eq((g.aspect[P1], g.aspect[V2]), (FLASH_RED, RED))
    g.tick(t(12002))
    eq((g.aspect[P1], g.aspect[V2]), (RED, GREEN), "the red first, then the green")
    eq(g.refusals, 1)
