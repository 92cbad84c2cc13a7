"""Preemption and transit priority events reach the record (SQLite) and its ATSPM export
with their Indiana codes (101-119), from a simulated run with scripted calls."""

import csv
import io

from controller.config import load
from controller.core import events as E
from controller.runtime.record import Record, export_events
from controller.simulate import Call, simulate

from sc_paths import ROOT


def test_preempt_and_priority_events_in_the_record_and_the_export(tmp_path):
    cfg = load(ROOT / "examples" / "us_junction.toml")
    calls = (Call("preempt", "ev-main", 100.0, 40.0), Call("priority", "route-12", 300.0, 25.0),
             Call("preempt", "ev-main", 400.0, 400.0))     # stuck on: max presence 180 s
    result = simulate(cfg, 900.0, calls=calls)
    assert result.violations == []
    record = Record(tmp_path / "record.sqlite")
    for e in result.events:
        record.event(result.epoch + e.t, e.intersection, e.code, e.param)
    record.flush()
    out = io.StringIO()
    export_events(tmp_path / "record.sqlite", 0, 2e9, out, zone=cfg.zone)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    codes = [int(r["EventCode"]) for r in rows]
    for code in (E.PREEMPT_CALL_ON, E.PREEMPT_ENTRY, E.PREEMPT_DWELL, E.PREEMPT_CALL_OFF,
                 E.PREEMPT_EXIT, E.PREEMPT_MAX_PRESENCE, E.TSP_CHECK_IN, E.TSP_CHECK_OUT,
                 E.TSP_SERVICE_START, E.TSP_SERVICE_END):
        assert code in codes, code
    assert E.TSP_EARLY_GREEN in codes or E.TSP_EXTEND_GREEN in codes
    # ev-main is the example's first preempt: parameter 1
    assert {r["EventParam"] for r in rows if r["EventCode"] == "105"} == {"1"}
    assert codes.count(E.PREEMPT_ENTRY) == 2 and codes.count(E.PREEMPT_MAX_PRESENCE) == 1
