"""SUMO networks the importer has never seen, built with netconvert from plain XML.

Each builder writes `<name>.net.xml`, induction loops on every approach lane of every
signal (2 m and, where the lane is long enough, 40 m before the stop line) and a route
file of flows between the network's ends, and returns their paths.
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Net:
    net: str
    detectors: str
    routes: str
    sumocfg: str
    signals: list[str]


def sumo_bin(name: str) -> str:
    import sumo

    return os.path.join(sumo.SUMO_HOME, "bin", name)


def build(folder: Path, name: str, nodes: list[tuple], edges: list[tuple],
          flows: list[tuple[str, str, float]], extra_netconvert: tuple = (),
          walks: list[tuple[str, str, float]] = ()) -> Net:
    """nodes: (id, x, y, type); edges: (id, from, to, lanes, speed[, priority])."""
    folder.mkdir(parents=True, exist_ok=True)
    nod, edg = folder / f"{name}.nod.xml", folder / f"{name}.edg.xml"
    nod.write_text("<nodes>\n" + "".join(
        f'  <node id="{i}" x="{x}" y="{y}" type="{t}"/>\n' for i, x, y, t in nodes) + "</nodes>\n")
    edg.write_text("<edges>\n" + "".join(
        f'  <edge id="{e[0]}" from="{e[1]}" to="{e[2]}" numLanes="{e[3]}" speed="{e[4]}" '
        f'priority="{e[5] if len(e) > 5 else 1}"/>\n' for e in edges) + "</edges>\n")
    net = folder / f"{name}.net.xml"
    subprocess.run([sumo_bin("netconvert"), "-n", str(nod), "-e", str(edg), "-o", str(net),
                    "--no-turnarounds", "true", "--offset.disable-normalization", "true",
                    "--tls.default-type", "static", *extra_netconvert],
                   check=True, capture_output=True)
    signals, loops = _loops(net)
    det = folder / f"{name}.det.add.xml"
    det.write_text("<additional>\n" + "".join(
        f'  <inductionLoop id="{lid}" lane="{lane}" pos="{pos:.2f}" period="3600" file="NUL"/>\n'
        for lid, lane, pos in loops) + "</additional>\n")
    rou = folder / f"{name}.rou.xml"
    rou.write_text('<routes>\n  <vType id="car" accel="2.6" decel="4.5" sigma="0.5" length="5" '
                   'minGap="2.5"/>\n' + "".join(
                       f'  <flow id="f{k}" type="car" begin="0" end="3600" from="{a}" to="{b}" '
                       f'vehsPerHour="{q:g}" departLane="best" departSpeed="max"/>\n'
                       for k, (a, b, q) in enumerate(flows)) + "".join(
                       f'  <personFlow id="p{k}" begin="0" end="3600" period="{3600 / q:g}">'
                       f'<walk from="{a}" to="{b}"/></personFlow>\n'
                       for k, (a, b, q) in enumerate(walks)) + "</routes>\n")
    cfg = folder / f"{name}.sumocfg"
    cfg.write_text(f"""<configuration>
  <input><net-file value="{net.name}"/><route-files value="{rou.name}"/>
    <additional-files value="{det.name}"/></input>
  <time><begin value="0"/><end value="7200"/><step-length value="1"/></time>
  <processing><time-to-teleport value="300"/><ignore-junction-blocker value="20"/></processing>
  <report><no-step-log value="true"/><no-warnings value="true"/></report>
</configuration>
""")
    return Net(str(net), str(det), str(rou), str(cfg), signals)


def _loops(net: Path) -> tuple[list[str], list[tuple[str, str, float]]]:
    root = ET.parse(net).getroot()
    tls = {}
    for c in root.iter("connection"):
        if c.get("tl") is not None and not c.get("from").startswith(":"):
            tls.setdefault(c.get("tl"), set()).add(f"{c.get('from')}_{c.get('fromLane')}")
    lengths = {ln.get("id"): float(ln.get("length")) for ln in root.iter("lane")
               if ln.get("allow") != "pedestrian"}
    loops = []
    for lanes in tls.values():
        for lane in sorted(lanes):
            if lane not in lengths:
                continue
            length = lengths[lane]
            loops.append((f"{lane}_d2", lane, length - 2.0))
            if length > 60.0:
                loops.append((f"{lane}_d40", lane, length - 40.0))
    return sorted(tls), loops


def t_junction(folder: Path) -> Net:
    """A T: the main road west-east (2 lanes each way), a side road from the south."""
    nodes = [("W", -400, 0, "priority"), ("C", 0, 0, "traffic_light"), ("E", 400, 0, "priority"),
             ("S", 0, -300, "priority")]
    edges = [("W_C", "W", "C", 2, 13.89, 3), ("C_W", "C", "W", 2, 13.89, 3),
             ("E_C", "E", "C", 2, 13.89, 3), ("C_E", "C", "E", 2, 13.89, 3),
             ("S_C", "S", "C", 1, 11.11), ("C_S", "C", "S", 1, 11.11)]
    flows = [("W_C", "C_E", 600), ("E_C", "C_W", 500), ("W_C", "C_S", 80), ("E_C", "C_S", 90),
             ("S_C", "C_E", 120), ("S_C", "C_W", 100)]
    return build(folder, "tee", nodes, edges, flows)


def uneven_corridor(folder: Path) -> Net:
    """Four signals at uneven spacing (150, 420, 230 m), three lanes on the main road,
    one-lane side streets; netconvert's own lane use and signal programs."""
    xs = [0, 150, 570, 800]
    nodes = [("W", -300, 0, "priority"), ("E", 1100, 0, "priority")]
    edges = []
    for k, x in enumerate(xs):
        nodes += [(f"J{k}", x, 0, "traffic_light"), (f"N{k}", x, 200, "priority"),
                  (f"S{k}", x, -200, "priority")]
        edges += [(f"N{k}_J{k}", f"N{k}", f"J{k}", 1, 11.11), (f"J{k}_N{k}", f"J{k}", f"N{k}", 1, 11.11),
                  (f"S{k}_J{k}", f"S{k}", f"J{k}", 1, 11.11), (f"J{k}_S{k}", f"J{k}", f"S{k}", 1, 11.11)]
    chain = ["W"] + [f"J{k}" for k in range(len(xs))] + ["E"]
    for a, b in zip(chain, chain[1:]):
        edges += [(f"{a}_{b}", a, b, 3, 13.89, 3), (f"{b}_{a}", b, a, 3, 13.89, 3)]
    flows = [("W_J0", "J3_E", 900), ("E_J3", "J0_W", 700)]
    for k in range(len(xs)):
        flows += [(f"N{k}_J{k}", f"J{k}_S{k}", 100), (f"S{k}_J{k}", f"J{k}_N{k}", 90)]
    return build(folder, "uneven", nodes, edges, flows)


def skewed_five_leg(folder: Path) -> Net:
    """A skewed five-leg junction with single-lane approaches (shared lanes for every turn)."""
    nodes = [("C", 0, 0, "traffic_light"), ("A", -300, 20, "priority"), ("B", 290, -30, "priority"),
             ("N", 40, 300, "priority"), ("S", -30, -300, "priority"), ("NE", 220, 220, "priority")]
    edges = []
    for o in ("A", "B", "N", "S", "NE"):
        edges += [(f"{o}_C", o, "C", 1, 13.89), (f"C_{o}", "C", o, 1, 13.89)]
    flows = [("A_C", "C_B", 300), ("B_C", "C_A", 300), ("N_C", "C_S", 150), ("S_C", "C_N", 150),
             ("NE_C", "C_A", 100)]
    return build(folder, "fiveleg", nodes, edges, flows)


def t_junction_with_crossings(folder: Path) -> Net:
    """The T-junction with sidewalks and signalled pedestrian crossings on every leg."""
    nodes = [("W", -400, 0, "priority"), ("C", 0, 0, "traffic_light"), ("E", 400, 0, "priority"),
             ("S", 0, -300, "priority")]
    edges = [("W_C", "W", "C", 2, 13.89, 3), ("C_W", "C", "W", 2, 13.89, 3),
             ("E_C", "E", "C", 2, 13.89, 3), ("C_E", "C", "E", 2, 13.89, 3),
             ("S_C", "S", "C", 1, 11.11), ("C_S", "C", "S", 1, 11.11)]
    flows = [("W_C", "C_E", 600), ("E_C", "C_W", 500), ("W_C", "C_S", 80), ("E_C", "C_S", 90),
             ("S_C", "C_E", 120), ("S_C", "C_W", 100)]
    walks = [("W_C", "C_S", 60), ("E_C", "C_W", 60), ("S_C", "C_E", 40)]
    return build(folder, "teeped", nodes, edges, flows, ("--sidewalks.guess", "true",
                                                          "--crossings.guess", "true"), walks)
