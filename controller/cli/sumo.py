"""`import-sumo` and `sumo`: a SUMO network in, a configuration out; the core against SUMO.

Arguments in, files and a verdict out; the work is in controller/sumo/ (the `sumo` extra).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

from ..config import ConfigError, civil, load, loads
from ..config.model import GroupConfig, ScheduleEntry
from ..sumo import SumoError
from . import options as o


def register(sub: argparse._SubParsersAction) -> None:
    _import_sumo(sub)
    _sumo(sub)


def _import_sumo(sub: argparse._SubParsersAction) -> None:
    i = sub.add_parser("import-sumo", help="build a configuration from a SUMO network",
                       description="Build an intersection-group configuration from a SUMO "
                       "network: signal groups per movement, conflicts from SUMO's foes, "
                       "intergreens from the geometry (RiLSA), detectors from induction loops, "
                       "stages and plans. The result passes `smartcross check`.")
    i.add_argument("net", help="SUMO network (.net.xml)")
    i.add_argument("--detectors", action="append", metavar="DET.add.xml",
                   help="additional file with induction loops (repeatable)")
    o.add_output(i, "GROUP.toml", "where to write the configuration", required=True)
    i.add_argument("--profile", default="US", choices=("US", "EU", "CIS"),
                   help="signal sequence profile (US: SUMO's green-yellow-red)")
    i.add_argument("--amber", type=o.Number(0, 10, unit="s"), default=3.0,
                   help="amber / yellow, s (3; at least 3)")
    i.add_argument("--all-red", type=o.Number(0, 6, unit="s"), default=2.0,
                   help="minimum red clearance inside every intergreen, s (2; 0 to 6)")
    i.add_argument("--no-permissive", action="store_true",
                   help="no permissive left turns: every SUMO foe is a conflict")
    i.add_argument("--routes", action="append", metavar="R.rou.xml",
                   help="route file(s) whose flows size the coordinated plan (repeatable)")
    i.add_argument("--cycle", type=o.Number(30, 180, unit="s"),
                   help="common cycle of the coordinated plan, s, 30 to 180 "
                   "(default: Webster from --routes, else 60)")
    i.add_argument("--plan", default="auto",
                   choices=("auto", "coordinated", "adaptive", "actuated"),
                   help="the plan the schedule runs (auto: coordinated for neighbouring "
                   "signals when --routes or --cycle size it, else adaptive)")
    i.add_argument("--name", help="name of the intersection group")
    i.set_defaults(func=cmd_import_sumo)


def _sumo(sub: argparse._SubParsersAction) -> None:
    m = sub.add_parser("sumo", help="run the timing core against SUMO (software in the loop)",
                       description="Run SUMO (libsumo) with the timing core driving every "
                       "traffic light: SUMO's loops are the core's detectors, the core's "
                       "aspects are SUMO's signal states, the independent monitor watches every "
                       "step. Exit status 1 if the monitor saw a violation.")
    m.add_argument("--sumocfg", required=True, help="SUMO configuration (.sumocfg)")
    m.add_argument("--config", help="intersection-group configuration (TOML); default: "
                   "import the network of the SUMO configuration")
    m.add_argument("--routes", action="append", help="route file instead of the "
                   "configuration's (repeatable)")
    o.add_seed(m, None, "SUMO random seed")
    m.add_argument("--tripinfo", required=True, metavar="OUT.xml", help="SUMO tripinfo output")
    m.add_argument("--additional", action="append", metavar="A.add.xml",
                   help="additional file loaded after the configuration's (repeatable)")
    m.add_argument("--statistics", metavar="OUT.xml", help="SUMO statistic output")
    m.add_argument("--plan", help="run this plan all the time instead of the schedule")
    o.add_start(m, "local time at SUMO time 0: HH:MM, or YYYY-MM-DDTHH:MM (07:00)")
    m.add_argument("--end", type=o.DURATION, help="stop at this SUMO time, s, at most 31 days "
                   "(default: the configuration's end, else when the demand is over and the "
                   "network empty)")
    o.add_events(m)
    m.add_argument("--atspm", action="store_true", help="print ATSPM measures per phase")
    o.add_plot(m, "draw Purdue coordination diagrams")
    o.add_json(m)
    m.set_defaults(func=cmd_sumo)


def cmd_import_sumo(args: argparse.Namespace) -> int:
    from ..sumo.importer import Options, import_network
    from ..sumo.network import read_network
    from ..sumo.sumocfg import route_demand

    opts = Options(profile=args.profile, amber_s=args.amber, all_red_s=args.all_red,
                   permissive=not args.no_permissive, plan=args.plan, name=args.name or "",
                   cycle_s=args.cycle)
    if opts.amber_s < 3.0:
        raise SumoError("--amber must be at least 3 s (NTCIP yellowChange)")
    o.writable(args.output, "-o")
    net = read_network(args.net, args.detectors or [])
    demand = route_demand(args.routes) if args.routes else None
    try:
        text = import_network(net, opts, os.path.basename(args.net), demand)
    except ValueError as e:
        raise SumoError(f"cannot build the coordinated plan: {e}") from None
    try:
        cfg = loads(text, args.output)
    except ConfigError as e:       # a bug of the importer: say so, write nothing
        raise SumoError("the imported configuration does not pass the check (please report):\n"
                        + "\n".join(map(str, e.problems))) from None
    try:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise SumoError(f"-o: cannot write {args.output}: {e.strerror or e}") from None
    print(f"{args.output}: {len(cfg.intersections)} intersection(s) from {args.net}")
    for i in cfg.intersections:
        perm = f", {len(i.permissive)} permissive pair(s)" if i.permissive else ""
        print(f"  {i.id}: {len(i.groups)} signal groups, {len(i.conflicts) // 2} conflicts{perm}, "
              f"{len(i.stages)} stages, {len(i.detectors)} detectors")
    return 0


def _with_plan(cfg: GroupConfig, plan: str | None) -> GroupConfig:
    if plan is None:
        return cfg
    missing = [i.id for i in cfg.intersections if plan not in i.plans]
    if missing:
        raise SumoError(f"--plan: intersection(s) {', '.join(missing)} have no plan {plan!r}")
    return dataclasses.replace(cfg, schedule=(ScheduleEntry(0.0, plan, ()),))


def sumo_args(args: argparse.Namespace, cfg_adds: list[str]) -> list[str]:
    """SUMO's command line: the configuration, and only what the caller asked to change."""
    out = ["-c", args.sumocfg]
    if args.routes:
        out += ["-r", ",".join(args.routes)]
    if args.seed is not None:
        out += ["--seed", str(args.seed)]
    if args.additional:
        # -a replaces the configuration's additional files: keep them (detectors) first
        adds = list(dict.fromkeys(cfg_adds + [os.path.abspath(a) for a in args.additional]))
        out += ["-a", ",".join(adds)]
    out += ["--tripinfo-output", args.tripinfo, "--tripinfo-output.write-unfinished", "true",
            "--tripinfo-output.write-undeparted", "true"]
    if args.statistics:
        out += ["--statistic-output", args.statistics]
    return out + ["--no-step-log", "true", "--duration-log.disable", "true"]


def cmd_sumo(args: argparse.Namespace) -> int:
    from ..sumo.importer import Options, import_network
    from ..sumo.network import loop_files_in, read_network
    from ..sumo.sil import run, warn
    from ..sumo.sumocfg import check_xml, last_departure, read_sumocfg

    o.require_plot(args)
    for path, what in ((args.tripinfo, "--tripinfo"), (args.statistics, "--statistics"),
                       (args.events, "--events")):
        o.writable(path, what)
    scfg = read_sumocfg(args.sumocfg)
    adds = scfg.additional + [os.path.abspath(a) for a in args.additional or []]
    for path in [scfg.net, *(args.routes or scfg.routes), *adds]:
        if not os.path.exists(path):
            raise SumoError(f"{path}: no such file (named by {args.sumocfg} or the options)")
    for path in args.additional or []:
        check_xml(path, "additional file")
    net = read_network(scfg.net, loop_files_in(list(dict.fromkeys(adds))))
    if args.config:
        cfg = load(args.config)
    else:
        text = import_network(net, Options(), os.path.basename(scfg.net))
        cfg = loads(text, f"<imported from {scfg.net}>")
    cfg = _with_plan(cfg, args.plan)
    epoch, start_s = civil.run_clock(cfg.zone, o.start_time(args.start, cfg.zone))
    end = args.end if args.end is not None else (scfg.end if scfg.end is not None else 86400.0)
    last = last_departure(args.routes or scfg.routes)
    result = run(cfg, sumo_args(args, scfg.additional), net=net, start_s=start_s, end_s=end,
                 last_depart=last, keep_events=bool(args.events or args.plot or args.atspm),
                 epoch=epoch)
    warn(result.warnings)
    measures = None
    if args.atspm or args.plot:
        from ..control.atspm import measures as atspm_measures

        measures = atspm_measures(cfg, result.events)
    if args.events:
        from ..simulate import write_events_csv

        try:
            write_events_csv(result.events, args.events, cfg.zone, epoch)
        except OSError as e:
            raise SumoError(f"--events: cannot write {args.events}: {e.strerror or e}") from None
    if args.plot:
        from ..control.atspm import coordination_diagram

        try:
            coordination_diagram(cfg, result.events, args.plot, start_s=start_s)
        except OSError as e:
            raise SumoError(f"--plot: cannot write {args.plot}: {e.strerror or e}") from None
    _report(args, cfg.name, result, measures)
    return 1 if result.violations else 0


def _report(args: argparse.Namespace, name: str, result, measures) -> None:
    summary = {
        "group": name, "sumo_steps": result.steps, "sim_end_s": result.sim_end_s,
        "wall_s": round(result.wall_s, 2), "arrived": result.arrived,
        "violations": [v._asdict() for v in result.violations],
    }
    if measures is not None:
        summary["atspm"] = measures
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"{name}: SUMO {result.sim_end_s:g} s in {result.wall_s:.2f} s wall, "
              f"{result.arrived} vehicles arrived; tripinfo {args.tripinfo}")
        if measures is not None:
            from ..control.atspm import format_measures

            print(format_measures(measures))
        if result.violations:
            print(f"  MONITOR: {len(result.violations)} violation(s)")
            for v in result.violations[:20]:
                print(f"    t={v.t:.1f} {v.intersection} {v.kind} {'/'.join(v.groups)}: {v.detail}")
        else:
            print("  monitor: no violation")
    sys.stdout.flush()
