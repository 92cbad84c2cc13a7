"""A SUMO scenario with emergency vehicles and a bus line, for preemption and transit priority.

One signalised junction `C`, four legs of 500 m, two lanes each way at 50 km/h; on every
approach lane 0 is through + right and lane 1 an exclusive left (as the shared kit's
`single`, built here from our own plain XML). The main street runs west-east.

Vehicles (one route file per seed, `random.Random` with a string seed: the same vehicles on
every machine and in both runs of a comparison):

- cars (vClass passenger): Poisson streams, main 800 veh/h per approach, side 300, turning
  15 % left and 10 % right (the kit's base flows);
- emergency vehicles (vType `ambulance`, vClass emergency, at the speed limit, no
  blue-light device and no overtaking: they obey the signals and keep to the through lane,
  so what they lose is what the signals and the queues ahead cost them): a Poisson stream
  of `EV_PER_H` through movements, origin drawn over the four legs;
- buses (vType `bus`, vClass bus), line 1 west-east and back every `BUS_HEADWAY_S`, each
  stopping 20 s at a near stop 340 m before the junction and a far-side stop 90 m after it.

Detectors that see only their vehicle type (SUMO's `vTypes` on the detector):

- preemption: a lane-area detector (E2) `pre_<leg>` on the through lane from
  `PREEMPT_RANGE_M` (200 m) to 1 m before the stop line, `vTypes="ambulance"`: on while an
  emergency vehicle is on it, as an optical or radio preempt receiver holds its input
  while the vehicle approaches;
- transit priority: a check-in loop `tsp_in_<leg>` `CHECKIN_M` (250 m, past the near
  stop) before the stop line and a check-out loop `tsp_out_<leg>` 10 m past the junction,
  `vTypes="bus"`, on the main street.

Plus the usual loops 2 m and 40 m before every stop line (all vehicles), which the importer
turns into the plan's detectors.

    python bench/priority_scenario.py OUT_DIR --seed 1     # net, detectors, routes, sumocfg
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

LEG_M = 500.0
SPEED = 13.89
LEGS = {"W": (-LEG_M, 0.0), "E": (LEG_M, 0.0), "N": (0.0, LEG_M), "S": (0.0, -LEG_M)}
MAIN = ("W", "E")
# leaving through each leg: right, through, left exit for a vehicle from that leg
TURN_TO = {"W": ("S", "E", "N"), "E": ("N", "W", "S"), "N": ("W", "S", "E"), "S": ("E", "N", "W")}
CAR_PER_H = {"W": 800.0, "E": 800.0, "N": 300.0, "S": 300.0}
LEFT, RIGHT = 0.15, 0.10
EV_PER_H = 12.0
BUS_HEADWAY_S = 360.0
DURATION_S = 3600.0
PREEMPT_RANGE_M = 200.0
CHECKIN_M = 250.0
CHECKOUT_M = 10.0
VTYPES = """  <vType id="car" vClass="passenger" accel="2.6" decel="4.5" sigma="0.5" tau="1.0"
         length="5.0" minGap="2.5" speedFactor="normc(1.00,0.10,0.20,2.00)"/>
  <vType id="ambulance" vClass="emergency" accel="2.6" decel="4.5" sigma="0.2" length="6.5"
         minGap="2.5" speedFactor="1.0" lcSpeedGain="0" guiShape="emergency"/>
  <vType id="bus" vClass="bus" accel="1.2" decel="4.0" sigma="0.2" length="12.0" minGap="3.0"
         speedFactor="1.0" lcSpeedGain="0" guiShape="bus"/>
"""


@dataclass
class Scenario:
    net: str
    detectors: str          # the ordinary loops (what import-sumo reads)
    priority: str           # preempt and TSP detectors, bus stops
    routes: str
    sumocfg: str


def sumo_bin(name: str) -> str:
    import sumo

    return os.path.join(sumo.SUMO_HOME, "bin", name)


def build_network(folder: Path) -> tuple[Path, dict[str, float]]:
    """netconvert from plain XML; returns the net and the length of each approach lane."""
    nod, edg, con = (folder / f"prio.{x}.xml" for x in ("nod", "edg", "con"))
    nod.write_text('<nodes>\n  <node id="C" x="0" y="0" type="traffic_light"/>\n' + "".join(
        f'  <node id="{k}" x="{x}" y="{y}" type="priority"/>\n' for k, (x, y) in LEGS.items())
        + "</nodes>\n")
    edges = []
    for k in LEGS:
        prio = 3 if k in MAIN else 2
        edges.append(f'  <edge id="{k}_C" from="{k}" to="C" numLanes="2" speed="{SPEED}" '
                     f'priority="{prio}"/>\n')
        edges.append(f'  <edge id="C_{k}" from="C" to="{k}" numLanes="2" speed="{SPEED}" '
                     f'priority="{prio}"/>\n')
    edg.write_text("<edges>\n" + "".join(edges) + "</edges>\n")
    cons = []
    for k, (right, through, left) in TURN_TO.items():
        cons.append(f'  <connection from="{k}_C" to="C_{right}" fromLane="0" toLane="0"/>\n')
        cons.append(f'  <connection from="{k}_C" to="C_{through}" fromLane="0" toLane="0"/>\n')
        cons.append(f'  <connection from="{k}_C" to="C_{left}" fromLane="1" toLane="1"/>\n')
    con.write_text("<connections>\n" + "".join(cons) + "</connections>\n")
    net = folder / "prio.net.xml"
    subprocess.run([sumo_bin("netconvert"), "-n", str(nod), "-e", str(edg), "-x", str(con),
                    "-o", str(net), "--no-turnarounds", "true", "--offset.disable-normalization",
                    "true", "--tls.default-type", "static", "--no-internal-links", "false"],
                   check=True, capture_output=True)
    import sumolib

    n = sumolib.net.readNet(str(net))
    lengths = {f"{k}_C": n.getEdge(f"{k}_C").getLength() for k in LEGS}
    return net, lengths


def write_detectors(folder: Path, lengths: dict[str, float]) -> tuple[Path, Path]:
    det = folder / "prio.det.add.xml"
    loops = []
    for edge, length in sorted(lengths.items()):
        for lane in (0, 1):
            for d in (2, 40):
                loops.append(f'  <inductionLoop id="{edge}_{lane}_d{d}" lane="{edge}_{lane}" '
                             f'pos="{length - d:.2f}" period="3600" file="NUL"/>\n')
    det.write_text("<additional>\n" + "".join(loops) + "</additional>\n")
    pri = folder / "prio.priority.add.xml"
    items = []
    for k in LEGS:
        length = lengths[f"{k}_C"]
        items.append(f'  <laneAreaDetector id="pre_{k}" lane="{k}_C_0" '
                     f'pos="{length - PREEMPT_RANGE_M:.2f}" endPos="{length - 1:.2f}" '
                     'vTypes="ambulance" period="3600" file="NUL"/>\n')
    for k in MAIN:
        length = lengths[f"{k}_C"]
        through = TURN_TO[k][1]
        items.append(f'  <inductionLoop id="tsp_in_{k}" lane="{k}_C_0" '
                     f'pos="{length - CHECKIN_M:.2f}" vTypes="bus" period="3600" file="NUL"/>\n')
        items.append(f'  <inductionLoop id="tsp_out_{k}" lane="C_{through}_0" '
                     f'pos="{CHECKOUT_M:.2f}" vTypes="bus" period="3600" file="NUL"/>\n')
        items.append(f'  <busStop id="near_{k}" lane="{k}_C_0" startPos="130" endPos="150" '
                     'lines="1"/>\n')
        items.append(f'  <busStop id="far_{k}" lane="C_{through}_0" startPos="70" endPos="90" '
                     'lines="1"/>\n')
    pri.write_text("<additional>\n" + "".join(items) + "</additional>\n")
    return det, pri


def write_routes(path: Path, seed: int, ev_per_h: float = EV_PER_H,
                 bus_headway_s: float = BUS_HEADWAY_S, duration_s: float = DURATION_S,
                 evs: list[tuple[float, str]] | None = None) -> None:
    """Cars, emergency vehicles and buses of one seed, sorted by departure; `evs`: the
    emergency vehicles' (departure, leg) instead of the Poisson stream (tests)."""
    rng = random.Random(f"priority:{seed}")
    trips: list[tuple[float, str]] = []
    for k, rate in CAR_PER_H.items():
        t, n = 0.0, 0
        while True:
            t += rng.expovariate(rate / 3600.0)
            if t >= duration_s:
                break
            u = rng.random()
            to = TURN_TO[k][2] if u < LEFT else TURN_TO[k][0] if u < LEFT + RIGHT else TURN_TO[k][1]
            trips.append((t, f'id="car_{k}{n}" type="car" depart="{t:.1f}" from="{k}_C" '
                             f'to="C_{to}" departLane="best" departSpeed="max"/>'))
            n += 1
    if evs is None:
        evs, t = [], 0.0
        while ev_per_h > 0:
            t += rng.expovariate(ev_per_h / 3600.0)
            if t >= duration_s:
                break
            evs.append((t, rng.choice(sorted(LEGS))))
    for n, (t, k) in enumerate(evs):
        trips.append((t, f'id="ev_{n}" type="ambulance" depart="{t:.1f}" from="{k}_C" '
                         f'to="C_{TURN_TO[k][1]}" departLane="0" departSpeed="max"/>'))
    for j, k in enumerate(MAIN):
        t = rng.uniform(0.0, bus_headway_s) + 0.5 * j
        n = 0
        while t < duration_s:
            through = TURN_TO[k][1]
            trips.append((t, f'id="bus_{k}{n}" type="bus" depart="{t:.1f}" from="{k}_C" '
                             f'to="C_{through}" departLane="0" departSpeed="max" line="1">'
                             f'<stop busStop="near_{k}" duration="20"/>'
                             f'<stop busStop="far_{k}" duration="20"/></trip>'))
            t += bus_headway_s
            n += 1
    trips.sort(key=lambda x: x[0])
    path.write_text("<routes>\n" + VTYPES + "".join(f"  <trip {a}\n" for _, a in trips)
                    + "</routes>\n")


def build(folder: str | Path, seed: int = 1, **demand) -> Scenario:
    """Everything one run needs, in `folder`: the network, both additional files, the routes
    of `seed` and a SUMO configuration (the shared kit's run settings)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    net, lengths = build_network(folder)
    det, pri = write_detectors(folder, lengths)
    rou = folder / f"prio_seed{seed}.rou.xml"
    write_routes(rou, seed, **demand)
    cfg = folder / "prio.sumocfg"
    cfg.write_text(f"""<configuration>
  <input><net-file value="{net.name}"/><route-files value="{rou.name}"/>
    <additional-files value="{det.name},{pri.name}"/></input>
  <time><begin value="0"/><end value="7200"/><step-length value="1"/></time>
  <processing><time-to-teleport value="300"/><ignore-junction-blocker value="20"/></processing>
  <random_number><seed value="{seed}"/></random_number>
  <report><no-step-log value="true"/><no-warnings value="true"/></report>
</configuration>
""")
    return Scenario(str(net), str(det), str(pri), str(rou), str(cfg))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    s = build(a.folder, a.seed)
    print(s.sumocfg)


if __name__ == "__main__":
    main()
