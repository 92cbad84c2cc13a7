"""A central preemption call on the cabinet (runtime/remote.py, kind `preempt`): checked,
applied to the core's Inputs.preempt_calls, called off or expired, refused for a preempt
the intersection does not have; recorded and answered like every command."""

from __future__ import annotations

import json

from controller.config import load
from controller.core import events as E
from controller.engine import GroupCore, Inputs
from controller.runtime.record import Record
from controller.runtime.reload import PlanChanges
from controller.runtime.remote import RemoteCommands

from sc_paths import ROOT

NOW = 1_795_000_000.0
US = ROOT / "examples" / "us_junction.toml"


def cmd(cid, on, preempt="ev-main", inter="main-5th", expires=60.0, ts=NOW) -> bytes:
    return json.dumps({"v": 1, "id": cid, "kind": "preempt", "by": "dispatch", "ts": ts,
                       "expires": ts + expires,
                       "args": {"intersection": inter, "preempt": preempt, "on": on}}).encode()


class Cabinet:
    def __init__(self, tmp_path):
        self.config = load(US)
        self.record = Record(tmp_path / "record.sqlite")
        self.plans = PlanChanges(self.record, tmp_path)
        self.core = GroupCore(self.config, start=7 * 3600.0, epoch=NOW - 7 * 3600.0)
        self.wall = NOW
        self.remote = RemoteCommands("anytown", self.record, wall=lambda: self.wall)
        self.told: list = []
        self.events: list = []
        self.now = 7 * 3600.0

    def step(self, seconds: float) -> None:
        for _ in range(int(round(seconds * 10))):
            self.now = round(self.now + 0.1, 1)
            self.wall = round(self.wall + 0.1, 1)
            self.config = self.remote.cycle(self.config, self.core, self.plans, self.now,
                                            self.wall, self.told.extend)
            outs = self.core.step(self.now, {
                i.id: Inputs(preempt_calls=self.remote.preempt_calls(i.id))
                for i in self.config.intersections})
            self.events += [e.code for out in outs.values() for e in out.events]

    def outcomes(self) -> list[tuple[str, str]]:
        return [(m.payload["id"], m.payload["outcome"]) for m in self.told]


def test_the_city_calls_a_preempt_and_calls_it_off(tmp_path):
    cab = Cabinet(tmp_path)
    cab.step(60)
    cab.remote.receive(cmd("p1", True, ts=cab.wall))
    cab.step(40)
    core = cab.core.cores["main-5th"]
    assert core.preempt.phase == "dwell" and E.PREEMPT_ENTRY in cab.events
    cab.remote.receive(cmd("p2", False, ts=cab.wall))
    cab.step(30)
    assert core.preempt.phase == "idle" and E.PREEMPT_EXIT in cab.events
    assert cab.outcomes() == [("p1", "applied"), ("p2", "applied")]
    assert cab.remote.snapshot()["preempt_calls"] == []


def test_a_central_call_ends_when_its_command_expires(tmp_path):
    cab = Cabinet(tmp_path)
    cab.step(60)
    cab.remote.receive(cmd("p1", True, expires=30.0, ts=cab.wall))
    cab.step(20)
    assert cab.remote.preempt_calls("main-5th") == {"ev-main"}
    cab.step(60)                                    # nobody called it off: it expired
    assert cab.remote.preempt_calls("main-5th") == frozenset()
    assert E.PREEMPT_CALL_OFF in cab.events


def test_a_preempt_the_intersection_does_not_have_is_refused(tmp_path):
    cab = Cabinet(tmp_path)
    cab.remote.receive(cmd("p1", True, preempt="ev-elsewhere"))
    cab.remote.receive(cmd("p2", True, inter="nowhere"))
    cab.remote.receive(b'{"v": 1, "id": "p3", "kind": "preempt", "by": "x", "ts": 1, '
                       b'"expires": 2, "args": {"preempt": "ev-main"}}')
    cab.step(1)
    assert cab.outcomes() == [("p1", "refused"), ("p2", "refused"), ("p3", "rejected")]
    assert cab.remote.preempt_calls("main-5th") == frozenset()
