"""Board profiles and wiring: every example node gets usable pins on its board, explicit
pins are honoured, an unusable pin is a located error, lamp sense goes red, green, amber."""

import pytest
from cfgtools import EXAMPLES, ROOT, edit, example_text, only, problems_of

from controller.config import load, loads
from controller.config.boards import BOARDS
from controller.provisioning import node_documents
from controller.provisioning.node_file import node_verdict
from protocols import boards as chips

EU = example_text("eu_junction.toml")
US = example_text("us_junction.toml")
CORRIDOR = example_text("corridor.toml")
EUI = "intersection[haupt-bahnhof]"
USI = "intersection[main-5th]"


def _pins(doc):
    """(GPIO, is it driven) for every pin a node.json uses."""
    mb = doc["modbus"]
    out = [(mb["tx"], True), (mb["rx"], False), (mb["de"], True),
           (doc["maintenance"]["pin"], False)]
    if "status_led" in doc:
        out.append((doc["status_led"], True))
    for g in doc["groups"]:
        out += [(g[lamp], True) for lamp in ("red", "amber", "green") if lamp in g]
        out += [(p, False) for k, p in g["feedback"].items() if k != "active_low"]
    out += [(d["pin"], False) for d in doc["detectors"] + doc["bays"]]
    return out


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_node_has_usable_pins_each_used_once(path):
    config = load(path)
    for nid, doc in node_documents(config).items():
        board = BOARDS[doc["board"]]
        pins = _pins(doc)
        used = [p for p, _ in pins]
        assert len(used) == len(set(used)), f"{nid}: a pin used twice: {sorted(used)}"
        own = board.own
        for pin, driven in pins:
            assert chips.unusable(chips.BOARDS[board.name], pin, driven) is None, (nid, pin)
            if pin in own:
                continue
            assert board.refuse(pin, driven) is None, (nid, pin, board.refuse(pin, driven))
            assert pin not in board.facts["strapping"], (nid, pin)
            assert (pin in board.outputs) if driven else (pin in board.inputs), (nid, pin)
        assert node_verdict(doc) == (0, ""), nid


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_head_has_red_sense_in_the_examples(path):
    for nid, doc in node_documents(load(path)).items():
        for g in doc["groups"]:
            assert "red" in g["feedback"], (nid, g["id"])


def test_explicit_pins_are_honoured():
    docs = node_documents(load(ROOT / "examples" / "us_junction.toml"))
    ph1 = next(g for g in docs["cab-1"]["groups"] if g["id"] == "ph1")
    assert (ph1["red"], ph1["amber"], ph1["green"]) == (4, 5, 6)
    ped4 = next(g for g in docs["cab-1"]["groups"] if g["id"] == "ped4")
    assert (ped4["red"], ped4["green"]) == (40, 41) and "amber" not in ped4
    dets = {d["id"]: d["pin"] for d in docs["cab-2"]["detectors"]}
    assert list(dets.values())[:4] == [34, 35, 36, 39]
    assert len(set(dets.values())) == len(dets)


def test_channels_and_inputs_are_the_boards_numbering():
    docs = node_documents(load(ROOT / "examples" / "eu_junction.toml"))
    s3, esp32 = BOARDS["esp32s3"], BOARDS["esp32"]
    k1 = docs["lsa-1"]["groups"][0]                                  # channels = [0, 1, 2]
    assert (k1["red"], k1["amber"], k1["green"]) == s3.outputs[:3]
    d11 = docs["lsa-2"]["detectors"][0]                              # input = 0
    assert d11["pin"] == esp32.inputs[0] == 34                       # input-only first


def test_explicit_sense_is_honoured_and_is_all_that_head_gets():
    text = edit(EU, ("  node = \"lsa-1\"\n  channels = [0, 1, 2]\n",
                     "  node = \"lsa-1\"\n  channels = [0, 1, 2]\n  sense = { green = 48 }\n"))
    config = loads(text)
    k1 = node_documents(config)["lsa-1"]["groups"][0]
    assert k1["feedback"] == {"green": 48}
    unsensed = config.intersections[0].wiring["lsa-1"].unsensed
    assert ("K1", "red") in unsensed and ("K1", "amber") in unsensed


def test_full_sense_when_the_board_has_the_inputs():
    # EU lsa-1 without F1 and F2 (moved to a node of their own): 9 lamps, 13 inputs left
    text = edit(EU, ('  node = "lsa-1"\n  channels = [9, 10]', '  node = "lsa-2"\n  channels = [0, 1]'),
                ('  node = "lsa-1"\n  channels = [11, 12]', '  node = "lsa-2"\n  channels = [2, 3]'))
    config = loads(text)
    w = config.intersections[0].wiring["lsa-1"]
    assert w.unsensed == () and w.sense_note() is None
    for g in node_documents(config)["lsa-1"]["groups"]:
        assert set(g["feedback"]) == {"red", "amber", "green"}


def test_sense_goes_red_first_then_green_then_amber():
    # astana kbt-1: 16 lamps on 22 pins leave 6 inputs, one per head: red on all six
    w = load(ROOT / "examples" / "astana_cis.toml").intersections[0].wiring["kbt-1"]
    assert all(set(h.sense) == {"red"} for h in w.heads.values())
    lamps = [lamp for _, lamp in w.unsensed]
    assert lamps == sorted(lamps, key=["green", "amber"].index)
    # corridor a2-heads: 13 lamps leave 9 inputs: 5 reds, then 4 greens, no amber
    w = load(ROOT / "examples" / "corridor.toml").intersections[1].wiring["a2-heads"]
    sensed = [lamp for h in w.heads.values() for lamp in h.sense]
    assert sensed.count("red") == 5 and sensed.count("green") == 4 and "amber" not in sensed
    assert "not sensed: P2 green, V1 amber, V2 amber, V3 amber" in w.sense_note()


def test_assigned_pins_when_none_are_given():
    text = edit(EU, ("  channels = [0, 1, 2]\n", ""), ("  input = 5\n", ""))
    docs = node_documents(loads(text))
    pins = {g[lamp] for g in docs["lsa-1"]["groups"] for lamp in ("red", "amber", "green")
            if lamp in g}
    assert len(pins) == 3 * 3 + 2 * 2
    t1 = docs["lsa-2"]["detectors"][-1]
    assert t1["id"] == "T1" and t1["pin"] == BOARDS["esp32"].inputs[5]   # the next free input


BAD_PIN = [
    ("group-flash", US, "{ red = 4, amber = 5, green = 6 }", "{ red = 4, amber = 30, green = 6 }",
     f"{USI}.group[ph1].pins.amber", "GPIO 30 is the module's flash"),
    ("group-uart0", US, "{ red = 4, amber = 5, green = 6 }", "{ red = 43, amber = 5, green = 6 }",
     f"{USI}.group[ph1].pins.red", "GPIO 43 is UART0"),
    ("group-usb", US, "{ red = 4, amber = 5, green = 6 }", "{ red = 4, amber = 5, green = 19 }",
     f"{USI}.group[ph1].pins.green", "GPIO 19 is the native USB"),
    ("group-strapping", US, "{ red = 4, amber = 5, green = 6 }",
     "{ red = 46, amber = 5, green = 6 }", f"{USI}.group[ph1].pins.red",
     "GPIO 46 is a strapping pin"),
    ("group-missing-gpio", US, "{ red = 4, amber = 5, green = 6 }",
     "{ red = 23, amber = 5, green = 6 }", f"{USI}.group[ph1].pins.red",
     "GPIO 23 does not exist on the ESP32-S3-WROOM-1"),
    ("group-twice", US, "{ red = 7, amber = 15, green = 16 }",
     "{ red = 7, amber = 15, green = 6 }", f"{USI}.group[ph2].pins.green",
     "GPIO 6 is already used by group[ph1].pins.green"),
    ("group-rs485", US, "{ red = 4, amber = 5, green = 6 }", "{ red = 4, amber = 8, green = 6 }",
     f"{USI}.group[ph1].pins.amber", "GPIO 8 is already used by the board's RS-485 driver"),
    ("detector-missing", US, "pin = 34", "pin = 20", f"{USI}.detector[det1].pin",
     "GPIO 20 does not exist on the ESP32-WROOM-32"),
    ("detector-flash", US, "pin = 34", "pin = 7", f"{USI}.detector[det1].pin",
     "GPIO 7 is the module's flash"),
    ("detector-strapping", US, "pin = 34", "pin = 12", f"{USI}.detector[det1].pin",
     "GPIO 12 is a strapping pin"),
    ("detector-uart0", US, "pin = 34", "pin = 1", f"{USI}.detector[det1].pin",
     "GPIO 1 is UART0"),
    ("detector-not-on-module", US, "pin = 34", "pin = 37", f"{USI}.detector[det1].pin",
     "GPIO 37 is not brought out by the ESP32-WROOM-32"),
]


@pytest.mark.parametrize("name, text, old, new, path, words", BAD_PIN,
                         ids=[b[0] for b in BAD_PIN])
def test_unusable_pin_is_a_located_error(tmp_path, name, text, old, new, path, words):
    only(problems_of(tmp_path, edit(text, (old, new))), path, words)


def test_lamp_on_an_input_only_pin(tmp_path):
    # cab-2 is an ESP32: GPIO 34 is input only
    text = edit(US, ('  node = "cab-1"\n  pins = { red = 4, amber = 5, green = 6 }',
                     '  node = "cab-2"\n  pins = { red = 25, amber = 34, green = 27 }'))
    only(problems_of(tmp_path, text), f"{USI}.group[ph1].pins.amber",
         "GPIO 34 is input only: it cannot drive a lamp")


def test_sense_on_an_unusable_pin(tmp_path):
    text = edit(EU, ("  node = \"lsa-1\"\n  channels = [0, 1, 2]\n",
                     "  node = \"lsa-1\"\n  channels = [0, 1, 2]\n  sense = { red = 3 }\n"))
    only(problems_of(tmp_path, text), f"{EUI}.group[K1].sense.red", "GPIO 3 is a strapping pin")


@pytest.mark.parametrize("old, new, path, words", [
    ("{ red = 4, amber = 5, green = 6 }", "{ red = 4, green = 6 }",
     f"{USI}.group[ph1].pins", ("needs a GPIO for every lamp", "no amber")),
    ("{ red = 40, green = 41 }", "{ red = 40, amber = 42, green = 41 }",
     f"{USI}.group[ped4].pins.amber", ("pedestrian head's lamps are red, green",)),
    ("{ red = 4, amber = 5, green = 6 }", "{ red = 4, amber = 5, green = 6 }\n  channels = [0, 1, 2]",
     f"{USI}.group[ph1].pins", ("channels or its pins, not both",)),
    ("pin = 34", "pin = 34\n  input = 3", f"{USI}.detector[det1].pin",
     ("input or its pin, not both",)),
    ('board = "esp32s3"', 'board = "esp32c3"', f"{USI}.node[cab-1].board",
     ("must be one of esp32, esp32s3",)),
], ids=["pins-incomplete", "ped-amber", "pins-and-channels", "pin-and-input", "unknown-board"])
def test_wiring_keys(tmp_path, old, new, path, words):
    only(problems_of(tmp_path, edit(US, (old, new))), path, *words)


def test_old_outputs_key_says_what_replaced_it(tmp_path):
    text = edit(EU, ('  board = "esp32s3"\n', '  board = "esp32s3"\n  outputs = 24\n'))
    only(problems_of(tmp_path, text), f"{EUI}.node[lsa-1].outputs", "is no longer used",
         'board = "esp32"')


def test_a_node_with_more_lamps_than_its_board(tmp_path):
    # all six US heads (16 lamps) on cab-2, an ESP32 with 12 output channels, pins assigned
    text = US
    for gpio in ("{ red = 4, amber = 5, green = 6 }", "{ red = 7, amber = 15, green = 16 }",
                 "{ red = 9, amber = 10, green = 11 }", "{ red = 12, amber = 13, green = 14 }",
                 "{ red = 38, green = 39 }", "{ red = 40, green = 41 }"):
        text = edit(text, (f'  node = "cab-1"\n  pins = {gpio}\n', '  node = "cab-2"\n'))
    only(problems_of(tmp_path, text), f"{USI}.node[cab-2]", "needs 16 more lamp outputs",
         "board esp32 has 12 free")


def test_a_node_with_more_detectors_than_its_board(tmp_path):
    # a1-n1 (S3, 22 pins): 10 lamps and 6 given inputs leave 6; seven more loops, assigned
    extra = "".join(f'  [[intersection.detector]]\n  id = "X{k}"\n  kind = "counting"\n'
                    f'  node = "a1-n1"\n\n' for k in range(7))
    text = edit(CORRIDOR, ('  node = "a1-n1"\n  input = 5\n  calls = ["P2"]\n\n',
                           '  node = "a1-n1"\n  input = 5\n  calls = ["P2"]\n\n' + extra))
    only(problems_of(tmp_path, text), "intersection[a1].node[a1-n1]",
         "needs 7 more detector inputs", "board esp32s3 has 6 free of its 22 inputs")


def test_the_technicians_pin_tables_are_the_profiles():
    from controller.config.boards import pin_tables

    text = (ROOT / "controller" / "tooling" / "README.md").read_text(encoding="utf-8")
    start = text.index("<!-- pin tables:")
    shown = text[text.index("\n", start) + 1:text.index("<!-- end of pin tables -->")]
    assert shown == pin_tables(), "regenerate with controller.config.boards.pin_tables()"


def test_the_profiles_keep_the_datasheet_facts():
    # shared/DOMAIN.md, Espressif datasheets: what every profile must refuse
    esp32, s3 = BOARDS["esp32"], BOARDS["esp32s3"]
    for pin in (6, 7, 8, 9, 10, 11, 1, 3, 0, 2, 5, 12, 15, 20, 24, 28, 29, 30, 31):
        assert pin not in esp32.outputs and pin not in esp32.inputs, pin
    assert set(range(34, 40)) - {37, 38} <= set(esp32.inputs)
    assert not set(range(34, 40)) & set(esp32.outputs)
    for pin in (*range(26, 38), 43, 44, 0, 3, 45, 46, 19, 20, *range(22, 26)):
        assert pin not in s3.outputs and pin not in s3.inputs, pin


def test_a_bad_pin_is_reported_with_the_other_problems(tmp_path):
    text = edit(US, ("{ red = 4, amber = 5, green = 6 }", "{ red = 4, amber = 5, green = 26 }"),
                ("cycle_s = 120", "cycle_s = 120\n  cycel_s = 1"))
    problems = problems_of(tmp_path, text)
    paths = {p.path for p in problems}
    assert f"{USI}.group[ph1].pins.green" in paths and any("cycel_s" in p for p in paths)
