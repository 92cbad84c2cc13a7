"""What a `kill -9` of the cabinet service loses of the record, measured from the street.

The real service runs against the emulated nodes of a configuration (HIL rig, time scale 1:
street seconds are wall seconds) and is killed with SIGKILL at random moments (seeded
RNG), then restarted; after each kill the rig's lamp and input traces, the ground truth,
are compared with the SQLite record. Every green start (Indiana event 1), walk start (21),
detector actuation (82) and push-button press (90) the street showed while that service
ran must have its event in the record. Lost span = kill time - the oldest of those moments
whose event is missing (0 when none is). A moment whose event is missing although the
record holds later events ("unseen") was never seen by the service (a pulse between two
polls): the record commits in order, so that is not a loss to the kill; it is listed.
Goal: at most 1 s.

    .venv/bin/python bench/record_loss.py [--kills N] [--seed S] [--config FILE] [--traffic X]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from controller.config import load  # noqa: E402
from controller.config.model import PARKING_BAY, PED_BUTTON  # noqa: E402
from hil.rig import Rig  # noqa: E402
from protocols.aspects import LAMP_GREEN  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GREEN, WALK, DETECTOR_ON, BUTTON = 1, 21, 82, 90
# where a moment's event may lie, in seconds from the moment: a green's event comes before
# its lamp (the command goes out in the next poll), a detector's after its input (the node
# debounces, the next poll reads it)
WINDOW = {GREEN: (-1.0, 0.1), WALK: (-1.0, 0.1), DETECTOR_ON: (-0.1, 0.6), BUTTON: (-0.1, 0.6)}
RUN_S = (3.0, 9.0)         # a kill comes this long (uniform) after the service runs again
RESTART_S = 60.0           # a restarted service must be running again within this


@dataclass
class Moment:
    t: float                 # street time (rig seconds)
    code: int
    param: int
    what: str


@dataclass
class Kill:
    n: int
    t: float                 # street time of the SIGKILL
    checked: int
    missing: list[Moment] = field(default_factory=list)
    unseen: list[Moment] = field(default_factory=list)

    @property
    def lost_s(self) -> float:
        return self.t - min(m.t for m in self.missing) if self.missing else 0.0


def green_starts(changes: list[tuple[float, int]]) -> list[float]:
    """When the green (walk) lamp came on after a lit non-green state: flashing green's
    blinks (green, dark, green) are not starts, nor is a dark sample between two states."""
    out, last_lit = [], 0
    for t, b in changes:
        if b & LAMP_GREEN and last_lit and not last_lit & LAMP_GREEN:
            out.append(t)
        if b:
            last_lit = b
    return out


def street(r: Rig, since: float, until: float) -> list[Moment]:
    """What the street showed in [since, until): green and walk starts, actuations."""
    out = []
    with r._lock:
        lamps = {k: list(v) for k, v in r.trace.lamps.items()}
        inputs = {k: list(v) for k, v in r.trace.inputs.items()}
    for inter in r.config.intersections:
        for g in inter.groups:
            code = WALK if g.is_pedestrian else GREEN
            out += [Moment(t, code, g.number, f"{inter.id}/{g.id} green")
                    for t in green_starts(lamps.get(f"{inter.id}/{g.id}", []))
                    if since <= t < until]
        for d in inter.detectors:
            if d.kind == PARKING_BAY:
                continue
            code = BUTTON if d.kind == PED_BUTTON else DETECTOR_ON
            out += [Moment(t, code, d.number, f"{inter.id}/{d.id} on")
                    for t, level in inputs.get(f"{inter.id}/{d.id}", [])
                    if level and since <= t < until]
    return sorted(out, key=lambda m: m.t)


def compare(moments: list[Moment], events: list[tuple[float, int, int]],
            ) -> tuple[list[Moment], list[Moment]]:
    """(missing, unseen): each moment takes the first free event of its code and parameter
    in its window (both in time order); an unmatched moment is unseen when the record
    holds an event later than its window's end (commits are in order), else missing."""
    free: dict[tuple[int, int], list[float]] = {}
    for t, code, param in events:
        free.setdefault((code, param), []).append(t)
    last = max((t for t, _, _ in events), default=float("-inf"))
    missing, unseen = [], []
    for m in moments:
        lo, hi = WINDOW[m.code]
        queue = free.get((m.code, m.param), [])
        while queue and queue[0] < m.t + lo:
            queue.pop(0)                  # an event no moment of ours claims
        if queue and queue[0] <= m.t + hi:
            queue.pop(0)
        elif last > m.t + hi:
            unseen.append(m)
        else:
            missing.append(m)
    return missing, unseen


def recorded(db: Path, offset: float, since: float) -> list[tuple[float, int, int]]:
    """The record's events of the codes we check from `since` on, in street time."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT ts, code, param FROM events WHERE code IN (?, ?, ?, ?) "
                           "AND ts >= ? ORDER BY ts, rowid",
                           (GREEN, WALK, DETECTOR_ON, BUTTON, since + offset - 2.0)).fetchall()
    finally:
        con.close()
    return [(ts - offset, code, param) for ts, code, param in rows]


def running_again(r: Rig) -> bool:
    """The service now started (its pid in the status) runs every intersection."""
    st, p = r.status(), r.controller
    return (st is not None and p is not None and st.get("pid") == p.pid and
            all(i["mode"] == "run" and i["stage"] is not None
                for i in st["intersections"].values()))


def one_kill(r: Rig, n: int, rng: random.Random) -> Kill:
    since = r.wait_until(lambda: running_again(r), RESTART_S, "the service running again")
    r.run_for(rng.uniform(*RUN_S))            # the random moment of the kill
    t_kill, offset = r.now(), time.time() - r.now()
    r.stop_controller(kill=True)
    moments = street(r, since, t_kill)
    missing, unseen = compare(moments, recorded(r.data_dir / "record.sqlite", offset, since))
    k = Kill(n, t_kill, len(moments), missing, unseen)
    oldest = min(missing, key=lambda m: m.t) if missing else None
    print(f"kill {n:2d} at {t_kill:7.2f} s: {len(moments):3d} moments since {since:.1f} s, "
          f"{len(missing)} missing, lost {k.lost_s:.2f} s"
          + (f" ({oldest.what} at -{t_kill - oldest.t:.2f} s)" if oldest else "")
          + (f"; unseen by the service: {', '.join(m.what for m in unseen)}" if unseen
             else ""), flush=True)
    r.start_controller()
    return k


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=16)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--config", default="examples/astana_cis.toml")
    ap.add_argument("--traffic", type=float, default=8.0,
                    help="arrival rates times this: more actuations to catch near a kill")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print(f"{args.config}: the service killed (SIGKILL) {args.kills} times, time scale 1, "
          f"seed {args.seed}, traffic x{args.traffic:g}", flush=True)
    with Rig(load(ROOT / args.config), time_scale=1, seed=args.seed,
             traffic_scale=args.traffic) as r:
        kills = [one_kill(r, n + 1, rng) for n in range(args.kills)]
        r.wait_until(lambda: running_again(r), RESTART_S, "the service running again")
    print()
    print("kill | street s | moments | missing | unseen | lost s")
    for k in kills:
        print(f"{k.n:4d} | {k.t:8.2f} | {k.checked:7d} | {len(k.missing):7d} | "
              f"{len(k.unseen):6d} | {k.lost_s:6.2f}")
    lost = [k.lost_s for k in kills]
    print(f"lost span: mean {sum(lost) / len(lost):.2f} s, max {max(lost):.2f} s over "
          f"{len(kills)} kills, {sum(k.checked for k in kills)} street moments")
    print(f"record_loss_max_s: {max(lost):.2f}")


if __name__ == "__main__":
    main()
