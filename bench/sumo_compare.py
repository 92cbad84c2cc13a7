"""smartcross against SUMO's own controllers, on the shared SUMO benchmark scenarios.

For every scenario of the shared kit (../shared/sumo) the network is imported with
`smartcross import-sumo`; the coordinated plan of a group of signals is sized from an
independent day of counts (the kit's demand generator with seed 1000 + variant, never an
evaluation seed). The shared runner then measures `smartcross sumo` (the unchanged timing
core driving SUMO through libsumo, monitor on, signal states checked for safety) and
SUMO's static, actuated, delay_based and NEMA programs on the same vehicles and seeds.

Printed: per scenario × variant × seed the mean totDelay (timeLoss + insertion delay,
s per vehicle) of each controller, the ratio smartcross / NEMA, whether smartcross was
worse than SUMO actuated on any seed, safety counts and wall times; last line
`worst_ratio_vs_nema: value`.

    .venv/bin/python bench/sumo_compare.py [--kit ../shared/sumo] [--seeds 1 2 3] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics as st
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILTINS = ("static", "actuated", "delay_based", "nema")
COUNT_SEED = 1000


def sumo_env() -> dict:
    import sumo

    env = dict(os.environ)
    env["SUMO_HOME"] = sumo.SUMO_HOME
    env["PATH"] = os.path.join(sumo.SUMO_HOME, "bin") + os.pathsep + env.get("PATH", "")
    return env


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kit", default=str(ROOT.parent / "shared" / "sumo"),
                   help="the shared SUMO benchmark kit (../shared/sumo)")
    p.add_argument("--out", default="/tmp/smartcross-sumo-compare", help="work folder")
    p.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    p.add_argument("--scenarios", nargs="+", help="default: every scenario of the kit")
    p.add_argument("--variants", nargs="+", default=["base", "peak"])
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--reuse", action="store_true", help="reuse finished runs in --out")
    args = p.parse_args()

    kit, out = Path(args.kit).resolve(), Path(args.out).resolve()
    scen_dir = kit / "scenarios"
    if not (kit / "run_bench.py").exists() or not scen_dir.is_dir():
        print(f"the shared SUMO kit is not at {kit} (give --kit); nothing measured")
        print("worst_ratio_vs_nema: nan")
        return 0
    scenarios = args.scenarios or sorted(d.name for d in scen_dir.iterdir()
                                         if (d / "layout.json").exists())
    scenarios = [s for s in ("single", "corridor") if s in scenarios] + \
        [s for s in scenarios if s not in ("single", "corridor")]
    (out / "configs").mkdir(parents=True, exist_ok=True)
    env = sumo_env()
    py = sys.executable
    smartcross = [py, "-m", "controller.cli"]

    # 1. import every scenario, plans sized from an independent day of counts
    for sc in scenarios:
        for v in args.variants:
            counts = out / "configs" / f"{sc}_{v}_counts.rou.xml"
            seed = COUNT_SEED + args.variants.index(v)
            subprocess.run([py, str(kit / "demand.py"), sc, "--variant", v, "--seed", str(seed),
                            "-o", str(counts)], check=True, env=env, capture_output=True)
            cfg = out / "configs" / f"{sc}_{v}.toml"
            subprocess.run(smartcross + ["import-sumo", str(scen_dir / sc / f"{sc}.net.xml"),
                                         "--detectors", str(scen_dir / sc / f"{sc}.det.add.xml"),
                                         "--routes", str(counts), "-o", str(cfg)],
                           check=True, env=env, cwd=ROOT, capture_output=True)

    # 2. the shared runner: SUMO's four programs and smartcross, same vehicles and seeds
    template = (" ".join(map(shlex.quote, smartcross)) + " sumo --sumocfg {sumocfg} --config "
                + shlex.quote(str(out / "configs")) + "/{scenario}_{variant}.toml "
                "--routes {routes} --seed {seed} --tripinfo {tripinfo} --additional {extra_adds}")
    runs = out / "runs.json"
    cmd = [py, "run_bench.py", "--cmd", template,
           "--cmd-name", "smartcross", "--check-safety", "--controllers", *BUILTINS,
           "--scenarios", *scenarios, "--variants", *args.variants,
           "--seeds", *map(str, args.seeds), "--jobs", str(args.jobs), "--out", str(out / "bench"),
           "--json", str(runs)] + (["--reuse"] if args.reuse else [])
    r = subprocess.run(cmd, cwd=kit, env=env, capture_output=True, text=True)
    if r.returncode != 0 or not runs.exists():
        print(r.stdout[-3000:], r.stderr[-3000:], sep="\n", file=sys.stderr)
        print("worst_ratio_vs_nema: nan")
        return 1
    rows = json.load(open(runs))
    return report(rows, scenarios, args.variants, args.seeds)


def report(rows: list[dict], scenarios, variants, seeds) -> int:
    by = {(r["scenario"], r["variant"], r["controller"], r["seed"]): r for r in rows}
    ctrls = ("smartcross",) + BUILTINS
    print("totDelay = timeLoss + insertion delay, s per vehicle (shared runner, same vehicles)")
    print(f"{'scenario':<9} {'variant':<7} {'seed':>4} " + " ".join(f"{c:>11}" for c in ctrls)
          + f" {'ratio/nema':>10} {'unsafe':>6}")
    worst, worse_than_actuated, unsafe_total = 0.0, [], 0
    walls: dict[str, list[float]] = {}
    for sc in scenarios:
        for v in variants:
            means = {}
            for s in seeds:
                cells = [by.get((sc, v, c, s), {}).get("totalDelay") for c in ctrls]
                if None in cells:
                    continue
                mine = by[(sc, v, "smartcross", s)]
                unsafe_total += mine.get("unsafe", 0)
                if cells[0] > cells[ctrls.index("actuated")]:
                    worse_than_actuated.append(f"{sc}/{v}/seed {s}")
                print(f"{sc:<9} {v:<7} {s:>4} " + " ".join(f"{x:>11.1f}" for x in cells)
                      + f" {cells[0] / cells[-1]:>10.3f} {mine.get('unsafe', '-'):>6}")
                for c, x in zip(ctrls, cells):
                    means.setdefault(c, []).append(x)
                for c in ("smartcross", "static"):
                    walls.setdefault(f"{sc}/{c}", []).append(by[(sc, v, c, s)].get("wall_s", 0))
            if not means:
                continue
            m = {c: st.mean(x) for c, x in means.items()}
            ratio = m["smartcross"] / m["nema"]
            worst = max(worst, ratio)
            print(f"{sc:<9} {v:<7} {'mean':>4} " + " ".join(f"{m[c]:>11.1f}" for c in ctrls)
                  + f" {ratio:>10.3f}")
    print(f"smartcross worse than SUMO actuated on: {', '.join(worse_than_actuated) or 'no seed'}")
    print(f"signal-state safety violations (shared checker) in smartcross runs: {unsafe_total}")
    for sc in scenarios:
        a, b = walls.get(f"{sc}/smartcross"), walls.get(f"{sc}/static")
        if a and b:
            print(f"wall time per run, {sc}: smartcross {st.mean(a):.2f} s, SUMO alone (static) "
                  f"{st.mean(b):.2f} s, ratio {st.mean(a) / st.mean(b):.2f}")
    print(f"worst_ratio_vs_nema: {worst:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
