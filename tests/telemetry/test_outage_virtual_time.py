"""Nothing lost across a broker outage of more than ten minutes of the cabinet's time.

The cabinet's telemetry side runs in virtual time: the real timing core of the corridor
(seeded traffic) stepped every 0.1 s of cabinet time as fast as the machine goes, its
messages made by the real Telemetry model into the real record's outbox (committed every
cycle, as the service does), sent by the real publisher to a real Mosquitto; the real
city (hub + its MQTT link, a persistent session) and a raw subscriber receive. The broker
is stopped for 11 minutes of cabinet time (a few seconds of the machine's), then started
again; every message made during the outage must arrive with the payload the outbox held
(its original `ts`; a resent one has the same `seq`), and the city keeps each event once.
Waits are on conditions with generous time-outs, never sleeps that hope.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json

from city.hub import Hub
from city.mqtt import CityLink
from controller.config import civil, load
from controller.config.telemetry import telemetry_config
from controller.core import STEP_S, Inputs
from controller.engine import GroupCore
from controller.runtime.publisher import Publisher
from controller.runtime.record import Record
from controller.telemetry import Telemetry, intersection_alarms
from controller.traffic import TrafficGenerator

from mqtt_collect import Collector
from sc_paths import ROOT

GROUP = "corridor"
OUTAGE_S = 11 * 60            # cabinet time with the broker down
BEFORE_S = 60                 # cabinet time with the broker up, before the outage
WAIT_S = 180                  # generous: a loaded 2-core machine, a 30 s reconnect backoff


class VirtualCabinet:
    """The service's telemetry path, stepped in virtual time (no clock is read)."""

    def __init__(self, cfg, record: Record, start: dt.datetime):
        self.cfg, self.record = cfg, record
        self.epoch, self.t0 = civil.run_clock(cfg.zone, start)
        self.core = GroupCore(cfg, start=self.t0, epoch=self.epoch)
        k0 = int(round(self.t0 / STEP_S))
        self.traffic = {i.id: TrafficGenerator(i, seed=7, start=k0) for i in cfg.intersections}
        self.aspects = {i.id: {} for i in cfg.intersections}
        self.tel = Telemetry(cfg, GROUP)
        self.k = 0
        self.sent: dict[int, tuple[str, dict]] = {}       # seq -> (topic, payload as queued)
        self.events: dict[str, set[tuple[float, int, int]]] = {i.id: set() for i in
                                                             cfg.intersections}

    @property
    def now(self) -> float:
        return round(self.t0 + self.k * STEP_S, 1)

    def _tell(self, messages) -> None:
        for m in messages:
            seq = self.record.outbox(m.payload["ts"], m.topic, m.payload, m.qos, m.retain)
            self.sent[seq] = (m.topic, {"seq": seq, **m.payload})

    def cycle(self) -> None:
        now = self.now
        ts = self.epoch + now
        inputs = {iid: Inputs(t.presence(int(round(now * 10)), self.aspects[iid], True))
                  for iid, t in self.traffic.items()}
        outs = self.core.step(now, inputs)
        active = []
        for iid, out in outs.items():
            self.aspects[iid] = out.aspects
            core = self.core.cores[iid]
            rows = [(self.epoch + e.t, e.code, e.param) for e in out.events]
            self.events[iid] |= {(round(t, 1), c, p) for t, c, p in rows}
            self._tell(self.tel.events(ts, iid, rows))
            self._tell(self.tel.intersection(ts, iid, core.state, out.aspects, None))
            active += intersection_alarms(iid, core.mode, None, core.faulty)
        self._tell(self.tel.alarms(ts, dict(active)))
        self.record.flush()                 # every cycle, as the service commits
        self.k += 1

    async def run_for(self, seconds: float, publisher: Publisher) -> None:
        for _ in range(int(round(seconds / STEP_S))):
            self.cycle()
            publisher.wake.set()
            await asyncio.sleep(0)          # let the publisher's task run between cycles


async def until(predicate, timeout_s: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while not predicate():
        if loop.time() > end:
            raise AssertionError(f"not within {timeout_s} s: {what}")
        await asyncio.sleep(0.05)


def city_has(hub: Hub, seq: int) -> bool:
    return bool(hub.store.db.execute("SELECT 1 FROM seen WHERE grp = ? AND seq = ?",
                                     (GROUP, seq)).fetchall())


def test_ten_minutes_of_outage_in_virtual_time(tmp_path, broker):
    cfg = load(ROOT / "examples" / "corridor.toml")
    tel_cfg = telemetry_config(cfg.source, broker.url, group=GROUP)
    start = cfg.zone.attach(dt.datetime(2026, 11, 23, 7, 30))     # a Monday's peak
    raw = Collector(broker.url, topic=f"smartcross/{GROUP}/#", client_id="outage-raw")
    raw.wait_for(raw.subscribed.is_set, 30, "the raw subscriber subscribed")
    record = Record(tmp_path / "cabinet" / "record.sqlite")
    hub = Hub(tmp_path / "city")
    cab = VirtualCabinet(cfg, record, start)

    async def main() -> dict:
        pub = Publisher(tel_cfg, record)
        link = CityLink(hub, broker.url, client_id="city-outage-test")
        async with link.running():
            await until(link.connected.is_set, WAIT_S, "the city subscribed")
            pub.start()
            await cab.run_for(BEFORE_S, pub)
            await until(lambda: pub.connected and record.outbox_len == 0, WAIT_S,
                        "the outbox drained before the outage")
            await until(lambda: city_has(hub, max(cab.sent)), WAIT_S,
                        "the city took the messages before the outage")
        # the city is away (its session stays on the broker); then the broker goes down
        broker.stop()
        seq_before = max(cab.sent)
        t_down = cab.epoch + cab.now
        await cab.run_for(OUTAGE_S, pub)
        t_up = cab.epoch + cab.now
        during = {s for s in cab.sent if s > seq_before}
        await until(lambda: not pub.connected, WAIT_S, "the publisher saw the outage")
        assert record.outbox_len == len(during) > OUTAGE_S      # all of them queued
        broker.start()                                          # back, on the same port
        await until(lambda: record.outbox_len == 0, WAIT_S, "the outbox drained")
        assert pub.connected and pub.last_sent_seq == max(cab.sent)
        # the city comes back after the cabinet has sent everything: its session has it
        async with link.running():
            await until(lambda: city_has(hub, max(cab.sent)), WAIT_S,
                        "the last message at the city")
        await pub.close()
        return {"during": during, "t_down": t_down, "t_up": t_up}

    got = asyncio.run(main())
    record.close()
    during, t_down, t_up = got["during"], got["t_down"], got["t_up"]
    assert t_up - t_down >= 10 * 60                          # ten minutes of cabinet time

    # every message arrived at the raw subscriber, each one as the outbox held it: a
    # message seen twice carries the same seq and the same payload (recognisable)
    raw.wait_for(lambda: max(cab.sent) in {p.get("seq") for _, p in raw.json()}, WAIT_S,
                 "the last message at the raw subscriber")
    arrived: dict[int, dict] = {}
    for topic, p in raw.json():
        if "seq" not in p:
            continue
        assert cab.sent[p["seq"]] == (topic, p), f"seq {p['seq']} arrived changed"
        arrived[p["seq"]] = p
    assert during <= set(arrived), f"lost: {sorted(during - set(arrived))[:10]}"
    raw.close()

    # original timestamps: the outage's events carry the street moments of the outage
    outage_events = [ev for s in during for ev in cab.sent[s][1].get("events", [])]
    assert len(outage_events) > 100
    assert all(t_down <= t <= t_up for t, _, _ in outage_events)
    assert {1, 8, 10} <= {c for _, c, _ in outage_events}     # greens, ambers, reds

    # the city: every (group, seq) once, every event of every intersection once, in its
    # history with its original time
    for iid, produced in cab.events.items():
        rows = hub.store.db.execute("SELECT ts, code, param FROM events WHERE signal = ?",
                                    (f"{GROUP}.{iid}",)).fetchall()
        assert len(rows) == len(set(rows)), f"{iid}: an event kept twice"
        assert {(round(t, 1), c, p) for t, c, p in rows} == produced, iid
    seen = {s for (s,) in hub.store.db.execute("SELECT seq FROM seen WHERE grp = ?",
                                               (GROUP,))}
    assert set(cab.sent) <= seen
    assert hub.city.rejected == {}
    last = json.loads(json.dumps(hub.city.intersection_view(f"{GROUP}.a1")))
    assert last["updated"] >= t_down                      # the newest state, not a stale one
    hub.store.close()
