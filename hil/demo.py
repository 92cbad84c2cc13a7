"""`smartcross demo`: the corridor example on emulated boards, end to end.

Four emulated ESP32 nodes run the real firmware on the MicroPython unix port, on one
emulated RS-485 line; the real cabinet service runs them over that line; traffic drives
the loops; the independent monitor watches the lamps. Live status while it runs, a
verdict at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

from controller.config.model import GroupConfig
from controller.runtime.status import GLYPH

from .city_demo import CityDemo
from .rig import Rig

LIVE_EVERY_S = 5.0


def _line(rig: Rig) -> str:
    st = rig.status()
    if st is None:
        return f"t={rig.now():5.0f}s  cabinet starting…"
    parts = []
    for iid, i in st["intersections"].items():
        asp = " ".join(f"{g}:{GLYPH.get(a, a)}" for g, a in i["aspects"].items())
        state = i["mode"] + (f" {i['stage']}" if i.get("stage") else "")
        parts.append(f"{iid} {state:<9} {asp}")
    online = sum(1 for n in st["nodes"].values() if n["online"])
    free = sum(a["free"] for a in st["parking"].values())
    return (f"t={rig.now():5.0f}s  " + " | ".join(parts)
            + f" | nodes {online}/{len(st['nodes'])} | free bays {free}"
            + f" | violations {len(rig.violations())}")


def run_demo(config: GroupConfig, duration_s: float, seed: int, quiet: bool,
             time_scale: float = 1.0, broker: str | None = None) -> dict:
    out = sys.stderr if quiet else sys.stdout
    print(f"smartcross demo: {config.name} — {len(config.intersections)} intersections, "
          f"{sum(len(i.nodes) for i in config.intersections)} emulated nodes on one RS-485 "
          f"line, {duration_s:g} s", file=out, flush=True)
    rig = Rig(config, seed=seed, time_scale=time_scale)
    city = CityDemo(rig.dir, broker)
    rig.broker = city.start()
    if rig.broker:
        print(f"  city page: {city.url}   (broker {rig.broker})", file=out, flush=True)
    if city.note:
        print(f"  {city.note}", file=out, flush=True)
    try:
        result = _run(rig, city, config, duration_s, out)
    finally:
        city.close()
    ok = not result["violations"] and result["nodes_online"] == result["nodes"]
    result["verdict"] = "pass" if ok else "fail"
    print(f"verdict: {'PASS' if ok else 'FAIL'} — {len(result['violations'])} monitor "
          f"violation(s), {result['nodes_online']}/{result['nodes']} nodes online, "
          f"{result['detector_actuations']} detector actuations", file=out, flush=True)
    for v in result["violations"][:10]:
        print(f"  t={v['t']:.1f} {v['intersection']} {v['kind']} {'/'.join(v['groups'])}: "
              f"{v['detail']}", file=out)
    return result


def _run(rig: Rig, city: CityDemo, config: GroupConfig, duration_s: float, out) -> dict:
    with rig:
        print(f"  line: {rig.bus.port}   cabinet data: {rig.data_dir}", file=out, flush=True)
        t = 0.0
        while t < duration_s:
            step = min(LIVE_EVERY_S, duration_s - t)
            rig.run_for(step)
            t += step
            print("  " + _line(rig), file=out, flush=True)
        status = rig.status() or {}
        violations = rig.violations()
        nodes = status.get("nodes", {})
        result = {
            "group": config.name,
            "duration_s": round(rig.now(), 1),
            "violations": [v._asdict() for v in violations],
            "nodes_online": sum(1 for n in nodes.values() if n.get("online")),
            "nodes": len(rig.docs),
            "detector_actuations": rig.actuations,
            "intersections": {i: s["mode"] for i, s in status.get("intersections", {}).items()},
            "parking_free": {a: p["free"] for a, p in status.get("parking", {}).items()},
            "bus": rig.bus.stats.__dict__,
            "log": str(Path(rig.dir) / "controller.log"),
            "city": _city_result(city, rig.broker),
        }
    return result


def _city_result(city: CityDemo, broker: str | None) -> dict | None:
    if not broker:
        return None
    inters = city.get("/api/intersections") or []
    return {"page": city.url, "broker": broker,
            "intersections": {i["id"]: i["mode"] for i in inters},
            "parking": {a["id"]: a["sign"] for a in city.get("/api/parking") or []}}
