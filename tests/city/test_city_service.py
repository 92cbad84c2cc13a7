"""`smartcross city` on a real Mosquitto, fed by the real cabinet service running the
corridor on emulated boards: the API, the events CSV against `log export`, the live
stream, a rogue client, and nothing writable."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
import urllib.request

import paho.mqtt.client as mqtt
import pytest

from controller.config import load
from controller.config.telemetry import parse_broker
from hil.broker import missing

from city_proc import CityProcess
from sc_paths import ROOT

pytestmark = pytest.mark.hil
CORRIDOR = "examples/corridor.toml"
ZONE = load(ROOT / CORRIDOR).zone          # its `timezone`: the wall clock of its times


@pytest.fixture
def city(broker, tmp_path):
    c = CityProcess(broker.url, tmp_path / "city", "--closed", "corridor.nowhere")
    yield c
    assert c.stop() == 0, c.log.read_text()


def publish(url: str, topic: str, payload: bytes) -> None:
    host, port, _ = parse_broker(url)
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="rogue")
    c.connect(host, port)
    c.loop_start()
    c.publish(topic, payload, qos=1).wait_for_publish(30)
    c.loop_stop()
    c.disconnect()


def iso(ts: float) -> str:
    """An instant with its offset: unambiguous for the city and for `log export` alike."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # no "+" in a URL


def test_the_city_sees_the_corridor(rig, broker, city):
    r = rig(CORRIDOR, time_scale=2, broker=broker.url)

    def all_running():
        inters = city.get("/api/intersections")
        return len(inters) == 3 and all(i["mode"] == "run" and i["online"] for i in inters)

    city.wait_for(all_running, 60, "three running intersections in the API")
    i = city.get("/api/intersections/corridor.a2")
    assert set(i) >= {"id", "name", "group", "mode", "stage", "aspects", "alarms", "updated"}
    assert i["name"] == "Abay / Masanchi" and i["group"] == "corridor"
    assert set(i["aspects"].values()) <= {"red", "red+amber", "green", "flashing green",
                                          "amber"}
    areas = city.wait_for(lambda: [a for a in city.get("/api/parking")
                                   if a["updated"] is not None], 30, "parking")
    a = areas[0]
    assert a["free"] + a["occupied"] + a["faulty"] == a["capacity"] == 6
    assert a["sign"] in (f"{a['free']} FREE", "FULL")
    signs = city.get("/api/signs")
    assert signs[0]["lines"][0]["text"] == a["sign"]
    assert city.status_of("/api/intersections/nowhere.x") == 404
    assert city.status_of("/api/intersections/corridor.a1/events?from=x&to=y") == 400
    assert city.status_of("/api/intersections", "POST") == 405     # read-only

    # the events: the city's CSV is the cabinet's own `log export` of the same window
    def window():
        rows = list(csv.reader(io.StringIO(city.get(
            "/api/intersections/corridor.a1/events?from=0&to=9999999999", raw=True))))[1:]
        return rows if len(rows) > 20 else None

    rows = city.wait_for(window, 60, "twenty events of a1 at the city")
    t0 = ZONE.attach(dt.datetime.fromisoformat(rows[0][1])).timestamp()  # its wall clock
    # 20 s from a1's first event: its start-up flash, the all-red (held until every node of
    # the junction runs) and the first greens, whatever the host's speed
    start, end = iso(t0), iso(t0 + 20)
    city.wait_for(lambda: city.get("/api/intersections/corridor.a1")["updated"] > t0 + 22, 60,
                  "the city past the window")
    ours = city.get(f"/api/intersections/corridor.a1/events?from={start}&to={end}", raw=True)
    exp = subprocess.run([sys.executable, "-m", "controller.cli", "log", "export", CORRIDOR,
                          "--data", str(r.data_dir), "--from", start, "--to", end],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    theirs = [row for row in csv.reader(io.StringIO(exp.stdout)) if row[0] in ("a1",
                                                                              "SignalID")]
    mine = list(csv.reader(io.StringIO(ours)))
    assert len(mine) > 3
    assert [row[1:] for row in mine] == [row[1:] for row in theirs]
    assert {row[0] for row in mine[1:]} == {"corridor.a1"}

    # a rogue client: garbage on a cabinet's topic is counted, nothing else changes
    before = city.get("/api/health")
    publish(broker.url, "smartcross/corridor/intersection/a1/state", b"\xff{garbage")
    h = city.wait_for(lambda: (x := city.get("/api/health"))["rejected"] and x, 30,
                      "the rejection counted")
    assert sum(h["rejected"].values()) == sum(before["rejected"].values()) + 1
    assert "not JSON" in h["last_rejection"]
    assert city.get("/api/intersections/corridor.a1")["aspects"]   # state still there


def test_live_stream(rig, broker, city):
    rig(CORRIDOR, time_scale=2, broker=broker.url)
    with urllib.request.urlopen(city.base + "/api/stream", timeout=60) as s:
        kinds = set()
        while not {"intersection", "parking"} <= kinds:
            line = s.readline().decode()
            if line.startswith("event: "):
                kinds.add(line[7:].strip())
    assert {"intersection", "parking"} <= kinds


def test_demo_brings_its_broker_and_the_city():
    """`smartcross demo`: an embedded Mosquitto, the corridor, the city with its page."""
    if missing():
        pytest.skip(missing())
    r = subprocess.run([sys.executable, "-m", "controller.cli", "demo", "--duration", "20",
                        "--json"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    doc = __import__("json").loads(r.stdout)
    assert "city page: http://127.0.0.1:" in r.stderr
    assert doc["city"]["broker"].startswith("mqtt://127.0.0.1:")
    assert set(doc["city"]["intersections"]) == {"corridor.a1", "corridor.a2", "corridor.a3"}
    assert doc["city"]["parking"]["corridor.abay-south-a2"].endswith(("FREE", "FULL"))
