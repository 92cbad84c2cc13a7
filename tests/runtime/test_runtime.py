"""The real cabinet runtime against emulated nodes (the firmware on the MicroPython unix
port) over the emulated RS-485 line: what a traffic engineer relies on."""

import csv
import io
import sqlite3
import subprocess
import sys
import time

import pytest

from controller.config import load
from controller.provisioning import node_documents
from controller.runtime.service import CYCLE_S, RECORD_COMMIT_S, Service, ServiceOptions
from protocols import aspects as A

from sc_paths import ROOT

pytestmark = [pytest.mark.hil, pytest.mark.micropython, pytest.mark.pty]
ASTANA = "examples/astana_cis.toml"
CORRIDOR = "examples/corridor.toml"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "controller.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)


def running(r, iid):
    st = r.status()
    return st is not None and st["intersections"][iid]["mode"] == "run" and \
        st["intersections"][iid]["stage"] is not None


def test_normal_operation_status_record_and_export(rig):
    r = rig(ASTANA, time_scale=2)
    r.wait_until(lambda: running(r, "kb-turan"), 30, "the junction running")
    r.run_for(20)
    data = str(r.data_dir)
    out = cli("status", ASTANA, "--data", data)
    assert out.returncode == 0, out.stderr
    assert "kb-turan (Kabanbay Batyr / Turan): run stage S" in out.stdout
    assert "kbt-1 (cabinet-rs485#1, kb-turan): online, run fw 1.0.0" in out.stdout
    assert "turan-east (Turan Ave. east kerb, north of the junction):" in out.stdout
    doc = cli("status", ASTANA, "--data", data, "--json")
    st = __import__("json").loads(doc.stdout)
    assert st["nodes"]["kbt-1"]["identity"] == "ok"
    assert set(st["parking"]["turan-east"]) >= {"free", "bays", "occupied", "faulty"}
    # the record: Indiana events, begin green among them, in a WAL database
    db = r.data_dir / "record.sqlite"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    (mode,) = con.execute("PRAGMA journal_mode").fetchone()
    codes = {c for (c,) in con.execute("SELECT DISTINCT code FROM events")}
    first, last = con.execute("SELECT min(ts), max(ts) FROM events").fetchone()
    con.close()
    assert mode == "wal"
    assert {1, 82, 173} <= codes              # begin green, detector on, flash status
    import datetime as dt
    # naive times are the group's timezone (Asia/Almaty); these carry their offset
    start = dt.datetime.fromtimestamp(first - 1, dt.UTC).isoformat(timespec="seconds")
    end = dt.datetime.fromtimestamp(last + 1, dt.UTC).isoformat(timespec="seconds")
    exp = cli("log", "export", ASTANA, "--data", data, "--from", start, "--to", end)
    assert exp.returncode == 0, exp.stderr
    rows = list(csv.reader(io.StringIO(exp.stdout)))
    assert rows[0] == ["SignalID", "Timestamp", "EventCode", "EventParam"]
    assert any(row[2] == "1" for row in rows[1:])           # begin green
    assert r.violations() == []


def test_a_node_unplugged_and_plugged_back(rig):
    r = rig(CORRIDOR, time_scale=2)
    for iid in ("a1", "a2", "a3"):
        r.wait_until(lambda i=iid: running(r, i), 30, f"{iid} running")
    board = r.boards["a1-n1"]
    r.bus.detach(board)                                     # the cable is pulled
    t_out = r.now()
    r.wait_until(lambda: r.flashing("a1", t_out) is not None, 5, "a1 flashing")
    r.run_for(3)
    st = r.status()
    assert st["nodes"]["a1-n1"]["online"] is False
    assert "a1-n1" in st["intersections"]["a1"]["flash_reason"]
    con = sqlite3.connect(f"file:{r.data_dir / 'record.sqlite'}?mode=ro", uri=True)
    health = con.execute("SELECT online, mode FROM node_health WHERE node = 'a1-n1' "
                         "ORDER BY ts").fetchall()
    con.close()
    assert (1, "run") in health and health[-1] == (0, "silent")   # the record says so too
    # the other intersections of the group keep running
    assert running(r, "a2") and running(r, "a3")
    r.bus.attach(board)                                     # plugged back
    t_back = r.wait_until(lambda: running(r, "a1"), 40, "a1 back through start-up")
    assert t_back - t_out < 45
    assert r.violations() == []


def test_a_node_with_the_wrong_safety_tables_keeps_its_junction_in_flash(rig):
    cfg = load(ROOT / ASTANA)
    docs = node_documents(cfg)
    doc = docs["kbt-1"]
    from protocols import safety_tables
    tables = doc["safety"]
    tables["intergreen_ms"] = [[i, j, ms + 1000] for i, j, ms in tables["intergreen_ms"]]
    tables["crc"] = safety_tables.crc(tables)          # a valid node, provisioned otherwise
    r = rig(ASTANA, time_scale=2, node_docs=docs)
    r.wait_until(lambda: (r.status() or {}).get("nodes", {}).get("kbt-1", {}).get("identity",
                 "").startswith("safety-table CRC"), 30, "the identity check")
    r.run_for(15)
    st = r.status()
    inter = st["intersections"]["kb-turan"]
    assert inter["mode"] == "flash"
    assert "safety-table CRC" in inter["flash_reason"]
    assert "re-provision" in st["nodes"]["kbt-1"]["identity"]
    assert not any(b & A.LAMP_GREEN for _, b in r.trace.lamps.get("kb-turan/V1", []))


def entered_flash_through_the_clearance(r, iid, since):
    """A commanded flash (here the service's clean stop) as MUTCD and RiLSA expect: every
    vehicle head ends its green through amber, shows steady red, and only then flashes."""
    inter = r.config.intersection(iid)
    assert inter.flash_aspect == "amber"
    for g in inter.groups:
        if g.is_pedestrian:
            continue
        changes = r.trace.lamps[f"{iid}/{g.id}"]
        states = [b for t, b in changes if t <= since][-1:] + [b for t, b in changes if t > since]
        last_red = max(i for i, b in enumerate(states) if b & A.LAMP_RED)
        flash = states[last_red + 1:]
        assert flash.count(A.LAMP_AMBER) >= 2 and set(flash) <= {0, A.LAMP_AMBER}, (g.id, flash)
        before = states[:last_red + 1]
        assert before[-1] == A.LAMP_RED, (g.id, before)
        greens = [i for i, b in enumerate(before) if b & A.LAMP_GREEN]
        if greens:
            assert A.LAMP_AMBER in before[greens[-1]:], (g.id, "no amber after green", before)


def test_restart_of_the_service(rig):
    r = rig(ASTANA, time_scale=2)
    r.wait_until(lambda: running(r, "kb-turan"), 30, "running")
    r.run_for(5)
    t_ask = r.now()
    r.stop_controller()                         # SIGTERM: a clean stop
    st = r.status()
    assert st["stopped"] and st["intersections"]["kb-turan"]["mode"] == "flash"
    t_stop = r.now()
    r.wait_until(lambda: r.flashing("kb-turan", t_stop - 30) is not None, 5, "flash")
    entered_flash_through_the_clearance(r, "kb-turan", t_ask)
    r.start_controller()                        # picks up without operator action
    r.wait_until(lambda: running(r, "kb-turan") and not r.status().get("stopped"), 40,
                 "running again")
    assert r.violations() == []


# What a kill -9 may lose: the record commits every cycle (RECORD_COMMIT_S). A green reaches
# the lamps a poll after the cycle that committed its event; a loop's actuation reaches the
# record through the rig's input tick (the trace is stamped on the 0.1 s tick), the node's
# scan and debounce, the wait for the next poll (up to a cycle) and that cycle's commit. The
# margins add a cycle for a loaded machine; they do not depend on it being idle.
INPUT_PATH_S = 0.1 + 0.1           # the rig's tick; the node's scan and debounce, with slack
GREEN_MARGIN_S = RECORD_COMMIT_S + CYCLE_S                          # 0.2 s
LOOP_MARGIN_S = INPUT_PATH_S + CYCLE_S + RECORD_COMMIT_S + CYCLE_S  # 0.5 s


def green_starts(changes):
    """When a green (walk) lamp came on after a lit state without green: the blinks of a
    flashing green (green, dark, green) are not starts."""
    out, last_lit = [], 0
    for t, b in list(changes):
        if b & A.LAMP_GREEN and last_lit and not last_lit & A.LAMP_GREEN:
            out.append(t)
        last_lit = b or last_lit
    return out


def street_moments(r, inter, before):
    """{(Indiana code, parameter): [street times]} of the green and walk starts and the
    detector actuations the rig saw before `before` (street seconds)."""
    out = {}
    for g in inter.groups:
        code = 21 if g.is_pedestrian else 1                 # walk / begin green
        out[(code, g.number)] = [t for t in green_starts(r.trace.lamps.get(
            f"{inter.id}/{g.id}", [])) if t < before]
    for d in inter.detectors:
        if d.kind != "parking_bay":
            code = 90 if d.kind == "ped_button" else 82     # button / detector on
            out[(code, d.number)] = [t for t, level in list(r.trace.inputs.get(
                f"{inter.id}/{d.id}", [])) if level and t < before]
    return out


def test_kill_9_loses_at_most_half_a_second(rig):
    r = rig(ASTANA, time_scale=1)
    inter = load(ROOT / ASTANA).intersection("kb-turan")
    r.wait_until(lambda: running(r, "kb-turan"), 30, "running")

    def enough():     # a green and five actuations that must be in the record by now
        seen = street_moments(r, inter, r.now() - LOOP_MARGIN_S)
        greens = sum(len(ts) for (code, _), ts in seen.items() if code in (1, 21))
        return greens >= 1 and sum(len(ts) for ts in seen.values()) - greens >= 5
    r.wait_until(enough, 120, "a green start and five actuations")
    killed = time.time()               # before the kill: reaping it may take long here
    offset = killed - r.now()          # time scale 1: street seconds are wall seconds
    r.stop_controller(kill=True)
    con = sqlite3.connect(f"file:{r.data_dir / 'record.sqlite'}?mode=ro", uri=True)
    greens = street_moments(r, inter, killed - offset - GREEN_MARGIN_S)
    loops = street_moments(r, inter, killed - offset - LOOP_MARGIN_S)
    checked = 0
    for (code, param), ts in greens.items():
        must = ts if code in (1, 21) else loops[(code, param)]
        (n,) = con.execute("SELECT count(*) FROM events WHERE code = ? AND param = ? "
                           "AND ts < ?", (code, param, killed)).fetchone()
        assert n >= len(must), (code, param, n, [round(t + offset - killed, 2) for t in must])
        checked += len(must)
    con.close()
    assert checked >= 6


def test_a_bus_that_cannot_keep_the_cycle_is_reported_at_start_up(tmp_path):
    text = (ROOT / CORRIDOR).read_text().replace("baud = 115200", "baud = 9600")
    path = tmp_path / "slow.toml"
    path.write_text(text)
    svc = Service(load(path), ServiceOptions(ports={}, data=tmp_path / "data"))
    report = svc.budget_report()
    svc.record.close()
    assert len(report) == 2 and report[0].startswith("WARNING bus abay-rs485")
    assert "4 nodes at 9600 8N1 need" in report[0] and "more than the 100 ms cycle" in report[0]
    # and its loop detectors cannot be read a second time half-way (runtime/inputs.py)
    assert report[1].startswith("WARNING bus abay-rs485") and "read once a cycle" in report[1]
