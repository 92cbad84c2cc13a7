"""`smartcross city`: the central service, a plugin of the `smartcross` program (the
entry point `city` in the group `smartcross.commands`). The cabinet software never imports
it; an install without the `city` extra (Starlette, uvicorn) says so when it is run."""

from __future__ import annotations

import argparse
import logging
import sys
from functools import partial
from pathlib import Path
from types import ModuleType


def register(sub: argparse._SubParsersAction, shared: ModuleType) -> None:
    c = sub.add_parser("city", help="the central service: every cabinet, a web page, signs",
                       description="Subscribe to every cabinet's telemetry on the broker, "
                       "keep history in SQLite (--data), serve a read-only JSON API and a "
                       "live web page on --http, and publish parking guidance to the signs "
                       "(smartcross/signs/<area>). docs/TELEMETRY.md lists the topics.")
    c.add_argument("--broker", required=True, metavar="mqtt://HOST:PORT")
    c.add_argument("--http", default="127.0.0.1:8080", metavar="HOST:PORT",
                   help="where the API and the page listen (127.0.0.1:8080)")
    shared.add_data(c, "history folder (city.sqlite)")
    c.add_argument("--credentials", metavar="FILE",
                   help="broker username:password (first line of FILE)")
    c.add_argument("--tls-ca", metavar="FILE",
                   help="CA certificate (PEM) the broker's certificate must be signed by "
                   "(mqtts:// only; default: the system's CAs)")
    c.add_argument("--operators", metavar="FILE",
                   help="turns the command path on: who may log in (name:role:hash lines, "
                   "made by `smartcross city-operator`); without it the API is read-only")
    c.add_argument("--closed", action="append", default=[], metavar="GROUP.AREA",
                   help="a parking area closed by the city: its signs show CLOSED "
                   "(repeatable)")
    c.set_defaults(func=partial(cmd_city, shared))
    o = sub.add_parser("city-operator", help="add an operator to the city's operators file",
                       description="Add (or replace) NAME in FILE with a scrypt hash of the "
                       "password read from standard input (one line).")
    o.add_argument("file", metavar="FILE")
    o.add_argument("name", metavar="NAME")
    o.add_argument("--role", default="operator", choices=("operator", "viewer"))
    o.set_defaults(func=partial(cmd_operator, shared))


def cmd_operator(shared: ModuleType, args: argparse.Namespace) -> int:
    from .auth import add_operator, read_operators

    try:
        if Path(args.file).exists() or Path(args.file).is_symlink():
            read_operators(args.file)         # a file that is not one: said before asking
        password = sys.stdin.readline().rstrip("\r\n")
        add_operator(args.file, args.name, args.role, password)
    except (ValueError, OSError) as e:
        raise shared.UsageError(f"city-operator: {e}") from None
    print(f"{args.file}: {args.name} ({args.role})")
    return 0


def _http(value: str, shared: ModuleType) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise shared.UsageError(f"--http: expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def cmd_city(shared: ModuleType, args: argparse.Namespace) -> int:
    from controller.config.telemetry import parse_broker
    from controller.telemetry.connection import tls_context

    try:
        tls = parse_broker(args.broker)[2]
    except ValueError as e:
        raise shared.UsageError(f"--broker: {e}") from None
    if args.tls_ca and not tls:
        raise shared.UsageError("--tls-ca: only for an mqtts:// broker")
    if tls:
        try:
            tls_context(args.tls_ca)
        except ValueError as e:
            raise shared.UsageError(f"--tls-ca {e}") from None
    host, port = _http(args.http, shared)
    user = password = None
    if args.credentials:
        try:
            line = Path(args.credentials).read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError, UnicodeDecodeError) as e:
            raise shared.UsageError(f"--credentials {args.credentials}: cannot read a "
                                    f"username:password line ({e})") from None
        user, _, password = line.partition(":")
    operators = None
    if args.operators:
        from .auth import read_operators

        try:
            operators = read_operators(args.operators)
        except ValueError as e:
            raise shared.UsageError(f"--operators {e}") from None
    try:
        from .service import listen, run_city
    except ImportError as e:
        raise shared.UsageError(f"smartcross city needs {e.name}: pip install "
                                "'smartcross[city]'") from None
    data = Path(args.data or Path.home() / ".local" / "state" / "smartcross" / "city")
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise shared.UsageError(f"--data {data}: cannot use it as the history folder "
                                f"({e.strerror or e})") from None
    try:
        sock = listen(host, port)
    except OSError as e:
        raise shared.UsageError(f"--http: cannot listen on {host}:{port}: "
                                f"{e.strerror or e}") from None
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    return run_city(args.broker, sock, data, closed=set(args.closed), username=user,
                    password=password, tls_ca=args.tls_ca, operators=operators)
