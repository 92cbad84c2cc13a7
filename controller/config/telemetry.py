"""[telemetry]: the MQTT broker the cabinet publishes to (docs/TELEMETRY.md).

    [telemetry]
    broker = "mqtt://city-broker.local:1883"   # or mqtts://HOST:8883 (TLS)
    group = "abay"                 # smartcross/<group>/...; default: the file's name
    client_id = "cabinet-abay"     # default: smartcross-<group>
    credentials = "broker.pass"    # one line username:password (relative to this file)
    tls_ca = "city-ca.pem"         # CA certificate for mqtts:// (default: the system's)
    commands = false               # true: take plan selection and flash from the city

`commands` (default false) opens the command path: the cabinet subscribes to
smartcross/city/command/<group> and applies what it checks there (runtime/remote.py).
`smartcross run --broker URL` and `demo --broker URL` give the broker without the section
(the rest then takes its defaults). Files are checked when the service starts, not here:
the cabinet computer keeps them, not the engineer's laptop that runs `check`.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from .model import TelemetryConfig
from .reader import Table

TOPIC_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")    # no '/', '+', '#': one topic level
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
RESERVED = ("signs", "city")      # topics the central service publishes under


def parse_broker(url: str) -> tuple[str, int, bool]:
    """mqtt://HOST[:PORT] or mqtts://HOST[:PORT] → (host, port, tls); ValueError says why."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise ValueError(f"{url!r} is not a broker URL ({e})") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise ValueError(f"{url!r}: expected mqtt://HOST:PORT or mqtts://HOST:PORT")
    if not parts.hostname:
        raise ValueError(f"{url!r}: no host")
    if parts.path not in ("", "/") or parts.query or parts.username or parts.password:
        raise ValueError(f"{url!r}: only a host and a port (credentials go in a file)")
    return parts.hostname, port or DEFAULT_PORTS[parts.scheme], parts.scheme == "mqtts"


def default_group(source: str) -> str:
    """The topic id of a group without one: its file's name, reduced to a topic level."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(source).stem).strip("-")[:64] or "group"
    return stem if stem not in RESERVED else f"{stem}-group"


def telemetry_config(source: str, broker: str, group: str | None = None,
                     client_id: str | None = None, credentials: str | None = None,
                     tls_ca: str | None = None, commands: bool = False) -> TelemetryConfig:
    """The model from checked values (the reader, or `--broker` on the command line)."""
    host, port, tls = parse_broker(broker)
    group = group or default_group(source)
    return TelemetryConfig(broker, host, port, tls, group, client_id or f"smartcross-{group}",
                           credentials, tls_ca, commands)


def read_telemetry(root: Table, source: str) -> TelemetryConfig | None:
    t = root.get_table("telemetry")
    if t is None:
        return None
    broker = t.get_str("broker")
    group = t.get_str("group", None)
    client_id = t.get_str("client_id", None)
    files = {k: t.get_str(k, None) for k in ("credentials", "tls_ca")}
    commands = t._raw("commands", False)
    t.finish()
    ok = True
    if not isinstance(commands, bool):
        t.error("commands", f"must be true or false, not {commands!r}")
        ok = False
    if broker is not None:
        try:
            parse_broker(broker)
        except ValueError as e:
            t.error("broker", str(e))
            ok = False
    if group is not None and not TOPIC_ID.match(group):
        t.error("group", f"must be 1-64 letters, digits, '-' or '_' (one MQTT topic level); "
                f"got {group!r}")
        ok = False
    elif group in RESERVED:
        t.error("group", f"{group!r} is reserved (smartcross/{group}/ is the city's)")
        ok = False
    if client_id is not None and not 0 < len(client_id) <= 64:
        t.error("client_id", "must be 1-64 characters")
        ok = False
    if broker is None or not ok:
        return None
    base = Path(source).parent
    paths = {k: str(base / v) if v else None for k, v in files.items()}
    return telemetry_config(source, broker, group, client_id, **paths, commands=commands)
