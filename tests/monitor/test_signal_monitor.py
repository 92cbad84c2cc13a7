"""The independent signal monitor, fed hand-built lamp streams: every violation kind is
caught with the right groups, and correct streams produce nothing."""

from __future__ import annotations

import glob

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from monitor_streams import (
    jittered_ms,
    of,
    run,
    safe_timeline,
    samples,
    samples_via_aspects,
    timeline,
    with_group,
    with_profile,
)

from controller.config import load
from controller.config.monitor_table import monitor_table
from monitor import KINDS, SignalMonitor, Violation

# Main street green (stage S1 of the Astana junction): V1 and the P2 crossings.
S1 = {"V1": "G", "V2": "R", "V3": "R", "V4": "R", "P1": "R", "P2": "G"}
ALL_RED = {"V1": "R", "V2": "R", "V3": "R", "V4": "R", "P1": "R", "P2": "R"}
FLASH = {"V1": "a", "V2": "a", "V3": "a", "V4": "a", "P1": "", "P2": ""}


@pytest.fixture(scope="module")
def cis():
    return load("examples/astana_cis.toml").intersections[0]


def s1_to_s3(v3_after_s: float = 5.0, v1_green_s: float = 20.0, v1_amber_s: float = 3.0):
    """S1 -> S3 done right (CIS) except for the figures given: V1 and P2 clear, V3 and P1
    enter `v3_after_s` after the end of V1's flashing green. V3's red+amber (2 s, shorter
    if the intergreen leaves less) begins once V1 is red, never with its amber."""
    ra = min(2.0, v3_after_s - v1_amber_s)
    return timeline(
        (2, ALL_RED),
        (2, {"V1": "RA"}),
        (v1_green_s, {"V1": "G", "P2": "G"}),
        (3, {"V1": "g", "P2": "g"}),
        (v1_amber_s, {"V1": "A", "P2": "R"}),
        (v3_after_s - v1_amber_s - ra, {"V1": "R"}),
        (ra, {"V3": "RA"}),
        (15, {"V3": "G", "P1": "G"}),
    )


# -- the API ------------------------------------------------------------------------

def test_api_shape(cis):
    mon = SignalMonitor(monitor_table(cis), tolerance_s=0.1)
    assert KINDS == ("conflict", "short_intergreen", "short_green", "short_amber",
                     "green_to_red", "dual_indication", "red_fail", "startup_flash")
    assert mon.feed(0.0, {"V1": 4}) == [] and mon.violations == []
    with pytest.raises(ValueError):
        mon.feed(-0.1, {})
    assert Violation._fields == ("t", "intersection", "kind", "groups", "detail")


def test_feed_returns_what_it_detects_and_keeps_it(cis):
    mon = SignalMonitor(monitor_table(cis))
    found = []
    for t, lamps in samples(timeline((2, S1), (1, {"V3": "G"}))):
        found += mon.feed(t, lamps)
    assert found and found == mon.violations
    assert all(v.intersection == "kb-turan" and v.kind in KINDS for v in found)


# -- conflict -----------------------------------------------------------------------

def test_conflict_caught_once_per_episode(cis):
    vs = run(cis, samples(timeline((5, S1), (2, {"V3": "G"}), (3, {"V3": "R"}))))
    conflicts = of(vs, "conflict")
    assert [v.groups for v in conflicts] == [("V1", "V3"), ("V3", "P2")]
    assert conflicts[0].t == pytest.approx(5.3)
    assert "right of way together" in conflicts[0].detail


@pytest.mark.parametrize("ms, caught", [(150, False), (200, False), (250, False),
                                        (300, True), (500, True)])
def test_conflict_window(cis, ms, caught):
    tl = timeline((5, S1), (ms / 1000, {"P1": "G"}), (3, {"P1": "R"}))
    vs = of(run(cis, samples(tl, step_ms=50)), "conflict")
    assert [v.groups for v in vs] == ([("V1", "P1")] if caught else [])


def test_conflict_with_flashing_green_reported_once(cis):
    # V1 in flashing green while the crossing of the main street gets walk: each lit half
    # is a conflict of 500 ms; the episode is one report, not one per flash.
    tl = timeline((5, S1), (3, {"V1": "g", "P1": "G"}), (3, {"V1": "A", "P1": "R"}))
    assert [v.groups for v in of(run(cis, samples(tl)), "conflict")] == [("V1", "P1")]


def test_change_amber_is_right_of_way(cis):
    tl = timeline((5, S1), (3, {"V1": "A", "V3": "G"}), (3, {"V1": "R"}))
    assert ("V1", "V3") in [v.groups for v in of(run(cis, samples(tl)), "conflict")]


@pytest.mark.parametrize("ms, caught", [(150, False), (200, False), (250, False),
                                        (300, True), (450, True)])
def test_red_amber_against_a_conflicting_amber_is_a_conflict(cis, ms, caught):
    # TS2 counts any non-red indication: V3's red+amber that begins `ms` before the end of
    # V1's change amber is right of way shown together with it.
    tl = timeline((5, S1), (3 - ms / 1000, {"V1": "A", "P2": "R"}), (ms / 1000, {"V3": "RA"}),
                  (2, {"V1": "R"}), (5, {"V3": "G"}))
    vs = of(run(cis, samples(tl, step_ms=50)), "conflict")
    assert [v.groups for v in vs] == ([("V1", "V3")] if caught else [])
    if caught:       # reported at the TS2 window, well before the 0.45 s it must fault by
        assert "red+amber" in vs[0].detail
        assert vs[0].t == pytest.approx(8.0 - ms / 1000 + 0.3)


def test_red_amber_against_a_walk_is_a_conflict(cis):
    # The case: a node shows red+amber on V1 while the crossing P1 shows walk.
    tl = timeline((2, ALL_RED), (6, {"P1": "G"}), (1.5, {"V1": "RA"}), (3, {"P1": "R",
                                                                          "V1": "R"}))
    vs = of(run(cis, samples(tl)), "conflict")
    assert [v.groups for v in vs] == [("V1", "P1")]
    assert vs[0].t == pytest.approx(8.3)


def test_red_amber_once_the_conflicting_amber_has_ended_is_fine(cis):
    # RiLSA: the entering red+amber lies inside the intergreen, after the clearing amber.
    tl = timeline((5, S1), (3, {"V1": "A", "P2": "R"}), (2, {"V1": "R", "V3": "RA"}),
                  (15, {"V3": "G", "P1": "G"}))
    assert run(cis, samples(tl, step_ms=50)) == []


def test_flash_mode_amber_everywhere_is_no_conflict(cis):
    tl = timeline((8, FLASH), (3, ALL_RED))
    assert run(cis, samples(tl)) == []


# -- short intergreen ---------------------------------------------------------------

def test_short_intergreen(cis):
    vs = run(cis, samples(s1_to_s3(v3_after_s=4.0)))
    assert [v.groups for v in vs] == [("V1", "V3")]
    assert vs[0].kind == "short_intergreen"
    # Its flashing green ended in a dark half: the end of green is the last lit green
    # lamp, 0.5 s before the amber, so 4.5 s are measured (the controller's benefit).
    assert "4.5 s after" in vs[0].detail and "is 5 s" in vs[0].detail


def test_intergreen_exact_is_fine(cis):
    assert run(cis, samples(s1_to_s3(v3_after_s=5.0))) == []


def test_intergreen_from_a_steady_green_is_exact(cis):
    eu = with_profile(cis, "EU")        # no flashing green: the end of green is exact
    tl = timeline((2, ALL_RED), (2, {"V1": "RA"}), (15, {"V1": "G"}), (3, {"V1": "A"}),
                  (0.9, {"V1": "R"}), (1, {"V3": "RA"}), (5, {"V3": "G"}))
    vs = run(eu, samples(tl))
    assert [(v.kind, v.groups) for v in vs] == [("short_intergreen", ("V1", "V3"))]
    assert "4.9 s after" in vs[0].detail


def test_flashing_don_t_walk_is_right_of_way(cis):
    # US: V1 gets green 3 s into P1's flashing don't walk; the flashing pulses conflict.
    us = with_profile(cis, "US")
    tl = timeline((2, ALL_RED), (8, {"P1": "G"}), (3, {"P1": "r"}), (7, {"V1": "G"}),
                  (5, {"P1": "R"}))
    vs = run(us, samples(tl))
    assert ("short_intergreen", ("P1", "V1")) in [(v.kind, v.groups) for v in vs]
    assert [v.groups for v in of(vs, "conflict")] == [("V1", "P1")]


def test_steady_amber_after_red_becomes_right_of_way(cis):
    # An amber that does not follow a green could be flash mode until it stays lit.
    tl = timeline((5, S1), (2, {"V3": "A"}), (3, {"V3": "R"}))
    conflicts = of(run(cis, samples(tl)), "conflict")
    assert [v.groups for v in conflicts] == [("V1", "V3"), ("V3", "P2")]
    assert conflicts[0].t == pytest.approx(6.1)


def test_finish_drops_what_the_lamps_cannot_decide(cis):
    # The stream ends 0.5 s into a red straight after green: a flash-mode red pulse or a
    # steady red? Nothing is guessed.
    tl = timeline((2, ALL_RED), (2, {"V1": "RA"}), (14, {"V1": "G"}), (0.5, {"V1": "R"}))
    assert run(cis, samples(tl)) == []
    tl = timeline((2, ALL_RED), (2, {"V1": "RA"}), (14, {"V1": "G"}), (1.5, {"V1": "R"}))
    assert [v.kind for v in run(cis, samples(tl))] == ["green_to_red"]


# -- short green --------------------------------------------------------------------

def test_short_green(cis):
    vs = run(cis, samples(s1_to_s3(v1_green_s=8.0)))
    assert [(v.kind, v.groups) for v in vs] == [("short_green", ("V1",))]
    assert "8" in vs[0].detail and "12 s" in vs[0].detail


def test_short_walk_into_don_t_walk(cis):
    eu = with_profile(cis, "EU")
    tl = timeline((2, ALL_RED), (3, {"P1": "G"}), (3, {"P1": "R"}))
    assert [(v.kind, v.groups) for v in run(eu, samples(tl))] == [("short_green", ("P1",))]


def test_fault_flash_from_green_is_neither_short_green_nor_green_to_red(cis):
    # V1 has shown green for 3 s when the cabinet goes to flash: vehicles flash amber,
    # pedestrians go dark. Nothing here is a violation.
    tl = timeline((2, ALL_RED), (2, {"V1": "RA"}), (3.2, {"V1": "G", "P2": "G"}),
                  (10, FLASH), (3, ALL_RED))
    assert run(cis, samples(tl)) == []


# -- short amber --------------------------------------------------------------------

def test_short_amber(cis):
    vs = run(cis, samples(s1_to_s3(v1_amber_s=2.0, v3_after_s=6.0)))
    assert [(v.kind, v.groups) for v in vs] == [("short_amber", ("V1",))]
    assert "2 s" in vs[0].detail and "required 3 s" in vs[0].detail


@pytest.mark.parametrize("amber_s, caught", [(2.6, True), (2.8, False)])
def test_amber_below_ts2_minimum_whatever_the_configuration(cis, amber_s, caught):
    model = with_group(cis, "V1", amber_s=2.5)      # the loader refuses < 3 s
    vs = run(model, samples(s1_to_s3(v1_amber_s=amber_s, v3_after_s=6.0)))
    assert [v.kind for v in vs] == (["short_amber"] if caught else [])


def test_flashing_green_to_amber_is_fine(cis):
    assert run(cis, samples(s1_to_s3())) == []


# -- green to red -------------------------------------------------------------------

@pytest.mark.parametrize("last", ["G", "g"])
def test_green_to_red(cis, last):
    tl = timeline((2, ALL_RED), (2, {"V1": "RA"}), (14, {"V1": "G"}), (3, {"V1": last}),
                  (5, {"V1": "R"}))
    vs = run(cis, samples(tl))
    assert [(v.kind, v.groups) for v in vs] == [("green_to_red", ("V1",))]


def test_fault_flash_red_from_green_is_not_green_to_red(cis):
    import dataclasses
    red_flash = dataclasses.replace(cis, flash_aspect="red")
    flash_red = {g: ("" if g.startswith("P") else "r") for g in FLASH}
    tl = timeline((2, ALL_RED), (2, {"V1": "RA"}), (14, {"V1": "G"}), (6, flash_red),
                  (3, ALL_RED))
    assert run(red_flash, samples(tl)) == []


def test_pedestrian_sequences_are_not_green_to_red(cis):
    us = with_profile(cis, "US")
    tl = timeline((2, ALL_RED), (8, {"P1": "G"}), (10, {"P1": "r"}), (3, {"P1": "R"}))
    assert run(us, samples(tl)) == []
    tl = timeline((2, ALL_RED), (8, {"P1": "G"}), (3, {"P1": "g"}), (3, {"P1": "R"}))
    assert run(cis, samples(tl)) == []


# -- dual indication ----------------------------------------------------------------

def test_dual_indication_green_with_red(cis):
    vs = run(cis, samples(timeline((5, S1), (0.5, {"V1": "GR"}), (3, {"V1": "G"}))))
    assert [(v.kind, v.groups) for v in vs] == [("dual_indication", ("V1",))]
    assert "red+green" in vs[0].detail


def test_dual_indication_brief_overlap_ignored(cis):
    assert run(cis, samples(timeline((5, S1), (0.2, {"V1": "GA"}), (3, {"V1": "G"})))) == []


def test_red_amber_is_dual_only_where_the_profile_has_none(cis):
    tl = timeline((2, ALL_RED), (2, {"V3": "RA"}), (3, {"V3": "R"}))
    assert run(cis, samples(tl)) == []
    vs = run(with_profile(cis, "US"), samples(tl))
    assert [(v.kind, v.groups) for v in vs] == [("dual_indication", ("V3",))]


# -- red fail -----------------------------------------------------------------------

@pytest.mark.parametrize("dark_s, caught", [(0.6, False), (1.1, True)])
def test_red_fail(cis, dark_s, caught):
    tl = timeline((5, S1), (dark_s, {"V3": ""}), (3, {"V3": "R"}))
    vs = run(cis, samples(tl))
    assert [(v.kind, v.groups) for v in vs] == ([("red_fail", ("V3",))] if caught else [])


def test_dark_head_that_stays_dark_reported_once(cis):
    vs = run(cis, samples(timeline((5, S1), (10, {"P1": ""}))))
    assert [(v.kind, v.groups) for v in vs] == [("red_fail", ("P1",))]
    assert vs[0].t == pytest.approx(5.8)


def test_pedestrians_dark_in_flash_mode_is_fine_but_not_after_it(cis):
    assert run(cis, samples(timeline((2, S1), (6, FLASH), (3, ALL_RED)))) == []
    vs = run(cis, samples(timeline((2, S1), (6, FLASH), (3, {**ALL_RED, "P2": ""}))))
    assert [(v.kind, v.groups) for v in vs] == [("red_fail", ("P2",))]


# -- start-up flash -----------------------------------------------------------------

@pytest.mark.parametrize("flash_s, caught", [(3, True), (4, False), (6, False), (11, False),
                                             (12, True), (15, True)])
def test_startup_flash(cis, flash_s, caught):
    vs = run(cis, samples(timeline((flash_s, FLASH), (5, ALL_RED))))
    assert [v.kind for v in vs] == (["startup_flash"] if caught else [])
    if caught:
        assert "4-11 s" in vs[0].detail


def test_startup_flash_red_that_goes_steady(cis):
    import dataclasses
    red_flash = dataclasses.replace(cis, flash_aspect="red")
    flash_red = {g: ("" if g.startswith("P") else "r") for g in FLASH}
    # The flashing red merges into the steady all-red at 3.2 s: too short however it's read.
    vs = run(red_flash, samples(timeline((3.2, flash_red), (5, ALL_RED))))
    assert [v.kind for v in vs] == ["startup_flash"]
    assert run(red_flash, samples(timeline((6.2, flash_red), (5, ALL_RED)))) == []


def test_startup_red_flash_ends_where_the_red_went_steady(cis):
    import dataclasses
    # Vehicle heads only (pedestrian heads lighting their don't walk would end the start-up
    # flash themselves). 11 s of flashing red, 1 s of all-red, then red+amber (CIS) or
    # green (US): the flash lasted 11 s, not 12. Found by the core's hypothesis test with
    # startup_flash_s = 11, startup_all_red_s = 1, flash = "red".
    veh = {g.id for g in cis.groups if g.kind != "pedestrian"}
    junction = dataclasses.replace(
        cis, flash_aspect="red", groups=tuple(g for g in cis.groups if g.id in veh),
        conflicts=frozenset(c for c in cis.conflicts if set(c) <= veh),
        intergreen={k: v for k, v in cis.intergreen.items() if set(k) <= veh})
    flash_red, all_red = {g: "r" for g in veh}, {g: "R" for g in veh}
    for first in ({"V1": "RA"}, {"V1": "G"}):
        tl = timeline((11, flash_red), (1, all_red), (2, first), (5, {"V1": "G"}))
        assert run(junction, samples(tl)) == []
        tl = timeline((12, flash_red), (1, all_red), (2, first), (5, {"V1": "G"}))
        assert [v.kind for v in run(junction, samples(tl))] == ["startup_flash"]


def test_only_the_flash_at_the_start_is_a_start_up_flash(cis):
    assert run(cis, samples(timeline((5, S1), (20, FLASH), (3, ALL_RED)))) == []


# -- HIL: irregular sampling and tolerance ------------------------------------------

def test_irregular_sampling_of_a_correct_plan_with_tolerance(cis):
    tl = safe_timeline(cis, cycles=2, extra_s=0.0)     # greens exactly at their minimum
    stream = samples(tl, times_ms=jittered_ms(max(a for a, _ in tl["__end__"])))
    assert run(cis, stream, tolerance_s=0.2) == []


def test_irregular_sampling_still_catches_faults(cis):
    tl = timeline((5, S1), (0.6, {"V3": "G"}), (3, {"V3": "R"}))
    stream = samples(tl, times_ms=jittered_ms(8600, seed=3))
    assert ("V1", "V3") in [v.groups for v in of(run(cis, stream, 0.2), "conflict")]


def test_a_long_gap_between_samples_still_judges_what_was_pending(cis):
    # Samples 3 s apart after the change: the red fail and the green to red are timed
    # from the lamps held between samples, not lost for want of a sample in between.
    tl = timeline((2, ALL_RED), (2, {"V1": "RA"}), (14, {"V1": "G"}), (4, {"V1": "R", "P1": ""}))
    times = [*range(0, 18100, 100), 21000, 24000]
    vs = run(cis, samples(tl, times_ms=times))
    assert sorted((v.kind, v.groups, v.t) for v in vs) == [
        ("green_to_red", ("V1",), 21.0), ("red_fail", ("P1",), 21.0)]


def test_tolerance_applies_to_configured_durations(cis):
    tl = s1_to_s3(v1_green_s=11.9)      # flashing starts in a dark half: 11.9 s against 12
    assert of(run(cis, samples(tl), tolerance_s=0.0), "short_green")
    assert not of(run(cis, samples(tl), tolerance_s=0.2), "short_green")


# -- correct plans report nothing ---------------------------------------------------

@pytest.mark.parametrize("profile", ["CIS", "EU", "US"])
def test_correct_plan_reports_nothing(cis, profile):
    model = cis if profile == "CIS" else with_profile(cis, profile)
    assert run(model, samples(safe_timeline(model, cycles=3))) == []


def test_us_vehicle_green_at_the_end_of_flashing_don_t_walk(cis):
    # The last flash of don't walk merges into the steady don't walk; the conflicting
    # green that starts exactly then is not a conflict.
    us = with_profile(cis, "US", ped_clear_s=10.0)
    tl = timeline((2, ALL_RED), (8.2, {"P1": "G"}), (10, {"P1": "r"}),
                  (5, {"P1": "R", "V1": "G"}))
    assert run(us, samples(tl)) == []


@pytest.mark.parametrize("path", sorted(glob.glob("examples/*.toml")))
def test_examples_correct_plans_report_nothing(path):
    for inter in load(path).intersections:
        assert run(inter, samples(safe_timeline(inter, cycles=2))) == [], inter.id


def test_correct_plan_drawn_by_the_project_lamp_model(cis):
    # 08:00 local time, times accumulated in 0.1 s steps: float error must not matter.
    stream = samples_via_aspects(safe_timeline(cis, cycles=2), offset_s=8 * 3600.0)
    assert run(cis, stream) == []
    stream = samples_via_aspects(s1_to_s3(v1_green_s=8.0), offset_s=8 * 3600.0 + 0.3)
    assert [v.kind for v in run(cis, stream)] == ["short_green"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2500),
                          st.lists(st.integers(0, 15), min_size=6, max_size=6)),
                min_size=1, max_size=120))
def test_any_lamp_stream_is_judged_without_error(steps):
    inter = load("examples/astana_cis.toml").intersections[0]
    mon = SignalMonitor(monitor_table(inter), tolerance_s=0.1)
    t = 0.0
    for dt_ms, lamp_bits in steps:
        t += dt_ms / 1000
        mon.feed(t, dict(zip(("V1", "V2", "V3", "V4", "P1", "P2"), lamp_bits, strict=True)))
    mon.finish(t + 5)
    for v in mon.violations:
        assert v.kind in KINDS and v.groups and v.detail and 0 <= v.t <= t + 5
