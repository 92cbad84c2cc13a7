"""[intersection.monitor_unit]: the intersection's monitor unit, its bus, board and pins.

The unit is the signal monitor on a board of its own (firmware/munit/): lamp sense on every
lit colour of every head of the intersection, a flash-transfer relay, a local reset button.

    [intersection.monitor_unit]
    id = "kbt-mu"
    bus = "cabinet-rs485"
    address = 9
    board = "esp32s3"              # controller/config/boards.py (default "esp32")
    comm_timeout_ms = 500          # the cabinet flashes the intersection when it is silent
    relay = 21                     # GPIO of the transfer-relay driver (default: output channel 0)
    reset = 0                      # GPIO of the reset button (default: the board's BOOT button)
    [intersection.monitor_unit.sense]
    V1 = {red = 4, amber = 5, green = 6}    # a head given here must name every lamp;
                                            # heads not given take the board's free inputs

Every lamp needs a sense input: a board with too few is an error (unlike a node, which may
leave lamps unsensed), with the count it would need. Pins are claimed and refused by the
same rules as a node's (wiring.py, boards.Board.refuse).

The cabinet must notice a dead unit and flash within MAX_NOTICE_MS: its comm timeout plus
two poll cycles of its bus (the cycle that sees it, the cycle that commands flash) must fit,
and it must outlast COMM_TIMEOUT_POLLS poll cycles, like a node's.
"""

from __future__ import annotations

from dataclasses import dataclass

from .boards import BOARDS, DEFAULT_BOARD, Board
from .buses import COMM_TIMEOUT_POLLS, poll_period_ms
from .model import COMM_TIMEOUT_RANGE_MS, Bus, Intersection, MonitorUnit
from .reader import Table
from .wiring import LAMPS, PED_LAMPS, SENSE_PRIORITY, _Pins, read_lamp_pins

MU_COMM_TIMEOUT_MS = 500
MAX_NOTICE_MS = 1000          # issue 11: the cabinet notices a dead unit and flashes within 1 s
SENSE_POLL_MS = 10            # the unit's lamp-sense scan
TOLERANCE_MS = 200            # what the unit forgives its sense timing (scan, opto filters)


@dataclass(frozen=True)
class UnitWiring:
    board: Board
    relay: int
    reset: int
    sense: dict[str, dict[str, int]]        # group id -> lamp -> GPIO, every lamp

    @property
    def inputs(self) -> int:
        return sum(len(s) for s in self.sense.values())


def lamps_of(kind: str) -> tuple[str, ...]:
    return PED_LAMPS if kind == "pedestrian" else LAMPS


def read_monitor_unit(t: Table, bus_ids: set[str], groups: list) -> MonitorUnit | None:
    """The intersection's unit (`groups`: its valid signal groups), or None if it has none
    or after reporting why it cannot be used."""
    ut = t.get_table("monitor_unit")
    if ut is None:
        return None
    uid = ut.get_str("id")
    bus = ut.get_str("bus")
    if bus is not None and bus not in bus_ids:
        ut.error("bus", f"names bus {bus!r}, which is not defined in [[bus]]")
    address = ut.get_int("address", lo=1, hi=247)
    board = ut.get_str("board", DEFAULT_BOARD, choices=tuple(BOARDS))
    lo, hi = COMM_TIMEOUT_RANGE_MS
    comm = ut.get_int("comm_timeout_ms", MU_COMM_TIMEOUT_MS, lo=lo, hi=hi)
    relay = ut.get_int("relay", None, lo=0)
    reset = ut.get_int("reset", None, lo=0)
    st = ut.get_table("sense")
    given: dict[str, dict[str, int]] = {}
    if st is not None:
        kinds = {g.id: g.kind for g in groups}
        for gid in list(st.data):
            if gid not in kinds:
                st.seen.add(gid)
                st.error(gid, "is not a signal group of this intersection")
                continue
            pins = read_lamp_pins(st, gid, kinds[gid] == "pedestrian", complete=True)
            if pins is not None:
                given[gid] = pins
        st.finish()
    ut.finish()
    if None in (uid, bus, address, board, comm) or bus not in bus_ids:
        return None
    wiring = _wire(ut, BOARDS[board], relay, reset, groups, given)
    if wiring is None:
        return None
    return MonitorUnit(uid, bus, address, board, comm, wiring)


def _wire(t: Table, board: Board, relay: int | None, reset: int | None, groups: list,
          given: dict[str, dict[str, int]]) -> UnitWiring | None:
    pins = _Pins(t, board)
    if reset is None or reset == board.maintenance:
        reset = board.maintenance           # the BOOT button: the board keeps it
    else:
        pins.claim("reset", reset, False, "reset button")
    if relay is not None:
        pins.claim("relay", relay, True, "transfer relay")
    sense: dict[str, dict[str, int]] = {g.id: {} for g in groups}
    for gid, lamps in given.items():
        for lamp, p in lamps.items():
            if pins.claim(f"sense.{gid}.{lamp}", p, False, f"{gid} {lamp} sense"):
                sense[gid][lamp] = p
    if relay is None:
        free = pins.free(True)
        if not free:
            t.error(None, f"board {board.name} has no free output for the transfer relay")
            return None
        relay = free[0]
        pins.claim("relay", relay, True, "transfer relay")
    want = [(g.id, lamp) for lamp in SENSE_PRIORITY for g in groups
            if g.id not in given and lamp in lamps_of(g.kind)]
    free = pins.free(False)
    if len(want) > len(free):
        lit = sum(len(lamps_of(g.kind)) for g in groups)
        t.error(None, f"needs a sense input for each of the {lit} lamps of the intersection; "
                f"board {board.name} has {len(free)} free for the {len(want)} not given"
                + ("" if board.name == "esp32s3" else ' (board = "esp32s3" has more)'))
        return None
    for (gid, lamp), p in zip(want, free):
        pins.claim(f"{gid} {lamp} sense", p, False)
        sense[gid][lamp] = p
    if pins.failed:
        return None
    return UnitWiring(board, relay, reset, sense)


def check_units(root: Table, buses: list[Bus], inters: list[Intersection]) -> None:
    """Unit ids and addresses against every node's; each unit's comm timeout against the
    poll cycle of its bus: long enough not to flash between good polls, short enough that
    a dead unit flashes its intersection within MAX_NOTICE_MS."""
    used = {(n.bus, n.address): n.id for i in inters for n in i.nodes}
    ids = {n.id for i in inters for n in i.nodes}
    for i in inters:
        u = i.monitor_unit
        if u is None:
            continue
        where = f"intersection[{i.id}].monitor_unit"
        if u.id in ids:
            root.error(f"{where}.id", f"{u.id!r} is also the id of a node or another unit")
        ids.add(u.id)
        if (u.bus, u.address) in used:
            root.error(f"{where}.address", f"address {u.address} on bus {u.bus} is already "
                       f"used by {used[(u.bus, u.address)]}")
        used[(u.bus, u.address)] = u.id
        bus = next(b for b in buses if b.id == u.bus)
        polled = sum(n.bus == u.bus for j in inters for n in j.nodes) + sum(
            j.monitor_unit is not None and j.monitor_unit.bus == u.bus for j in inters)
        period = poll_period_ms(bus, polled)
        floor, ceiling = COMM_TIMEOUT_POLLS * period, MAX_NOTICE_MS - 2 * period
        if not floor <= u.comm_timeout_ms <= ceiling:
            root.error(f"{where}.comm_timeout_ms",
                       f"is {u.comm_timeout_ms} ms; with bus {u.bus} polled every {period} ms "
                       f"it must be {floor}..{ceiling} ms: at least {COMM_TIMEOUT_POLLS} poll "
                       f"cycles, and with two cycles more within the {MAX_NOTICE_MS} ms in "
                       "which the cabinet must flash a dead unit's intersection")
