"""The record: an SQLite database (WAL) that engineers analyse with the tools they have.

Indiana high-resolution events, detector counts and occupancy per interval, parking-area
occupancy, node health, and every plan change asked of the running service (who, when,
the outcome, a unified diff of the plans: `plan_changes`, committed at once). The service buffers a cycle's rows and commits them at the end
of that cycle (every 0.1 s), so a `kill -9` loses only the cycle under way: a detector
actuation is in the record about 0.1-0.2 s after the loop saw it, a green before its lamps
light (bench/record_loss.py measures it from the street). WAL with synchronous=NORMAL makes
a commit a write to the WAL file, no fsync (~0.01 ms median): it survives a killed process;
only a power cut may lose the commits since the last checkpoint. WAL also keeps readers
(export, status) off the writer's back.
Timestamps are Unix seconds (UTC); exports convert them to the group's `timezone`.
"""

from __future__ import annotations

import csv
import datetime as dt
import sqlite3
import sys
from pathlib import Path
from typing import TextIO

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    ts REAL NOT NULL, signal TEXT NOT NULL, code INTEGER NOT NULL, param INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE TABLE IF NOT EXISTS detector_intervals (
    ts REAL NOT NULL, signal TEXT NOT NULL, detector TEXT NOT NULL,
    count INTEGER NOT NULL, occupancy_pct REAL NOT NULL, diag INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS parking (
    ts REAL NOT NULL, area TEXT NOT NULL, bays INTEGER NOT NULL, occupied INTEGER NOT NULL,
    faulty INTEGER NOT NULL, free INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS node_health (
    ts REAL NOT NULL, node TEXT NOT NULL, online INTEGER NOT NULL, mode TEXT NOT NULL,
    faults TEXT NOT NULL, message TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS plan_changes (
    ts REAL NOT NULL, request TEXT NOT NULL, by TEXT NOT NULL, source TEXT NOT NULL,
    outcome TEXT NOT NULL, message TEXT NOT NULL, diff TEXT NOT NULL);
"""

OUTCOMES = ("applied", "unchanged", "refused")


class Record:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._events: list[tuple] = []
        self._rows: dict[str, list[tuple]] = {"detector_intervals": [], "parking": [],
                                              "node_health": []}

    def event(self, ts: float, signal: str, code: int, param: int) -> None:
        self._events.append((ts, signal, code, param))

    def detector_interval(self, ts: float, signal: str, detector: str, count: int,
                          occupancy_pct: float, diag: int) -> None:
        self._rows["detector_intervals"].append((ts, signal, detector, count, occupancy_pct,
                                                 diag))

    def parking(self, ts: float, area: str, bays: int, occupied: int, faulty: int) -> None:
        self._rows["parking"].append((ts, area, bays, occupied, faulty,
                                      bays - occupied - faulty))

    def node_health(self, ts: float, node: str, online: bool, mode: str, faults: str,
                    message: str) -> None:
        self._rows["node_health"].append((ts, node, int(online), mode, faults, message))

    def plan_change(self, ts: float, request: str, by: str, source: str, outcome: str,
                    message: str, diff: str) -> None:
        """A plan change's outcome, committed now (with what is buffered before it)."""
        assert outcome in OUTCOMES
        self.flush()
        with self.db:
            self.db.execute("INSERT INTO plan_changes VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (ts, request, by, source, outcome, message, diff))

    def flush(self) -> None:
        """Commit what is buffered, in one transaction (nothing to do: no transaction)."""
        if not self._events and not any(self._rows.values()):
            return
        with self.db:
            self.db.execute("BEGIN")
            if self._events:
                self.db.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", self._events)
            for table, rows in self._rows.items():
                if rows:
                    marks = ", ".join("?" * len(rows[0]))
                    self.db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        self._events.clear()
        for rows in self._rows.values():
            rows.clear()

    def close(self) -> None:
        self.flush()
        self.db.close()


def export_events(db_path: Path, start: float, end: float, out: TextIO = sys.stdout,
                  fmt: str = "csv", zone=None) -> int:
    """Events in the ATSPM high-resolution layout: SignalID, Timestamp, EventCode, EventParam,
    the timestamps on the wall clock of `zone` (a config.civil.Zone; None: this computer's).

    Opens the database read-only, so it can run next to a live service."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT signal, ts, code, param FROM events WHERE ts >= ? AND ts < ? "
                          "ORDER BY ts, rowid", (start, end))
        w = csv.writer(out, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
        w.writerow(["SignalID", "Timestamp", "EventCode", "EventParam"])
        n = 0
        for signal, ts, code, param in rows:
            local = zone.local(ts) if zone is not None else dt.datetime.fromtimestamp(ts)
            when = local.strftime("%Y-%m-%d %H:%M:%S.%f")[:-5]
            w.writerow([signal, when, code, param])
            n += 1
        return n
    finally:
        db.close()


def plan_change_outcome(db_path: Path, request: str) -> tuple[str, str, str] | None:
    """(outcome, message, diff) of the plan change asked as `request`, once recorded.

    Read-only, next to the live service; None while there is no such row (or no record)."""
    try:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        row = db.execute("SELECT outcome, message, diff FROM plan_changes WHERE request = ? "
                         "ORDER BY rowid DESC LIMIT 1", (request,)).fetchone()
    except sqlite3.Error:        # no such table yet, or the file is being created
        return None
    finally:
        db.close()
    return tuple(row) if row else None
