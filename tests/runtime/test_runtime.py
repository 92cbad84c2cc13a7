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
from controller.runtime.service import Service, ServiceOptions
from protocols import aspects as A

from sc_paths import ROOT

pytestmark = pytest.mark.hil
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
    start = dt.datetime.fromtimestamp(first - 1).isoformat(timespec="seconds")
    end = dt.datetime.fromtimestamp(last + 1).isoformat(timespec="seconds")
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


def test_restart_of_the_service(rig):
    r = rig(ASTANA, time_scale=2)
    r.wait_until(lambda: running(r, "kb-turan"), 30, "running")
    r.run_for(5)
    r.stop_controller()                         # SIGTERM: a clean stop
    st = r.status()
    assert st["stopped"] and st["intersections"]["kb-turan"]["mode"] == "flash"
    t_stop = r.now()
    r.wait_until(lambda: r.flashing("kb-turan", t_stop - 30) is not None, 5, "flash")
    r.start_controller()                        # picks up without operator action
    r.wait_until(lambda: running(r, "kb-turan") and not r.status().get("stopped"), 40,
                 "running again")
    assert r.violations() == []


def test_kill_9_loses_at_most_the_last_second(rig):
    r = rig(ASTANA, time_scale=1)
    r.wait_until(lambda: running(r, "kb-turan"), 30, "running")
    r.run_for(25)
    r.stop_controller(kill=True)
    killed = time.time()
    offset = killed - r.now()              # time scale 1: street seconds are wall seconds
    inter = load(ROOT / ASTANA).intersection("kb-turan")
    db = r.data_dir / "record.sqlite"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    checked = 0
    for g in inter.groups:
        # every green the lamps showed more than a second before the kill is in the record
        starts = [t for (t, b), (_, p) in zip(r.trace.lamps[f"kb-turan/{g.id}"][1:],
                                               r.trace.lamps[f"kb-turan/{g.id}"])
                  if b & A.LAMP_GREEN and not p & A.LAMP_GREEN and t + offset < killed - 1.2]
        code = 21 if g.is_pedestrian else 1            # walk / begin green
        (n,) = con.execute("SELECT count(*) FROM events WHERE code = ? AND param = ? "
                           "AND ts < ?", (code, g.number, killed)).fetchone()
        assert n >= len(starts), (g.id, n, starts)
        checked += len(starts)
    for d in inter.detectors:
        if d.kind == "parking_bay":
            continue
        # and every detector actuation the loops saw more than a second before it
        ons = [t for t, level in r.trace.inputs.get(f"kb-turan/{d.id}", [])
               if level and t + offset < killed - 1.5]
        code = 90 if d.kind == "ped_button" else 82
        (n,) = con.execute("SELECT count(*) FROM events WHERE code = ? AND param = ?",
                           (code, d.number)).fetchone()
        assert n >= len(ons), (d.id, n, ons)
        checked += len(ons)
    con.close()
    assert checked >= 5


def test_a_bus_that_cannot_keep_the_cycle_is_reported_at_start_up(tmp_path):
    text = (ROOT / CORRIDOR).read_text().replace("baud = 115200", "baud = 9600")
    path = tmp_path / "slow.toml"
    path.write_text(text)
    svc = Service(load(path), ServiceOptions(ports={}, data=tmp_path / "data"))
    report = svc.budget_report()
    svc.record.close()
    assert len(report) == 1 and report[0].startswith("WARNING bus abay-rs485")
    assert "4 nodes at 9600 8N1 need" in report[0] and "more than the 100 ms cycle" in report[0]
