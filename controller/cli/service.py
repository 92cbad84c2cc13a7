"""`run`, `status` and `log`: the cabinet service, what it sees, and its record.

Nothing here (nor anything `run` imports) draws plots: the cabinet computer needs no
matplotlib.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import sys

from ..config import load
from . import options as o
from .options import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("run", help="the cabinet service: poll the nodes, run the timing core",
                       description="Run the intersection group: poll every node over Modbus "
                       "RTU each 100 ms, run the timing core, keep the record. SIGTERM or "
                       "SIGINT stops it cleanly (nodes commanded to flash, record closed). "
                       "Exit status 1 if no node ever answered (each bus is named, with its "
                       "port and whether it opened), 2 for bad input.")
    o.add_config(r)
    r.add_argument("--port", action="append", metavar="BUS=PATH",
                   help="use PATH for bus BUS instead of the configured port (repeatable)")
    o.add_data(r, "record and status folder (default $SMARTCROSS_DATA/<config> or "
               "~/.local/state/smartcross/<config>)")
    r.add_argument("--offline-cycles", type=o.Number(1, 600, integer=True), default=3,
                   help="missed polls before a node counts as silent (3)")
    o.add_duration(r, None, "stop after this many seconds (at most 31 days)")
    o.add_broker(r)
    r.add_argument("--time-scale", type=o.Number(0.1, 20), default=1.0,
                   help=argparse.SUPPRESS)  # HIL rig
    r.set_defaults(func=cmd_run)

    st = sub.add_parser("status", help="what a running service sees, at a glance",
                        description="Each intersection's stage and aspects, node health, "
                        "detectors, faults and free parking, from the running service. Exit "
                        "status 1 if the service is not running (its last state is shown), 2 "
                        "if it has never run with this --data folder.")
    o.add_config(st)
    o.add_data(st)
    o.add_json(st)
    st.set_defaults(func=cmd_status)


def register_log(sub: argparse._SubParsersAction) -> None:
    lg = sub.add_parser("log", help="the service's record")
    lsub = lg.add_subparsers(dest="log_command", required=True, metavar="COMMAND")
    ex = lsub.add_parser("export", help="events in the ATSPM high-resolution layout",
                         description="Write Indiana high-resolution events between two "
                         "local times (the group's timezone) as CSV (SignalID, Timestamp, "
                         "EventCode, EventParam).")
    o.add_config(ex)
    ex.add_argument("--from", dest="start", required=True, metavar="T",
                    help="local date-time, e.g. 2026-11-26T07:00")
    ex.add_argument("--to", dest="end", required=True, metavar="T", help="local date-time")
    ex.add_argument("--format", choices=("csv", "tsv"), default="csv")
    o.add_output(ex, "FILE", "write here instead of stdout")
    o.add_data(ex)
    ex.set_defaults(func=cmd_log_export)


def _ports(values: list[str]) -> dict[str, str]:
    ports = {}
    for v in values or []:
        bus, sep, path = v.partition("=")
        if not sep or not bus or not path:
            raise UsageError(f"--port: expected BUS=PATH, got {v!r}")
        ports[bus] = path
    return ports


def _data_folder(cfg, override: str | None):
    """The service's --data folder, made if it is not there; a file there is bad input."""
    from ..runtime.service import data_dir

    folder = data_dir(cfg, override)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"--data {folder}: cannot use it as the record folder "
                         f"({e.strerror or e})") from None
    return folder


def cmd_run(args: argparse.Namespace) -> int:
    from ..runtime.logs import configure_logging
    from ..runtime.service import ServiceOptions, run_service

    cfg = load(args.file)
    ports = _ports(args.port)
    unknown = sorted(set(ports) - {b.id for b in cfg.buses})
    if unknown:
        raise UsageError(f"--port: no bus {', '.join(unknown)} in {args.file} "
                         f"(buses: {', '.join(b.id for b in cfg.buses)})")
    data = _data_folder(cfg, args.data)
    configure_logging(sys.stderr)
    opts = ServiceOptions(ports=ports, data=data,
                          offline_cycles=args.offline_cycles, duration_s=args.duration,
                          time_scale=args.time_scale, telemetry=_telemetry(cfg, args.broker))
    return run_service(cfg, opts)


def _telemetry(cfg, broker: str | None):
    """[telemetry] of the file, its broker replaced by --broker; its files readable."""
    import dataclasses

    from ..config.telemetry import parse_broker, telemetry_config
    from ..runtime.publisher import CredentialsError, check_files

    tel = cfg.telemetry
    if broker:
        try:
            host, port, tls = parse_broker(broker)
        except ValueError as e:
            raise UsageError(f"--broker: {e}") from None
        tel = (dataclasses.replace(tel, broker=broker, host=host, port=port, tls=tls) if tel
               else telemetry_config(cfg.source, broker))
    if tel is not None:
        try:
            check_files(tel)
        except CredentialsError as e:
            raise UsageError(str(e)) from None
    return tel


def cmd_status(args: argparse.Namespace) -> int:
    from ..runtime.service import data_dir
    from ..runtime.status import read_status, render

    cfg = load(args.file)
    doc, problem = read_status(data_dir(cfg, args.data))
    if doc is None:                   # never ran with this folder: bad input, as `log export`
        raise UsageError(str(problem))
    try:
        text = json.dumps(doc, indent=1) if args.json else render(doc)
    except (KeyError, TypeError, AttributeError):
        raise UsageError(f"{data_dir(cfg, args.data) / 'status.json'}: not a status written "
                         "by `smartcross run`") from None
    print(text)
    if problem:                       # not running: the last state above, why on stderr
        print(f"error: {problem}", file=sys.stderr)
        return 1
    return 0


def _when(value: str, what: str, zone) -> float:
    """A date-time: with an offset, or without (the group's timezone)."""
    try:
        when = dt.datetime.fromisoformat(value)
        return (zone.attach(when) if when.tzinfo is None else when).timestamp()
    except (ValueError, OverflowError, OSError):
        raise UsageError(f"{what}: expected a date-time like 2026-11-26T07:00, got {value!r}") \
            from None


def cmd_log_export(args: argparse.Namespace) -> int:
    from ..runtime.record import export_events
    from ..runtime.service import data_dir

    cfg = load(args.file)
    o.writable(args.output, "-o")
    start, end = _when(args.start, "--from", cfg.zone), _when(args.end, "--to", cfg.zone)
    if end <= start:
        raise UsageError("--to must be after --from")
    db = data_dir(cfg, args.data) / "record.sqlite"     # the arguments first, then the record
    if not db.exists():
        raise UsageError(f"no record for {args.file} at {db} (has `smartcross run` run?)")
    try:
        if args.output:
            try:
                with open(args.output, "w", newline="") as f:
                    n = export_events(db, start, end, f, args.format, cfg.zone)
            except OSError as e:
                raise UsageError(f"-o: cannot write {args.output}: {e.strerror or e}") from None
            print(f"{n} events written to {args.output}", file=sys.stderr)
        else:
            export_events(db, start, end, sys.stdout, args.format, cfg.zone)
    except sqlite3.DatabaseError as e:
        raise UsageError(f"{db}: not a record of `smartcross run` ({e})") from None
    return 0
