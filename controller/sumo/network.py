"""What a SUMO network says about its traffic lights, in plain data.

`read_network(net, detector_files)` returns one `Signal` per traffic light (`tlLogic`):
its links (SUMO link indices) with the lanes, turn direction, approach heading and the
path each takes through the junction, which links are foes and which gives way to which
(the junction's right-of-way logic), and the induction loops on its approach lanes.
Nothing here knows about signal groups; `importer.py` builds those from this.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from . import SumoError

Point = tuple[float, float]

LEFT, THROUGH, RIGHT, UTURN = "L", "T", "R", "U"
TURN_OF_DIR = {"l": LEFT, "L": LEFT, "s": THROUGH, "r": RIGHT, "R": RIGHT, "t": UTURN}


class NetworkError(SumoError):
    """The network (or detector file) cannot be used; the message says why."""


@dataclass
class Link:
    index: int                   # SUMO link index within the traffic light's state string
    junction: str
    jindex: int                  # index in the junction's right-of-way (request) table
    from_edge: str
    from_lane: str
    to_lane: str
    turn: str                    # L, T, R or U
    path: list[Point]            # centre line through the junction
    heading: float               # travel direction at the stop line, degrees, 0 = east, ccw
    speed: float                 # approach lane speed limit, m/s
    edge_priority: int
    inside_speed: float = 13.89  # speed limit through the junction (internal lanes), m/s
    pedestrian: bool = False     # a pedestrian crossing (from a walking area)
    crossing_m: float = 0.0      # its length


@dataclass
class Loop:
    id: str
    lane: str
    to_stop_m: float             # distance from the loop to the stop line


@dataclass
class Signal:
    id: str
    links: list[Link]                                     # one entry per (index, connection)
    foes: set[tuple[int, int]] = field(default_factory=set)      # link indices, both orders
    yields: set[tuple[int, int]] = field(default_factory=set)    # (a, b): a gives way to b
    loops: list[Loop] = field(default_factory=list)
    lanes: dict[str, float] = field(default_factory=dict)       # approach lane -> length m
    position: Point = (0.0, 0.0)

    @property
    def size(self) -> int:
        return max(lk.index for lk in self.links) + 1


@dataclass
class Network:
    signals: list[Signal]
    # signals joined by a road without another signal between them: travel time (s) and
    # length (m) from stop line to stop line, and the first edge of that road
    neighbours: dict[tuple[str, str], tuple[float, float, str]]


def _heading(shape: list[Point]) -> float:
    (x0, y0), (x1, y1) = shape[-2], shape[-1]
    return math.degrees(math.atan2(y1 - y0, x1 - x0)) % 360.0


TLS_JUNCTIONS = ("traffic_light", "traffic_light_unregulated", "traffic_light_right_on_red")


def _load(net_path: str):
    """The network as sumolib reads it: internal lanes (the paths through junctions),
    pedestrian crossings and the traffic-light programs included."""
    import xml.sax

    import sumolib

    try:
        open(net_path, "rb").close()   # sumolib takes a missing file for an unknown URL
        net = sumolib.net.readNet(net_path, withInternal=True, withPedestrianConnections=True,
                                  withPrograms=True)
    except (OSError, xml.sax.SAXException, KeyError, ValueError) as e:
        what = f"missing attribute {e}" if isinstance(e, KeyError) else e
        raise NetworkError(f"{net_path}: cannot read the network: {what}") from None
    if net.getVersion() is None:
        tag = next(ET.iterparse(net_path, events=("start",)))[1].tag
        raise NetworkError(f"{net_path}: not a SUMO network (root element <{tag}>)")
    return net


def _tables(net) -> tuple[dict, dict, dict, dict]:
    """lanes and edges as plain dicts, approach lanes' connections in file order (the
    order netconvert numbers junction links), and internal lane -> next internal lane."""
    lanes: dict[str, dict] = {}
    edges: dict[str, dict] = {}
    by_lane: dict[str, list] = {}
    internal_next: dict[str, str] = {}
    for e in net.getEdges(withInternal=True):
        function = e.getFunction() or "normal"
        normal = function == "normal"
        edges[e.getID()] = {"function": function, "priority": e.getPriority(),
                            "from": e.getFromNode().getID() if normal else None,
                            "to": e.getToNode().getID() if normal else None}
        for ln in e.getLanes():
            lanes[ln.getID()] = {"edge": e.getID(), "length": ln.getLength(),
                                 "speed": ln.getSpeed(), "shape": list(ln.getShape()),
                                 "index": ln.getIndex()}
            for c in ln.getOutgoing():
                if function != "internal":
                    by_lane.setdefault(ln.getID(), []).append(c)
                elif c.getViaLaneID():
                    internal_next[ln.getID()] = c.getViaLaneID()
    return lanes, edges, by_lane, internal_next


def _request_links(node) -> list:
    """The connections of a junction in the order of its right-of-way (request) table:
    incoming lanes in order, their connections in order; none into walking areas, and from
    a walking area only the crossings (sumolib's Node.getLinkIndex counts them so)."""
    out = [c for c in node.getConnections()
           if c.getTo().getFunction() != "walkingarea"
           and (c.getFrom().getFunction() != "walkingarea"
                or c.getTo().getFunction() == "crossing")]
    index = {c: c.getJunctionIndex() for c in out}     # -1: not in the table (internal)
    return sorted((c for c in out if index[c] >= 0), key=index.__getitem__)


def _link(c, jid: str, k: int, lanes: dict, edges: dict, internal_next: dict) -> Link:
    fl, tlane = c.getFromLane().getID(), c.getToLane().getID()
    path: list[Point] = []
    via = c.getViaLaneID()
    seen = set()
    inside = lanes[fl]["speed"]
    while via and via in lanes and via not in seen:
        seen.add(via)
        path += lanes[via]["shape"]
        inside = min(inside, lanes[via]["speed"])
        via = internal_next.get(via)
    src, dst = lanes[fl]["shape"], lanes.get(tlane, {}).get("shape") or []
    if not path:
        path = [src[-1]] + ([dst[0]] if dst else [])
    crossing = edges[c.getTo().getID()]["function"] == "crossing"
    if crossing:        # a pedestrian crossing: its path is the crossing itself
        path = list(lanes[tlane]["shape"])
        src = path
    return Link(c.getTLLinkIndex(), jid, k, c.getFrom().getID(), fl, tlane,
                TURN_OF_DIR.get(c.getDirection() or "s", THROUGH), path, _heading(src),
                lanes[fl]["speed"], edges[c.getFrom().getID()]["priority"], inside,
                pedestrian=crossing, crossing_m=lanes[tlane]["length"] if crossing else 0.0)


def _junction(node, signals: dict[str, Signal], tables: tuple) -> None:
    """The links of one signalised junction, and its foes and who yields to whom."""
    lanes, edges, _, internal_next = tables
    jlinks = _request_links(node)
    jl: list[tuple[int, Link, Signal]] = []
    for k, c in enumerate(jlinks):
        tl = c.getTLSID()
        if not tl or c.getTLLinkIndex() < 0 or tl not in signals:
            continue
        link = _link(c, node.getID(), k, lanes, edges, internal_next)
        sig = signals[tl]
        jl.append((k, link, sig))
        sig.links.append(link)
        if not link.pedestrian:
            sig.lanes[link.from_lane] = lanes[link.from_lane]["length"]
        sig.position = node.getCoord()
    for k, a, sig in jl:
        for m, b, sig_b in jl:
            if m == k or sig_b is not sig:
                continue
            try:
                foes = node.areFoes(k, m)
            except KeyError:            # no request row for link k
                break
            if foes:
                sig.foes.add((a.index, b.index))
                sig.foes.add((b.index, a.index))
            if node.forbids(jlinks[m], jlinks[k]):
                sig.yields.add((a.index, b.index))


def read_network(net_path: str, detector_paths: list[str] = ()) -> Network:
    """Read the traffic lights of a `.net.xml` (with sumolib) and the induction loops of
    additional files."""
    net = _load(net_path)
    tls_ids = [t.getID() for t in net.getTrafficLights() if t.getPrograms()]
    if not tls_ids:
        raise NetworkError(f"{net_path}: the network has no traffic lights (no <tlLogic>)")
    tables = _tables(net)
    lanes, edges, by_lane, _ = tables
    signals: dict[str, Signal] = {t: Signal(t, []) for t in tls_ids}
    # junctions in the order of the file (netconvert writes them sorted by id)
    junctions = {n.getID(): n for n in sorted(net.getNodes(), key=lambda n: n.getID())}
    for node in junctions.values():
        if node.getType() in TLS_JUNCTIONS:
            _junction(node, signals, tables)
    # a traffic light whose junctions are not in the network (or have no links): drop it
    for t in list(signals):
        if not signals[t].links:
            del signals[t]
    if not signals:
        raise NetworkError(f"{net_path}: no traffic light controls any connection")
    for s in signals.values():
        s.links.sort(key=lambda lk: (lk.index, lk.jindex))

    _read_loops(detector_paths, lanes, signals)
    types = {jid: n.getType() for jid, n in junctions.items()}
    return Network(list(signals.values()), _neighbours(signals, edges, lanes, by_lane, types))


def _read_loops(paths, lanes, signals: dict[str, Signal]) -> None:
    by_lane = {ln: s for s in signals.values() for ln in s.lanes}
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as e:
            raise NetworkError(f"{path}: cannot read the detector file: {e}") from None
        for el in root.iter():
            if el.tag not in ("inductionLoop", "e1Detector"):
                continue
            lane = el.get("lane")
            if lane not in lanes:
                raise NetworkError(f"{path}: loop {el.get('id')} is on lane {lane!r}, "
                                   "which the network does not have")
            sig = by_lane.get(lane)
            if sig is None:
                continue            # not on an approach lane of a traffic light
            length = lanes[lane]["length"]
            pos = float(el.get("pos", "0"))
            if pos < 0:
                pos += length
            sig.loops.append(Loop(el.get("id"), lane, max(0.0, length - pos)))


def _neighbours(signals, edges, lanes, by_lane, junctions) -> dict:
    """Signals joined by a chain of edges with no other signal: (travel time s, length m,
    first edge), stop line to stop line (the path through the first junction included)."""
    node_tls = {}
    for s in signals.values():
        for lk in s.links:
            node_tls[lk.junction] = s.id
    out_edges: dict[str, list[str]] = {}
    for eid, e in edges.items():
        if e["function"] == "normal" and e["from"]:
            out_edges.setdefault(e["from"], []).append(eid)
    edge_len = {}
    for ln in lanes.values():
        e = ln["edge"]
        if edges[e]["function"] == "normal":
            t = ln["length"] / max(ln["speed"], 0.1)
            old = edge_len.get(e)
            if old is None or ln["length"] > old[1]:
                edge_len[e] = (t, ln["length"])
    result: dict[tuple[str, str], tuple[float, float, str]] = {}
    for s in signals.values():
        starts = {lk.junction for lk in s.links}
        for j in starts:
            stack = []
            for e in out_edges.get(j, []):
                # through the junction first: the longest path of a link onto this edge
                inside = [_length(lk.path) for lk in s.links
                          if lk.junction == j and lanes.get(lk.to_lane, {}).get("edge") == e]
                d = max(inside, default=0.0)
                speed = edge_len.get(e, (1.0, 13.89))[1] / max(edge_len.get(e, (1.0, 1.0))[0], 0.1)
                stack.append((e, d / max(speed, 0.1), d, 0, e))
            while stack:
                e, tt, ll, depth, first = stack.pop()
                if e not in edge_len or depth > 8:
                    continue
                t1, l1 = tt + edge_len[e][0], ll + edge_len[e][1]
                dst = edges[e]["to"]
                other = node_tls.get(dst)
                if other is not None:
                    if other != s.id:
                        key = (s.id, other)
                        if key not in result or result[key][0] > t1:
                            result[key] = (round(t1, 1), round(l1, 1), first)
                    continue
                if junctions.get(dst) == "dead_end":
                    continue
                for e2 in out_edges.get(dst, []):
                    if edges[e2]["to"] != edges[e]["from"]:
                        stack.append((e2, t1, l1, depth + 1, first))
    return result


def _length(path: list[Point]) -> float:
    return sum(math.hypot(x1 - x0, y1 - y0) for (x0, y0), (x1, y1) in zip(path, path[1:]))


def loop_files_in(paths: list[str]) -> list[str]:
    """The additional files among `paths` that define induction loops."""
    out = []
    for p in paths:
        if not os.path.exists(p):
            continue
        try:
            for _, el in ET.iterparse(p, events=("start",)):
                if el.tag in ("inductionLoop", "e1Detector"):
                    out.append(p)
                    break
        except ET.ParseError:
            continue
        except OSError as e:
            raise NetworkError(f"{p}: cannot read the additional file: {e.strerror or e}") \
                from None
    return out
