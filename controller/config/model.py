"""The intersection-group model: what a configuration file means once it is checked.

Everything here is immutable and already validated; times are seconds (multiples of
0.1 s). The timing core, the node provisioning and the HIL rig all read this one model,
and nothing else, about an intersection; the independent signal monitor gets its own
plain-data table made from it (monitor_table.py), never the model itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from . import civil
from .profiles import Profile

VEHICLE = "vehicle"
ARROW = "arrow"
PEDESTRIAN = "pedestrian"
GROUP_KINDS = (VEHICLE, ARROW, PEDESTRIAN)

PRESENCE = "presence"
COUNTING = "counting"
PED_BUTTON = "ped_button"
PARKING_BAY = "parking_bay"
PREEMPT = "preempt"          # an emergency (optical, radio) or railroad preempt input
PRIORITY = "priority"        # a transit check-in or check-out input
DETECTOR_KINDS = (PRESENCE, COUNTING, PED_BUTTON, PARKING_BAY, PREEMPT, PRIORITY)

EMERGENCY = "emergency"
RAIL = "rail"
PREEMPT_KINDS = (EMERGENCY, RAIL)

FIXED = "fixed"
ACTUATED = "actuated"
ADAPTIVE = "adaptive"        # controller/policies/adaptive.py: queues, counts, Webster
COORDINATED = "coordinated"  # controller/policies/coordinated.py: common cycle, offsets
PLAN_MODES = (FIXED, ACTUATED, ADAPTIVE, COORDINATED)
GREEN_RANGE_MODES = (ACTUATED, ADAPTIVE, COORDINATED)  # stages: min_green_s / max_green_s
CYCLE_MODES = (FIXED, COORDINATED)           # plans that need a cycle length

RECALLS = ("none", "min", "max", "ped")

# A node's comm watchdog: with no new heartbeat for this long, the node flashes on its own.
# The controller's one default ([[bus]] comm_timeout_ms); firmware/node/settings.py keeps
# the node's own fallback for a node.json without it.
COMM_TIMEOUT_MS = 1000
COMM_TIMEOUT_RANGE_MS = (100, 60000)     # what the node accepts (firmware/node/config.py)


@dataclass(frozen=True)
class SignalGroup:
    id: str
    number: int                  # phase number used in event logs (1-based)
    kind: str
    profile: Profile
    amber_s: float               # vehicles: amber; pedestrians: 0
    red_amber_s: float           # 0 when the profile has none
    flash_green_s: float         # CIS flashing green at the end of green (vehicles and peds)
    ped_clear_s: float           # US pedestrians: flashing don't walk
    min_green_s: float           # vehicles: minimum green; pedestrians: minimum walk
    node: str
    # Wiring as the file gives it (controller/config/wiring.py; the resolved GPIOs are the
    # intersection's `wiring`): the board's output channels (red, amber, green), or (red,
    # green) for pedestrians; or GPIOs per lamp; lamp-sense GPIOs. None: assigned.
    channels: tuple[int, ...] | None = None
    pins: dict[str, int] | None = field(default=None, compare=False)
    sense: dict[str, int] | None = field(default=None, compare=False)

    @property
    def is_pedestrian(self) -> bool:
        return self.kind == PEDESTRIAN

    @property
    def change_s(self) -> float:
        """The change interval after green, inside every intergreen from this group."""
        return self.ped_clear_s if self.is_pedestrian else self.amber_s


@dataclass(frozen=True)
class Stage:
    id: str
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Detector:
    id: str
    number: int                  # detector channel used in event logs (1-based)
    kind: str
    node: str
    input: int | None            # the board's input number; None: `pin`, or assigned
    calls: tuple[str, ...]
    extends: tuple[str, ...]
    passage_s: float
    no_activity_min: float       # 0 disables the diagnostic
    max_presence_min: float
    erratic_per_min: float
    area: str | None = None      # parking bays: the parking area they belong to
    pin: int | None = None       # a GPIO, given instead of `input`


@dataclass(frozen=True)
class StagePlan:
    green_s: float | None        # fixed time
    min_green_s: float           # actuated (and the floor of fixed-time greens)
    max_green_s: float           # actuated
    recall: str                  # none | min | max | ped
    # adaptive, coordinated: the maximum while the intersection is oversaturated (NTCIP's
    # Maximum 2); None: max_green_s
    max2_green_s: float | None = None


@dataclass(frozen=True)
class Plan:
    id: str
    mode: str
    cycle_s: float | None
    offset_s: float
    stages: dict[str, StagePlan]   # in stage order; stages absent here are skipped
    main_stage: str


@dataclass(frozen=True)
class TrackClearance:
    """Railroad preemption: the groups that clear the tracks, green this long."""
    groups: tuple[str, ...]
    green_s: float


@dataclass(frozen=True)
class Preempt:
    """[[intersection.preempt]] (NTCIP 1202 preempt table; controller/config/preempts.py).

    Entry ends the running greens through their full change intervals and intergreens
    (never shortened); minimum greens (walks) may be cut only down to `min_green_s`
    (`min_walk_s`), None: not at all. Rail: track clearance first; then the dwell shows
    the route for at least `min_dwell_s` and while called; then the exit stage.
    """
    id: str
    number: int                  # event parameter (1-based, configuration order)
    kind: str                    # emergency | rail
    priority: int                # 1 is the highest; a rail preempt outranks every emergency one
    detector: str | None         # a `preempt` detector; None: called from outside only
    route: tuple[str, ...]       # the groups green in dwell
    track: TrackClearance | None  # rail: track clearance before the dwell
    delay_s: float               # the call must last this long before entry
    min_dwell_s: float           # the route's least green in dwell
    min_green_s: float | None    # floor of running vehicle greens on entry; None: not shortened
    min_walk_s: float | None     # floor of running walks on entry; None: not shortened
    max_presence_s: float        # a call on longer is a fault (event 110): it is dropped
    exit_stage: str | None       # None: the running plan's main stage
    warning_time_s: float | None = None   # rail: the railroad's warning time


@dataclass(frozen=True)
class Priority:
    """[[intersection.priority]]: transit signal priority for one stage (TSP).

    A check-in asks for the stage: early green (the running conflicting green ends once
    its minimum has run and it is within `max_early_s` of its maximum) or green extension
    (the stage's end is put off by at most `max_extend_s`); no stage is skipped and no
    minimum broken. The check-out (or `max_presence_s`, a fault) ends it; at most
    `per_cycle` services per cycle (main stage to main stage).
    """
    id: str
    number: int                  # event parameter (1-based, configuration order)
    checkin: str                 # a `priority` detector
    checkout: str | None         # a `priority` detector; None: the service ends by its bounds
    stage: str
    max_early_s: float
    max_extend_s: float
    per_cycle: int
    max_presence_s: float


@dataclass(frozen=True)
class Node:
    id: str
    bus: str
    address: int
    board: str                   # controller/config/boards.py
    comm_timeout_ms: int | None = None     # None: its bus's


@dataclass(frozen=True)
class MonitorUnit:
    """The intersection's monitor unit (controller/config/monitor_unit.py reads it)."""
    id: str
    bus: str
    address: int
    board: str                   # controller/config/boards.py
    comm_timeout_ms: int         # silent this long: the cabinet flashes the intersection
    # its pins (monitor_unit.UnitWiring): relay, reset button, sense of every lamp
    wiring: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class Bus:
    id: str
    port: str
    baud: int
    parity: str                  # N, E or O
    stopbits: int
    comm_timeout_ms: int = COMM_TIMEOUT_MS   # its nodes' comm watchdog, unless a node has its own


@dataclass(frozen=True)
class SumoMap:
    """Where an intersection lives in a SUMO network (software-in-the-loop runs)."""
    tls: str                                  # SUMO traffic-light id
    links: dict[str, tuple[int, ...]]         # signal group -> SUMO link indices
    loops: dict[str, str]                     # detector id -> SUMO induction-loop id


@dataclass(frozen=True)
class Intersection:
    id: str
    name: str
    profile: Profile
    startup_flash_s: float
    startup_all_red_s: float
    flash_aspect: str            # "amber" or "red": what vehicle groups flash
    groups: tuple[SignalGroup, ...]
    conflicts: frozenset[tuple[str, str]]       # both orders of every pair
    intergreen: dict[tuple[str, str], float]    # (clearing, entering) -> s
    stages: tuple[Stage, ...]
    detectors: tuple[Detector, ...]
    plans: dict[str, Plan]
    nodes: tuple[Node, ...]
    # Conditionally compatible pairs (RiLSA "bedingt verträglich"), (yielding, priority):
    # e.g. a permissive left turn that may be green with the opposing through stream and
    # gives way to it. Such a pair is not a conflict; see docs/CONTROL.md.
    permissive: frozenset[tuple[str, str]] = frozenset()
    sumo: SumoMap | None = None  # how the groups and detectors appear in a SUMO network
    # node id -> its pins (controller/config/wiring.py: a NodeWiring)
    wiring: dict = field(default_factory=dict, compare=False)
    monitor_unit: MonitorUnit | None = None     # [intersection.monitor_unit]
    preempts: tuple[Preempt, ...] = ()       # by priority, then configuration order
    priorities: tuple[Priority, ...] = ()
    _group_index: dict[str, SignalGroup] = field(default_factory=dict, repr=False,
                                                 compare=False, init=False)

    def __post_init__(self) -> None:
        self._group_index.update({g.id: g for g in self.groups})

    def group(self, gid: str) -> SignalGroup:
        return self._group_index[gid]

    def stage(self, sid: str) -> Stage:
        for s in self.stages:
            if s.id == sid:
                return s
        raise KeyError(sid)

    def conflicting(self, a: str, b: str) -> bool:
        return (a, b) in self.conflicts

    def green_floor_s(self, gid: str) -> float:
        """The shortest green (walk) the group may show: its minimum green, or less where a
        preempt may cut it on entry. The node's guard and the monitor hold it to this."""
        g = self.group(gid)
        floor = g.min_green_s
        for p in self.preempts:
            cut = p.min_walk_s if g.is_pedestrian else p.min_green_s
            if cut is not None and gid not in p.route:
                floor = min(floor, cut)
        return floor

    def interstage_s(self, src: str, dst: str) -> float:
        """Time from the end of green of stage `src` to the first green of `dst`.

        The largest intergreen from a group that leaves to a conflicting group that
        enters; flashing green of the leaving groups counts as green (it ends first). An
        entering group's red+amber begins only once the leaving group's change interval
        (amber, pedestrian clearance) is over (docs/CONTROL.md): where the intergreen is
        shorter than both together, they set the time.
        """
        leaving = set(self.stage(src).groups) - set(self.stage(dst).groups)
        entering = set(self.stage(dst).groups) - set(self.stage(src).groups)
        worst = 0.0
        for a in leaving:
            for b in entering:
                if (a, b) in self.conflicts:
                    ga = self.group(a)
                    gap = max(self.intergreen[(a, b)], ga.change_s + self.group(b).red_amber_s)
                    worst = max(worst, ga.flash_green_s + gap)
        return worst


@dataclass(frozen=True)
class ScheduleEntry:
    at_s: float                  # wall-clock seconds after local midnight (civil.py)
    plan: str
    days: tuple[int, ...]        # 0 = Monday; all days when empty


@dataclass(frozen=True)
class ParkingArea:
    id: str
    name: str


@dataclass(frozen=True)
class TelemetryConfig:
    """[telemetry]: where the cabinet publishes to the city (docs/TELEMETRY.md)."""
    broker: str                  # mqtt://HOST:PORT or mqtts://HOST:PORT, as written
    host: str
    port: int
    tls: bool                    # mqtts://
    group: str                   # the <group> of smartcross/<group>/... topics
    client_id: str
    credentials: str | None = None   # file: one line username:password
    tls_ca: str | None = None        # CA certificate file (PEM) for mqtts://
    commands: bool = False           # take the city's commands (plan, flash); off by default


@dataclass(frozen=True)
class GroupConfig:
    name: str
    source: str                  # the file it was read from
    intersections: tuple[Intersection, ...]
    buses: tuple[Bus, ...]
    schedule: tuple[ScheduleEntry, ...]
    parking_areas: tuple[ParkingArea, ...]
    zone: civil.Zone = field(default_factory=civil.Zone)   # `timezone`; the computer's own
    clock_step_alarm_s: float = civil.CLOCK_STEP_ALARM_S
    telemetry: TelemetryConfig | None = None     # None: the cabinet publishes nothing

    def intersection(self, iid: str) -> Intersection:
        for i in self.intersections:
            if i.id == iid:
                return i
        raise KeyError(iid)

    def bus(self, bid: str) -> Bus:
        for b in self.buses:
            if b.id == bid:
                return b
        raise KeyError(bid)

    def comm_timeout_ms(self, node: Node) -> int:
        """The node's comm watchdog: its own, else its bus's."""
        if node.comm_timeout_ms is not None:
            return node.comm_timeout_ms
        return self.bus(node.bus).comm_timeout_ms

    def plan_at(self, when: dt.datetime | float) -> str:
        """The plan the schedule selects at an instant (aware date-time or Unix seconds),
        read on the wall clock of the group's zone (civil.py)."""
        return civil.plan_at(self.schedule, self.zone, when)
