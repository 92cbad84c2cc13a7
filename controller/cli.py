"""`smartcross`: the one command-line program, with a subcommand per job.

Bad input ends with a message that names what is wrong and where, and exit status 2;
never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from . import __version__
from .config import ConfigError, load

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEMO_CONFIG = EXAMPLES / "corridor.toml"


class UsageError(Exception):
    """Bad input that is not a configuration file: a message for the user."""


def _start(value: str) -> tuple[dt.date, float, int]:
    """--start: HH:MM (today) or an ISO date-time → (date, seconds after midnight, weekday)."""
    try:
        if len(value) <= 5 and ":" in value:
            hh, mm = value.split(":")
            day = dt.date.today()
            secs = int(hh) * 3600 + int(mm) * 60
            if not (0 <= int(hh) < 24 and 0 <= int(mm) < 60):
                raise ValueError
        else:
            when = dt.datetime.fromisoformat(value)
            day = when.date()
            secs = when.hour * 3600 + when.minute * 60 + when.second
    except ValueError:
        raise UsageError(f"--start: expected HH:MM or YYYY-MM-DDTHH:MM, got {value!r}") from None
    return day, float(secs), day.weekday()


# -- check -------------------------------------------------------------------------------
def cmd_check(args: argparse.Namespace) -> int:
    cfg = load(args.file)
    print(f"{args.file}: OK — {cfg.name}")
    for i in cfg.intersections:
        print(f"  intersection {i.id} ({i.profile.name}): {len(i.groups)} signal groups, "
              f"{len(i.stages)} stages, {len(i.detectors)} detectors, {len(i.nodes)} node(s)")
        for p in i.plans.values():
            order = list(p.stages)
            inter = [i.interstage_s(order[k], order[(k + 1) % len(order)])
                     for k in range(len(order))] if len(order) > 1 else [0.0]
            if p.mode == "fixed":
                greens = sum(sp.green_s or 0 for sp in p.stages.values())
                slack = p.cycle_s - greens - sum(inter)
                print(f"    plan {p.id}: fixed, cycle {p.cycle_s:g} s, offset {p.offset_s:g} s, "
                      f"greens {greens:g} s + interstage {sum(inter):g} s"
                      + (f" (+{slack:g} s to main stage {p.main_stage})" if slack else ""))
            else:
                print(f"    plan {p.id}: {p.mode}, main stage {p.main_stage}, "
                      f"interstage {sum(inter):g} s per full sequence")
    return 0


# -- simulate ----------------------------------------------------------------------------
def cmd_simulate(args: argparse.Namespace) -> int:
    from .simulate import simulate, summary, write_events_csv

    cfg = load(args.file)
    if args.duration <= 0:
        raise UsageError("--duration must be a positive number of seconds")
    day, start_s, weekday = _start(args.start)
    result = simulate(cfg, args.duration, seed=args.seed, start_s=start_s, weekday=weekday,
                      scale=args.scale, trace=bool(args.plot))
    if args.events:
        try:
            write_events_csv(result, args.events, day)
        except OSError as e:
            raise UsageError(f"--events: cannot write {args.events}: {e.strerror or e}") from None
    if args.plot:
        from .plot import timing_diagram

        try:
            window = min(args.duration, args.plot_window)
            t_end = start_s + window
            asp = {k: [c for c in v if c[0] <= t_end] for k, v in result.trace.aspects.items()}
            det = {k: [s for s in v if s[0] <= t_end] for k, v in result.trace.detectors.items()}
            timing_diagram(asp, det, t_end, args.plot,
                           title=f"{cfg.name} — first {window:g} s, seed {args.seed}")
        except OSError as e:
            raise UsageError(f"--plot: cannot write {args.plot}: {e.strerror or e}") from None
    if args.json:
        print(json.dumps(result.to_json(), indent=1))
    else:
        print(summary(result))
    return 1 if result.violations else 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job on its embedded default: the corridor example.

    Until the HIL rig runs emulated boards, the demo runs the corridor in simulated time.
    """
    args.file = str(DEMO_CONFIG)
    args.events = None
    args.plot = None
    args.scale = 1.0
    args.start = "07:30"
    args.plot_window = 300.0
    return cmd_simulate(args)


# -- the program -------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="smartcross", description="Open firmware and control "
                                "software for smart intersections.")
    p.add_argument("--version", action="version", version=f"smartcross {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("check", help="validate an intersection-group configuration",
                       description="Validate an intersection-group configuration (TOML). "
                       "Every problem is listed with its file and key path; exit status 2.")
    c.add_argument("file", help="intersection-group configuration (TOML)")
    c.set_defaults(func=cmd_check)

    s = sub.add_parser("simulate", help="run a group in simulated time with the monitor watching",
                       description="Run the timing core in simulated time with seeded traffic "
                       "and the independent signal monitor. Exit status 1 if the monitor saw "
                       "a violation.")
    s.add_argument("file", help="intersection-group configuration (TOML)")
    s.add_argument("--duration", type=float, default=3600.0, help="simulated seconds (3600)")
    s.add_argument("--seed", type=int, default=1, help="traffic seed (1)")
    s.add_argument("--start", default="07:00",
                   help="start time: HH:MM today, or YYYY-MM-DDTHH:MM (07:00)")
    s.add_argument("--scale", type=float, default=1.0, help="multiply all traffic flows (1.0)")
    s.add_argument("--events", metavar="OUT.csv", help="write Indiana events (ATSPM layout)")
    s.add_argument("--plot", metavar="OUT.png", help="draw a timing diagram")
    s.add_argument("--plot-window", type=float, default=300.0,
                   help="seconds shown in the timing diagram (300)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=cmd_simulate)

    d = sub.add_parser("demo", help="the corridor example, end to end",
                       description="Run the embedded corridor example with the monitor "
                       "watching and print the verdict.")
    d.add_argument("--duration", type=float, default=600.0, help="seconds (600)")
    d.add_argument("--seed", type=int, default=1, help="traffic seed (1)")
    d.add_argument("--json", action="store_true", help="print one JSON object")
    d.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{len(e.problems)} problem(s); nothing was changed.", file=sys.stderr)
        return 2
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
