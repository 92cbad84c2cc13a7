"""The node's guard accepts every preemption and priority sequence the timing core makes.

The core may cut a minimum green to a preempt's floor on entry; the guard is provisioned
with that floor (`Intersection.green_floor_s` in the node's safety tables), and must
still refuse nothing the core commands: the core's aspects, recorded while preempt calls
and bus check-ins come and go with traffic, are replayed into the unmodified guard on
the MicroPython unix port (tests/firmware/mp/replay_guard.py).
"""

from __future__ import annotations

import json
import os
import random
import subprocess

import pytest
from fw_mpunit import MP

from controller.config import load, loads
from controller.engine import Inputs, IntersectionCore
from controller.provisioning import layouts
from hil.emu.host import FIRMWARE, ROOT, micropython_executable
from hil.emu.host import HERE as EMU

pytestmark = pytest.mark.micropython
US = ROOT / "examples" / "us_junction.toml"


def record(plan: str, seed: int, hours: float = 1.0) -> tuple[dict, list, list]:
    """The core's aspects for node cab-1 as frames (ms, aspects), from the all-red on;
    and the core's events."""
    config = load(US)
    lay = layouts(config)["cab-1"]
    inter = lay.intersection
    core = IntersectionCore(inter, plan)
    rng = random.Random(seed)
    loops = [d.id for d in inter.detectors if d.kind in ("presence", "ped_button")]
    on: set[str] = set()
    ext: set[str] = set()
    frames, events, last = [], [], None
    for k in range(int(hours * 36000)):
        if k % 10 == 0:
            for d in loops:
                if rng.random() < 0.03:
                    on ^= {d}
            r = rng.random()
            if r < 0.002:
                on ^= {"ev-main"}             # the optical detector
            elif r < 0.004:
                ext ^= {"ev-main"}            # the central system
            elif r < 0.007:
                on ^= {"bus-in"} if rng.random() < 0.5 else {"bus-out"}
        out = core.step(k / 10, Inputs(frozenset(on), preempt_calls=frozenset(ext)))
        events += out.events
        if core.mode in ("run", "all-red"):
            wants = [out.aspects[g.id] for g in lay.groups]
            if wants != last:
                frames.append([k * 100, wants])
                last = wants
    return lay.safety_tables(), frames, events


def replay(tmp_path, tables: dict, frames: list) -> str:
    path = tmp_path / "stream.json"
    path.write_text(json.dumps({"tables": tables, "frames": frames}))
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join([str(EMU), str(FIRMWARE), str(ROOT), str(MP), ".frozen"])
    env["EMU_CLOCK"] = "virtual"
    env.pop("EMU_HOST", None)
    proc = subprocess.run([micropython_executable(), str(MP / "replay_guard.py"), str(path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("plan, seed", [("free", 1), ("free", 2), ("peak", 3)])
def test_guard_accepts_every_preempt_sequence(tmp_path, plan, seed):
    tables, frames, events = record(plan, seed)
    codes = {e.code for e in events}
    # the run did what it is about: preemption entered, dwelt and exited; a bus was served
    assert {102, 105, 107, 111} <= codes, sorted(codes)
    assert 116 in codes, "no green was cut short: the guard's floor was not exercised"
    assert replay(tmp_path, tables, frames) == "REFUSED 0"


def cut_entry() -> tuple[dict, list, float]:
    """A preempt call 1 s after 5th Ave's green (ph4, minimum 8 s) began, its crosswalk
    not walking: the entry cuts it to the preempt's floor (5 s). Frames as `record`, and
    how long ph4 was green."""
    text = US.read_text(encoding="utf-8")
    old = 'S4 = { max_green_s = 30, recall = "ped" }'
    assert text.count(old) == 1
    config = loads(text.replace(old, "S4 = { max_green_s = 30 }"))
    lay = layouts(config)["cab-1"]
    core = IntersectionCore(lay.intersection, "free")
    i4 = [g.id for g in lay.groups].index("ph4")
    frames, last, began, ended = [], None, None, None
    for k in range(1200):
        presence = {"det7"}
        if began is not None and k >= began + 10:
            presence.add("ev-main")
        out = core.step(k / 10, Inputs(frozenset(presence)))
        wants = [out.aspects[g.id] for g in lay.groups]
        if began is None and wants[i4] == 3:
            began = k
        if began is not None and ended is None and wants[i4] != 3:
            ended = k
        if core.mode in ("run", "all-red") and wants != last:
            frames.append([k * 100, wants])
            last = wants
    assert began is not None and ended is not None
    return lay.safety_tables(), frames, (ended - began) / 10


def test_a_cut_green_is_accepted_with_the_floor_and_refused_without(tmp_path):
    """The check is not vacuous: the entry cuts ph4 to 5 s; the guard provisioned with the
    preempt floor accepts it, one provisioned with the normal minimum (8 s) refuses it."""
    tables, frames, green_s = cut_entry()
    assert green_s == 5.0
    assert replay(tmp_path, tables, frames) == "REFUSED 0"
    inter = load(US).intersections[0]
    for g in tables["groups"]:
        g["min_green_ms"] = round(inter.group(g["id"]).min_green_s * 1000)
    assert "min-green=" in replay(tmp_path, tables, frames)
