"""Running the central service: the hub, its broker link and its web server in one
event loop, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from pathlib import Path

import uvicorn

from .auth import Operator, Sessions
from .desk import CommandDesk
from .hub import Hub
from .mqtt import CityLink
from .web import make_app

log = logging.getLogger("smartcross.city")


def listen(host: str, port: int) -> socket.socket:
    """The HTTP socket, bound before anything starts (OSError says why not)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def run_city(broker: str, sock: socket.socket, data: Path, *, closed: set[str],
             username: str | None = None, password: str | None = None,
             tls_ca: str | None = None, operators: dict[str, Operator] | None = None) -> int:
    hub = Hub(data, closed)
    link = CityLink(hub, broker, username=username, password=password, tls_ca=tls_ca)
    desk = CommandDesk(Sessions(operators), hub.store, link.publish,
                       lambda: set(hub.city.groups)) if operators is not None else None

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with link.running():
            yield

    app = make_app(hub, lifespan, desk)
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2,
                            lifespan="on")
    server = uvicorn.Server(config)
    print(f"city: http://{host}:{port}/  (broker {broker}, data {data}, commands "
          f"{'on: ' + str(len(operators)) + ' operator(s)' if desk else 'off'})", flush=True)
    # uvicorn stops gracefully on SIGTERM / SIGINT, then raises the signal again for the
    # handler that was there before: let that one be a no-op, so the stop is a clean exit 0
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    try:
        asyncio.run(server.serve(sockets=[sock]))
    finally:
        hub.store.close()
    print("city: stopped", file=sys.stderr, flush=True)
    return 0
