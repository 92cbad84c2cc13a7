"""The central service's history: SQLite (WAL) in its --data folder.

Every cabinet message it took is remembered by (group, seq), so a message sent twice —
or a retained one seen again after a restart — is written to history once. Events keep
the cabinets' timestamps; the events API writes them as `log export` does
(controller/eventlog.py). Alarms raised and cleared, parking counts and intersection
states are kept for the record. The operators' commands are audited in `commands`
(city/desk.py): who sent what to which group, when, whether it was sent, and the
cabinet's answer.
"""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

from controller.eventlog import write_events

SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (grp TEXT NOT NULL, seq INTEGER NOT NULL,
                                 PRIMARY KEY (grp, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (ts REAL NOT NULL, signal TEXT NOT NULL,
                                   code INTEGER NOT NULL, param INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS events_signal_ts ON events (signal, ts);
CREATE TABLE IF NOT EXISTS history (ts REAL NOT NULL, grp TEXT NOT NULL, kind TEXT NOT NULL,
                                    id TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rejected (ts REAL NOT NULL, topic TEXT NOT NULL,
                                     reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS commands (id TEXT PRIMARY KEY, ts REAL NOT NULL, by TEXT NOT NULL,
    grp TEXT NOT NULL, kind TEXT NOT NULL, args TEXT NOT NULL, sent TEXT NOT NULL,
    outcome TEXT, message TEXT, result_ts REAL);
"""
COMMAND_COLUMNS = ("id", "ts", "by", "group", "kind", "args", "sent", "outcome", "message",
                   "result_ts")
KEEP_REJECTED = 10_000


class Store:
    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "city.sqlite"
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def first_time(self, group: str, seq: int | None) -> bool:
        """True the first time (group, seq) is seen; messages without seq always."""
        if seq is None:
            return True
        cur = self.db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (group, seq))
        return cur.rowcount == 1

    def events(self, signal: str, rows: list[tuple[float, int, int]]) -> None:
        self.db.executemany("INSERT INTO events VALUES (?, ?, ?, ?)",
                            [(t, signal, c, p) for t, c, p in rows])

    def history(self, ts: float, group: str, kind: str, ident: str, data: dict) -> None:
        self.db.execute("INSERT INTO history VALUES (?, ?, ?, ?, ?)",
                        (ts, group, kind, ident, json.dumps(data, separators=(",", ":"))))

    def rejected(self, ts: float, topic: str, reason: str) -> None:
        self.db.execute("INSERT INTO rejected VALUES (?, ?, ?)", (ts, topic[:300], reason[:300]))
        self.db.execute("DELETE FROM rejected WHERE rowid <= (SELECT max(rowid) FROM rejected)"
                        " - ?", (KEEP_REJECTED,))

    def alarm_log(self, limit: int = 200) -> list[dict]:
        rows = self.db.execute("SELECT ts, grp, data FROM history WHERE kind = 'alarm' "
                               "ORDER BY rowid DESC LIMIT ?", (limit,)).fetchall()
        return [{**json.loads(d), "group": g, "ts": ts} for ts, g, d in rows]

    def events_csv(self, signal: str, start: float, end: float, zone=None) -> str:
        rows = self.db.execute("SELECT signal, ts, code, param FROM events WHERE signal = ? "
                               "AND ts >= ? AND ts < ? ORDER BY ts, rowid", (signal, start, end))
        out = io.StringIO()
        write_events(rows, out, "csv", zone)
        return out.getvalue()

    def event_rows(self, signal: str, start: float, end: float) -> list[tuple[float, int, int]]:
        return self.db.execute("SELECT ts, code, param FROM events WHERE signal = ? AND "
                               "ts >= ? AND ts < ? ORDER BY ts, rowid",
                               (signal, start, end)).fetchall()

    # -- the command audit ---------------------------------------------------------------------
    def command_sent(self, ts: float, cid: str, by: str, group: str, kind: str, args,
                     sent: str) -> None:
        self.db.execute("INSERT INTO commands (id, ts, by, grp, kind, args, sent) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (cid, ts, by, group, kind, json.dumps(args), sent))

    def command_state(self, cid: str, sent: str) -> None:
        self.db.execute("UPDATE commands SET sent = ? WHERE id = ?", (sent[:300], cid))

    def command_result(self, ts: float, group: str, doc: dict) -> None:
        """The cabinet's answer completes the row of the command it answers; an answer to
        a command this city did not send (or with no usable id) gets a row of its own."""
        cid, outcome, message = doc.get("id"), doc["outcome"], str(doc.get("message"))[:500]
        n = self.db.execute("UPDATE commands SET outcome = ?, message = ?, result_ts = ? "
                            "WHERE id = ? AND grp = ?", (outcome, message, ts, cid, group)
                            ).rowcount if isinstance(cid, str) else 0
        if not n:
            self.db.execute("INSERT OR IGNORE INTO commands VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                            "?, ?)", (f"{group}:{cid or 'no-id'}:{ts}", ts, "?", group,
                                      str(doc.get("kind")), "null",
                                      "not sent by this city", outcome, message, ts))

    def command(self, cid: str) -> dict:
        row = self.db.execute("SELECT * FROM commands WHERE id = ?", (cid,)).fetchone()
        return self._command(row) if row else {}

    def commands(self, limit: int = 200) -> list[dict]:
        rows = self.db.execute("SELECT * FROM commands ORDER BY ts DESC LIMIT ?", (limit,))
        return [self._command(r) for r in rows]

    @staticmethod
    def _command(row) -> dict:
        d = dict(zip(COMMAND_COLUMNS, row))
        d["args"] = json.loads(d["args"])
        return d

    def close(self) -> None:
        self.db.close()
