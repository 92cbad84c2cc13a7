"""Civil time: the group's time zone and the time-of-day schedule on aware instants.

The timing core counts seconds; people schedule plans by the clock on the wall. This
module is the one place that turns the one into the other, from an instant (Unix
seconds, UTC) through the group's zone, so that the schedule follows local civil time
through daylight-saving changes. It reads no clock: every function takes the instant.

The zone is the group's `timezone` key, an IANA name ("Europe/Berlin", "Asia/Almaty"),
read from the pinned `tzdata` package, so that `simulate` on a laptop and the service on
the cabinet use the same rules. Without the key, the computer's own zone is used (the
behaviour before the key existed: the service read the cabinet's local time).

When an entry takes effect (`occurrence`): at the first instant of its local date whose
wall-clock time is at or past the entry's time. So an entry inside the hour skipped in
spring (02:30 in Berlin on 2026-03-29) takes effect when that hour ends (03:00 CEST), and
an entry inside the hour repeated in autumn takes effect once, on the first pass.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
from collections.abc import Iterable
from functools import lru_cache
from zoneinfo import ZoneInfo

from .reader import Table

LOCAL = "local"           # no `timezone` key: the computer's own zone
DAY_S = 86400.0
DEFAULT_DAY = dt.date(2026, 1, 5)     # a Monday: runs that name no day start on it
# A step of the cabinet's clock larger than this is an alarm (the group's clock_step_alarm_s).
CLOCK_STEP_ALARM_S = 60.0


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Every IANA zone name the pinned tzdata package knows."""
    return frozenset(importlib.resources.files("tzdata").joinpath("zones")
                     .read_text(encoding="ascii").split())


@lru_cache(maxsize=64)
def _zoneinfo(key: str) -> ZoneInfo:
    path = importlib.resources.files("tzdata.zoneinfo").joinpath(*key.split("/"))
    with path.open("rb") as f:
        return ZoneInfo.from_file(f, key=key)


class Zone:
    """A time zone by IANA name, or the computer's own (`LOCAL`)."""

    def __init__(self, key: str = LOCAL):
        if key != LOCAL and key not in zone_names():
            raise ValueError(f"{key!r} is not an IANA time zone name (e.g. Europe/Berlin)")
        self.key = key
        self.tz: dt.tzinfo | None = None if key == LOCAL else _zoneinfo(key)

    def __repr__(self) -> str:
        return f"Zone({self.key!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Zone) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def local(self, u: float) -> dt.datetime:
        """The aware local date-time of instant `u` (Unix seconds)."""
        return dt.datetime.fromtimestamp(u, dt.UTC).astimezone(self.tz)

    def attach(self, naive: dt.datetime) -> dt.datetime:
        """A naive date-time read as this zone's wall-clock time (the first one if repeated,
        the end of the gap if skipped), made aware."""
        return self.local(self.instant(naive.date(), _seconds(naive.time())))

    def instant(self, day: dt.date, at_s: float) -> float:
        """The first instant of local date `day` whose wall-clock time is at or past
        `at_s` seconds after midnight (the end of the gap when that time is skipped)."""
        wall = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=at_s)
        u0 = wall.replace(tzinfo=self.tz).timestamp()            # fold 0: the first pass
        if self._wall(u0) == wall:
            return u0
        # skipped (a spring-forward gap): find the end of the gap, to the second
        lo = wall.replace(tzinfo=self.tz, fold=1).timestamp()
        lo, hi = min(lo, u0), max(lo, u0)
        while hi - lo > 1.0:
            mid = (lo + hi) // 2
            if self._wall(mid) >= wall:
                hi = mid
            else:
                lo = mid
        return hi

    def at(self, day: dt.date, at_s: float) -> dt.datetime:
        """The aware local date-time of `instant(day, at_s)`."""
        return self.local(self.instant(day, at_s))

    def midnight(self, u: float) -> float:
        """The instant the local day of `u` began."""
        return self.instant(self.local(u).date(), 0.0)

    def offset_s(self, u: float) -> float:
        """Local wall-clock time minus UTC at instant `u`, in seconds."""
        off = self.local(u).utcoffset()
        return off.total_seconds() if off is not None else 0.0

    def next_offset_change(self, u: float, horizon_s: float = DAY_S) -> float | None:
        """The first whole second after `u` (within `horizon_s`) at which the offset
        differs from the offset at `u`: a daylight-saving change; None if there is none."""
        off = self.offset_s(u)
        hi = float(int(u) + int(horizon_s))
        if self.offset_s(hi) == off:
            return None          # one change at most in a day: both ends equal means none
        lo = float(int(u))
        while hi - lo > 1.0:
            mid = (lo + hi) // 2
            if self.offset_s(mid) == off:
                lo = mid
            else:
                hi = mid
        return hi

    def _wall(self, u: float) -> dt.datetime:
        return self.local(u).replace(tzinfo=None)


def _seconds(t: dt.time) -> float:
    return t.hour * 3600.0 + t.minute * 60.0 + t.second + t.microsecond / 1e6


def run_clock(zone: Zone, start: dt.datetime) -> tuple[float, float]:
    """A run's clock from its start: (epoch, start_s), the instant its first local day
    began and the core's time at `start` (seconds since then, to a tenth)."""
    u = as_instant(start)
    epoch = zone.midnight(u)
    return epoch, round(u - epoch, 1)


def as_instant(when: dt.datetime | float) -> float:
    """Unix seconds of an aware date-time (or of Unix seconds)."""
    if isinstance(when, dt.datetime):
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError("a schedule is evaluated at an aware instant, not naive local time")
        return when.timestamp()
    return float(when)


def occurrences(schedule: Iterable, zone: Zone, day: dt.date) -> list[tuple[float, str]]:
    """(instant, plan) of every schedule entry that applies on local date `day`."""
    wd = day.weekday()
    return sorted((zone.instant(day, e.at_s), e.plan) for e in schedule
                  if not e.days or wd in e.days)


def plan_at(schedule: tuple, zone: Zone, when: dt.datetime | float) -> str:
    """The plan of the last entry that took effect at or before `when`.

    Every day has an entry (the reader checks it), so yesterday's entries are enough to
    know the plan before today's first one."""
    u = as_instant(when)
    day = zone.local(u).date()
    chosen = None
    for d in (day - dt.timedelta(days=1), day):
        for at, plan in occurrences(schedule, zone, d):
            if at <= u:
                chosen = plan
    if chosen is None:
        raise ValueError("the schedule has no entry")
    return chosen


def next_change(schedule: tuple, zone: Zone, when: dt.datetime | float) -> float:
    """The first instant after `when` at which the plan may change or the zone's offset
    changes (a daylight-saving change moves the cycle reference): Unix seconds."""
    u = as_instant(when)
    day = zone.local(u).date()
    times = [at for d in (day, day + dt.timedelta(days=1))
             for at, _ in occurrences(schedule, zone, d) if at > u]
    shift = zone.next_offset_change(u)
    if shift is not None:
        times.append(shift)
    return min(times, default=u + DAY_S)


def read_time(root: Table) -> tuple[Zone | None, float | None]:
    """The group's `timezone` (IANA name) and `clock_step_alarm_s` keys."""
    key = root.get_str("timezone", LOCAL)
    zone = None
    if key is not None:
        try:
            zone = Zone(key)
        except ValueError as e:
            root.error("timezone", str(e).replace(f"{key!r} is", f"is {key!r},", 1))
    alarm = root.get_seconds("clock_step_alarm_s", CLOCK_STEP_ALARM_S, lo=1.0, hi=86400.0)
    return zone, alarm
