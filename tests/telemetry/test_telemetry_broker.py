"""The cabinet's telemetry on a real Mosquitto broker: the corridor on emulated boards
publishes; the broker goes away and comes back; signal control never notices."""

from __future__ import annotations

import datetime as dt

import pytest

from controller.config import load

from mqtt_collect import Collector
from sc_paths import ROOT

pytestmark = pytest.mark.hil
CORRIDOR = "examples/corridor.toml"
OUTAGE_S = 60      # longer than the corridor's longest green: every kind of event falls in it
ZONE = load(ROOT / CORRIDOR).zone          # its `timezone`: the wall clock of its times
GROUP = "corridor"


def running(r, iid):
    st = r.status()
    return st is not None and st["intersections"][iid]["mode"] == "run" and \
        st["intersections"][iid]["stage"] is not None


def telemetry(r) -> dict:
    return (r.status() or {}).get("telemetry") or {}


def first_seqs(col: Collector) -> list[int]:
    """The seq of every message in arrival order, each seq once (a resent one skipped)."""
    seen, out = set(), []
    for _, p in col.json():
        if "seq" in p and p["seq"] not in seen:
            seen.add(p["seq"])
            out.append(p["seq"])
    return out


def test_topics_status_and_a_broker_outage(rig, broker):
    col = Collector(broker.url)
    col.wait_for(col.subscribed.is_set, 30, "the collector subscribed")
    r = rig(CORRIDOR, time_scale=2, broker=broker.url)
    for iid in ("a1", "a2", "a3"):
        r.wait_until(lambda i=iid: running(r, i), 40, f"{iid} running")
    col.wait_for(lambda: "online" in col.text(f"smartcross/{GROUP}/status"), 30, "online")
    col.wait_for(lambda: col.json("/intersection/a1/events"), 30, "a1's events")
    info = col.json(f"smartcross/{GROUP}/info")
    assert set(info[0][1]["intersections"]) == {"a1", "a2", "a3"}
    col.wait_for(lambda: any(p["mode"] == "run" and p["aspects"]["V1"] for _, p in
                             col.json("/intersection/a2/state")), 30, "a2 running, told")
    assert col.json(f"smartcross/{GROUP}/node/a1-n1/health")
    assert col.json(f"smartcross/{GROUP}/alarms")

    broker.stop()                                     # the outage
    r.wait_until(lambda: telemetry(r).get("connected") is False, 30, "publisher offline")
    st0 = r.status()
    n_before = len(col.messages)
    r.run_for(OUTAGE_S)                               # street time without a broker
    st1 = r.status()
    # the 100 ms cycle went on (an overrun skips cycles: 90 % of them on a loaded machine)
    assert st1["cycles"] - st0["cycles"] >= 0.9 * OUTAGE_S * 10
    assert st1["telemetry"]["queued"] > 0
    queued_upto = r.status()["telemetry"]["queued"]
    assert queued_upto > 0
    for iid in ("a1", "a2", "a3"):
        assert running(r, iid)

    broker.start()                                    # back, on the same port
    r.wait_until(lambda: telemetry(r).get("connected") and telemetry(r).get("queued") == 0,
                 60, "the outbox drained")
    last = r.status()["telemetry"]["last_seq_sent"]
    col.wait_for(lambda: last in set(first_seqs(col)), 60, f"seq {last} at the collector")
    seqs = first_seqs(col)
    assert seqs == sorted(seqs), "messages arrived out of order"
    assert seqs == list(range(seqs[0], seqs[-1] + 1)), "a message was lost"
    # the outage's events arrived after it, with their original (street) timestamps
    t0, t1 = unix(st0["local_time"]), unix(st1["local_time"])
    during = [ev for _, p in col.json("/events") for ev in p["events"] if t0 < ev[0] < t1]
    assert len(during) >= 10, "the outage's events did not arrive"
    assert {1, 8} <= {code for _, code, _ in during}      # greens and ambers went on
    assert len(col.messages) > n_before
    assert r.violations() == []
    col.close()


def unix(local_time: str) -> float:
    """The status's local_time is on the group's wall clock (its `timezone`)."""
    return ZONE.attach(dt.datetime.fromisoformat(local_time)).timestamp()
