"""A tenth stepped twice: what the cabinet does when its half-cycle read of the detector
nodes brings a change (controller/runtime/inputs.py). The core's clock has 0.1 s
resolution, so the service steps the same tenth again with the newer inputs."""

import collections
import random

import pytest

from controller.config import load
from controller.core import Inputs
from controller.core.events import FLASH_FAULT, FLASH_STATUS
from controller.engine import GroupCore

from sc_paths import EXAMPLES

TENTHS = 12000          # 20 minutes


def _run(cfg, restep, new_inputs_between, seed=3):
    """Events and aspects of every step; each tenth stepped once, or twice (a second time
    with the same inputs, or with presence that changed in between)."""
    rng = random.Random(seed)
    other = random.Random(seed + 1)
    dets = {i.id: [d.id for d in i.detectors] for i in cfg.intersections}
    core = GroupCore(cfg)
    present = {iid: set() for iid in dets}
    log = []

    def flip(r):
        for iid, ids in dets.items():
            for d in ids:
                if r.random() < 0.01:
                    present[iid] ^= {d}

    def step(now):
        outs = core.step(now, {iid: Inputs(frozenset(p), frozenset())
                               for iid, p in present.items()})
        for iid, out in outs.items():
            log.extend((e.t, e.intersection, e.code, e.param) for e in out.events)
            log.append((now, iid, tuple(sorted(out.aspects.items()))))

    for k in range(TENTHS):
        now = round(k * 0.1, 1)
        flip(rng)
        step(now)
        if restep:
            if new_inputs_between:
                flip(other)
            step(now)
    return log


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_a_tenth_stepped_again_with_the_same_inputs_changes_nothing(path):
    cfg = load(path)
    once = _run(cfg, restep=False, new_inputs_between=False)
    twice = _run(cfg, restep=True, new_inputs_between=False)
    # the second step of each tenth adds nothing: no event, the same aspects
    assert [x for x in twice if len(x) == 4] == [x for x in once if len(x) == 4]
    assert any(x[2] == 82 for x in once if len(x) == 4)       # detectors did change


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_a_tenth_stepped_again_with_new_inputs_stays_safe(path):
    cfg = load(path)
    log = _run(cfg, restep=True, new_inputs_between=True)
    events = [x for x in log if len(x) == 4]
    # the core's own audit never faults, and no event is told twice in one tenth
    assert (FLASH_STATUS, FLASH_FAULT) not in {(c, p) for _, _, c, p in events}
    twice = [e for e, n in collections.Counter(events).items() if n > 1]
    assert twice == []
