"""`smartcross check` error cases: each bad file is a valid example with one small edit.

Every test asserts that a ConfigError is raised (any other exception fails the test, see
cfgtools.problems_of), that a problem names the right key path, and that its message
says what is wrong.
"""

import pytest
from cfgtools import edit, example_text, find, only, problems_of

EU = example_text("eu_junction.toml")
US = example_text("us_junction.toml")
CORRIDOR = example_text("corridor.toml")

EUI = "intersection[haupt-bahnhof]"
USI = "intersection[main-5th]"


# -- unknown keys ---------------------------------------------------------------------------
def test_unknown_key_at_top_level(tmp_path):
    text = edit(EU, ('name = "Musterstadt', 'colour = "green"\nname = "Musterstadt'))
    only(problems_of(tmp_path, text), "colour", "unknown key")


def test_unknown_key_in_a_signal_group(tmp_path):
    text = edit(EU, ("  min_green_s = 10\n", "  min_green_s = 10\n  min_gren_s = 10\n"))
    only(problems_of(tmp_path, text), f"{EUI}.group[K1].min_gren_s", "unknown key")


def test_unknown_key_in_a_detector(tmp_path):
    text = edit(EU, ("  input = 5\n", "  input = 5\n  pasage_s = 2.0\n"))
    only(problems_of(tmp_path, text), f"{EUI}.detector[T1].pasage_s", "unknown key")


def test_unknown_key_in_a_plan_stage(tmp_path):
    text = edit(EU, ("Ph2 = { green_s = 8 }", "Ph2 = { green_s = 8, gren_s = 8 }"))
    only(problems_of(tmp_path, text), f"{EUI}.plan[fest].stages.Ph2.gren_s", "unknown key")


# -- types and required keys ----------------------------------------------------------------
@pytest.mark.parametrize("old, new, path, words", [
    ("  min_green_s = 10\n", '  min_green_s = "10"\n', f"{EUI}.group[K1].min_green_s",
     ("must be a number of seconds", "not a string")),
    ("baud = 19200", 'baud = "19200"', "bus[schrank-rs485].baud",
     ("must be a whole number", "not a string")),
    ('groups = ["K2"]', 'groups = "K2", "K1"', None, ("is not valid TOML",)),
    ('groups = ["K2"]', "groups = [2]", f"{EUI}.stage[Ph2].groups",
     ("must be a list of strings",)),
    ("channels = [9, 10]", "channels = 9", f"{EUI}.group[F1].channels",
     ("must be a list of whole numbers",)),
    ("cycle_s = 80", "cycle_s = true", f"{EUI}.plan[fest].cycle_s",
     ("must be a number of seconds", "not true/false")),
    ('flash = "amber"', "flash = 1", f"{EUI}.flash", ("must be a string", "not a whole number")),
    ('ph4 = { ph1 = 5.5, ph2 = 5.5, ph3 = 5.5, ped2 = 5.5 }', "ph4 = 5.5",
     f"{USI}.intergreen.ph4", ("must be a table", "not a number")),
    ('[[intersection.stage]]\n  id = "S1"', '[[intersection.stage]]\n  id = ["S1"]',
     f"{USI}.stage[0].id", ("must be a string", "not a list")),
], ids=["seconds-as-string", "baud-as-string", "bad-toml-list", "groups-of-numbers",
        "channels-scalar", "cycle-bool", "flash-number", "intergreen-row-number",
        "id-list"])
def test_wrong_type(tmp_path, old, new, path, words):
    problems = problems_of(tmp_path, edit(US if path and USI in path else EU, (old, new)))
    if path is None:        # not TOML at all
        find(problems, "", *words)
    else:
        find(problems, path, *words)


# (text removed, text put instead, path of the key that is now missing)
MISSING = {
    "bus.port": ('port = "/dev/ttyS1"\n', "", "bus[schrank-rs485].port"),
    "node.address": ("  address = 1\n", "", f"{EUI}.node[lsa-1].address"),
    "node.bus": ('  id = "lsa-1"\n  bus = "schrank-rs485"\n', '  id = "lsa-1"\n',
                 f"{EUI}.node[lsa-1].bus"),
    "node.id": ('  id = "lsa-1"\n', "", f"{EUI}.node[0].id"),
    "group.id": ('  id = "K2"                  # Hauptstraße left-turn arrows (protected, both '
                 'directions)\n', "", f"{EUI}.group[1].id"),
    "group.kind": ('  kind = "arrow"\n', "", f"{EUI}.group[K2].kind"),
    "group.min_green_s": ("  min_green_s = 10\n", "", f"{EUI}.group[K1].min_green_s"),
    "group.node": ('  node = "lsa-1"\n  channels = [0, 1, 2]\n', "  channels = [0, 1, 2]\n",
                   f"{EUI}.group[K1].node"),
    "stage.groups": ('  groups = ["K2"]\n', "", f"{EUI}.stage[Ph2].groups"),
    "detector.id": ('  id = "T1"                  # F1 push buttons, all four wired in parallel\n',
                    "", f"{EUI}.detector[5].id"),
    "detector.kind": ('  kind = "ped_button"\n', "", f"{EUI}.detector[T1].kind"),
    "detector.node": ('  node = "lsa-2"\n  input = 0\n', "  input = 0\n",
                      f"{EUI}.detector[D11].node"),
    "geometry.clear_m": ("K2 = { clear_m = 16, entry_m = 12 }", "K2 = { entry_m = 12 }",
                         f"{EUI}.geometry.K1.K2.clear_m"),
    "plan.id": ('  id = "fest"\n  mode = "fixed"\n', '  mode = "fixed"\n', f"{EUI}.plan[0].id"),
    "plan.mode": ('  mode = "fixed"\n', "", f"{EUI}.plan[fest].mode"),
    "intersection.profile": ('profile = "EU"\n', "", f"{EUI}.profile"),
    "schedule.at": ('at = "06:00"\n', "", "schedule[1].at"),
    "schedule.plan": ('plan = "fest"                # fixed time, 80 s\n', "", "schedule[1].plan"),
    "name": ('name = "Musterstadt — Hauptstraße / Bahnhofstraße"\n', "", "name"),
}
# Here the follow-on problems are true: a node or group without an id cannot be named, a
# stage without groups leaves its group in no stage, a cell without clear_m gives no
# intergreen for its pair.
FOLLOW_ON_IS_TRUE = {"node.id", "group.id", "stage.groups", "geometry.clear_m"}


def _missing_params(leave_out=()):
    return [pytest.param(old, new, path, id=key) for key, (old, new, path) in MISSING.items()
            if key not in leave_out]


@pytest.mark.parametrize("old, new, path", _missing_params())
def test_missing_required_key(tmp_path, old, new, path):
    find(problems_of(tmp_path, edit(EU, (old, new))), path, "is required")


@pytest.mark.parametrize("old, new, path", _missing_params(FOLLOW_ON_IS_TRUE))
def test_missing_required_key_is_the_only_problem(tmp_path, old, new, path):
    only(problems_of(tmp_path, edit(EU, (old, new))), path, "is required")


# -- duplicate ids --------------------------------------------------------------------------
@pytest.mark.parametrize("text, old, new, path, what", [
    (EU, 'id = "K3"', 'id = "K2"', f"{EUI}.group[K2].id", "signal group"),
    (EU, 'id = "Ph3"', 'id = "Ph2"', f"{EUI}.stage[Ph2].id", "stage"),
    (EU, 'id = "D12"', 'id = "D11"', f"{EUI}.detector[D11].id", "detector"),
    (EU, 'id = "va"', 'id = "fest"', f"{EUI}.plan[fest].id", "plan"),
    (CORRIDOR, 'id = "a3"', 'id = "a1"', "intersection[a1].id", "intersection"),
    (CORRIDOR, 'id = "a2-det"', 'id = "a2-heads"', "intersection[a2].node[a2-heads].id",
     "node"),
    (CORRIDOR, '[[parking_area]]\n',
     '[[parking_area]]\nid = "abay-south-a2"\n\n[[parking_area]]\n',
     "parking_area[abay-south-a2].id", "parking area"),
    (EU, '[[bus]]\n', '[[bus]]\nid = "schrank-rs485"\nport = "/dev/ttyS0"\n\n[[bus]]\n',
     "bus[schrank-rs485].id", "bus"),
], ids=["group", "stage", "detector", "plan", "intersection", "node", "parking-area", "bus"])
def test_duplicate_ids(tmp_path, text, old, new, path, what):
    problems = problems_of(tmp_path, edit(text, (old, new)))
    ident = path.rsplit("[", 1)[1].split("]")[0]
    find(problems, path, f"duplicate {what} id {ident!r}")


def test_node_id_reused_in_another_intersection(tmp_path):
    text = edit(CORRIDOR, ('id = "a3-n1"', 'id = "a1-n1"'))
    text = text.replace('node = "a3-n1"', 'node = "a1-n1"')     # and every reference to it
    only(problems_of(tmp_path, text), "intersection[a3].node[a1-n1]",
         "node id 'a1-n1' is also used in intersection a1")


# -- conflicts and intergreens --------------------------------------------------------------
def test_conflicting_groups_in_one_stage(tmp_path):
    text = edit(EU, ('groups = ["K2"]', 'groups = ["K2", "K1"]'))
    only(problems_of(tmp_path, text), f"{EUI}.stage[Ph2].groups",
         "K2 and K1 conflict", "cannot be green in one stage")


def test_conflicting_pair_without_intergreen_first_direction(tmp_path):
    text = edit(US, ("ph1 = { ph2 = 6.0, ph3", "ph1 = { ph3"))
    only(problems_of(tmp_path, text), f"{USI}.intergreen",
         "ph1 and ph2 conflict", "no intergreen from ph1 to ph2")


def test_conflicting_pair_without_intergreen_other_direction(tmp_path):
    text = edit(US, ("ph2 = { ph1 = 5.5, ph3", "ph2 = { ph3"))
    only(problems_of(tmp_path, text), f"{USI}.intergreen",
         "ph2 and ph1 conflict", "no intergreen from ph2 to ph1")


def test_conflicting_pair_without_geometry_either(tmp_path):
    # EU intergreens come from [intersection.geometry]; drop one cell
    text = edit(EU, ("  K3 = { clear_m = 18, entry_m = 8 }      # 3 + 24/7", "  # 3 + 24/7"))
    only(problems_of(tmp_path, text), f"{EUI}.intergreen",
         "no intergreen from K2 to K3", "geometry")


def test_intergreen_for_pair_that_does_not_conflict(tmp_path):
    text = edit(US, ("ph4 = { ph1 = 5.5,", "ph4 = { ped4 = 5.5, ph1 = 5.5,"))
    only(problems_of(tmp_path, text), f"{USI}.intergreen.ph4.ped4", "not listed as conflicting")


def test_geometry_for_pair_that_does_not_conflict_names_the_geometry_key(tmp_path):
    text = edit(EU, ("  F2 = { clear_m = 26, entry_m = 1.5 }    # 3 + 3.2",
                     "  F1 = { clear_m = 9, entry_m = 1 }\n"
                     "  F2 = { clear_m = 26, entry_m = 1.5 }    # 3 + 3.2"))
    only(problems_of(tmp_path, text), f"{EUI}.geometry.K3.F1", "not listed as conflicting")


def test_intergreen_shorter_than_amber(tmp_path):
    text = edit(US, ("ph2 = { ph1 = 5.5, ph3 = 5.5,", "ph2 = { ph1 = 5.5, ph3 = 3.5,"))
    only(problems_of(tmp_path, text), f"{USI}.intergreen.ph2.ph3",
         "is 3.5 s", "shorter than the amber of ph2 (4 s)")


def test_us_pedestrian_intergreen_shorter_than_flashing_dont_walk(tmp_path):
    text = edit(US, ("ped2 = { ph1 = 19.5,", "ped2 = { ph1 = 12,"))
    only(problems_of(tmp_path, text), f"{USI}.intergreen.ped2.ph1",
         "is 12 s", "shorter than the flashing don't walk of ped2 (14 s)")


# -- signal sequences by profile ------------------------------------------------------------
@pytest.mark.parametrize("amber", ["2.5", "0", "2.9"])
def test_amber_under_three_seconds(tmp_path, amber):
    text = edit(EU, ("  min_green_s = 10\n", f"  min_green_s = 10\n  amber_s = {amber}\n"))
    find(problems_of(tmp_path, text), f"{EUI}.group[K1].amber_s",
         "amber must be at least 3 s")


def test_amber_of_four_seconds_is_fine_and_lengthens_geometry_intergreens():
    from controller.config import loads
    text = edit(EU, ("  min_green_s = 10\n", "  min_green_s = 10\n  amber_s = 6\n"))
    inter = loads(text).intersections[0]
    assert inter.intergreen[("K1", "K2")] == 6      # computed 5, never below the amber


@pytest.mark.parametrize("fg", ["4", "2", "0"])
def test_flashing_green_other_than_three_seconds_in_cis(tmp_path, fg):
    text = edit(CORRIDOR, ('  min_green_s = 15\n  node = "a1-n1"',
                           f'  min_green_s = 15\n  flash_green_s = {fg}\n  node = "a1-n1"'))
    find(problems_of(tmp_path, text), "intersection[a1].group[V1].flash_green_s",
         "flashing green lasts 3 s", f"got {fg} s")


def test_flashing_green_outside_cis(tmp_path):
    text = edit(EU, ("  min_green_s = 10\n", "  min_green_s = 10\n  flash_green_s = 3\n"))
    only(problems_of(tmp_path, text), f"{EUI}.group[K1].flash_green_s",
         "EU profile has no flashing green")


def test_red_amber_in_the_us_profile(tmp_path):
    text = edit(US, ("  amber_s = 4.0\n", "  amber_s = 4.0\n  red_amber_s = 1\n"))
    only(problems_of(tmp_path, text), f"{USI}.group[ph2].red_amber_s",
         "US profile has no red+amber")


def test_red_amber_over_two_seconds_in_the_eu_profile(tmp_path):
    text = edit(EU, ("  min_green_s = 10\n", "  min_green_s = 10\n  red_amber_s = 2.5\n"))
    only(problems_of(tmp_path, text), f"{EUI}.group[K1].red_amber_s", "between 0 and 2 s")


def test_us_pedestrian_without_ped_clear_s(tmp_path):
    text = edit(US, ("  ped_clear_s = 14           # 15 m / 1.07 = 14.0 s\n", ""))
    only(problems_of(tmp_path, text), f"{USI}.group[ped2].ped_clear_s",
         "is required for US pedestrian groups")


def test_ped_clear_s_outside_the_us_profile(tmp_path):
    text = edit(EU, ("  min_green_s = 6\n", "  min_green_s = 6\n  ped_clear_s = 12\n"))
    only(problems_of(tmp_path, text), f"{EUI}.group[F1].ped_clear_s",
         "only US-profile pedestrian groups")


def test_pedestrian_head_with_three_channels(tmp_path):
    text = edit(EU, ("channels = [9, 10]", "channels = [9, 10, 13]"))
    only(problems_of(tmp_path, text), f"{EUI}.group[F1].channels", "has 2 lamps", "got 3")


# -- detectors and wiring -------------------------------------------------------------------
def test_detector_wired_to_an_input_the_board_does_not_have(tmp_path):
    text = edit(EU, ("  input = 0\n", "  input = 16\n"))
    only(problems_of(tmp_path, text), f"{EUI}.detector[D11].input",
         "input 16 does not exist on board esp32", "inputs 0-15")


def test_detector_input_that_is_a_lamp_output(tmp_path):
    # a2-heads drives 13 lamps on output channels 0-12; its input 9 is output channel 12:
    # a parking bay moved there would read a lamp
    text = edit(CORRIDOR, ('  node = "a2-det"\n  input = 9\n', '  node = "a2-heads"\n  input = 9\n'))
    only(problems_of(tmp_path, text), "intersection[a2].detector[PB-02].input",
         "input 9 (GPIO 15) is already used by group[P2].channels (output channel 12)")


def test_detector_on_a_missing_node(tmp_path):
    text = edit(EU, ('  node = "lsa-2"\n  input = 0\n', '  node = "lsa-9"\n  input = 0\n'))
    only(problems_of(tmp_path, text), f"{EUI}.detector[D11].node",
         "names node 'lsa-9'", "not defined in this intersection")


def test_input_used_twice(tmp_path):
    text = edit(EU, ("  input = 1\n", "  input = 0\n"))
    only(problems_of(tmp_path, text), f"{EUI}.detector[D12].input",
         "input 0 (GPIO 34) is already used by detector[D11].input (input 0)")


def test_negative_input(tmp_path):
    text = edit(EU, ("  input = 0\n", "  input = -1\n"))
    p = only(problems_of(tmp_path, text), f"{EUI}.detector[D11].input")
    assert "None" not in p.message and "-1" in p.message


def test_ped_button_calling_a_vehicle_group(tmp_path):
    text = edit(EU, ('calls = ["F1"]', 'calls = ["K3"]'))
    only(problems_of(tmp_path, text), f"{EUI}.detector[T1].calls",
         "pedestrian button calls pedestrian groups", "K3 is a vehicle group")


def test_vehicle_loop_calling_a_pedestrian_group(tmp_path):
    text = edit(EU, ('  input = 3\n  calls = ["K3"]', '  input = 3\n  calls = ["F1"]'))
    only(problems_of(tmp_path, text), f"{EUI}.detector[D31].calls", "F1")


def test_detector_calling_a_group_that_does_not_exist(tmp_path):
    text = edit(EU, ('calls = ["F1"]', 'calls = ["F9"]'))
    only(problems_of(tmp_path, text), f"{EUI}.detector[T1].calls",
         "names signal group 'F9'", "not defined")


def test_channel_used_twice(tmp_path):
    text = edit(EU, ("channels = [3, 4, 5]", "channels = [2, 4, 5]"))
    only(problems_of(tmp_path, text), f"{EUI}.group[K2].channels",
         "output channel 2 (GPIO 4) is already used by group[K1].channels (output channel 2)")


def test_channel_out_of_range(tmp_path):
    text = edit(EU, ("channels = [11, 12]", "channels = [11, 24]"))
    only(problems_of(tmp_path, text), f"{EUI}.group[F2].channels",
         "output channel 24 does not exist on board esp32s3", "output channels 0-21")


def test_parking_bay_without_an_area(tmp_path):
    text = edit(CORRIDOR, ('  input = 8\n  area = "abay-south-a2"\n', "  input = 8\n"))
    only(problems_of(tmp_path, text), "intersection[a2].detector[PB-01].area",
         "a parking bay must name its parking area")


def test_parking_bay_in_an_unknown_area(tmp_path):
    text = edit(CORRIDOR, ('  input = 8\n  area = "abay-south-a2"\n',
                           '  input = 8\n  area = "abay-north"\n'))
    only(problems_of(tmp_path, text), "intersection[a2].detector[PB-01].area",
         "names parking area 'abay-north'", "not defined in [[parking_area]]")


def test_area_on_a_detector_that_is_not_a_parking_bay(tmp_path):
    text = edit(CORRIDOR, ('  input = 7\n  calls = ["P2"]\n',
                           '  input = 7\n  calls = ["P2"]\n  area = "abay-south-a2"\n'))
    only(problems_of(tmp_path, text), "intersection[a2].detector[A2-B2].area",
         "only parking bays belong to a parking area")


def test_address_used_twice_on_a_bus(tmp_path):
    text = edit(CORRIDOR, ("  address = 4\n", "  address = 2\n"))
    only(problems_of(tmp_path, text), "intersection[a3].node[a3-n1].address",
         "address 2 on bus abay-rs485 is already used by node a2-heads")


@pytest.mark.parametrize("address", ["0", "248"])
def test_address_outside_modbus_range(tmp_path, address):
    text = edit(EU, ("  address = 1\n", f"  address = {address}\n"))
    find(problems_of(tmp_path, text), f"{EUI}.node[lsa-1].address", "between 1 and 247")


def test_node_on_a_bus_that_does_not_exist(tmp_path):
    text = edit(CORRIDOR, ('  bus = "abay-rs485"\n  address = 4\n',
                           '  bus = "abay-rs422"\n  address = 4\n'))
    find(problems_of(tmp_path, text), "intersection[a3].node[a3-n1].bus",
         "names bus 'abay-rs422'", "not defined in [[bus]]")


def test_parity_and_baud(tmp_path):
    text = edit(EU, ('parity = "E"', 'parity = "even"'), ("baud = 19200", "baud = 20000"))
    problems = problems_of(tmp_path, text)
    find(problems, "bus[schrank-rs485].parity", "must be one of N, E, O", "'even'")
    find(problems, "bus[schrank-rs485].baud", "standard baud rate", "20000")


# -- stages and plans -----------------------------------------------------------------------
def test_group_in_no_stage(tmp_path):
    text = edit(EU, ('groups = ["K3", "F1"]', 'groups = ["K3"]'))
    only(problems_of(tmp_path, text), f"{EUI}.stage",
         "signal group F1 is in no stage", "never be served")


def test_fixed_plan_that_never_serves_a_group(tmp_path):
    text = edit(EU, ("  Ph2 = { green_s = 8 }\n", ""))
    only(problems_of(tmp_path, text), f"{EUI}.plan[fest].stages", "K2")


def test_stage_naming_an_unknown_group(tmp_path):
    text = edit(EU, ('groups = ["K2"]', 'groups = ["K2", "K9"]'))
    only(problems_of(tmp_path, text), f"{EUI}.stage[Ph2].groups",
         "names signal group 'K9'", "not defined")


def test_plan_whose_greens_do_not_fit_its_cycle(tmp_path):
    text = edit(EU, ("Ph1 = { green_s = 30 }", "Ph1 = { green_s = 31 }"))
    only(problems_of(tmp_path, text), f"{EUI}.plan[fest].stages",
         "greens (56 s) and interstage times (25 s) add up to 81 s",
         "longer than the cycle (80 s)")


def test_us_plan_greens_do_not_fit_when_ped_clearance_is_counted(tmp_path):
    text = edit(US, ("cycle_s = 120", "cycle_s = 110"))
    only(problems_of(tmp_path, text), f"{USI}.plan[peak].stages",
         "interstage times (54.2 s)", "longer than the cycle (110 s)")


def test_fixed_green_shorter_than_the_minimum_green(tmp_path):
    text = edit(US, ("S4 = { green_s = 12 }", "S4 = { green_s = 7 }"))
    only(problems_of(tmp_path, text), f"{USI}.plan[peak].stages.S4.green_s",
         "is 7 s, shorter than the minimum green of its groups (8 s)")


def test_cis_stage_minimum_is_steady_green(tmp_path):
    # V2 min green 5 s; its flashing green 3 s follows, inside the interstage time
    text = edit(CORRIDOR, ("S2 = { green_s = 8 }", "S2 = { green_s = 4 }"))
    find(problems_of(tmp_path, text), "intersection[a2].plan[coord].stages.S2.green_s",
         "is 4 s, shorter than the minimum green of its groups (5 s)")


@pytest.mark.parametrize("offset", ["90", "95"])
def test_offset_not_shorter_than_cycle(tmp_path, offset):
    text = edit(CORRIDOR, ("offset_s = 47", f"offset_s = {offset}"))
    only(problems_of(tmp_path, text), "intersection[a3].plan[coord].offset_s",
         f"is {offset} s", "shorter than the cycle (90 s)")


def test_fixed_plan_without_cycle(tmp_path):
    text = edit(EU, ("  cycle_s = 80\n", ""))
    only(problems_of(tmp_path, text), f"{EUI}.plan[fest].cycle_s", "needs a cycle length")


def test_actuated_max_shorter_than_min(tmp_path):
    text = edit(EU, ("min_green_s = 12, max_green_s = 40", "min_green_s = 12, max_green_s = 10"))
    only(problems_of(tmp_path, text), f"{EUI}.plan[va].stages.Ph1.max_green_s",
         "is 10 s, shorter than min_green_s (12 s)")


def test_actuated_stage_without_max(tmp_path):
    text = edit(EU, ("Ph2 = { max_green_s = 15 }", "Ph2 = { }"))
    only(problems_of(tmp_path, text), f"{EUI}.plan[va].stages.Ph2.max_green_s",
         "is required in an actuated plan")


def test_green_s_in_an_actuated_plan(tmp_path):
    text = edit(EU, ("Ph2 = { max_green_s = 15 }", "Ph2 = { max_green_s = 15, green_s = 8 }"))
    only(problems_of(tmp_path, text), f"{EUI}.plan[va].stages.Ph2.green_s",
         "belongs to fixed-time plans")


def test_unknown_recall(tmp_path):
    text = edit(US, ('recall = "min"', 'recall = "soft"'))
    only(problems_of(tmp_path, text), f"{USI}.plan[free].stages.S2.recall",
         "must be one of none, min, max, ped", "'soft'")


def test_main_stage_not_in_the_plan(tmp_path):
    text = edit(US, ('  main_stage = "S2"\n  [intersection.plan.stages]\n  S1 = { green_s',
                     '  main_stage = "S9"\n  [intersection.plan.stages]\n  S1 = { green_s'))
    find(problems_of(tmp_path, text), f"{USI}.plan[peak].main_stage",
         "names stage 'S9'", "not defined")


def test_green_not_a_multiple_of_a_tenth(tmp_path):
    text = edit(EU, ("Ph2 = { green_s = 8 }", "Ph2 = { green_s = 8.05 }"))
    find(problems_of(tmp_path, text), f"{EUI}.plan[fest].stages.Ph2.green_s",
         "must be a multiple of 0.1 s", "8.05")


@pytest.mark.parametrize("old, new, path", [
    ("Ph2 = { green_s = 8 }", "Ph2 = { green_s = 8.05 }", f"{EUI}.plan[fest].stages.Ph2.green_s"),
    ("Ph2 = { max_green_s = 15 }", "Ph2 = { max_green_s = 999 }",
     f"{EUI}.plan[va].stages.Ph2.max_green_s"),
], ids=["green_s", "max_green_s"])
def test_bad_plan_value_is_reported_once(tmp_path, old, new, path):
    # (cycle_s already does this right: `not t.has("cycle_s")` in _plan)
    only(problems_of(tmp_path, edit(EU, (old, new))), path)


def test_unknown_key_in_a_stage_keeps_the_stage(tmp_path):
    text = edit(EU, ('  groups = ["K2"]\n', '  groups = ["K2"]\n  colour = "green"\n'))
    only(problems_of(tmp_path, text), f"{EUI}.stage[Ph2].colour", "unknown key")


@pytest.mark.parametrize("old, new, path", [
    ("  min_green_s = 10\n", "  min_green_s = 200\n", f"{EUI}.group[K1].min_green_s"),
    ("  address = 1\n", "  address = 0\n", f"{EUI}.node[lsa-1].address"),
], ids=["group", "node"])
def test_one_bad_value_gives_one_problem(tmp_path, old, new, path):
    only(problems_of(tmp_path, edit(EU, (old, new))), path)


# -- schedule -------------------------------------------------------------------------------
def test_schedule_naming_a_missing_plan(tmp_path):
    text = edit(EU, ('plan = "fest"                # fixed time', 'plan = "fixed"  # fixed time'))
    only(problems_of(tmp_path, text), "schedule[1].plan",
         "names plan 'fixed'", "intersection haupt-bahnhof does not have")


def test_schedule_naming_a_plan_one_intersection_of_the_group_lacks(tmp_path):
    # rename A3's night plan: A1 and A2 still have "night", A3 does not
    text = CORRIDOR
    a3 = text.index('id = "a3"')
    head, tail = text[:a3], text[a3:]
    tail = edit(tail, ('id = "night"', 'id = "nacht"'))
    problems = problems_of(tmp_path, head + tail)
    find(problems, "schedule[0].plan", "names plan 'night'", "intersection a3 does not have")
    assert not any("intersection a1" in p.message or "intersection a2" in p.message
                   for p in problems)


@pytest.mark.parametrize("at", ["25:00", "24:00", "07:60", "7:5", "noon", "07-00", "",
                                "07:00:00", "-1:00", "0_6:00", "+6:00", " 6:00", "06:00 ",
                                "٠٦:٠٠"])
def test_bad_time_of_day(tmp_path, at):
    text = edit(EU, ('at = "06:00"', f'at = "{at}"'))
    only(problems_of(tmp_path, text), "schedule[1].at", "must be a time of day HH:MM", repr(at))


def test_time_of_day_as_a_toml_time_literal(tmp_path):
    text = edit(EU, ('at = "06:00"', "at = 06:00:00"))
    only(problems_of(tmp_path, text), "schedule[1].at", "must be a string")


def test_schedule_day_names(tmp_path):
    text = edit(EU, ('plan = "fest"                # fixed time, 80 s\ndays = ["mon",',
                     'plan = "fest"                # fixed time, 80 s\ndays = ["monday",'))
    only(problems_of(tmp_path, text), "schedule[1].days", "must name days among", "'monday'")


def test_schedule_that_leaves_a_day_without_a_plan(tmp_path):
    text = edit(EU, ('plan = "va"                  # verkehrsabhängig (vehicle-actuated)\n',
                     'plan = "va"\ndays = ["mon", "tue", "wed", "thu", "fri", "sat"]\n'))
    only(problems_of(tmp_path, text), "schedule", "no entry applies on sun")


# -- start-up -------------------------------------------------------------------------------
@pytest.mark.parametrize("seconds", ["3", "3.9", "11.1", "12"])
def test_startup_flash_outside_4_to_11_s(tmp_path, seconds):
    text = edit(EU, ("startup_flash_s = 6", f"startup_flash_s = {seconds}"))
    only(problems_of(tmp_path, text), f"{EUI}.startup_flash_s",
         "must be between 4 and 11 s", f"got {seconds} s")


@pytest.mark.parametrize("seconds", ["4", "11"])
def test_startup_flash_at_the_limits_is_accepted(seconds):
    from controller.config import loads
    inter = loads(edit(EU, ("startup_flash_s = 6", f"startup_flash_s = {seconds}")))
    assert inter.intersections[0].startup_flash_s == float(seconds)


# -- the file itself ------------------------------------------------------------------------
def test_toml_syntax_error_names_the_line(tmp_path):
    text = edit(EU, ("baud = 19200", "baud = 19200 8E1"))
    line = text.splitlines().index("baud = 19200 8E1") + 1
    p = only(problems_of(tmp_path, text), "", "is not valid TOML")
    assert f"line {line}" in p.message


def test_unterminated_string(tmp_path):
    text = edit(EU, ('port = "/dev/ttyS1"', 'port = "/dev/ttyS1'))
    only(problems_of(tmp_path, text), "", "is not valid TOML")


def test_file_that_does_not_exist(tmp_path):
    from controller.config import ConfigError, load
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as info:
        load(path)
    [p] = info.value.problems
    assert p.file == str(path) and p.path == "" and "cannot read the file" in p.message


def test_directory_instead_of_a_file(tmp_path):
    from controller.config import ConfigError, load
    with pytest.raises(ConfigError) as info:
        load(tmp_path)
    [p] = info.value.problems
    assert "cannot read the file" in p.message


def test_non_utf8_file(tmp_path):
    data = EU.encode("utf-8").replace(b"Musterstadt", "Müsterstadt".encode("latin-1"))
    only(problems_of(tmp_path, data), "", "is not UTF-8 text")


def test_utf8_file_with_byte_order_mark_loads(tmp_path):
    from controller.config import load
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + EU.encode("utf-8"))
    load(path)


def test_empty_file(tmp_path):
    problems = problems_of(tmp_path, "")
    for key in ("name", "bus", "intersection", "schedule"):
        find(problems, key, "is required")


def test_every_problem_is_reported_at_once(tmp_path):
    text = edit(EU, ("startup_flash_s = 6", "startup_flash_s = 3"),
                ('parity = "E"', 'parity = "X"'),
                ("Ph1 = { green_s = 30 }", "Ph1 = { green_s = 30, x = 1 }"))
    problems = problems_of(tmp_path, text)
    find(problems, f"{EUI}.startup_flash_s", "between 4 and 11 s")
    find(problems, "bus[schrank-rs485].parity", "must be one of")
    find(problems, f"{EUI}.plan[fest].stages.Ph1.x", "unknown key")


# -- numbers that are not numbers -----------------------------------------------------------
@pytest.mark.parametrize("value", ["nan", "-nan", "inf", "-inf", "1" + "0" * 400])
def test_seconds_that_are_not_finite(tmp_path, value):
    text = edit(EU, ("  min_green_s = 10\n", f"  min_green_s = {value}\n"))
    p = find(problems_of(tmp_path, text), f"{EUI}.group[K1].min_green_s")
    assert "finite" in p.message or "between" in p.message, p


@pytest.mark.parametrize("value", ["nan", "inf", "1e400"])
def test_detector_diagnostic_that_is_not_finite(tmp_path, value):
    text = edit(EU, ("  input = 0\n  calls = [\"K1\"]\n  extends = [\"K1\"]\n  passage_s = 2.5\n"
                     "  no_activity_min = 60\n",
                     "  input = 0\n  calls = [\"K1\"]\n  extends = [\"K1\"]\n  passage_s = 2.5\n"
                     f"  no_activity_min = {value}\n"))
    only(problems_of(tmp_path, text), f"{EUI}.detector[D11].no_activity_min", "finite")


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_geometry_distance_that_is_not_a_length(tmp_path, value):
    text = edit(EU, ("K2 = { clear_m = 16, entry_m = 12 }",
                     f"K2 = {{ clear_m = {value}, entry_m = 12 }}"))
    find(problems_of(tmp_path, text), f"{EUI}.geometry.K1.K2.clear_m")


@pytest.mark.parametrize("key", ["clear_speed_mps", "entry_speed_mps"])
@pytest.mark.parametrize("value", ["0", "-3", "nan"])
def test_geometry_speed_that_is_not_positive(tmp_path, key, value):
    text = edit(EU, ("  [intersection.geometry.K1]\n",
                     f"  [intersection.geometry.speeds]\n  K1 = {{ {key} = {value} }}\n\n"
                     "  [intersection.geometry.K1]\n"))
    only(problems_of(tmp_path, text), f"{EUI}.geometry.speeds.K1.{key}")
