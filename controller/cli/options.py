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


def start_time(value: str, zone) -> dt.datetime:
    """--start: HH:MM (today), or an ISO date-time with or without an offset
    (2026-03-29T01:30+01:00, 2026-03-29T01:30): the aware start in the group's `zone`
    (a config.civil.Zone); a naive time is that zone's wall-clock time."""
    try:
        if len(value) <= 5 and ":" in value:
            hh, mm = value.split(":")
            if not (0 <= int(hh) < 24 and 0 <= int(mm) < 60):
                raise ValueError
            today = zone.local(dt.datetime.now(dt.UTC).timestamp()).date()
            return zone.at(today, int(hh) * 3600.0 + int(mm) * 60.0)
        when = dt.datetime.fromisoformat(value)
        if when.tzinfo is None:
            return zone.attach(when)
        return zone.local(when.timestamp())
    except (ValueError, OverflowError, OSError):
        raise UsageError(f"--start: expected HH:MM or an ISO date-time such as "
                         f"2026-03-29T07:00 or 2026-03-29T07:00+02:00, got {value!r}") from None
