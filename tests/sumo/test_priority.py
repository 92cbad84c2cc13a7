"""Emergency preemption in software in the loop: SUMO's emergency vehicles call the core
through a detector that sees only them, the core runs the preempt, and nothing is unsafe.

The scenario and the configurations are the priority benchmark's (bench/priority.py): one
junction, a preempt receiver per approach (a lane-area detector restricted to the
`ambulance` vehicle type), bus check-in/check-out loops restricted to buses.
"""

import csv
import json
import sys

import pytest
from sumo_helpers import ROOT, smartcross

from controller.core import events as E

pytestmark = pytest.mark.sumo

sys.path.insert(0, str(ROOT / "bench"))
import priority as bench  # noqa: E402
import priority_scenario as ps  # noqa: E402

EVS = [(40.0, "N"), (90.0, "S"), (140.0, "E"), (190.0, "W"), (215.0, "N")]


def _tripinfo(path):
    import xml.etree.ElementTree as ET

    return {t.get("id"): t.attrib for t in ET.parse(path).getroot().iter("tripinfo")}


@pytest.fixture(scope="module", name="runs")
def runs_fixture(tmp_path_factory):
    """330 s of SUMO at the benchmark's flows with five emergency vehicles, once with the
    preempt configuration and once without it (same vehicles, same SUMO seed)."""
    folder = tmp_path_factory.mktemp("priority")
    scen = ps.build(folder, 1, duration_s=240.0, evs=EVS, bus_headway_s=120.0)
    out = {}
    for cfg in bench.configs(folder, scen, bench.sumo_env()):
        events, ti = folder / f"{cfg.stem}.csv", folder / f"{cfg.stem}.tripinfo.xml"
        r = smartcross("sumo", "--sumocfg", scen.sumocfg, "--config", cfg, "--tripinfo", ti,
                       "--events", events, "--end", 330, "--json", timeout=300)
        assert "Traceback" not in r.stderr, r.stderr
        out[cfg.stem] = (r, list(csv.DictReader(events.open())), cfg, _tripinfo(ti))
    return out


def test_emergency_vehicles_preempt_and_nothing_is_unsafe(runs):
    r, rows, cfg_path, _ = runs["with"]
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["violations"] == []            # the independent monitor
    codes = [(int(x["EventCode"]), int(x["EventParam"])) for x in rows]
    # the core's audit sends the intersection to flash on anything unsafe: it never did
    assert (E.FLASH_STATUS, E.FLASH_FAULT) not in codes
    from controller.config import load

    inter = load(cfg_path).intersections[0]
    for p in inter.preempts:            # every approach had a vehicle: every receiver called
        seq = [c for c, n in codes if n == p.number and 101 <= c <= 111]
        for code in (E.PREEMPT_CALL_ON, E.PREEMPT_ENTRY, E.PREEMPT_DWELL, E.PREEMPT_CALL_OFF,
                     E.PREEMPT_EXIT):
            assert code in seq, (p.id, code, seq)
        assert seq.index(E.PREEMPT_CALL_ON) <= seq.index(E.PREEMPT_ENTRY) \
            < seq.index(E.PREEMPT_DWELL) < seq.index(E.PREEMPT_EXIT), (p.id, seq)
    assert not [x for x in runs["without"][1] if 101 <= int(x["EventCode"]) <= 119]


def test_with_preemption_no_emergency_vehicle_stops(runs):
    """Without preemption some of the vehicles wait at a red; with it none stops (SUMO's
    waitingTime: time below 0.1 m/s), and they lose less time altogether. Nobody else's
    detector called: the receivers see emergency vehicles only."""
    with_, without = runs["with"][3], runs["without"][3]
    evs = [f"ev_{k}" for k in range(len(EVS))]
    assert all(v in with_ and float(with_[v]["arrival"]) > 0 for v in evs)
    assert any(float(without[v]["waitingTime"]) > 0 for v in evs)
    assert [float(with_[v]["waitingTime"]) for v in evs] == [0.0] * len(evs)
    assert sum(float(with_[v]["timeLoss"]) for v in evs) \
        < sum(float(without[v]["timeLoss"]) for v in evs)
    rows = runs["with"][1]
    calls = [x for x in rows if int(x["EventCode"]) == E.PREEMPT_CALL_ON]
    assert len(calls) == len(EVS), calls
