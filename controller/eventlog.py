"""Indiana high-resolution events in the ATSPM layout (SignalID, Timestamp, EventCode,
EventParam): the one writer, used by `smartcross log export` (the cabinet's record) and by
the central service's events API (its history of every cabinet)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from typing import TextIO

HEADER = ["SignalID", "Timestamp", "EventCode", "EventParam"]


def write_events(rows: Iterable[tuple[str, float, int, int]], out: TextIO,
                 fmt: str = "csv", zone=None) -> int:
    """(signal, Unix ts, code, param) rows, in the order given, with the timestamp on the wall
    clock of `zone` (a config.civil.Zone: the group's; None: the machine that writes), to
    0.1 s; the number of events written."""
    w = csv.writer(out, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
    w.writerow(HEADER)
    n = 0
    for signal, ts, code, param in rows:
        local = zone.local(ts) if zone is not None else dt.datetime.fromtimestamp(ts)
        when = local.strftime("%Y-%m-%d %H:%M:%S.%f")[:-5]
        w.writerow([signal, when, code, param])
        n += 1
    return n
