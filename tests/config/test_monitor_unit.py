"""[intersection.monitor_unit]: the monitor unit's bus, board, pins and comm timeout, read
and refused with located errors, and its monitor.json, written apart from the nodes' files
and checked by the unit's own parser (firmware/munit/config.py)."""

import json

import pytest
from cfgtools import edit, example_text, find, only, problems_of

from controller.config import loads
from controller.config.monitor_table import monitor_table
from controller.errors import ToolError
from controller.provisioning import node_documents
from controller.provisioning.node_file import provision_noted
from controller.provisioning.unit_file import check_unit_doc, unit_documents
from monitor.table import crc, encode

from sc_paths import ROOT

TEXT = example_text("astana_monitor_unit.toml")
UNIT = 'board = "esp32s3"\n  comm_timeout_ms = 400'
WHERE = "intersection[kb-turan].monitor_unit"


def test_the_example_senses_every_lamp_and_has_a_relay():
    inter = loads(TEXT).intersections[0]
    u = inter.monitor_unit
    assert (u.id, u.address, u.board, u.comm_timeout_ms) == ("kbt-mu", 9, "esp32s3", 400)
    lamps = {g.id: (2 if g.is_pedestrian else 3) for g in inter.groups}
    assert {g: len(s) for g, s in u.wiring.sense.items()} == lamps
    pins = [p for s in u.wiring.sense.values() for p in s.values()] + [u.wiring.relay]
    assert len(set(pins)) == len(pins) == 17
    assert u.wiring.reset == 0                      # the S3's BOOT button


def test_a_board_with_too_few_inputs_says_how_many(tmp_path):
    text = edit(TEXT, (UNIT, 'board = "esp32"\n  comm_timeout_ms = 400'))
    only(problems_of(tmp_path, text), WHERE, "16 lamps", "board esp32 has 15 free", "esp32s3")


def test_unusable_and_reused_pins_are_located(tmp_path):
    text = edit(TEXT, (UNIT, UNIT + "\n  relay = 27\n  sense = {V1 = {red = 4, amber = 4, "
                       "green = 5}, P1 = {red = 6}, X9 = {red = 7}}"))
    probs = problems_of(tmp_path, text)
    find(probs, f"{WHERE}.relay", "GPIO 27", "flash")
    find(probs, f"{WHERE}.sense.V1.amber", "GPIO 4", "already used")
    find(probs, f"{WHERE}.sense.P1", "every lamp", "green")
    find(probs, f"{WHERE}.sense.X9", "not a signal group")


def test_comm_timeout_between_three_polls_and_one_second_of_notice(tmp_path):
    only(problems_of(tmp_path, edit(TEXT, ("comm_timeout_ms = 400 ", "comm_timeout_ms = 900 "))),
         f"{WHERE}.comm_timeout_ms", "300..800 ms", "1000 ms")
    only(problems_of(tmp_path, edit(TEXT, ("comm_timeout_ms = 400 ", "comm_timeout_ms = 200 "))),
         f"{WHERE}.comm_timeout_ms", "300..800 ms")
    assert loads(edit(TEXT, ("comm_timeout_ms = 400 ", "comm_timeout_ms = 800 "))) is not None


def test_address_and_id_must_not_be_a_nodes(tmp_path):
    only(problems_of(tmp_path, edit(TEXT, ("address = 9", "address = 2"))),
         f"{WHERE}.address", "address 2", "kbt-2")
    only(problems_of(tmp_path, edit(TEXT, ('id = "kbt-mu"', 'id = "kbt-1"'))),
         f"{WHERE}.id", "kbt-1")


def test_monitor_json_is_apart_from_the_nodes_and_its_crc_is_the_tables():
    cfg = loads(TEXT)
    docs = unit_documents(cfg)
    assert set(docs) == {"kbt-mu"}
    assert "kbt-mu" not in node_documents(cfg)
    doc = docs["kbt-mu"]
    assert doc["table"] == monitor_table(cfg.intersections[0])
    assert doc["crc"] == crc(doc["table"])
    assert "safety" not in doc                      # never the nodes' guard tables
    assert check_unit_doc(json.loads(json.dumps(doc)), "x") == doc


def test_the_units_parser_refuses_a_changed_table():
    doc = unit_documents(loads(TEXT))["kbt-mu"]
    doc["table"]["conflicts"][0][2] += 1000
    with pytest.raises(ToolError, match="crc-mismatch"):
        check_unit_doc(doc, "x")


def test_provision_by_unit_id(tmp_path):
    path = tmp_path / "g.toml"
    path.write_text(TEXT)
    doc, notes = provision_noted(str(path), "kbt-mu")
    assert doc["unit_id"] == "kbt-mu" and notes == []
    with pytest.raises(ToolError, match="monitor units: kbt-mu"):
        provision_noted(str(path), "nope")


def test_the_table_crc_ignores_key_and_conflict_order():
    t = monitor_table(loads(TEXT).intersections[0])
    shuffled = dict(reversed(list(t.items())))
    shuffled["conflicts"] = list(reversed(t["conflicts"]))
    shuffled["groups"] = [dict(reversed(list(g.items()))) for g in t["groups"]]
    assert encode(shuffled) == encode(t)
    other = json.loads(json.dumps(t))
    other["groups"][0]["amber_ms"] += 100
    assert crc(other) != crc(t)


def test_the_other_examples_have_no_unit():
    for name in ("astana_cis.toml", "corridor.toml"):
        cfg = loads((ROOT / "examples" / name).read_text())
        assert all(i.monitor_unit is None for i in cfg.intersections)
