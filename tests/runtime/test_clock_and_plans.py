"""The service follows the cabinet's clock (event 181, the clock-step alarm) and takes new
timing plans without a restart (`plan apply`, SIGHUP), with a real SQLite record.

No emulated boards here: the bus is a port that does not exist, so the intersections stay
in flash, which is all a clock step or a plan change needs. Waits poll for what they wait
for, with generous deadlines (no fixed sleeps)."""

import asyncio
import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from controller.config import load
from controller.config.monitor_table import monitor_table
from controller.core import events as E
from controller.engine import GroupCore
from controller.runtime.clock import CLOCK_EVENT, ClockWatch
from controller.runtime.record import Record
from controller.runtime.reload import PlanChanges, at_cycle_boundary, write_request
from controller.runtime.service import Service, ServiceOptions
from monitor import SignalMonitor
from protocols import aspects as A

from sc_paths import ROOT

CORRIDOR = (ROOT / "examples" / "corridor.toml").read_text()
DEADLINE_S = 120.0           # generous: a loaded 2-core machine


class FakeClocks:
    def __init__(self):
        self.w, self.m = 1_790_000_000.0, 1000.0

    def wall(self):
        return self.w

    def mono(self):
        return self.m


def test_clock_watch_sees_steps_not_the_time_passing():
    c = FakeClocks()
    watch = ClockWatch(60.0, c.wall, c.mono)
    for _ in range(100):                        # time passes: both clocks advance alike
        c.w += 0.1
        c.m += 0.1
        assert watch.check() is None
    c.w += 0.2                                  # within the tolerance: no step
    assert watch.check() is None
    c.w += 30.0                                 # NTP steps the clock half a minute ahead
    st = watch.check()
    assert st is not None and st.step_s == pytest.approx(30.2) and not st.alarm
    assert watch.check() is None                # measured from the step on
    c.w -= 120.0
    st = watch.check()
    assert st.step_s == pytest.approx(-120.0) and st.alarm
    doc = watch.status()
    assert doc["steps"] == 2 and [a["step_s"] for a in doc["alarms"]] == [-120.0]


def corridor(tmp_path, replace=None, name="corridor.toml"):
    """The corridor example, written to `name`, with text replaced."""
    text = CORRIDOR
    for a, b in (replace or {}).items():
        assert a in text
        text = text.replace(a, b)
    path = tmp_path / name
    path.write_text(text)
    return path


def rows(db, sql, *args):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql, args).fetchall()
    except sqlite3.OperationalError:            # not created yet
        return []
    finally:
        con.close()


async def until(what, description):
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        got = what()
        if got:
            return got
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {description} within {DEADLINE_S} s")


def test_in_process_service_clock_step_and_plan_change(tmp_path):
    path = corridor(tmp_path)
    cfg = load(path)
    offset = [0.0]
    data = tmp_path / "data"
    opts = ServiceOptions(ports={"abay-rs485": str(tmp_path / "no-such-port")}, data=data,
                          time_scale=10.0, wall_clock=lambda: time.time() + offset[0])
    db = data / "record.sqlite"

    async def scenario():
        svc = Service(cfg, opts)
        task = asyncio.create_task(svc.run())
        await until(lambda: (data / "status.json").exists(), "status")
        epoch = svc.epoch
        offset[0] = 90.0                        # the cabinet's clock jumps 1.5 min ahead
        got = await until(lambda: rows(db, "SELECT signal, param, ts FROM events "
                                       "WHERE code = ?", CLOCK_EVENT), "event 181")
        assert sorted(s for s, _, _ in got) == ["a1", "a2", "a3"]
        assert {p for _, p, _ in got} == {90}
        assert svc.epoch - epoch == pytest.approx(90.0, abs=0.3)
        await until(lambda: json.loads((data / "status.json").read_text())["alarms"], "alarm")
        doc = json.loads((data / "status.json").read_text())
        assert doc["alarms"][0]["kind"] == "clock step"
        assert doc["alarms"][0]["step_s"] == pytest.approx(90.0, abs=0.3)
        assert doc["timezone"] == "Asia/Almaty"

        # new plans: the coordinated plan's main green 44 s -> 40 s, applied
        corridor(tmp_path, {"green_s = 44": "green_s = 40"})
        req = write_request(data, "alice", str(path))
        svc.plan_changes.ask()
        got = await until(lambda: rows(db, "SELECT by, outcome, diff FROM plan_changes "
                                       "WHERE request = ?", req.id), "the plan change")
        by, outcome, diff = got[0]
        assert (by, outcome) == ("alice", "applied")
        assert "-[intersection a1] plan coord stage S1: green 44 s" in diff
        assert "+[intersection a1] plan coord stage S1: green 40 s" in diff
        assert svc.core.cores["a1"].inter.plans["coord"].stages["S1"].green_s == 40
        assert svc.config.intersection("a1").plans["coord"].stages["S1"].green_s == 40

        # a safety-relevant change is refused; the service keeps its plans
        corridor(tmp_path, {"min_green_s = 15": "min_green_s = 16"})
        req = write_request(data, "mallory", str(path))
        svc.plan_changes.ask()
        got = await until(lambda: rows(db, "SELECT outcome, message FROM plan_changes "
                                       "WHERE request = ?", req.id), "the refusal")
        assert got[0][0] == "refused" and "Re-provision" in got[0][1]
        assert svc.config.intersection("a1").group("V1").min_green_s == 15
        svc.stop.set()
        assert await task == 1       # its port never opened: no node was ever reached

    asyncio.run(scenario())


def test_a_plan_change_waits_for_a_cycle_boundary_and_stays_safe(tmp_path):
    """Virtual time: the core runs its fixed-time plan; a change asked mid-cycle is
    applied when the main stage shows green, through the plan-change path (event 131),
    and the monitor sees nothing wrong."""
    cfg = load(corridor(tmp_path))
    new_path = corridor(tmp_path, {"green_s = 44": "green_s = 38"}, "new.toml")
    record = Record(tmp_path / "record.sqlite")
    changes = PlanChanges(record, tmp_path)
    start = cfg.zone.attach(dt.datetime(2026, 3, 2, 8, 0))   # a Monday: plan coord
    epoch = start.timestamp() - 8 * 3600
    core = GroupCore(cfg, start=8 * 3600.0, epoch=epoch)
    monitors = {i.id: SignalMonitor(monitor_table(i)) for i in cfg.intersections}
    events, applied_at, asked = [], None, False
    for k in range(288000, 288000 + 6000):              # ten minutes
        now = k / 10
        if not asked and core.cores["a1"].mode == "run" and \
                core.cores["a1"].stage != core.cores["a1"].plan.main_stage:
            write_request(tmp_path, "bob", str(new_path))
            changes.ask()
            asked = True
        before = changes.pending is not None
        ready = at_cycle_boundary(core.cores["a1"])
        old = core.cores["a1"].plan
        cfg = changes.cycle(cfg, core, now, epoch + now)
        if core.cores["a1"].plan is not old:
            assert ready                    # a1 took up its new plan at its cycle boundary
        if before and changes.pending is None:
            applied_at = now
        for iid, out in core.step(now).items():
            events += out.events
            monitors[iid].feed(now, {g: A.lamps(a, k * 100) for g, a in out.aspects.items()})
    record.close()
    assert asked and applied_at is not None
    assert core.cores["a1"].plan.stages["S1"].green_s == 38
    # through the plan-change path, where the plan changed (a1's coord plan only)
    [a1_change] = [e.t for e in events if e.code == E.PATTERN_CHANGE]
    assert a1_change <= applied_at
    assert all(m.violations == [] for m in monitors.values())
    [(by, outcome)] = rows(tmp_path / "record.sqlite", "SELECT by, outcome FROM plan_changes")
    assert (by, outcome) == ("bob", "applied")


def test_plan_apply_and_sighup_on_a_real_service(tmp_path):
    path = corridor(tmp_path)
    data = tmp_path / "data"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = open(tmp_path / "service.log", "w")
    svc = subprocess.Popen([sys.executable, "-m", "controller.cli", "run", str(path),
                            "--port", f"abay-rs485={tmp_path / 'no-such-port'}",
                            "--data", str(data), "--time-scale", "5"],
                           stdout=log, stderr=log, cwd=ROOT, env=env)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "controller.cli", *args],
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)

    try:
        end = time.monotonic() + DEADLINE_S
        while not (data / "status.json").exists():
            assert svc.poll() is None, (tmp_path / "service.log").read_text()
            assert time.monotonic() < end, "the service wrote no status"
            time.sleep(0.05)
        corridor(tmp_path, {"green_s = 44": "green_s = 41"})
        out = cli("plan", "apply", str(path), "--data", str(data), "--by", "bob")
        assert out.returncode == 0, out.stderr
        assert "applied" in out.stderr and "+[intersection a1] plan coord stage S1: " \
            "green 41 s" in out.stdout
        corridor(tmp_path, {"min_green_s = 15": "min_green_s = 16"})
        out = cli("plan", "apply", str(path), "--data", str(data))
        assert out.returncode == 2 and "re-provision" in out.stderr.lower()
        # a bare SIGHUP re-reads the service's own file: the same refusal, recorded
        svc.send_signal(signal.SIGHUP)
        db = data / "record.sqlite"
        while not rows(db, "SELECT 1 FROM plan_changes WHERE by = 'SIGHUP'"):
            assert time.monotonic() < end + DEADLINE_S, "no record of the SIGHUP"
            time.sleep(0.05)
        [(outcome,)] = rows(db, "SELECT outcome FROM plan_changes WHERE by = 'SIGHUP'")
        assert outcome == "refused"
        assert rows(db, "SELECT by, outcome FROM plan_changes WHERE by = 'bob'") == \
            [("bob", "applied")]
    finally:
        svc.terminate()
        svc.wait(timeout=120)
        log.close()
