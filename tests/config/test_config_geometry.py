"""Intergreens from geometry (RiLSA), checked against hand calculations.

    tz = tü + (s_c + l) / v_c − s_e / v_e, rounded up to whole seconds,
    never below the clearing group's change interval (amber, or a US ped's FDW).
"""

import pytest
from cfgtools import edit, example_text

from controller.config import loads
from controller.config.geometry import DEFAULTS, Movement, intergreen_s, movement

CAR = Movement("vehicle", overrun_s=3.0, clear_speed_mps=10.0, entry_speed_mps=11.1,
               length_m=6.0)
TURNING = Movement("arrow", overrun_s=3.0, clear_speed_mps=7.0, entry_speed_mps=11.1,
                   length_m=6.0)
WALKER = Movement("pedestrian", overrun_s=0.0, clear_speed_mps=1.2, entry_speed_mps=1.5,
                  length_m=0.0)


def test_defaults_are_the_rilsa_values_of_the_domain_sheet():
    assert movement("vehicle", {}) == CAR
    assert movement("arrow", {}) == TURNING
    assert movement("pedestrian", {}) == WALKER
    assert set(DEFAULTS) == {"vehicle", "arrow", "pedestrian"}


def test_worked_example_through_traffic():
    # Clearing car: 22 m to the far end of the conflict area, 6 m long, 10 m/s, tü 3 s.
    # Entering car: 10 m to the same point at 11.1 m/s.
    # tz = 3 + (22 + 6) / 10 − 10 / 11.1 = 3 + 2.8 − 0.901 = 4.899 → 5 s
    assert intergreen_s(CAR, CAR, clear_m=22, entry_m=10, change_s=3.0) == 5.0


def test_worked_example_turning_traffic_clears_at_7_mps():
    # tz = 3 + (18 + 6) / 7 − 8 / 11.1 = 3 + 3.429 − 0.721 = 5.708 → 6 s
    assert intergreen_s(TURNING, CAR, clear_m=18, entry_m=8, change_s=3.0) == 6.0


def test_worked_example_pedestrians_clearing_before_cars():
    # Pedestrian who stepped off at the end of green: 12 m at 1.2 m/s, no overrun, no
    # length; entering car 3 m from the crossing. tz = 10 − 0.270 = 9.73 → 10 s
    assert intergreen_s(WALKER, CAR, clear_m=12, entry_m=3, change_s=0.0) == 10.0


def test_worked_example_cars_clearing_before_pedestrians():
    # tz = 3 + (22 + 6) / 10 − 1.5 / 1.5 = 3 + 2.8 − 1.0 = 4.8 → 5 s
    assert intergreen_s(CAR, WALKER, clear_m=22, entry_m=1.5, change_s=3.0) == 5.0


def test_a_whole_second_is_not_rounded_up_again():
    # tz = 3 + (24 + 6) / 10 − 0 = 6.0 exactly → 6 s, not 7
    assert intergreen_s(CAR, CAR, clear_m=24, entry_m=0, change_s=3.0) == 6.0
    # turning: 3 + (22 + 6) / 7 − 1.5 / 1.5 = 3 + 4 − 1 = 6.0 exactly → 6 s;
    # one metre more: 3 + 29 / 7 − 1 = 6.14 → 7 s
    assert intergreen_s(TURNING, WALKER, clear_m=22, entry_m=1.5, change_s=3.0) == 6.0
    assert intergreen_s(TURNING, WALKER, clear_m=23, entry_m=1.5, change_s=3.0) == 7.0


def test_never_below_the_clearing_groups_amber():
    # the entering stream is far away: tz = 3 + 0.6 − 50 / 11.1 = −0.9 → amber 3 s
    assert intergreen_s(CAR, CAR, clear_m=0, entry_m=50, change_s=3.0) == 3.0
    # 60 km/h in the EU: amber 4 s; tz = 3 + 2.8 − 0.9 = 4.9 → 5, and with amber 5 → 5
    assert intergreen_s(CAR, CAR, clear_m=22, entry_m=10, change_s=4.0) == 5.0
    assert intergreen_s(CAR, CAR, clear_m=22, entry_m=10, change_s=5.0) == 5.0
    assert intergreen_s(CAR, CAR, clear_m=22, entry_m=10, change_s=6.0) == 6.0
    # and a US pedestrian never less than its flashing don't walk
    assert intergreen_s(WALKER, CAR, clear_m=12, entry_m=3, change_s=14.0) == 14.0


def test_never_negative():
    assert intergreen_s(WALKER, CAR, clear_m=0, entry_m=100, change_s=0.0) == 0.0


# -- through the loader: the EU example's hand calculations (its comments) ------------------
EU_EXPECTED = {
    ("K1", "K2"): 5, ("K1", "K3"): 5, ("K1", "F1"): 5,
    ("K2", "K1"): 5, ("K2", "K3"): 6, ("K2", "F1"): 5, ("K2", "F2"): 6,
    ("K3", "K2"): 5, ("K3", "F2"): 6,
    ("F1", "K1"): 12, ("F1", "K2"): 8,
    ("F2", "K2"): 7, ("F2", "K3"): 9,
    ("K3", "K1"): 6,            # given by hand in [intersection.intergreen]
}


def test_eu_example_intergreens_match_the_hand_calculations():
    inter = loads(example_text("eu_junction.toml")).intersections[0]
    assert inter.intergreen == {k: float(v) for k, v in EU_EXPECTED.items()}


def test_explicit_intergreen_wins_over_geometry():
    text = edit(example_text("eu_junction.toml"),
                ("  K2 = { clear_m = 16, entry_m = 10 }", "  K1 = { clear_m = 20, entry_m = 8 }\n"
                 "  K2 = { clear_m = 16, entry_m = 10 }"))
    inter = loads(text).intersections[0]
    # geometry alone: 3 + 2.6 − 0.72 = 4.9 → 5; [intersection.intergreen] says 6
    assert inter.intergreen[("K3", "K1")] == 6.0


@pytest.mark.parametrize("override, expected", [
    ("length_m = 15", 6.0),          # a tram: 3 + (18 + 15) / 10 − 0.72 = 5.6 → 6
    ("clear_speed_mps = 5", 8.0),    # lorries: 3 + 24 / 5 − 0.72 = 7.1 → 8
    ("overrun_s = 2", 4.0),          # tü 2 s: 2 + 2.4 − 0.72 = 3.7 → 4
])
def test_speed_overrides(override, expected):
    # K1 → K3: clear 18 m, entry 8 m; defaults give 3 + 2.4 − 0.72 = 4.7 → 5
    text = edit(example_text("eu_junction.toml"),
                ("  [intersection.geometry.K1]\n",
                 f"  [intersection.geometry.speeds]\n  K1 = {{ {override} }}\n\n"
                 "  [intersection.geometry.K1]\n"))
    inter = loads(text).intersections[0]
    assert inter.intergreen[("K1", "K3")] == expected


def test_entering_speed_override_applies_to_the_entering_group():
    # K3 entering slower (7 m/s): K1 → K3 = 3 + 2.4 − 8 / 7 = 4.26 → 5 (was 4.68 → 5);
    # K2 → K3 = 3 + 24/7 − 8/7 = 5.29 → 6
    text = edit(example_text("eu_junction.toml"),
                ("  [intersection.geometry.K1]\n",
                 "  [intersection.geometry.speeds]\n  K3 = { entry_speed_mps = 7 }\n\n"
                 "  [intersection.geometry.K1]\n"))
    inter = loads(text).intersections[0]
    assert inter.intergreen[("K1", "K3")] == 5.0
    assert inter.intergreen[("K2", "K3")] == 6.0
    # and with a very slow entry the pedestrians' 9 s (F2 → K3) drops: 8.33 − 3 / 1 = 5.3 → 6
    text = text.replace("K3 = { entry_speed_mps = 7 }", "K3 = { entry_speed_mps = 1 }")
    assert loads(text).intersections[0].intergreen[("F2", "K3")] == 6.0
