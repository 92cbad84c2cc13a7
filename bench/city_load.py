"""City load: 200 cabinets (Astana's 200 junctions) into one Mosquitto and `smartcross city`.

Each cabinet is the real timing core (examples/astana_cis.toml, its own seeded traffic),
stepped every 0.1 s in real time with its own start offset; its telemetry is made by the
real Telemetry model (intersection state on change, Indiana events per cycle) and
published when it happens, QoS 1, over the cabinet's own MQTT connection. A listener on
the city's live stream (/api/stream, what the page uses) times every state message from
its publish to the API showing it. Prints the messages per second, the central service's
CPU and memory, and last `city_e2e_p99: N ms` (target ≤ 1000 ms, 0 lost).

    .venv/bin/python bench/city_load.py [--cabinets 200] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiomqtt  # noqa: E402

from controller.config import load  # noqa: E402
from controller.core import Inputs  # noqa: E402
from controller.engine import GroupCore  # noqa: E402
from controller.telemetry import Telemetry  # noqa: E402
from controller.traffic import TrafficGenerator  # noqa: E402
from hil.broker import Mosquitto, missing  # noqa: E402
from hil.city_demo import CityDemo  # noqa: E402

CONFIG = ROOT / "examples" / "astana_cis.toml"
STEP = 0.1


class Cabinet:
    def __init__(self, cfg, n: int, epoch: float):
        self.group = f"cab-{n:03d}"
        self.start = 7 * 3600.0 + round(n * 1.7 % 90, 1)      # staggered stage changes
        self.core = GroupCore(cfg, start=self.start)
        self.inter = cfg.intersections[0]
        self.traffic = TrafficGenerator(self.inter, seed=n, start=int(self.start * 10))
        self.tel = Telemetry(cfg, self.group)
        self.epoch = epoch - self.start                      # street time -> Unix time
        self.seq = 0
        self.aspects: dict[str, int] = {}
        self.client: aiomqtt.Client | None = None

    def step(self, k: int) -> list:
        now = round(self.start + k * STEP, 1)
        iid = self.inter.id
        on = self.traffic.presence(int(round(now * 10)), self.aspects, True)
        out = self.core.step(now, {iid: Inputs(on, frozenset())})[iid]
        self.aspects = out.aspects
        ts = self.epoch + now
        core = self.core.cores[iid]
        msgs = self.tel.events(ts, iid, ((self.epoch + e.t, e.code, e.param)
                                         for e in out.events))
        return msgs + self.tel.intersection(ts, iid, core.state, out.aspects, None)


class StreamTimer(threading.Thread):
    """Reads the city's server-sent events; the monotonic time each state was shown."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.seen: dict[tuple[str, float], float] = {}
        self.ready = threading.Event()

    def run(self) -> None:
        with urllib.request.urlopen(self.url, timeout=600) as s:
            self.ready.set()
            kind = None
            for raw in s:
                line = raw.decode()
                if line.startswith("event: "):
                    kind = line[7:].strip()
                elif line.startswith("data: ") and kind == "intersection":
                    d = json.loads(line[6:])
                    self.seen.setdefault((d["id"], round(d["updated"], 1)), time.monotonic())


def cpu_mem(pid: int) -> tuple[float, float]:
    """CPU seconds used and resident MB of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = next(int(x.split()[1]) for x in Path(f"/proc/{pid}/status").read_text().splitlines()
               if x.startswith("VmRSS:"))
    return cpu, rss / 1024


async def drive(cabs: list[Cabinet], broker_port: int, seconds: float, warmup: float,
                sent: dict, counts: dict) -> None:
    for c in cabs:
        c.client = aiomqtt.Client("127.0.0.1", broker_port, identifier=c.group, keepalive=60,
                                  max_inflight_messages=1000)
        await c.client.__aenter__()
        await c.client.publish(f"smartcross/{c.group}/status", "online", qos=1, retain=True)
    m0 = time.monotonic()
    k, pending = 0, set()
    while True:
        t = k * STEP
        if t > warmup + seconds:
            break
        measuring = t >= warmup
        for c in cabs:
            for m in c.step(k):
                c.seq += 1
                payload = json.dumps({"seq": c.seq, **m.payload})
                if measuring and m.topic.endswith("/state"):
                    sent[(f"{c.group}.{c.inter.id}", round(m.payload["ts"], 1))] = \
                        time.monotonic()
                counts["published"] += measuring
                task = asyncio.create_task(c.client.publish(m.topic, payload, qos=1,
                                                            retain=m.retain))
                pending.add(task)
                task.add_done_callback(pending.discard)
        k += 1
        wait = m0 + k * STEP - time.monotonic()
        if wait < 0:
            counts["late_ticks"] += 1
        await asyncio.sleep(max(wait, 0))
    await asyncio.gather(*pending, return_exceptions=True)
    for c in cabs:
        await c.client.__aexit__(None, None, None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cabinets", type=int, default=200)
    p.add_argument("--seconds", type=float, default=60.0, help="measured seconds (60)")
    p.add_argument("--warmup", type=float, default=15.0, help="seconds before measuring (15)")
    args = p.parse_args()
    if missing():
        sys.exit(f"city_load: {missing()}")
    cfg = load(CONFIG)
    epoch = time.time()
    cabs = [Cabinet(cfg, n, epoch) for n in range(args.cabinets)]
    with Mosquitto() as broker:
        city = CityDemo(Path(tempfile.mkdtemp(prefix="city-load-")), broker.url)
        city.start()
        if city.note:
            sys.exit(f"city_load: {city.note}")
        timer = StreamTimer(city.url + "api/stream")
        timer.start()
        timer.ready.wait(60)
        sent: dict = {}
        counts = {"published": 0, "late_ticks": 0}
        h0 = city.get("/api/health")
        cpu0, _ = cpu_mem(city.proc.pid)
        t0 = time.monotonic()
        asyncio.run(drive(cabs, broker.port, args.seconds, args.warmup, sent, counts))
        end = time.monotonic() + 30
        while time.monotonic() < end and not set(sent) <= set(timer.seen):
            time.sleep(0.1)
        wall = time.monotonic() - t0
        cpu1, rss = cpu_mem(city.proc.pid)
        h1 = city.get("/api/health")
        city.close()
    lat = sorted((timer.seen[key] - t) * 1000 for key, t in sent.items() if key in timer.seen)
    lost = len(sent) - len(lat)
    received = h1["received"] - h0["received"]
    print(f"cabinets: {args.cabinets} (the timing core of {CONFIG.name}, real time, "
          f"{counts['late_ticks']} late 0.1 s ticks of the generator)")
    print(f"published while measured: {counts['published']} messages in {args.seconds:g} s = "
          f"{counts['published'] / args.seconds:,.0f} msg/s; city received {received} "
          f"({received / wall:,.0f} msg/s over the whole run), rejected "
          f"{sum(h1['rejected'].values())}")
    print(f"state changes timed: {len(sent)}, lost: {lost}; e2e median "
          f"{lat[len(lat) // 2]:.0f} ms, max {lat[-1]:.0f} ms")
    print(f"city service: CPU {100 * (cpu1 - cpu0) / wall:.0f} % of a core, RSS {rss:.0f} MB")
    print(f"city_e2e_p99: {lat[int(len(lat) * 0.99)]:.0f} ms")


if __name__ == "__main__":
    main()
