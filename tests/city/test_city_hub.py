"""The central service's core fed messages directly (no broker, no server): state,
duplicates, rejections, parking guidance and the signs, the events CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest

from city.guidance import area_guidance
from city.hub import Hub
from controller.config import load
from controller.telemetry import Telemetry
from protocols import aspects as A

from sc_paths import ROOT


def enc(msg, seq):
    return msg.topic, json.dumps({"seq": seq, **msg.payload}).encode()


@pytest.fixture
def tel():
    return Telemetry(load(ROOT / "examples" / "corridor.toml"), "abay")


@pytest.fixture
def hub(tmp_path):
    h = Hub(tmp_path)
    yield h
    h.store.close()


def feed(hub, msgs, seq0=1):
    signs = []
    for k, m in enumerate(msgs):
        signs += hub.receive(*enc(m, seq0 + k), now=100.0)
    return signs


def test_state_of_an_intersection_and_duplicates(hub, tel):
    hub.receive("smartcross/abay/status", b"online")
    feed(hub, tel.info(1.0))
    st = {"mode": "run", "stage": "S1", "plan": "am"}
    msgs = tel.intersection(10.0, "a1", st, {"V1": A.GREEN, "V2": A.RED}, None)
    msgs += tel.events(10.0, "a1", [(9.9, 1, 1), (10.0, 82, 2)])
    feed(hub, msgs, seq0=2)
    i = hub.city.intersection_view("abay.a1")
    assert (i["mode"], i["stage"], i["aspects"], i["online"], i["name"]) == \
        ("run", "S1", {"V1": "green", "V2": "red"}, True, "Abay / Baitursynuly")
    feed(hub, msgs, seq0=2)                                   # the same, sent again
    assert hub.duplicates == 2
    rows = list(csv.reader(io.StringIO(hub.store.events_csv("abay.a1", 0, 20))))
    assert rows[0] == ["SignalID", "Timestamp", "EventCode", "EventParam"]
    assert [r[2:] for r in rows[1:]] == [["1", "1"], ["82", "2"]]   # once, not twice
    old = tel.intersection(5.0, "a1", {**st, "stage": "S2"}, {"V1": A.RED}, None)
    tel._state.clear()
    feed(hub, old, seq0=50)                                   # an older state: ignored
    assert hub.city.intersection_view("abay.a1")["stage"] == "S1"


@pytest.mark.parametrize("topic, payload, reason", [
    ("smartcross/abay/intersection/a1/state", b"{not json", "not JSON"),
    ("smartcross/abay/intersection/a1/state", b'{"seq": 1, "ts": 1}', "'aspects'"),
    ("smartcross/abay/intersection/a1/state", b'[1, 2]', "not a JSON object"),
    ("smartcross/abay/parking/p", b'{"seq": 1, "ts": 1, "capacity": 3, "free": 3, '
     b'"occupied": 1, "faulty": 0}', "not the capacity"),
    ("smartcross/abay/intersection/a1/events", b'{"seq": 1, "ts": 1, "events": [["x"]]}',
     "each is [ts, code, param]"),
    ("smartcross/abay/whatever", b'{"seq": 1, "ts": 1}', "unknown topic"),
    ("smartcross/signs2", b"x", "outside"),
    ("smartcross/abay/status", b"maybe", "neither online nor offline"),
    ("smartcross/abay/alarms", b'{"seq": 1, "ts": true, "active": []}', "'ts'"),
])
def test_rogue_messages_are_rejected_counted_and_change_nothing(hub, topic, payload, reason):
    assert hub.receive(topic, payload) == []
    assert reason in hub.last_rejection
    assert sum(hub.city.rejected.values()) == 1
    assert hub.city.intersections == {} and hub.city.parking == {}
    (n,) = hub.store.db.execute("SELECT count(*) FROM rejected").fetchone()
    assert n == 1


@pytest.mark.parametrize("free, closed, online, state, sign", [
    (5, False, True, "open", "5 FREE"), (0, False, True, "full", "FULL"),
    (5, True, True, "closed", "CLOSED"), (5, False, False, "unknown", "--"),
    (None, False, True, "unknown", "--")])
def test_guidance(free, closed, online, state, sign):
    assert area_guidance({"free": free}, closed, online) == {"state": state, "sign": sign}


def test_signs_follow_parking_faults_and_the_cabinet(tmp_path, tel):
    hub = Hub(tmp_path, closed_areas={"abay.north"})
    hub.receive("smartcross/abay/status", b"online")
    feed(hub, tel.info(1.0))
    bays = {"b1": "free", "b2": "fault", "b3": "occupied"}
    signs = feed(hub, tel.parking(2.0, "abay-south-a2", "South", bays), seq0=10)
    assert [t for t, _ in signs] == ["smartcross/signs/abay.abay-south-a2"]
    line = json.loads(signs[0][1])["lines"][0]
    assert (line["text"], line["free"]) == ("1 FREE", 1)       # the faulty bay is not free
    signs = feed(hub, tel.parking(3.0, "abay-south-a2", "South", {**bays, "b1": "occupied"}),
                 seq0=11)
    assert json.loads(signs[0][1])["lines"][0]["text"] == "FULL"
    signs = hub.receive("smartcross/abay/status", b"offline")
    assert json.loads(signs[0][1])["lines"][0]["text"] == "--"   # no old number shown
    assert any(a["kind"] == "cabinet-offline" for a in hub.city.all_alarms())
    feed(hub, tel.parking(4.0, "north", "North", {"n1": "free"}), seq0=20)
    hub.receive("smartcross/abay/status", b"online")
    assert hub.city.area_view("abay.north")["sign"] == "CLOSED"
    hub.store.close()


def test_alarms_reach_the_intersection_and_the_log(hub, tel):
    from controller.telemetry import intersection_alarms
    feed(hub, tel.info(1.0))
    msgs = tel.alarms(5.0, dict(intersection_alarms("a2", "flash", "node a2-heads: silent", [])))
    feed(hub, msgs, seq0=5)
    assert [a["id"] for a in hub.city.intersection_view("abay.a2")["alarms"]] == ["flash/a2"]
    assert hub.city.intersection_view("abay.a1")["alarms"] == []
    assert hub.store.alarm_log()[0]["state"] == "raised"


def test_atspm_at_the_city_is_the_cabinets_own(tmp_path):
    """Measures from field data: the events the city keeps, with only the cabinet's `info`
    for a configuration, give what controller/control/atspm.py gives on the full one."""
    from city.measures import intersection_measures
    from controller.control.atspm import advance_detectors, coordination_points, measures
    from controller.simulate import simulate

    cfg = load(ROOT / "examples" / "astana_cis.toml")
    inter = cfg.intersections[0]
    events = simulate(cfg, 1800, seed=3).events
    expected = measures(cfg, events)[inter.id]
    hub = Hub(tmp_path)
    tel = Telemetry(cfg, "ast")
    feed(hub, tel.info(1.0))
    cid = f"ast.{inter.id}"
    rows = [(e.t, e.code, e.param) for e in events if e.intersection == inter.id]
    hub.store.events(cid, rows)
    got = intersection_measures(cid, hub.city.intersections[cid],
                                hub.store.event_rows(cid, 0, 1e9))
    assert got["measures"] == expected
    assert any("arrivals_on_green_pct" in m for m in got["measures"].values())
    pcd = got["pcd"]
    adv = advance_detectors(inter)[pcd["number"]]
    assert adv and pcd["arrivals"]
    want = coordination_points([e for e in events if e.intersection == inter.id],
                               pcd["number"], adv)
    assert pcd["arrivals"] == want["arrivals"] and pcd["green"] == want["green"]
    hub.store.close()
