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


def make(profile="EU", limit=5, window=10000, tabs=None):
    tb = tables(profile) if tabs is None else tabs
    g = gm.Guard(tb, [False] * len(tb["groups"]), t(0), limit, window)
    g.enter_all_red(t(0))
    return g


def go_green(g, grp, at):
    """Drive group `grp` legally from RED to GREEN starting at `at` (ms after T0)."""
    if g.rows[grp][RED] & (1 << RED_AMBER):
        eq(g.command(grp, RED_AMBER, t(at)), gm.OK, "red+amber")
        at += g.min_ms[grp][RED_AMBER]
    eq(g.command(grp, GREEN, t(at)), gm.OK, "green")
    return at


def test_legal_cycle_eu():
    g = make()
    at = go_green(g, V1, 0)
    eq(g.aspect[V1], GREEN)
    eq(g.command(V1, AMBER, t(at + 5000)), gm.OK)
    eq(g.command(V1, RED, t(at + 8000)), gm.OK)
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
    eq(g.command(V1, AMBER, t(at + 5000)), gm.OK)
    eq(g.command(V1, GREEN, t(at + 9000)), gm.SEQUENCE)
    eq(g.aspect[V1], AMBER)


def test_conflict_with_green():
    g = make()
    go_green(g, V1, 0)
    eq(g.command(V2, RED_AMBER, t(2000)), gm.OK, "red+amber is no right of way")
    eq(g.command(V2, GREEN, t(4000)), gm.CONFLICT)
    eq(g.aspect[V2], RED_AMBER)


def test_conflict_with_amber_that_has_right_of_way():
    g = make()
    at = go_green(g, V1, 0)
    eq(g.command(V1, AMBER, t(at + 5000)), gm.OK)
    eq(g.command(V2, RED_AMBER, t(at + 5100)), gm.OK)
    eq(g.command(V2, GREEN, t(at + 6200)), gm.CONFLICT)


def test_intergreen():
    g = make()
    at = go_green(g, V1, 0)
    end = at + 5000                       # end of green of V1
    eq(g.command(V1, AMBER, t(end)), gm.OK)
    eq(g.command(V1, RED, t(end + 3000)), gm.OK)
    eq(g.command(V2, RED_AMBER, t(end + 3500)), gm.OK)
    eq(g.command(V2, GREEN, t(end + 4999)), gm.INTERGREEN, "5000 ms not over")
    eq(g.aspect[V2], RED_AMBER)
    eq(g.command(V2, GREEN, t(end + 5000)), gm.OK)


def test_intergreen_is_directional():
    g = make()
    at = go_green(g, V2, 0)
    end = at + 5000
    g.command(V2, AMBER, t(end))
    g.command(V2, RED, t(end + 3000))
    g.command(V1, RED_AMBER, t(end + 4000))
    eq(g.command(V1, GREEN, t(end + 5500)), gm.INTERGREEN, "V2 -> V1 is 6000 ms")
    eq(g.command(V1, GREEN, t(end + 6000)), gm.OK)


def test_min_green():
    g = make()
    at = go_green(g, V1, 0)
    eq(g.command(V1, AMBER, t(at + 4999)), gm.MIN_GREEN)
    eq(g.aspect[V1], GREEN)
    eq(g.command(V1, AMBER, t(at + 5000)), gm.OK)


def test_min_amber():
    g = make()
    at = go_green(g, V1, 0)
    g.command(V1, AMBER, t(at + 5000))
    eq(g.command(V1, RED, t(at + 7999)), gm.MIN_AMBER)
    eq(g.aspect[V1], AMBER)
    eq(g.command(V1, RED, t(at + 8000)), gm.OK)


def test_min_red_amber():
    g = make()
    eq(g.command(V1, RED_AMBER, t(0)), gm.OK)
    eq(g.command(V1, GREEN, t(999)), gm.MIN_RED_AMBER)
    eq(g.command(V1, GREEN, t(1000)), gm.OK)


def test_min_flash_green_cis():
    g = make("CIS")
    at = go_green(g, V1, 0)
    eq(g.command(V1, AMBER, t(at + 6000)), gm.SEQUENCE, "CIS: flashing green first")
    eq(g.command(V1, FLASH_GREEN, t(at + 6000)), gm.OK)
    eq(g.command(V1, AMBER, t(at + 8999)), gm.MIN_CLEARANCE)
    eq(g.command(V1, AMBER, t(at + 9000)), gm.OK)


def test_us_pedestrian_clearance():
    g = make("US")
    eq(g.command(P1, GREEN, t(0)), gm.OK)
    eq(g.command(P1, RED, t(6000)), gm.SKIPPED_CLEARANCE, "walk straight to don't walk")
    eq(g.aspect[P1], FLASH_RED)
    eq(g.command(P1, RED, t(6100)), gm.OK, "the node's clearance already ends in red")
    g.tick(t(12999))
    eq(g.aspect[P1], FLASH_RED)
    g.tick(t(13000))
    eq(g.aspect[P1], RED)
    eq(g.refusals, 1)


def test_us_pedestrian_min_clearance():
    g = make("US")
    g.command(P1, GREEN, t(0))
    eq(g.command(P1, FLASH_RED, t(5000)), gm.OK)
    eq(g.command(P1, RED, t(11999)), gm.MIN_CLEARANCE)
    eq(g.command(P1, RED, t(12000)), gm.OK)


def test_us_vehicle_has_no_red_amber():
    g = make("US")
    eq(g.command(V1, RED_AMBER, t(0)), gm.SEQUENCE)
    eq(g.command(V1, GREEN, t(0)), gm.OK)


def test_green_to_red_goes_through_own_amber():
    g = make()
    at = go_green(g, V1, 0)
    eq(g.command(V1, RED, t(at + 6000)), gm.SKIPPED_CLEARANCE)
    eq(g.aspect[V1], AMBER, "never straight to red")
    g.tick(t(at + 8999))
    eq(g.aspect[V1], AMBER)
    g.tick(t(at + 9000))
    eq(g.aspect[V1], RED)
    # The end of green was when the amber began: the intergreen counts from there.
    g.command(V2, RED_AMBER, t(at + 9500))
    eq(g.command(V2, GREEN, t(at + 10999)), gm.INTERGREEN)
    eq(g.command(V2, GREEN, t(at + 11000)), gm.OK)


def test_green_to_dark_goes_through_own_clearance_cis():
    g = make("CIS")
    at = go_green(g, V1, 0)
    eq(g.command(V1, DARK, t(at + 5000)), gm.SKIPPED_CLEARANCE)
    eq(g.aspect[V1], FLASH_GREEN)
    g.tick(t(at + 8000))
    eq(g.aspect[V1], AMBER)
    g.tick(t(at + 11000))
    eq(g.aspect[V1], DARK)


def test_green_to_red_before_min_green_keeps_green():
    g = make()
    at = go_green(g, V1, 0)
    eq(g.command(V1, RED, t(at + 1000)), gm.MIN_GREEN)
    eq(g.aspect[V1], GREEN)


def test_frame_closes_before_it_opens():
    g = make()
    at = go_green(g, V1, 0)
    g.command(V2, RED_AMBER, t(at + 100))
    wants = bytearray(3)
    wants[V1] = AMBER
    wants[V2] = GREEN
    wants[P1] = RED
    eq(g.command_all(wants, 0b011, t(at + 5000)), 1)
    eq(g.aspect[V1], AMBER, "closing applied")
    eq(g.aspect[V2], RED_AMBER, "opening refused: V1 amber has right of way")
    eq(g.last_refusal, gm.CONFLICT)


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
    eq(g.command(V2, GREEN, t(at + 5099)), gm.INTERGREEN, "counts from the flash")
    eq(g.command(V2, GREEN, t(at + 5100)), gm.OK)


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
    eq(g.command(0, DARK, t(4000)), gm.OK, "no amber: green goes out")
    eq(g.command(1, GREEN, t(5999)), gm.INTERGREEN)
    eq(g.command(1, GREEN, t(6000)), gm.OK)


def test_ticks_wrap_and_aging():
    g = make()
    at = go_green(g, V1, 0)               # T0 is 3 s before the wrap
    eq(g.command(V1, AMBER, t(at + 5000)), gm.OK)
    eq(g.command(V1, RED, t(at + 8000)), gm.OK)
    g.tick(t(gm.AGE_MS + 20000))
    eq(g.eog_old[V1], 1, "an old end of green is remembered as long ago")
    g.command(V2, RED_AMBER, t(2 * gm.AGE_MS))
    eq(g.command(V2, GREEN, t(2 * gm.AGE_MS + 1000)), gm.OK)
