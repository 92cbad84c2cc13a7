"""The telemetry model (no I/O), the outbox in the record, and [telemetry] in the TOML."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from controller.config import ConfigError, load, loads
from controller.config.telemetry import parse_broker
from controller.runtime.record import Record
from controller.telemetry import Telemetry, intersection_alarms, node_alarms
from protocols import aspects as A

from sc_paths import ROOT

CORRIDOR = ROOT / "examples" / "corridor.toml"


@pytest.fixture(scope="module")
def cfg():
    return load(CORRIDOR)


def test_state_is_told_on_change_only(cfg):
    t = Telemetry(cfg, "abay")
    st = {"mode": "run", "stage": "S1", "plan": "am"}
    first = t.intersection(10.0, "a1", st, {"V1": A.GREEN, "V2": A.RED}, None)
    assert [m.topic for m in first] == ["smartcross/abay/intersection/a1/state"]
    assert first[0].retain and first[0].qos == 1
    assert first[0].payload["aspects"] == {"V1": "green", "V2": "red"}
    assert t.intersection(10.1, "a1", st, {"V1": A.GREEN, "V2": A.RED}, None) == []
    again = t.intersection(10.2, "a1", st, {"V1": A.FLASH_GREEN, "V2": A.RED}, None)
    assert again[0].payload["aspects"]["V1"] == "flashing green"
    assert again[0].payload["ts"] == 10.2


def test_events_detectors_parking_and_nodes(cfg):
    t = Telemetry(cfg, "abay")
    assert t.events(5.0, "a1", []) == []
    ev = t.events(5.0, "a1", [(4.95, 1, 2), (5.0, 82, 3)])
    assert ev[0].topic.endswith("/intersection/a1/events") and not ev[0].retain
    assert ev[0].payload["events"] == [[5.0, 1, 2], [5.0, 82, 3]]
    det = t.detectors(60.0, "a2", 60.0, [("D1", 12, 33.5, 0)])
    assert det[0].payload["detectors"]["D1"] == {"volume": 12, "occupancy_pct": 33.5,
                                                 "diag": 0}
    bays = {"b1": "free", "b2": "occupied", "b3": "fault"}
    p = t.parking(1.0, "south", "South kerb", bays)[0]
    assert p.topic == "smartcross/abay/parking/south" and p.retain
    assert (p.payload["free"], p.payload["occupied"], p.payload["faulty"],
            p.payload["capacity"]) == (1, 1, 1, 3)          # a bay in fault is not free
    assert t.parking(2.0, "south", "South kerb", dict(bays)) == []
    n = t.node(1.0, "a1-n1", "a1", False, "silent", [], "ok")
    assert n[0].topic == "smartcross/abay/node/a1-n1/health"
    assert t.node(2.0, "a1-n1", "a1", False, "silent", [], "ok") == []


def test_alarms_raised_and_cleared(cfg):
    t = Telemetry(cfg, "abay")
    first = t.alarms(1.0, {})
    assert [m.topic for m in first] == ["smartcross/abay/alarms"]      # the empty list, once
    assert t.alarms(1.1, {}) == []
    active = dict(node_alarms("a1-n1", "a1", False, [], None)
                  + intersection_alarms("a1", "flash", "node a1-n1: silent", ["D3"]))
    assert set(active) == {"comm-loss/a1-n1", "flash/a1", "detector/a1/D3"}
    msgs = t.alarms(2.0, active)
    raised = [m.payload for m in msgs if m.topic.endswith("/alarm")]
    assert {a["id"] for a in raised} == set(active)
    assert all(a["state"] == "raised" for a in raised)
    assert len(msgs[-1].payload["active"]) == 3 and msgs[-1].retain
    del active["comm-loss/a1-n1"]
    msgs = t.alarms(3.0, active)
    assert [(m.payload["id"], m.payload["state"]) for m in msgs if m.topic.endswith("/alarm")] \
        == [("comm-loss/a1-n1", "cleared")]


def test_topic_levels_are_safe(cfg):
    t = Telemetry(cfg, "a/b+#")
    assert t.topic("intersection", "x/y") == "smartcross/a_b__/intersection/x_y"


def test_outbox_keeps_order_and_numbers_across_a_restart(tmp_path):
    rec = Record(tmp_path / "record.sqlite")
    seqs = [rec.outbox(float(i), f"t/{i}", {"ts": float(i)}, 1, False) for i in range(5)]
    assert rec.outbox_pending(10) == []                  # nothing before the cycle's commit
    rec.flush()
    rows = rec.outbox_pending(3)
    assert [r[0] for r in rows] == seqs[:3]
    assert json.loads(rows[0][2]) == {"seq": seqs[0], "ts": 0.0}
    rec.outbox_sent(rows[-1][0])
    assert [r[0] for r in rec.outbox_pending(10)] == seqs[3:]
    rec.outbox_sent(seqs[-1])
    rec.close()
    rec = Record(tmp_path / "record.sqlite")          # pruned, yet no number is reused
    assert rec.outbox(9.0, "t/9", {"ts": 9.0}, 1, True) == seqs[-1] + 1
    rec.close()


def test_outbox_is_bounded_oldest_dropped_and_counted(tmp_path):
    rec = Record(tmp_path / "record.sqlite")
    rec.outbox_limit = 10
    for i in range(25):
        rec.outbox(float(i), "t", {"ts": float(i)}, 1, False)
        if i % 7 == 0:
            rec.flush()
    rec.flush()
    rows = rec.outbox_pending(100)
    assert [r[0] for r in rows] == list(range(16, 26))
    assert rec.outbox_dropped() == 15 and rec.outbox_len == 10
    rec.close()


def test_telemetry_section(tmp_path):
    text = CORRIDOR.read_text()
    good = loads(text + '\n[telemetry]\nbroker = "mqtts://city.example:8883"\n'
                 'group = "abay"\ncredentials = "pw.txt"\n', str(tmp_path / "g.toml"))
    tel = good.telemetry
    assert (tel.host, tel.port, tel.tls, tel.group, tel.client_id) == \
        ("city.example", 8883, True, "abay", "smartcross-abay")
    assert tel.credentials == str(tmp_path / "pw.txt")
    assert load(CORRIDOR).telemetry is None
    with pytest.raises(ConfigError) as e:
        loads(text + '\n[telemetry]\nbroker = "http://x"\ngroup = "a/b"\nport = 1\n', "g.toml")
    msgs = [str(p) for p in e.value.problems]
    assert any("telemetry.broker" in m and "mqtt://HOST:PORT" in m for m in msgs)
    assert any("telemetry.group" in m and "one MQTT topic level" in m for m in msgs)
    assert any("telemetry.port: unknown key" in m for m in msgs)


@pytest.mark.parametrize("url, why", [("mqtt://", "no host"), ("tcp://h:1", "expected"),
                                      ("mqtt://u:p@h:1", "credentials go in a file"),
                                      ("mqtt://h:99999", "not a broker URL")])
def test_bad_broker_urls(url, why):
    with pytest.raises(ValueError, match=why):
        parse_broker(url)


def test_run_refuses_a_bad_broker_or_credentials_with_status_2(tmp_path):
    def run(*extra):
        return subprocess.run([sys.executable, "-m", "controller.cli", "run", str(CORRIDOR),
                               "--data", str(tmp_path), "--duration", "1", *extra],
                              capture_output=True, text=True, cwd=ROOT, timeout=60)

    r = run("--broker", "http://127.0.0.1:1")
    assert r.returncode == 2 and "error: --broker:" in r.stderr and "Traceback" not in r.stderr
    toml = tmp_path / "g.toml"
    toml.write_text(CORRIDOR.read_text() + '\n[telemetry]\nbroker = "mqtt://127.0.0.1:1"\n'
                    'credentials = "missing.txt"\n')
    r = subprocess.run([sys.executable, "-m", "controller.cli", "run", str(toml), "--data",
                        str(tmp_path), "--duration", "1"], capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    assert r.returncode == 2 and "missing.txt" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "record.sqlite").exists()          # nothing started


def test_a_stuck_preempt_call_is_an_alarm_until_it_goes_off():
    """The core's preempts over max presence (event 110) are raised to the city, and
    cleared when the call goes off; an active preemption is not an alarm."""
    from controller.config import load as load_cfg
    from controller.engine import Inputs, IntersectionCore

    inter = load_cfg(ROOT / "examples" / "us_junction.toml").intersections[0]
    core = IntersectionCore(inter, "free")
    for k in range(2500):                                  # 250 s: stuck past its 180 s
        core.step(k / 10, Inputs(frozenset({"ev-main"})))
    active = dict(intersection_alarms(inter.id, core.mode, None, core.faulty,
                                      core.preempt.dropped))
    assert set(active) == {"preempt/main-5th/ev-main"}
    assert active["preempt/main-5th/ev-main"]["kind"] == "preempt-stuck"
    core.step(250.0, Inputs())
    assert intersection_alarms(inter.id, core.mode, None, core.faulty,
                               core.preempt.dropped) == []
