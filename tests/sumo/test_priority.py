"""Emergency preemption in software in the loop: SUMO's emergency vehicles call the core
through a detector that sees only them, the core runs the preempt, and nothing is unsafe.

The scenario and the configurations are the priority benchmark's (bench/priority.py): one
junction, a preempt receiver per approach (a lane-area detector restricted to the
`ambulance` vehicle type), bus check-in/check-out loops restricted to buses.
"""

import csv
import json
import sys
from pathlib import Path

import pytest
from sumo_helpers import ROOT, smartcross

from controller.core import events as E

pytestmark = pytest.mark.sumo

sys.path.insert(0, str(ROOT / "bench"))
import priority as bench  # noqa: E402
import priority_scenario as ps  # noqa: E402


@pytest.fixture(scope="module", name="run")
def run_fixture(tmp_path_factory):
    """300 s of SUMO: light traffic, one emergency vehicle from the side street (north) at
    60 s, which the adaptive plan serves less (the main street rests in green), and one
    from the west at 180 s."""
    folder = tmp_path_factory.mktemp("priority")
    scen = ps.build(folder, 1, duration_s=240.0, evs=[(60.0, "N"), (180.0, "W")],
                    bus_headway_s=120.0)
    _, with_ = bench.configs(folder, scen, bench.sumo_env())
    events, ti = folder / "events.csv", folder / "tripinfo.xml"
    r = smartcross("sumo", "--sumocfg", scen.sumocfg, "--config", with_, "--tripinfo", ti,
                   "--events", events, "--end", 300, "--json", timeout=300)
    assert "Traceback" not in r.stderr, r.stderr
    rows = list(csv.DictReader(events.open()))
    return r, rows, with_, ti


def test_an_emergency_vehicle_preempts_and_nothing_is_unsafe(run):
    r, rows, cfg_path, _ = run
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["violations"] == []            # the independent monitor
    codes = [(int(x["EventCode"]), int(x["EventParam"])) for x in rows]
    # the core's audit sends the intersection to flash on anything unsafe: it never did
    assert (E.FLASH_STATUS, E.FLASH_FAULT) not in codes
    from controller.config import load

    inter = load(cfg_path).intersections[0]
    number = {p.id: p.number for p in inter.preempts}
    for pid in ("ev_N", "ev_W"):            # the two vehicles' receivers, nobody else's
        got = [c for c, p in codes if p == number[pid]]
        for code in (E.PREEMPT_CALL_ON, E.PREEMPT_ENTRY, E.PREEMPT_DWELL, E.PREEMPT_CALL_OFF,
                     E.PREEMPT_EXIT):
            assert code in got, (pid, code, got)
    for pid in ("ev_E", "ev_S"):
        assert not [c for c, p in codes if p == number[pid] and c == E.PREEMPT_CALL_ON]


def test_the_route_is_green_while_the_vehicle_crosses(run):
    """Dwell from the entry until the call drops: the vehicle from the north crosses on the
    route's green, the preempt exits only after it left the receiver's range."""
    _, rows, cfg_path, ti = run
    from controller.config import load

    inter = load(cfg_path).intersections[0]
    p = next(x for x in inter.preempts if x.id == "ev_N")
    seq = [int(x["EventCode"]) for x in rows if int(x["EventParam"]) == p.number
           and 101 <= int(x["EventCode"]) <= 111]
    assert seq.index(E.PREEMPT_CALL_ON) < seq.index(E.PREEMPT_ENTRY) \
        < seq.index(E.PREEMPT_DWELL) < seq.index(E.PREEMPT_EXIT)
    import xml.etree.ElementTree as ET

    loss = {t.get("id"): float(t.get("timeLoss")) for t in ET.parse(ti).getroot().iter("tripinfo")}
    assert loss["ev_0"] < 10.0, loss["ev_0"]      # it did not wait a side-street red
