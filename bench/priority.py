"""Emergency preemption and transit priority in SUMO: the same vehicles with and without.

The scenario (bench/priority_scenario.py): one junction, cars at the shared kit's base
flows, emergency vehicles (vClass emergency) on through movements, a bus line with stops
on the main street; detectors that see only their vehicle type (preempt receivers, bus
check-in and check-out). The network is imported with `smartcross import-sumo` (adaptive
plan); the "with" configuration adds the preempt and priority detectors and the
`[[intersection.preempt]]` / `[[intersection.priority]]` tables to it, nothing else
(receiver range, check-in distance and TSP bounds were chosen on seeds 1-10 and checked
on seeds 11-20, docs/CONTROL.md).
Every seed runs `smartcross sumo` (the unchanged core, the monitor on) once per
configuration on the same route file and SUMO seed.

Delays are SUMO's tripinfo `timeLoss` (s per vehicle), per vehicle class, summed over the
vehicles of every seed; a ratio is with / without. Printed per seed and pooled, with the
monitor's verdict of every run; the last three lines:

    ev_delay_ratio: R        (goal <= 0.5)
    bus_delay_ratio: R       (goal <= 0.8)
    others_delay_ratio: R    (goal <= 1.05)

    .venv/bin/python bench/priority.py [--seeds 1 2 ...] [--parts preempt tsp] [--jobs 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import priority_scenario as ps

ROOT = Path(__file__).resolve().parent.parent
CLASSES = {"ambulance": "ev", "bus": "bus", "car": "others"}
PREEMPT_DWELL_S = 8.0        # the route's least green in dwell (the main through minimum)
PREEMPT_MIN_GREEN_S = 5.0    # a running green may be cut to this on entry
TSP_EARLY_S = 10.0
TSP_EXTEND_S = 15.0
GOALS = {"ev": 0.5, "bus": 0.8, "others": 1.05}

# what the "with" configuration adds to the imported one (TOML, appended to intersection C)
PRIORITY_NODE = """
  [[intersection.node]]
  id = "C-p1"
  bus = "rs485-C"
  address = 9
  board = "esp32"
"""


def sumo_env() -> dict:
    import sumo

    env = dict(os.environ, SUMO_HOME=sumo.SUMO_HOME)
    env["PATH"] = os.path.join(sumo.SUMO_HOME, "bin") + os.pathsep + env.get("PATH", "")
    return env


def priority_tables(groups: dict[str, str], stages: dict[str, str],
                    stage_groups: dict[str, list[str]], parts=("preempt", "tsp")) -> str:
    """The preempt and TSP detectors and tables for the imported junction. `groups`: leg ->
    the through group of that approach (EB_TR for W, ...); `stages`: group -> the first
    stage that runs it; `stage_groups`: stage -> its groups. A preempt's route (its dwell)
    is the stage of the vehicle's through movement: both directions of the axis and their
    permissive lefts, which never conflict, so an emergency vehicle that comes while that
    stage runs cuts nothing. A bus asks for the stage of its through movement."""
    out = [PRIORITY_NODE]
    for leg in sorted(ps.LEGS):
        out.append(f"""
  [[intersection.detector]]
  id = "pre_{leg}"   # preempt receiver: emergency vehicles only, {ps.PREEMPT_RANGE_M:g} m to the stop line
  kind = "preempt"
  node = "C-p1"
""")
    for leg in ps.MAIN:
        for end, what in (("in", f"{ps.CHECKIN_M:g} m before the stop line"),
                          ("out", f"{ps.CHECKOUT_M:g} m past the junction")):
            out.append(f"""
  [[intersection.detector]]
  id = "tsp_{end}_{leg}"   # bus check-{end}: buses only, {what}
  kind = "priority"
  node = "C-p1"
""")
    for leg in sorted(ps.LEGS) if "preempt" in parts else ():
        route = sorted(stage_groups[stages[groups[leg]]])
        out.append(f"""
  [[intersection.preempt]]
  id = "ev_{leg}"
  kind = "emergency"
  priority = 1
  detector = "pre_{leg}"
  route = {json.dumps(route)}
  min_dwell_s = {PREEMPT_DWELL_S:g}
  min_green_s = {PREEMPT_MIN_GREEN_S:g}
  max_presence_s = 120
""")
    for leg in ps.MAIN if "tsp" in parts else ():
        out.append(f"""
  [[intersection.priority]]
  id = "bus_{leg}"
  checkin = "tsp_in_{leg}"
  checkout = "tsp_out_{leg}"
  stage = "{stages[groups[leg]]}"
  max_early_s = {TSP_EARLY_S:g}
  max_extend_s = {TSP_EXTEND_S:g}
  per_cycle = 1
  max_presence_s = 90
""")
    return "".join(out)


def through_groups(cfg_path: Path) -> dict[str, str]:
    """Leg -> the group of its through movement, from the imported configuration's comments
    (`# SUMO links 9, 10: W_C_0→C_S_0 (R), W_C_0→C_E_0 (T)`)."""
    out = {}
    gid = None
    for line in cfg_path.read_text().splitlines():
        s = line.strip()
        if s.startswith("id = ") and "SUMO links" in s:
            gid = s.split('"')[1]
            for leg in ps.LEGS:
                if f"{leg}_C_0→" in s and "(T)" in s:
                    out[leg] = gid
    return out


def configs(out: Path, scen: ps.Scenario, env: dict,
            parts=("preempt", "tsp")) -> tuple[Path, Path]:
    """The imported configuration (without) and it with the `parts` added (with)."""
    base = out / "without.toml"
    subprocess.run([sys.executable, "-m", "controller.cli", "import-sumo", scen.net,
                    "--detectors", scen.detectors, "-o", str(base)],
                   check=True, env=env, cwd=ROOT, capture_output=True)
    text = base.read_text()
    doc = tomllib.loads(text)
    stages: dict[str, str] = {}
    stage_groups = {}
    for st in doc["intersection"][0]["stage"]:
        stage_groups[st["id"]] = st["groups"]
        for g in st["groups"]:
            stages.setdefault(g, st["id"])
    head, sep, tail = text.partition("\n  [intersection.sumo]")
    with_ = out / "with.toml"
    with_.write_text(head + priority_tables(through_groups(base), stages, stage_groups, parts) + sep + tail)
    return base, with_


def run_one(out: Path, scen: ps.Scenario, cfg: Path, seed: int, env: dict) -> dict:
    tag = f"{cfg.stem}_seed{seed}"
    ti = out / f"{tag}.tripinfo.xml"
    r = subprocess.run([sys.executable, "-m", "controller.cli", "sumo", "--sumocfg", scen.sumocfg,
                        "--config", str(cfg), "--routes", str(out / f"prio_seed{seed}.rou.xml"),
                        "--seed", str(seed), "--tripinfo", str(ti), "--json"],
                       env=env, cwd=ROOT, capture_output=True, text=True)
    if r.returncode not in (0, 1) or not ti.exists():
        raise SystemExit(f"{tag}: smartcross sumo failed ({r.returncode}):\n{r.stderr[-3000:]}")
    summary = json.loads(r.stdout)
    return {"tag": tag, "seed": seed, "violations": len(summary["violations"]),
            "wall_s": summary["wall_s"], "delays": delays(ti)}


def delays(tripinfo: Path) -> dict[str, dict[str, float]]:
    """Per class: vehicles, summed timeLoss, vehicles that did not arrive."""
    out = {c: {"n": 0, "loss": 0.0, "unfinished": 0} for c in CLASSES.values()}
    for ti in ET.parse(tripinfo).getroot().iter("tripinfo"):
        c = out[CLASSES.get(ti.get("vType"), "others")]
        c["n"] += 1
        c["loss"] += float(ti.get("timeLoss", 0.0))
        if float(ti.get("arrival", -1)) < 0:
            c["unfinished"] += 1
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", nargs="+", type=int, default=list(range(1, 21)))
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", default="/tmp/smartcross-priority", help="work folder")
    p.add_argument("--without-only", action="store_true",
                   help="run only the configuration without preemption and priority")
    p.add_argument("--parts", nargs="+", choices=("preempt", "tsp"), default=["preempt", "tsp"],
                   help="what the 'with' configuration adds (both: the headline)")
    args = p.parse_args()
    out = Path(args.out).resolve()
    env = sumo_env()
    scen = None
    for s in args.seeds:
        scen = ps.build(out, s)
    base, with_ = configs(out, scen, env, args.parts)
    cfgs = [base] if args.without_only else [base, with_]
    jobs = [(c, s) for s in args.seeds for c in cfgs]
    with ThreadPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(lambda j: run_one(out, scen, j[0], j[1], env), jobs))
    return report(runs, args.seeds, args.without_only)


def report(runs: list[dict], seeds: list[int], without_only: bool) -> int:
    by = {r["tag"]: r for r in runs}
    print("timeLoss, s per vehicle (tripinfo), same vehicles and SUMO seed with and without")
    print(f"{'seed':>4} {'class':<7} {'n':>5} {'without':>8} {'with':>8} {'ratio':>6}")
    pooled = {c: [0.0, 0.0, 0] for c in GOALS}
    for s in seeds:
        a = by[f"without_seed{s}"]["delays"]
        b = by.get(f"with_seed{s}", {}).get("delays")
        for c in GOALS:
            n = a[c]["n"]
            wo = a[c]["loss"] / max(n, 1)
            pooled[c][0] += a[c]["loss"]
            pooled[c][2] += n
            if b is None:
                print(f"{s:>4} {c:<7} {n:>5} {wo:>8.1f}")
                continue
            wi = b[c]["loss"] / max(b[c]["n"], 1)
            pooled[c][1] += b[c]["loss"]
            print(f"{s:>4} {c:<7} {n:>5} {wo:>8.1f} {wi:>8.1f} {wi / wo if wo else 0:>6.3f}")
    for r in runs:
        unf = sum(d["unfinished"] for d in r["delays"].values())
        print(f"{r['tag']}: monitor violations {r['violations']}, unfinished {unf}, "
              f"wall {r['wall_s']:.1f} s")
    viol = sum(r["violations"] for r in runs)
    print(f"monitor violations over all runs: {viol}")
    ratios = {}
    for c, goal in GOALS.items():
        wo, wi, n = pooled[c]
        ratios[c] = float("nan") if without_only or not wo else wi / wo
        print(f"{c}: {n} vehicles, without {wo / max(n, 1):.1f} s, with "
              f"{wi / max(n, 1):.1f} s per vehicle; ratio {ratios[c]:.3f} (goal <= {goal})")
    for c in GOALS:
        print(f"{c}_delay_ratio: {ratios[c]:.3f}")
    return 1 if viol else 0


if __name__ == "__main__":
    sys.exit(main())
