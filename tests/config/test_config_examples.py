"""Every example under examples/ loads cleanly and runs; the examples' own claims hold.

Examples are globbed, so a new example is covered without touching this file.
"""

import pytest
from cfgtools import EXAMPLES, ROOT

from controller.config import load
from controller.config.civil import DEFAULT_DAY
from controller.config.model import PARKING_BAY, GroupConfig
from controller.core import events as E
from controller.engine import Inputs, IntersectionCore
from protocols import aspects as A

IDS = [p.name for p in EXAMPLES]


def test_there_are_examples():
    assert len(EXAMPLES) >= 4, EXAMPLES


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_example_loads_cleanly(path):
    cfg = load(path)
    assert isinstance(cfg, GroupConfig)
    assert cfg.source == str(path)
    assert cfg.intersections and cfg.schedule


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_every_scheduled_plan_exists_everywhere_and_every_day_has_one(path):
    cfg = load(path)
    for e in cfg.schedule:
        for i in cfg.intersections:
            assert e.plan in i.plans
    week = cfg.zone.instant(DEFAULT_DAY, 0.0)         # a Monday, local midnight
    for hour in range(7 * 24):
        assert cfg.plan_at(week + hour * 3600.0) in cfg.intersections[0].plans


@pytest.mark.parametrize("path", EXAMPLES, ids=IDS)
def test_every_plan_runs_ten_minutes_and_serves_every_group(path):
    """All detectors calling (ped buttons pressed, loops occupied): every group must get
    green within 10 simulated minutes, and the core's own audit must never fault-flash."""
    cfg = load(path)
    for inter in cfg.intersections:
        present = frozenset(d.id for d in inter.detectors if d.kind != PARKING_BAY)
        for plan in inter.plans:
            core = IntersectionCore(inter, plan, start=8 * 3600.0)
            greened, faults = set(), []
            for k in range(8 * 36000, 8 * 36000 + 6000):
                out = core.step(k / 10, Inputs(presence=present))
                greened |= {g for g, a in out.aspects.items() if a == A.GREEN}
                faults += [e for e in out.events
                           if e.code == E.FLASH_STATUS and e.param == E.FLASH_FAULT]
            assert not faults, (inter.id, plan, faults[:3])
            assert greened == {g.id for g in inter.groups}, (inter.id, plan, greened)


def _green_starts(cfg, iid, gid, start, seconds):
    inter = cfg.intersection(iid)
    core = IntersectionCore(inter, "coord", start)
    starts, prev = [], None
    for k in range(int(start * 10), int((start + seconds) * 10)):
        a = core.step(k / 10, Inputs()).aspects[gid]
        if a == A.GREEN and prev != A.GREEN:
            starts.append(k / 10)
        prev = a
    return starts


def test_corridor_green_wave_eastbound():
    """Abay Avenue: common cycle, and the Abay green (V1) starts later at each
    intersection by the travel time at 50 km/h (300 m and 350 m at 13.9 m/s)."""
    cfg = load(ROOT / "examples" / "corridor.toml")
    coord = [i.plans["coord"] for i in cfg.intersections]
    assert {p.cycle_s for p in coord} == {90.0}
    assert [p.offset_s for p in coord] == [0.0, 22.0, 47.0]
    start = 8 * 3600.0
    # after start-up flash, all red and the first cycles that pull into step
    settled = start + 3 * 90
    first = {i.id: [t for t in _green_starts(cfg, i.id, "V1", start, 500) if t > settled][0]
             for i in cfg.intersections}
    cycle = 90.0
    travel_a1_a2 = (first["a2"] - first["a1"]) % cycle
    travel_a2_a3 = (first["a3"] - first["a2"]) % cycle
    assert abs(travel_a1_a2 - 300 / 13.9) <= 1.0
    assert abs(travel_a2_a3 - 350 / 13.9) <= 1.0


def test_corridor_middle_intersection_has_a_heads_node_and_a_detector_node():
    cfg = load(ROOT / "examples" / "corridor.toml")
    a2 = cfg.intersection("a2")
    assert len(a2.nodes) == 2
    assert {g.node for g in a2.groups} == {"a2-heads"}
    assert {d.node for d in a2.detectors} == {"a2-det"}
    assert len(cfg.buses) == 1
    assert sum(len(i.nodes) for i in cfg.intersections) >= 4
    bays = [d for d in a2.detectors if d.kind == PARKING_BAY]
    assert bays and {d.area for d in bays} == {a.id for a in cfg.parking_areas}


def test_us_example_pedestrian_intergreens_cover_the_flashing_dont_walk():
    cfg = load(ROOT / "examples" / "us_junction.toml")
    inter = cfg.intersections[0]
    for g in inter.groups:
        if g.is_pedestrian:
            assert g.ped_clear_s > 0
            assert g.red_amber_s == 0
        for (a, _), ig in inter.intergreen.items():
            if a == g.id:
                assert ig >= g.change_s
    assert all(g.red_amber_s == 0 for g in inter.groups)
    assert {g.amber_s for g in inter.groups if not g.is_pedestrian} <= {3.5, 4.0}
