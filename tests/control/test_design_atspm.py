"""Plan design numbers (Webster, offsets) and ATSPM measures from a known event log."""

import pytest
from control_junction import junction_toml

from controller.config import loads
from controller.control import atspm, design
from controller.core.events import Event


def test_webster_cycle_and_splits():
    # DOMAIN.md: C0 = (1.5 L + 5) / (1 − Y)
    assert design.webster([0.3, 0.2], 10.0) == pytest.approx(40.0)
    assert design.webster([0.45, 0.2], 15.0) == pytest.approx(27.5 / 0.35)
    assert design.webster([0.6, 0.5], 10.0) == 120.0            # capped, Y ≥ 0.9
    assert design.splits(60.0, [0.3, 0.1], 12.0) == pytest.approx([36.0, 12.0])


def test_offsets_one_way_and_two_way():
    # heavier eastbound: b's green starts when a's platoon arrives (2 s early)
    assert design.offset_between(22.0, 22.0, 900, 400, 60) == pytest.approx(20.0)
    assert design.offset_between(22.0, 22.0, 400, 900, 60) == pytest.approx(40.0)
    # balanced: halfway between what each direction wants (20 and 40)
    assert design.offset_between(22.0, 22.0, 800, 790, 60) == pytest.approx(30.0)
    offs = design.offsets(["A", "B", "C"], {("A", "B"): 22.0, ("B", "A"): 22.0,
                                            ("B", "C"): 25.0, ("C", "B"): 25.0},
                          {("A", "B"): 900, ("B", "C"): 900}, 60)
    assert offs == {"A": 0, "B": 20, "C": 43}


def test_atspm_measures_from_events():
    cfg = loads(junction_toml("adaptive"))
    inter = cfg.intersections[0]
    num = {g.id: g.number for g in inter.groups}
    det = {d.id: d.number for d in inter.detectors}
    p, adv, stop = num["EB_TR"], det["EB_TR-c"], det["EB_TR-p"]
    ev = []
    for k in range(4):                       # 4 cycles of 60 s: green 0-30, yellow, red
        c = 100.0 + 60 * k
        ev += [Event(c, "X", 1, p), Event(c + 30, "X", 8, p), Event(c + 33, "X", 10, p)]
        ev += [Event(c + 30, "X", 4 if k else 5, p)]
        # arrivals: 3 on green, 1 on red
        ev += [Event(c + s, "X", 82, adv) for s in (5, 10, 20, 45)]
        if k == 2:                           # a split failure: stop bar busy all along
            ev += [Event(c, "X", 82, stop), Event(c + 40, "X", 81, stop)]
    ev.sort(key=lambda e: e.t)
    m = atspm.measures(cfg, ev)["X"]["EB_TR"]
    assert m["cycles"] == 4 and m["mean_green_s"] == 30.0 and m["mean_cycle_s"] == 60.0
    assert m["gap_out"] == 3 and m["max_out"] == 1
    assert m["arrivals_on_green_pct"] == 75.0 and m["platoon_ratio"] == 1.5
    assert m["split_failures"] == 1
    assert m["green_occupancy_pct"] == 25.0
    text = atspm.format_measures({"X": {"EB_TR": m}})
    assert "X/EB_TR" in text
