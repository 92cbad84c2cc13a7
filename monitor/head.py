"""One signal group's head as the monitor sees it: its lamps' last edges and the state
each check keeps for it."""

from .rules import NEVER, A, R


class Head:
    """Built from one group of the monitor table (monitor/table.py)."""

    __slots__ = ("id", "ped", "flash", "ra_ok", "fdw", "min_green_s", "amber_s", "rivals",
                 "bits", "rise", "fall", "width", "quiet_at", "stepped", "dark_since",
                 "rf_done", "dual_since", "dual_bits", "dual_seen", "dual_done", "g_state",
                 "g_open", "g_start", "g_fall", "g_steady", "a_state", "a_start", "a_fall",
                 "a_dur", "a_sure", "fdw_pulse", "fdw_wait", "pend", "row", "iv")

    def __init__(self, group: dict, flash_lamp: int) -> None:
        self.id = group["id"]
        self.ped = group["kind"] == "pedestrian"
        self.flash = 0 if self.ped else flash_lamp      # the lamp it flashes in flash mode
        self.ra_ok = not self.ped and group["red_amber"]
        self.fdw = self.ped and group["flash_dont_walk"]
        self.min_green_s = group["min_green_ms"] / 1000
        self.amber_s = group["amber_ms"] / 1000
        self.rivals: list = []  # [(conflicting Head, intergreen from it to us in s)]
        self.bits = 0
        self.rise: list = [None] * 5    # per lamp bit: last rise, last fall, last pulse width
        self.fall: list = [None] * 5
        self.width = [0.0] * 5
        self.quiet_at = self.stepped = NEVER            # last change + QUIET_S; last step
        self.dark_since: float | None = None            # red fail
        self.rf_done = False
        self.dual_since: float | None = None
        self.dual_bits, self.dual_seen, self.dual_done = 0, NEVER, False
        # Green: g_state 0 none, 1 lit, 2 dark and maybe flashing; g_open while the steady
        # part is on; g_fall the end of green (last lit green lamp; NEVER before the
        # first); g_steady to judge.
        self.g_state, self.g_open = 0, False
        self.g_start: float | None = None
        self.g_fall = NEVER
        self.g_steady: float | None = None
        # Change amber: a_state 0 none, 1 lit, 2 ended and awaiting what follows; a_sure
        # when this amber pulse follows a green, so that it is right of way at once.
        self.a_state, self.a_start, self.a_fall, self.a_dur, self.a_sure = 0, 0.0, 0.0, 0.0, False
        self.fdw_pulse = 0      # this red pulse is flashing don't walk: 2 first, 1 later
        # a right of way [start, end, sure] that ended dark: flashing don't walk if red relights
        self.fdw_wait: list | None = None
        self.pend: list = []    # [lamp, rise, fall, "G"|"A", figure]: pulses to classify
        self.row: list | None = None  # right of way now: [start, end, sure]
        self.iv: list = []      # right-of-way intervals [start, end, sure, firm] still relevant


def flash_lamp(table: dict) -> int:
    """The lamp vehicle heads flash in flash mode."""
    return R if table["flash"] == "red" else A
