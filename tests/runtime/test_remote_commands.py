"""The city's commands on the cabinet, without a broker: the checker, and the cabinet's
handling (runtime/remote.py) with the real record, timing core and plan-change path.
A rogue or malformed command is rejected, counted, recorded and answered, and never
reaches the signals; a plan command goes through `plan apply`'s path; flash through the
core's controller-commanded flash."""

from __future__ import annotations

import json
import sqlite3

import pytest

from controller.config import ConfigError, load
from controller.core import FLASH, RUN, Inputs
from controller.engine import GroupCore
from controller.runtime.record import Record
from controller.runtime.reload import PlanChanges
from controller.runtime.remote import RemoteCommands
from controller.telemetry.commands import CommandRejected, parse_command

from sc_paths import ROOT

NOW = 1_795_000_000.0
CORRIDOR = ROOT / "examples" / "corridor.toml"


def cmd(kind="plan", args=None, **over) -> bytes:
    doc = {"v": 1, "id": "c0ffee", "kind": kind, "by": "alice", "ts": NOW, "expires": NOW + 60,
           "args": {"plan": "night"} if args is None else args, **over}
    return json.dumps(doc).encode()


@pytest.mark.parametrize("payload, why", [
    (b"\xff\xfe", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (cmd(v=2), "v: expected 1"),
    (cmd(id="../etc"), "args.id"),
    (cmd(kind="detonate", args={}), "unknown kind 'detonate'"),
    (cmd(kind="preempt", args={"intersection": "a1", "on": True}), "args must be exactly"),
    (cmd(args={"plan": "night", "intergreen": {"V1": {"V2": 0}}}), "args must be exactly"),
    (cmd(kind="flash", args={"intersection": "a1", "on": "yes"}), "args must be exactly"),
    (cmd(expires=NOW - 1), "expires must be after ts"),
    (cmd(ts=NOW - 120, expires=NOW - 60), "expired 60 s ago"),
    (cmd(ts=NOW + 900, expires=NOW + 960), "in the future"),
    (cmd(by=""), "by: expected"),
    (b"{" + b" " * 5000 + b"}", "over 4096"),
])
def test_malformed_commands_are_rejected_with_a_reason(payload, why):
    with pytest.raises(CommandRejected, match=why):
        parse_command(payload, NOW)


def test_a_well_formed_command():
    c = parse_command(cmd(kind="flash", args={"intersection": "a1", "on": True}), NOW)
    assert (c.id, c.kind, c.by, c.args) == ("c0ffee", "flash", "alice",
                                            {"intersection": "a1", "on": True})
    assert parse_command(cmd(args={"plan": None}), NOW).args == {"plan": None}


def test_commands_are_off_unless_the_toml_says_so(tmp_path):
    text = CORRIDOR.read_text()
    on = tmp_path / "on.toml"
    on.write_text(text + '\n[telemetry]\nbroker = "mqtt://127.0.0.1:1883"\ncommands = true\n')
    off = tmp_path / "off.toml"
    off.write_text(text + '\n[telemetry]\nbroker = "mqtt://127.0.0.1:1883"\n')
    bad = tmp_path / "bad.toml"
    bad.write_text(text + '\n[telemetry]\nbroker = "mqtt://127.0.0.1:1883"\ncommands = "yes"\n')
    assert load(on).telemetry.commands is True
    assert load(off).telemetry.commands is False
    with pytest.raises(ConfigError, match="telemetry.commands"):
        load(bad)


class Cabinet:
    """The pieces of the service a command touches, stepped in virtual time."""

    def __init__(self, tmp_path):
        self.config = load(CORRIDOR)
        self.record = Record(tmp_path / "record.sqlite")
        self.plans = PlanChanges(self.record, tmp_path)
        self.core = GroupCore(self.config, start=7 * 3600.0, epoch=NOW - 7 * 3600.0)
        self.remote = RemoteCommands("corridor", self.record, wall=lambda: NOW)
        self.told: list = []
        self.now = 7 * 3600.0

    def step(self, seconds: float = 0.1) -> None:
        for _ in range(int(round(seconds * 10))):
            self.now = round(self.now + 0.1, 1)
            self.config = self.plans.cycle(self.config, self.core, self.now, NOW)
            self.config = self.remote.cycle(self.config, self.core, self.plans, self.now,
                                            NOW, self.told.extend)
            self.core.step(self.now, {i.id: Inputs(flash=i.id in self.remote.flash)
                                      for i in self.config.intersections})
            self.record.flush()

    def rows(self, table: str) -> list[tuple]:
        db = sqlite3.connect(self.record.path)
        try:
            return db.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
        finally:
            db.close()


def test_plan_selection_goes_through_the_plan_change_path(tmp_path):
    cab = Cabinet(tmp_path)
    cab.step(30)
    assert cab.core.cores["a1"].plan.id != "night"
    cab.remote.receive(cmd(args={"plan": "night"}))
    cab.remote.receive(cmd(args={"plan": "night"}))           # delivered twice (QoS 1)
    cab.step(400)                                              # past a cycle boundary
    assert {c.plan.id for c in cab.core.cores.values()} == {"night"}
    [change] = cab.rows("plan_changes")
    assert change[1:5] == ("c0ffee", "city:alice", "city command c0ffee: plan night",
                           "applied")
    changed = [ln for ln in change[6].splitlines()[2:] if ln[:1] in "+-"]
    assert "-[schedule] 07:30 coord (mon,tue,wed,thu,fri)" in changed
    assert all(ln[1:].startswith("[schedule]") for ln in changed)   # the schedule only
    [row] = cab.rows("commands")
    assert row[1:6] == ("c0ffee", "plan", "alice", '{"plan": "night"}', "applied")
    [answer] = cab.told
    assert answer.topic == "smartcross/corridor/command/result"
    assert answer.payload["outcome"] == "applied" and answer.payload["id"] == "c0ffee"
    assert cab.remote.counts["duplicates"] == 1

    cab.remote.receive(cmd(id="back", args={"plan": None}))    # the file's schedule again
    cab.step(400)
    assert cab.rows("commands")[-1][1::4] == ("back", "applied")
    assert cab.config.schedule == load(CORRIDOR).schedule


def test_unknown_plan_and_intersection_are_refused_and_nothing_changes(tmp_path):
    cab = Cabinet(tmp_path)
    cab.step(5)
    before = cab.config
    cab.remote.receive(cmd(id="p1", args={"plan": "nosuch"}))
    cab.remote.receive(cmd(id="f1", kind="flash", args={"intersection": "zz", "on": True}))
    cab.step(1)
    assert cab.config is before and cab.plans.pending is None and not cab.remote.flash
    outcomes = [(r[1], r[5], r[6]) for r in cab.rows("commands")]
    assert outcomes == [("p1", "refused", "no plan 'nosuch' at intersection(s) a1, a2, a3"),
                        ("f1", "refused", "no intersection 'zz' in this cabinet")]


def test_rogue_commands_are_rejected_counted_recorded_and_never_reach_the_signals(tmp_path):
    cab = Cabinet(tmp_path)
    cab.step(60)
    aspects_before = {i: c.mode for i, c in cab.core.cores.items()}
    for payload in (b"garbage", cmd(id="x1", kind="reboot", args={}),
                    cmd(id="x2", kind="flash", args={"intersection": "a1", "on": True},
                        expires=NOW - 5, ts=NOW - 10)):
        cab.remote.receive(payload)
    cab.step(1)
    assert cab.remote.counts["rejected"] == 3
    assert sum(cab.remote.rejected.values()) == 3
    rows = cab.rows("commands")
    assert [(r[1], r[5]) for r in rows] == [("", "rejected"), ("x1", "rejected"),
                                            ("x2", "rejected")]
    assert [m.payload["outcome"] for m in cab.told] == ["rejected"] * 3
    assert not cab.remote.flash and cab.rows("plan_changes") == []
    assert {i: c.mode for i, c in cab.core.cores.items()} == aspects_before == \
        {"a1": RUN, "a2": RUN, "a3": RUN}


def test_flash_request_enters_flash_through_the_clearance_and_is_released(tmp_path):
    cab = Cabinet(tmp_path)
    cab.step(60)
    cab.remote.receive(cmd(id="f1", kind="flash", args={"intersection": "a2", "on": True}))
    cab.step(0.1)
    assert cab.core.cores["a2"].mode != FLASH          # not at once: through the clearance
    cab.step(60)
    assert cab.core.cores["a2"].mode == FLASH
    assert cab.core.cores["a1"].mode == RUN and cab.core.cores["a3"].mode == RUN
    cab.remote.receive(cmd(id="f2", kind="flash", args={"intersection": "a2", "on": False}))
    cab.step(120)
    assert cab.core.cores["a2"].mode == RUN
    assert [(r[1], r[5]) for r in cab.rows("commands")] == [("f1", "applied"),
                                                            ("f2", "applied")]
