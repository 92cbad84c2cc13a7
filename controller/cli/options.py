"""What several command families share: the same options, spelled and explained once.

A command family (controller/cli/*.py, or a plugin such as hil/commands.py) adds these to
its parsers instead of writing them again; `UsageError` is how any handler says "bad
input": the program prints `error: <message>` and exits with status 2. Every number an
option takes is a `Number`: finite, within sane bounds, refused by the parser (status 2)
before any work starts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

CONFIG_HELP = "intersection-group configuration (TOML)"
DAY_S = 86400.0
MAX_DURATION_S = 31 * DAY_S      # a month of simulated (or served) time at most
MAX_PROBLEMS = 50                # error floods: this many, then a count of the rest


class UsageError(Exception):
    """Bad input that is not a configuration file: a message for the user."""


class Parser(argparse.ArgumentParser):
    """argparse, but a refused argument is one line, `error: <command>: <what is wrong>`,
    and exit status 2 (subcommand parsers inherit the class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see `{self.prog} --help`)\n")


class Number:
    """An argparse `type`: a finite number (a whole one if `integer`) in [lo, hi], or in
    (lo, hi] if `above`. Anything else is refused with the range, in `unit`."""

    def __init__(self, lo: float, hi: float, integer: bool = False, above: bool = False,
                 unit: str = "") -> None:
        self.lo, self.hi, self.integer, self.above, self.unit = lo, hi, integer, above, unit
        self.__name__ = "whole number" if integer else "number"   # argparse's fallback text

    def range_text(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        low = f"above {_num(self.lo)}" if self.above else f"from {_num(self.lo)}"
        upto = "and at most" if self.above else "to"
        unit = f" {self.unit}" if self.unit else ""
        n_days = self.hi / DAY_S
        days = f" ({_num(n_days)} day{'s' if n_days != 1 else ''})" \
            if self.unit == "s" and self.hi >= DAY_S else ""
        return f"{kind} {low} {upto} {_num(self.hi)}{unit}{days}"

    def __call__(self, text: str) -> float:
        try:
            value: float = int(text) if self.integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {self.range_text()}, got {text!r}") \
                from None
        if not math.isfinite(value) or value > self.hi or value < self.lo \
                or (self.above and value == self.lo):
            raise argparse.ArgumentTypeError(f"must be {self.range_text()}, got {text!r}")
        return value


def _num(v: float) -> str:
    return str(int(v)) if v == int(v) else f"{v:g}"


DURATION = Number(0, MAX_DURATION_S, above=True, unit="s")
SEED = Number(0, 2**31 - 1, integer=True)


def print_problems(problems: Sequence[object], stream=None) -> None:
    """`error: <problem>` for each, at most MAX_PROBLEMS of them, then how many more, and
    that nothing was changed."""
    stream = stream if stream is not None else sys.stderr
    for p in problems[:MAX_PROBLEMS]:
        print(f"error: {p}", file=stream)
    if len(problems) > MAX_PROBLEMS:
        print(f"error: ... and {len(problems) - MAX_PROBLEMS} more problems", file=stream)
    print(f"{len(problems)} problem(s); nothing was changed.", file=stream)


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
    p.add_argument("--seed", type=SEED, default=default, help=help)


def add_duration(p: argparse.ArgumentParser, default: float | None, help: str,
                 hi: float = MAX_DURATION_S) -> None:
    """--duration: seconds, above 0 and at most `hi` (a month unless the command says)."""
    kind = DURATION if hi == MAX_DURATION_S else Number(0, hi, above=True, unit="s")
    p.add_argument("--duration", type=kind, default=default, help=help)


def add_start(p: argparse.ArgumentParser, help: str) -> None:
    """--start: a local time, read by `start_time`."""
    p.add_argument("--start", default="07:00", help=help)


def add_events(p: argparse.ArgumentParser) -> None:
    p.add_argument("--events", metavar="OUT.csv", help="write Indiana events (ATSPM layout)")


def writable(path: str | None, what: str) -> None:
    """Before any work: an output file must be a file in a folder that exists."""
    if not path:
        return
    target = Path(path)
    parent = target.parent
    if target.is_dir():
        why = "it is a folder; name a file"
    elif not parent.is_dir():
        why = f"there is no folder {parent}"
    elif not os.access(parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        why = "permission denied"
    else:
        return
    raise UsageError(f"{what}: cannot write {path}: {why}")


def add_plot(p: argparse.ArgumentParser, help: str, window: bool = False) -> None:
    """--plot OUT.png (and, with `window`, --plot-window). Needs the `plot` extra."""
    p.add_argument("--plot", metavar="OUT.png", help=help)
    if window:
        p.add_argument("--plot-window", type=Number(0, DAY_S, above=True, unit="s"),
                       default=300.0, help="seconds shown in the timing diagram (300)")


def require_plot(args: argparse.Namespace) -> None:
    """Before any work: a --plot without matplotlib, to a file type matplotlib cannot draw
    or where nothing can be written is bad input, said once, not a traceback."""
    plot = getattr(args, "plot", None)
    if not plot:
        return
    if not matplotlib_available():
        raise UsageError("--plot needs matplotlib, which is not installed here: "
                         "pip install 'smartcross[plot]'")
    from matplotlib.backend_bases import FigureCanvasBase

    kinds = sorted(FigureCanvasBase.get_supported_filetypes())
    suffix = Path(plot).suffix.lower().lstrip(".")
    if suffix not in kinds:
        raise UsageError(f"--plot {plot}: name an image file ending in one of "
                         f"{', '.join('.' + k for k in kinds)} (e.g. diagram.png)")
    writable(plot, "--plot")


def matplotlib_available() -> bool:
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        return False
    return True


def positive_duration(value: float, hi: float = MAX_DURATION_S) -> float:
    """For a --duration not parsed as a `Number`: above 0, finite, at most `hi`."""
    if not (math.isfinite(value) and 0 < value <= hi):
        raise UsageError(f"--duration must be a positive number of seconds, at most {hi:g}; "
                         f"got {value:g}")
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
