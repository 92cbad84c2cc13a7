"""The record: an SQLite database (WAL) that engineers analyse with the tools they have.

Indiana high-resolution events, detector counts and occupancy per interval, parking-area
occupancy, node health, every plan change asked of the running service (who, when,
the outcome, a unified diff of the plans: `plan_changes`, committed at once), and every
command from the city (`commands`: who, when, what, the outcome; runtime/remote.py). The service
buffers a cycle's rows and commits them at the end
of that cycle (every 0.1 s), so a `kill -9` loses only the cycle under way: a detector
actuation is in the record about 0.1-0.2 s after the loop saw it, a green before its lamps
light (bench/record_loss.py measures it from the street). WAL with synchronous=NORMAL makes
a commit a write to the WAL file, no fsync (~0.01 ms median): it survives a killed process;
only a power cut may lose the commits since the last checkpoint. WAL also keeps readers
(export, status) off the writer's back.
Timestamps are Unix seconds (UTC); exports convert them to the group's `timezone`.

The outbox holds the telemetry for the city (controller/telemetry) until the publisher has
it acknowledged by the broker: rows are written in the same per-cycle transaction as the
record's, so a broker outage (or a restart of the service) loses nothing. Each message is
numbered (`seq`, in its payload too; AUTOINCREMENT never reuses a number, even after the
rows are pruned), so a message sent twice — acknowledged by the broker but the
acknowledgement lost with the connection — is recognisable. The outbox is bounded:
OUTBOX_LIMIT messages (a junction with traffic makes about 1.6 messages/s, measured by
bench/city_load.py: 5.8 h of outage for the 3-junction corridor, 17 h for one junction);
past that the oldest are dropped and counted (`outbox_dropped`).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import TextIO

from ..eventlog import write_events

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
CREATE TABLE IF NOT EXISTS commands (
    ts REAL NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, by TEXT NOT NULL,
    args TEXT NOT NULL, outcome TEXT NOT NULL, message TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, topic TEXT NOT NULL,
    payload TEXT NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
OUTBOX_LIMIT = 100_000

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
                                              "node_health": [], "outbox": []}
        self._next_seq = self._last_seq() + 1
        (self.outbox_len,) = self.db.execute("SELECT count(*) FROM outbox").fetchone()
        self.outbox_limit = OUTBOX_LIMIT

    def _last_seq(self) -> int:
        row = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
        return row[0] if row else 0

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

    def command(self, ts: float, cid: str, kind: str, by: str, args: str, outcome: str,
                message: str) -> None:
        """A command from the city (runtime/remote.py) and what became of it, committed now."""
        self.flush()
        with self.db:
            self.db.execute("INSERT INTO commands VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (ts, cid, kind, by, args, outcome, message))

    def outbox(self, ts: float, topic: str, payload: dict, qos: int, retain: bool) -> int:
        """Queue a telemetry message (sent after this cycle's commit); its seq."""
        seq = self._next_seq
        self._next_seq += 1
        text = json.dumps({"seq": seq, **payload}, separators=(",", ":"))
        self._rows["outbox"].append((seq, ts, topic, text, qos, int(retain)))
        return seq

    def outbox_pending(self, limit: int) -> list[tuple[int, str, str, int, bool]]:
        """The oldest committed messages not yet acknowledged: (seq, topic, payload, qos,
        retain), in order."""
        rows = self.db.execute("SELECT seq, topic, payload, qos, retain FROM outbox "
                               "ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [(q, t, p, qos, bool(r)) for q, t, p, qos, r in rows]

    def outbox_sent(self, upto_seq: int) -> None:
        """The broker acknowledged every message up to `upto_seq`: prune them."""
        n = self.db.execute("DELETE FROM outbox WHERE seq <= ?", (upto_seq,)).rowcount
        self.outbox_len = max(0, self.outbox_len - n)

    def outbox_dropped(self) -> int:
        row = self.db.execute("SELECT value FROM outbox_meta WHERE key = 'dropped'").fetchone()
        return row[0] if row else 0

    def _bound_outbox(self) -> None:
        """Inside flush's transaction: keep at most outbox_limit messages, the newest."""
        over = self.outbox_len - self.outbox_limit
        if over <= 0:
            return
        cut = self._next_seq - 1 - self.outbox_limit
        n = self.db.execute("DELETE FROM outbox WHERE seq <= ?", (cut,)).rowcount
        self.db.execute("INSERT INTO outbox_meta VALUES ('dropped', ?) ON CONFLICT(key) "
                        "DO UPDATE SET value = value + excluded.value", (n,))
        self.outbox_len -= n

    def flush(self) -> None:
        """Commit what is buffered, in one transaction (nothing to do: no transaction)."""
        if not self._events and not any(self._rows.values()):
            return
        with self.db:
            self.db.execute("BEGIN")
            if self._events:
                self.db.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", self._events)
            self.outbox_len += len(self._rows["outbox"])
            for table, rows in self._rows.items():
                if rows:
                    marks = ", ".join("?" * len(rows[0]))
                    self.db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            self._bound_outbox()
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
        return write_events(rows, out, fmt, zone)
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
