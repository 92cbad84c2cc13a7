"""`check` and `simulate`: a configuration on its own, without nodes or a cabinet."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from monitor.table import crc as table_crc

from ..config import load
from ..config.monitor_table import monitor_table
from ..tooling.progress import Progress
from . import options as o
from .options import UsageError

if TYPE_CHECKING:
    from ..simulate import Call

MAX_SCALE = 20.0           # traffic flows at most this many times the configured ones


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("check", help="validate an intersection-group configuration",
                       description="Validate an intersection-group configuration (TOML). "
                       "Every problem is listed with its file and key path; exit status 2.")
    o.add_config(c)
    c.set_defaults(func=cmd_check)

    s = sub.add_parser("simulate", help="run a group in simulated time with the monitor watching",
                       description="Run the timing core in simulated time with seeded traffic "
                       "and the independent signal monitor. Exit status 1 if the monitor saw "
                       "a violation.")
    o.add_config(s)
    o.add_duration(s, 3600.0, "simulated seconds (3600; at most 31 days)")
    o.add_seed(s)
    o.add_start(s, "start time: HH:MM today, or an ISO date-time YYYY-MM-DDTHH:MM[:SS], "
                "with an offset (+02:00, Z) or without (the group's timezone) (07:00)")
    s.add_argument("--scale", type=o.Number(0, MAX_SCALE), default=1.0,
                   help=f"multiply all traffic flows (1.0; 0 to {MAX_SCALE:g})")
    s.add_argument("--preempt", action="append", default=[], metavar="ID@T[+D]",
                   help="call preempt ID T s after the start, for D s (30); repeatable")
    s.add_argument("--tsp", action="append", default=[], metavar="ID@T[+D]",
                   help="check a bus in for priority ID T s after the start, out D s later "
                   "(30); repeatable")
    o.add_events(s)
    o.add_plot(s, "draw a timing diagram", window=True)
    o.add_json(s)
    s.set_defaults(func=cmd_simulate)


def cmd_check(args: argparse.Namespace) -> int:
    cfg = load(args.file)
    print(f"{args.file}: OK — {cfg.name}")
    print(f"  timezone {cfg.zone.key}" + (" (not set: this computer's own zone)"
                                          if cfg.zone.key == "local" else "")
          + f"; a clock step over {cfg.clock_step_alarm_s:g} s is an alarm")
    for i in cfg.intersections:
        print(f"  intersection {i.id} ({i.profile.name}): {len(i.groups)} signal groups, "
              f"{len(i.stages)} stages, {len(i.detectors)} detectors, {len(i.nodes)} node(s)")
        for n in i.nodes:
            w = i.wiring[n.id]
            lamps = sum(len(h.lamps) for h in w.heads.values())
            sensed = sum(len(h.sense) for h in w.heads.values())
            print(f"    node {n.id}: board {w.board.name}, {lamps} lamp outputs, "
                  f"{len(w.inputs)} detector inputs, lamp sense on {sensed} of {lamps} lamps")
            note = w.sense_note()
            if note:
                print(f"    warning: node {n.id}: {note}")
        u = i.monitor_unit
        if u is not None:
            print(f"    monitor unit {u.id}: board {u.board}, address {u.address} on bus "
                  f"{u.bus}, transfer relay GPIO {u.wiring.relay}, lamp sense on all "
                  f"{u.wiring.inputs} lamps, table CRC 0x{table_crc(monitor_table(i)):08X}, "
                  f"silent {u.comm_timeout_ms} ms: flash")
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
        for pre in i.preempts:
            track = (f", track clearance {'+'.join(pre.track.groups)} {pre.track.green_s:g} s"
                     if pre.track else "")
            print(f"    preempt {pre.id}: {pre.kind}, priority {pre.priority}, route "
                  f"{'+'.join(pre.route)}{track}, dwell ≥ {pre.min_dwell_s:g} s, max presence "
                  f"{pre.max_presence_s:g} s")
        for q in i.priorities:
            print(f"    priority {q.id}: stage {q.stage}, early ≤ {q.max_early_s:g} s, "
                  f"extension ≤ {q.max_extend_s:g} s, {q.per_cycle} per cycle")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from ..simulate import simulate, summary, write_events_csv

    cfg = load(args.file)
    start = o.start_time(args.start, cfg.zone)
    o.require_plot(args)
    o.writable(args.events, "--events")
    calls = _scripted_calls(cfg, args)
    with _progress(args) as bar:
        result = simulate(cfg, args.duration, seed=args.seed, start=start,
                          scale=args.scale, trace=bool(args.plot),
                          on_progress=bar.update if bar else None, calls=calls)
    if args.events:
        try:
            write_events_csv(result.events, args.events, cfg.zone, result.epoch)
        except OSError as e:
            raise UsageError(f"--events: cannot write {args.events}: {e.strerror or e}") from None
    if args.plot:
        _plot(args, cfg.name, result.trace, result.start_s)
    if args.json:
        print(json.dumps(result.to_json(), indent=1))
    else:
        print(summary(result))
    return 1 if result.violations else 0


def _scripted_calls(cfg, args: argparse.Namespace) -> tuple[Call, ...]:
    """--preempt and --tsp as simulate.Call; a bad one is a usage error (exit 2)."""
    from ..simulate import Call

    out = []
    for opt, kind, values in (("--preempt", "preempt", args.preempt),
                              ("--tsp", "priority", args.tsp)):
        known = {x.id for i in cfg.intersections
                 for x in (i.preempts if kind == "preempt" else i.priorities)}
        for v in values:
            m = re.fullmatch(r"([^@]+)@(\d+(?:\.\d)?)(?:\+(\d+(?:\.\d)?))?", v)
            if m is None:
                raise UsageError(f"{opt} {v}: expected ID@T or ID@T+D (seconds, to 0.1 s)")
            if m[1] not in known:
                raise UsageError(f"{opt} {v}: no [[intersection.{kind}]] {m[1]!r} in "
                                 f"{args.file} (there: {', '.join(sorted(known)) or 'none'})")
            start, dur = float(m[2]), float(m[3] or 30.0)
            if start >= args.duration or dur <= 0:
                raise UsageError(f"{opt} {v}: the call must begin within the run "
                                 f"({args.duration:g} s) and last more than 0 s")
            out.append(Call(kind, m[1], start, dur))
    return tuple(out)


@contextlib.contextmanager
def _progress(args: argparse.Namespace) -> Iterator[Progress | None]:
    """A bar on stderr while the simulation runs, when stderr is a terminal and the output
    is not --json; nothing otherwise (a log or a pipe stays as it was)."""
    if args.json or not sys.stderr.isatty():
        yield None
        return
    with Progress(f"simulating {args.duration:g} s", args.duration, "s") as bar:
        yield bar


def _plot(args: argparse.Namespace, name: str, trace, start_s: float) -> None:
    from ..plot import timing_diagram

    try:
        window = min(args.duration, args.plot_window)
        t_end = start_s + window
        asp = {k: [c for c in v if c[0] <= t_end] for k, v in trace.aspects.items()}
        det = {k: [s for s in v if s[0] <= t_end] for k, v in trace.detectors.items()}
        timing_diagram(asp, det, t_end, args.plot,
                       title=f"{name} — first {window:g} s, seed {args.seed}")
    except OSError as e:
        raise UsageError(f"--plot: cannot write {args.plot}: {e.strerror or e}") from None
