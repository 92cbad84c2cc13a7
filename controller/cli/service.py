"""`run`, `status` and `log`: the cabinet service, what it sees, and its record.

Nothing here (nor anything `run` imports) draws plots: the cabinet computer needs no
matplotlib.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from ..config import load
from . import options as o
from .options import UsageError


def register(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("run", help="the cabinet service: poll the nodes, run the timing core",
                       description="Run the intersection group: poll every node over Modbus "
                       "RTU each 100 ms, run the timing core, keep the record. SIGTERM or "
                       "SIGINT stops it cleanly (nodes commanded to flash, record closed).")
    o.add_config(r)
    r.add_argument("--port", action="append", metavar="BUS=PATH",
                   help="use PATH for bus BUS instead of the configured port (repeatable)")
    o.add_data(r, "record and status folder (default $SMARTCROSS_DATA/<config> or "
               "~/.local/state/smartcross/<config>)")
    r.add_argument("--offline-cycles", type=int, default=3,
                   help="missed polls before a node counts as silent (3)")
    r.add_argument("--duration", type=float, help="stop after this many seconds")
    o.add_broker(r)
    r.add_argument("--time-scale", type=float, default=1.0, help=argparse.SUPPRESS)  # HIL rig
    r.set_defaults(func=cmd_run)

    st = sub.add_parser("status", help="what a running service sees, at a glance",
                        description="Each intersection's stage and aspects, node health, "
                        "detectors, faults and free parking, from the running service.")
    o.add_config(st)
    o.add_data(st)
    o.add_json(st)
    st.set_defaults(func=cmd_status)


def register_log(sub: argparse._SubParsersAction) -> None:
    lg = sub.add_parser("log", help="the service's record")
    lsub = lg.add_subparsers(dest="log_command", required=True, metavar="COMMAND")
    ex = lsub.add_parser("export", help="events in the ATSPM high-resolution layout",
                         description="Write Indiana high-resolution events between two "
                         "local times as CSV (SignalID, Timestamp, EventCode, EventParam).")
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


def cmd_run(args: argparse.Namespace) -> int:
    import logging

    from ..runtime.service import ServiceOptions, data_dir, run_service

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
    from ..runtime.record import export_events
    from ..runtime.service import data_dir

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
