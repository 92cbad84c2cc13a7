"""What several command families share: the same options, spelled and explained once.

A command family (controller/cli/*.py, or a plugin such as hil/commands.py) adds these to
its parsers instead of writing them again; `UsageError` is how any handler says "bad
input": the program prints `error: <message>` and exits with status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib

CONFIG_HELP = "intersection-group configuration (TOML)"


class UsageError(Exception):
    """Bad input that is not a configuration file: a message for the user."""


def add_config(p: argparse.ArgumentParser) -> None:
    """The positional FILE: an intersection-group configuration."""
    p.add_argument("file", help=CONFIG_HELP)


def add_json(p: argparse.ArgumentParser, help: str = "print one JSON object") -> None:
    p.add_argument("--json", action="store_true", help=help)


def add_output(p: argparse.ArgumentParser, metavar: str, help: str,
               required: bool = False) -> None:
    """-o/--output: where a command writes its file."""
    p.add_argument("-o", "--output", required=required, metavar=metavar, help=help)


def add_data(p: argparse.ArgumentParser, help: str = "the service's --data folder") -> None:
    """--data: the cabinet service's record and status folder."""
    p.add_argument("--data", metavar="DIR", help=help)


def add_broker(p: argparse.ArgumentParser) -> None:
    """--broker: the MQTT broker the cabinet publishes its telemetry to."""
    p.add_argument("--broker", metavar="mqtt://HOST:PORT",
                   help="publish telemetry to this MQTT broker (overrides [telemetry] "
                   "broker; docs/TELEMETRY.md)")


def add_seed(p: argparse.ArgumentParser, default: int | None = 1,
             help: str = "traffic seed (1)") -> None:
    p.add_argument("--seed", type=int, default=default, help=help)


def add_start(p: argparse.ArgumentParser, help: str) -> None:
    """--start: a local time, read by `start_time`."""
    p.add_argument("--start", default="07:00", help=help)


def add_events(p: argparse.ArgumentParser) -> None:
    p.add_argument("--events", metavar="OUT.csv", help="write Indiana events (ATSPM layout)")


def add_plot(p: argparse.ArgumentParser, help: str, window: bool = False) -> None:
    """--plot OUT.png (and, with `window`, --plot-window). Needs the `plot` extra."""
    p.add_argument("--plot", metavar="OUT.png", help=help)
    if window:
        p.add_argument("--plot-window", type=float, default=300.0,
                       help="seconds shown in the timing diagram (300)")


def require_plot(args: argparse.Namespace) -> None:
    """Before any work: a --plot without matplotlib is bad input, said once, not a traceback."""
    if getattr(args, "plot", None) and not matplotlib_available():
        raise UsageError("--plot needs matplotlib, which is not installed here: "
                         "pip install 'smartcross[plot]'")


def matplotlib_available() -> bool:
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        return False
    return True


def positive_duration(value: float) -> float:
    if value <= 0:
        raise UsageError("--duration must be a positive number of seconds")
    return value


def start_time(value: str) -> tuple[dt.date, float, int]:
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
