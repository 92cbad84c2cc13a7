"""Jumping from event to event gives exactly what stepping every 0.1 s gives."""

import pytest

from controller.config import load
from controller.config.civil import DEFAULT_DAY
from controller.simulate import simulate

from sc_paths import EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("start_h", [0.0, 7.5, 16.9])
def test_event_stepping_equals_every_tick(path, start_h):
    cfg = load(path)
    start = cfg.zone.at(DEFAULT_DAY, start_h * 3600)
    fast = simulate(cfg, 1200, seed=5, start=start, scale=1.5)
    slow = simulate(cfg, 1200, seed=5, start=start, scale=1.5, every_tick=True)
    assert fast.events == slow.events
    assert fast.green_s == slow.green_s
    assert fast.actuations == slow.actuations
    assert fast.violations == slow.violations == []
