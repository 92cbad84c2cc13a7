"""Timing-core speed: simulated seconds per wall-clock second, monitor on.

The 3-intersection corridor example, 100 ms resolution, seeded traffic, the independent
monitor judging every lamp change. Two figures: the event-driven simulator (steps only
where something can change, identical results) and stepping every 0.1 s.

    .venv/bin/python bench/core_speed.py [--hours H]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from controller.config import load  # noqa: E402
from controller.config.civil import DEFAULT_DAY  # noqa: E402
from controller.simulate import simulate  # noqa: E402

CONFIG = Path(__file__).resolve().parent.parent / "examples" / "corridor.toml"


def run(hours: float, every_tick: bool) -> tuple[float, int]:
    cfg = load(CONFIG)
    t = time.perf_counter()
    r = simulate(cfg, hours * 3600, seed=1, start=cfg.zone.at(DEFAULT_DAY, 0.0),
                 every_tick=every_tick,
                 keep_events=False)
    wall = time.perf_counter() - t
    assert not r.violations, r.violations[:3]
    return hours * 3600 / wall, r.actuations


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=24.0, help="simulated hours (24)")
    args = p.parse_args()
    tick, _ = run(min(args.hours, 2.0), every_tick=True)
    print(f"every 0.1 s step:  {tick:,.0f}x real time ({min(args.hours, 2.0):g} h of corridor)")
    fast, actuations = run(args.hours, every_tick=False)
    print(f"event-driven:      {fast:,.0f}x real time ({args.hours:g} h of corridor, "
          f"{actuations} detector actuations, a day in {86400 / fast:.1f} s)")
    print(f"core_speed: {fast:.0f} x_real_time")


if __name__ == "__main__":
    main()
