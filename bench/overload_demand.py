"""Demand that shifts between approaches within the hour, for the shared SUMO kit's runner.

A demand module in the kit's sense (`run_bench.py --demand THIS_FILE`): `generate(scenario,
variant, seed, out_path, scale)` writes a route file. Variant `shift` only (the public
variants come from the kit's own generator). The route network is read from the scenario's
`layout.json` (which lane of which approach leads where), so it works on any scenario the
kit builds, and the flows are relative to the scenario's main and side approaches:

    0-1200 s      main street heavy   main 1.30 × MAIN, side 0.55 × SIDE
    1200-2400 s   side streets heavy  main 0.60 × MAIN, side 1.90 × SIDE
    2400-3600 s   both heavy          main 1.15 × MAIN, side 1.45 × SIDE

MAIN and SIDE are the flows per approach of the table below (veh/h; the kit's peak
flows of the two public scenarios, written here, not read from the kit). Every origin is
a Poisson stream whose rate changes at the period boundaries; turns at each signal are
drawn with 15 % left and 10 % right on the main street, 20 % / 20 % on the side streets.
The file depends only on (scenario, variant, seed, scale): `random.Random` with a string
seed is stable across platforms.

    python bench/overload_demand.py single --seed 1 -o /tmp/x.rou.xml [--scale 1.0]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent.parent / "shared" / "sumo"
VARIANTS = ("shift",)
DURATION = 3600.0
FLOWS = {"single": (950.0, 380.0), "corridor": (1050.0, 250.0)}   # (MAIN, SIDE) veh/h
PERIODS = ((0.0, 1.30, 0.55), (1200.0, 0.60, 1.90), (2400.0, 1.15, 1.45))  # start, main ×, side ×
TURNS = {"main": (0.15, 0.10), "side": (0.20, 0.20)}     # (left, right)
MAIN_SIDES = ("W", "E")
VTYPE = ('<vType id="car" vClass="passenger" accel="2.6" decel="4.5" emergencyDecel="9.0" '
         'sigma="0.5" tau="1.0" length="5.0" minGap="2.5" maxSpeed="55.55" '
         'speedFactor="normc(1.00,0.10,0.20,2.00)"/>')


def _edge(lane: str) -> str:
    return lane.rsplit("_", 1)[0]


def network(layout: dict) -> tuple[dict, list]:
    """(edge -> {dir: next edge}) over every signal, and the origins [(edge, side)]: the
    approaches that no signal feeds."""
    nxt: dict[str, dict[str, str]] = {}
    fed: set[str] = set()
    for tls in layout["tls"].values():
        for link in tls["links"]:
            src, dst = _edge(link["from_lane"]), _edge(link["to_lane"])
            nxt.setdefault(src, {})[link["dir"]] = dst
            fed.add(dst)
    origins = []
    for tid in sorted(layout["tls"]):
        for side, ap in sorted(layout["tls"][tid]["approaches"].items()):
            if ap["edge"] not in fed:
                origins.append((ap["edge"], side))
    return nxt, origins


def route(first: str, kind: str, nxt: dict, rng: random.Random) -> list[str]:
    edges = [first]
    while edges[-1] in nxt:
        u = rng.random()
        left, right = TURNS[kind if len(edges) == 1 else "main"]
        d = "l" if u < left else ("r" if u < left + right else "s")
        edges.append(nxt[edges[-1]][d])
    return edges


def vehicles(scenario: str, seed: int, scale: float, layout: dict) -> list[tuple]:
    main, side = FLOWS[scenario]
    nxt, origins = network(layout)
    out = []
    for edge, s in origins:
        kind = "main" if s in MAIN_SIDES else "side"
        rng = random.Random(f"overload|{scenario}|shift|{seed}|{edge}")
        t, n = 0.0, 0
        for i, (start, fm, fs) in enumerate(PERIODS):
            end = PERIODS[i + 1][0] if i + 1 < len(PERIODS) else DURATION
            q = (main * fm if kind == "main" else side * fs) * scale / 3600.0
            t = max(t, start)
            while q > 0:
                t += rng.expovariate(q)     # memoryless: restarting at a boundary is exact
                if t >= end:
                    t = end
                    break
                out.append((round(t, 2), f"{edge}.{n}", route(edge, kind, nxt, rng)))
                n += 1
    out.sort(key=lambda v: (v[0], v[1]))
    return out


def generate(scenario: str, variant: str, seed: int, out_path: str, scale: float = 1.0,
             scenario_dir: Path | None = None) -> int:
    if variant not in VARIANTS:
        raise ValueError(f"overload_demand: unknown variant {variant!r} (only {VARIANTS})")
    if scenario not in FLOWS:
        raise ValueError(f"overload_demand: no flows for scenario {scenario!r} ({sorted(FLOWS)})")
    lay = Path(scenario_dir or KIT / "scenarios") / scenario / "layout.json"
    vehs = vehicles(scenario, seed, scale, json.loads(lay.read_text()))
    with open(out_path, "w") as f:
        f.write(f"<!-- overload_demand.py scenario={scenario} variant={variant} seed={seed} "
                f"scale={scale} -->\n<routes>\n    {VTYPE}\n")
        for t, vid, edges in vehs:
            f.write(f'    <vehicle id="{vid}" type="car" depart="{t:.2f}" departLane="best" '
                    f'departSpeed="max"><route edges="{" ".join(edges)}"/></vehicle>\n')
        f.write("</routes>\n")
    return len(vehs)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario")
    p.add_argument("--variant", default="shift")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--scenario-dir", type=Path, default=KIT / "scenarios")
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args()
    try:
        n = generate(a.scenario, a.variant, a.seed, a.output, a.scale, a.scenario_dir)
    except (ValueError, OSError, KeyError) as e:
        print(f"overload_demand: {e}", file=sys.stderr)
        return 2
    print(f"{n} vehicles -> {a.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
