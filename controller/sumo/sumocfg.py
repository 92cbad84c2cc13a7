"""What a SUMO configuration file and route files say, as far as a run needs it."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from . import SumoError


class SumoConfigError(SumoError):
    """A SUMO configuration or route file that cannot be used; the message says why."""


def check_xml(path: str, what: str) -> None:
    """Before SUMO starts: a file SUMO will be given is readable XML, else SumoConfigError
    naming it (SUMO itself would only say "Process Error")."""
    try:
        for _ in ET.iterparse(path):
            pass
    except (OSError, ET.ParseError) as e:
        raise SumoConfigError(f"{path}: cannot read the {what}: "
                              f"{getattr(e, 'strerror', None) or e}") from None


@dataclass
class SumoConfig:
    path: str
    net: str | None = None
    routes: list[str] = field(default_factory=list)
    additional: list[str] = field(default_factory=list)
    begin: float = 0.0
    end: float | None = None
    step_length: float = 1.0


def _paths(value: str, base: str) -> list[str]:
    out = []
    for p in value.replace(";", ",").split(","):
        p = p.strip()
        if p:
            out.append(os.path.normpath(p if os.path.isabs(p) else os.path.join(base, p)))
    return out


def read_sumocfg(path: str) -> SumoConfig:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        raise SumoConfigError(f"{path}: cannot read the SUMO configuration: {e}") from None
    if root.tag != "configuration":
        raise SumoConfigError(f"{path}: not a SUMO configuration (root element <{root.tag}>)")
    base = os.path.dirname(os.path.abspath(path))
    cfg = SumoConfig(os.path.abspath(path))
    for el in root.iter():
        v = el.get("value")
        if v is None:
            continue
        tag = el.tag
        try:
            if tag in ("net-file", "n"):
                cfg.net = _paths(v, base)[0]
            elif tag in ("route-files", "r"):
                cfg.routes = _paths(v, base)
            elif tag in ("additional-files", "a"):
                cfg.additional = _paths(v, base)
            elif tag in ("begin", "b"):
                cfg.begin = float(v)
            elif tag in ("end", "e"):
                cfg.end = float(v) if float(v) >= 0 else None
            elif tag == "step-length":
                cfg.step_length = float(v)
        except (ValueError, IndexError):
            raise SumoConfigError(f"{path}: <{tag}> has an unusable value {v!r}") from None
    if cfg.net is None:
        raise SumoConfigError(f"{path}: names no network (<net-file>)")
    return cfg


def last_departure(route_files: list[str]) -> float:
    """The latest departure any route file schedules (s); 0 when none is known.

    SUMO loads routes in chunks, so 'no vehicle expected' can happen before the demand is
    over; a run is over only after this time and with an empty network.
    """
    last = 0.0
    for path in route_files:
        try:
            for _, el in ET.iterparse(path, events=("end",)):
                tag = el.tag
                if tag in ("vehicle", "trip", "person", "container"):
                    try:
                        last = max(last, float(el.get("depart", "0")))
                    except ValueError:
                        pass
                elif tag == "flow":
                    try:
                        end = el.get("end")     # SUMO's default: an hour after begin
                        last = max(last, float(end) if end is not None
                                   else float(el.get("begin", "0")) + 3600.0)
                    except ValueError:
                        pass
                if tag in ("vehicle", "trip", "flow", "person", "container"):
                    el.clear()
        except (OSError, ET.ParseError) as e:
            raise SumoConfigError(f"{path}: cannot read the routes: {e}") from None
    return last


@dataclass
class Demand:
    """Vehicles per hour on each edge and each pair of consecutive edges (a turn)."""
    edges: dict[str, float]
    turns: dict[tuple[str, str], float]
    hours: float


def route_demand(route_files: list[str]) -> Demand:
    """Hourly flows from route files: vehicles with routes (inline or named) and flows with
    routes; trips without edges cannot be placed and are left out."""
    named: dict[str, list[str]] = {}
    edges: dict[str, float] = {}
    turns: dict[tuple[str, str], float] = {}
    first, last = float("inf"), 0.0

    def add(route: list[str], n: float) -> None:
        for e in route:
            edges[e] = edges.get(e, 0.0) + n
        for a, b in zip(route, route[1:]):
            turns[(a, b)] = turns.get((a, b), 0.0) + n

    for path in route_files:
        try:
            stack: list[ET.Element] = []
            for ev, el in ET.iterparse(path, events=("start", "end")):
                if ev == "start":
                    stack.append(el)
                    continue
                stack.pop()
                if el.tag == "route" and el.get("id") and not (stack and stack[-1].tag in (
                        "vehicle", "flow")):
                    named[el.get("id")] = el.get("edges", "").split()
                elif el.tag in ("vehicle", "flow"):
                    inner = el.find("route")
                    route = (inner.get("edges", "").split() if inner is not None
                             else named.get(el.get("route", ""), []))
                    try:
                        t0 = float(el.get("depart", el.get("begin", "0")))
                    except ValueError:
                        t0 = 0.0
                    n = 1.0
                    if el.tag == "flow":
                        t1 = float(el.get("end", t0 + 3600.0))
                        if el.get("number"):
                            n = float(el.get("number"))
                        elif el.get("vehsPerHour"):
                            n = float(el.get("vehsPerHour")) * (t1 - t0) / 3600.0
                        elif el.get("period"):
                            n = (t1 - t0) / float(el.get("period"))
                        last = max(last, t1)
                    if route:
                        add(route, n)
                    first, last = min(first, t0), max(last, t0)
                    el.clear()
        except (OSError, ET.ParseError, ValueError) as e:
            raise SumoConfigError(f"{path}: cannot read the routes: {e}") from None
    hours = max((last - first) / 3600.0, 1.0 / 60) if last > first else 1.0
    return Demand({k: v / hours for k, v in edges.items()},
                  {k: v / hours for k, v in turns.items()}, hours)
