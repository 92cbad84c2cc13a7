"""smartcross against SUMO's NEMA controller beyond capacity, on the shared SUMO kit.

Cases (run side by side, same vehicles and SUMO seed for both controllers):

- every public scenario × variant of the kit (single/corridor × base/peak) at `--scales`
  (default 1.2 and 1.3 × the variant's flows, the kit's own demand generator);
- `<scenario>/shift`: demand that shifts between approaches within the hour (main street
  heavy, then the side streets, then both; bench/overload_demand.py) at `--shift-scales`
  (default 1.0: its heavy periods are beyond capacity already);
- with `--normal`, the public cases at 1.0 × too (to see that normal demand did not regress).

Each configuration is imported with `smartcross import-sumo`, its plans sized from an
independent hour of counts (demand seed 1000/1001/1002, never an evaluation seed), as in
bench/sumo_compare.py. The kit's runner measures `smartcross sumo` (monitor on, signal states
checked by the kit's safety checker) and SUMO's NEMA program.

Printed: per case, scale and seed the mean totDelay (timeLoss + insertion delay, s per
vehicle) of both, their ratio, both insertion delays (dDelay), unsafe counts; then per case
and scale the mean ratio; then the issue-15 goals, each met or not; last line
`overload_worst_seed_ratio: R` (the worst single seed's ratio over every case run).

SUMO runs are CPU-heavy: run parts (`--cases single/peak --scales 1.2 --seeds 1`), one job at
a time next to other work (`--jobs 1`, under `nice -n 10`); `--reuse` keeps finished runs
in `--out` and the table then covers everything asked for.

    nice -n 10 .venv/bin/python bench/overload.py [--cases single/peak corridor/shift ...]
        [--scales 1.2 1.3] [--shift-scales 1.0] [--normal] [--seeds 1 2 3] [--jobs 1] [--reuse]
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
DEMAND = Path(__file__).resolve().parent / "overload_demand.py"
PUBLIC = ("single/base", "single/peak", "corridor/base", "corridor/peak")
SHIFT = ("single/shift", "corridor/shift")
COUNT_SEED = 1000
NAME = "smartcross"


def sumo_env() -> dict:
    import sumo

    env = dict(os.environ)
    env["SUMO_HOME"] = sumo.SUMO_HOME
    env["PATH"] = os.path.join(sumo.SUMO_HOME, "bin") + os.pathsep + env.get("PATH", "")
    return env


def scale_tag(scale: float) -> str:
    return "" if scale == 1.0 else f"x{scale:g}"


def import_config(kit: Path, out: Path, case: str, env: dict) -> None:
    """The group TOML of a case, plans sized from an independent hour of counts."""
    sc, v = case.split("/")
    cfg = out / "configs" / f"{sc}_{v}.toml"
    if cfg.exists():
        return
    counts = out / "configs" / f"{sc}_{v}_counts.rou.xml"
    seed = COUNT_SEED + ("base", "peak", "shift").index(v)
    gen = [str(DEMAND), sc] if v == "shift" else [str(kit / "demand.py"), sc]
    subprocess.run([sys.executable, *gen, "--variant", v, "--seed", str(seed), "-o", str(counts)],
                   check=True, env=env, capture_output=True, cwd=kit)
    scen = kit / "scenarios" / sc
    subprocess.run([sys.executable, "-m", "controller.cli", "import-sumo", str(scen / f"{sc}.net.xml"),
                    "--detectors", str(scen / f"{sc}.det.add.xml"), "--routes", str(counts),
                    "-o", str(cfg)], check=True, env=env, cwd=ROOT, capture_output=True)


def run_part(kit: Path, out: Path, cases: list[str], scale: float, args, env: dict) -> list[dict]:
    """One call of the kit's runner: these cases (one demand generator) at one scale."""
    scenarios = sorted({c.split("/")[0] for c in cases}, key=lambda s: (s != "single", s))
    variants = sorted({c.split("/")[1] for c in cases})
    template = (f"{shlex.quote(sys.executable)} -m controller.cli sumo --sumocfg {{sumocfg}} "
                f"--config {shlex.quote(str(out / 'configs'))}/{{scenario}}_{{variant}}.toml "
                "--routes {routes} --seed {seed} --tripinfo {tripinfo} --additional {extra_adds}")
    shift = variants == ["shift"]
    runs = out / f"runs_{'shift' if shift else 'public'}{scale_tag(scale)}.json"
    cmd = [sys.executable, "run_bench.py", "--cmd", template, "--cmd-name", NAME,
           "--check-safety", "--controllers", "nema", "--scenarios", *scenarios,
           "--variants", *variants, "--seeds", *map(str, args.seeds), "--scale", str(scale),
           "--jobs", str(args.jobs), "--out", str(out / "bench"), "--json", str(runs)]
    if shift:
        cmd += ["--demand", str(DEMAND)]
    if args.reuse:
        cmd.append("--reuse")
    env = dict(env, PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    r = subprocess.run(cmd, cwd=kit, env=env, capture_output=True, text=True)
    if r.returncode != 0 or not runs.exists():
        print(r.stdout[-3000:], r.stderr[-3000:], sep="\n", file=sys.stderr)
        raise RuntimeError(f"the kit's runner failed for {cases} at {scale:g}×")
    wanted = {(c, s) for c in cases for s in args.seeds}
    return [dict(row, case=f"{row['scenario']}/{row['variant'].split('x')[0]}")
            for row in json.loads(runs.read_text())
            if (f"{row['scenario']}/{row['variant'].split('x')[0]}", row["seed"]) in wanted]


def table(rows: list[dict]) -> list[dict]:
    """Pair our runs with NEMA's; print one line per case, scale and seed."""
    by = {(r["case"], r["scale"], r["seed"], r["controller"]): r for r in rows}
    keys = sorted({(c, sc, s) for c, sc, s, _ in by}, key=lambda k: (k[1], k[0], k[2]))
    print("totDelay = timeLoss + insertion delay (dDelay), s per vehicle; same vehicles and seed")
    print(f"{'case':<15} {'scale':>5} {'seed':>4} {'ours':>8} {'NEMA':>8} {'ratio':>6} "
          f"{'dDelay':>7} {'NEMA dD':>7} {'unsafe':>6}")
    pairs = []
    for case, scale, seed in keys:
        a, b = by.get((case, scale, seed, NAME)), by.get((case, scale, seed, "nema"))
        if a is None or b is None:
            continue
        p = {"case": case, "scale": scale, "seed": seed, "ours": a["totalDelay"],
             "nema": b["totalDelay"], "ratio": a["totalDelay"] / b["totalDelay"],
             "dd": a["departDelay"], "nema_dd": b["departDelay"], "unsafe": a.get("unsafe", "-")}
        pairs.append(p)
        print(f"{case:<15} {scale:>5.2f} {seed:>4} {p['ours']:>8.1f} {p['nema']:>8.1f} "
              f"{p['ratio']:>6.3f} {p['dd']:>7.1f} {p['nema_dd']:>7.1f} {p['unsafe']:>6}")
    return pairs


def summary(pairs: list[dict]) -> float:
    """Mean ratio per case and scale, the goals of issue 15; returns the worst seed's ratio."""
    groups: dict[tuple, list[dict]] = {}
    for p in pairs:
        groups.setdefault((p["case"], p["scale"]), []).append(p)
    print(f"\n{'case':<15} {'scale':>5} {'mean ours':>9} {'mean NEMA':>9} {'ratio':>6} "
          f"{'worst seed':>10}")
    for (case, scale), ps in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        o, n = st.mean(p["ours"] for p in ps), st.mean(p["nema"] for p in ps)
        print(f"{case:<15} {scale:>5.2f} {o:>9.1f} {n:>9.1f} {o / n:>6.3f} "
              f"{max(p['ratio'] for p in ps):>10.3f}")
    public = [p for p in pairs if p["case"] in PUBLIC]

    def goal(text: str, sel: list[dict], ok) -> None:
        if sel:
            print(f"goal {text}: {'met' if ok(sel) else 'NOT met'}")
    print()
    goal("1.2x public, every seed <= 0.85", [p for p in public if p["scale"] == 1.2],
         lambda s: max(p["ratio"] for p in s) <= 0.85)
    for case in ("single/peak", "corridor/peak"):
        sel = [p for p in pairs if p["case"] == case and p["scale"] == 1.2]
        goal(f"1.2x {case} mean ratio <= 0.55", sel,
             lambda s: st.mean(p["ours"] for p in s) / st.mean(p["nema"] for p in s) <= 0.55)
    goal("1.3x, never worse than NEMA", [p for p in pairs if p["scale"] == 1.3],
         lambda s: max(p["ratio"] for p in s) <= 1.0)
    if pairs:
        worst_dd = max(pairs, key=lambda p: p["dd"] / p["nema_dd"])
        print(f"insertion delay, worst ratio to NEMA's: {worst_dd['dd'] / worst_dd['nema_dd']:.3f}"
              f" ({worst_dd['case']} {worst_dd['scale']:g}x seed {worst_dd['seed']})")
    goal("insertion delay never above NEMA's + 10 %", pairs,
         lambda s: all(p["dd"] <= 1.1 * p["nema_dd"] for p in s))
    goal("normal demand, every public case <= 0.80",
         [p for p in public if p["scale"] == 1.0],
         lambda s: all(st.mean(q["ours"] for q in s if q["case"] == c)
                       / st.mean(q["nema"] for q in s if q["case"] == c) <= 0.80
                       for c in {q["case"] for q in s}))
    unsafe = sum(p["unsafe"] for p in pairs if isinstance(p["unsafe"], int))
    print(f"signal-state safety violations (kit's checker) in our runs: {unsafe}")
    return max((p["ratio"] for p in pairs), default=float("nan"))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kit", type=Path, default=ROOT.parent / "shared" / "sumo",
                   help="the shared SUMO kit (../shared/sumo)")
    p.add_argument("--out", type=Path, default=Path("/tmp/smartcross-overload"), help="work folder")
    p.add_argument("--cases", nargs="+", default=list(PUBLIC + SHIFT),
                   help=f"scenario/variant among {', '.join(PUBLIC + SHIFT)}")
    p.add_argument("--scales", nargs="+", type=float, default=[1.2, 1.3],
                   help="demand scales for the public cases")
    p.add_argument("--shift-scales", nargs="+", type=float, default=[1.0])
    p.add_argument("--normal", action="store_true", help="also the public cases at 1.0 ×")
    p.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--reuse", action="store_true", help="reuse finished runs in --out")
    args = p.parse_args()
    bad = [c for c in args.cases if c not in PUBLIC + SHIFT]
    if bad:
        print(f"overload: unknown case {bad[0]!r} (one of {', '.join(PUBLIC + SHIFT)})",
              file=sys.stderr)
        return 2
    kit, out = args.kit.resolve(), args.out.resolve()
    if not (kit / "run_bench.py").exists():
        print(f"overload: the shared SUMO kit is not at {kit} (give --kit)", file=sys.stderr)
        return 2
    (out / "configs").mkdir(parents=True, exist_ok=True)
    env = sumo_env()
    public = [c for c in args.cases if c in PUBLIC]
    shift = [c for c in args.cases if c in SHIFT]
    parts = [(public, s) for s in ([1.0] if args.normal else []) + args.scales if public]
    parts += [(shift, s) for s in args.shift_scales if shift]
    rows: list[dict] = []
    try:
        for case in args.cases:
            import_config(kit, out, case, env)
        for cases, scale in parts:
            rows += run_part(kit, out, cases, scale, args, env)
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"overload: {e}", file=sys.stderr)
        print("overload_worst_seed_ratio: nan")
        return 1
    worst = summary(table(rows))
    print(f"overload_worst_seed_ratio: {worst:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
