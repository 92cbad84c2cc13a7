"""Running a scenario on the rig and judging it: the verdict.

The verdict holds the monitor's violations, how fast the affected heads flashed after a
fault (`flash_latency_s`), how fast the street was back to normal after it
(`recovery_s`), and one line per expectation of the scenario, passed or not.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path

from controller.core import events as E
from controller.provisioning import node_documents
from protocols import aspects as A

from .emu.host import Board
from .preempt import call_preempt, judge_preempt
from .rig import Rig
from .rogue import RogueController
from .scenario import Scenario
from .unit_verdict import judge_unit

BUS_WIDE = ("bus_cut", "kill_controller", "rogue_controller")
ENDING = {"bus_cut", "corrupt", "drop", "delay", "two_talkers", "node_hang",
          "rogue_controller", "preempt_call"}


@dataclass
class Verdict:
    scenario: str
    passed: bool = True
    checks: list[dict] = field(default_factory=list)
    violations: list[dict] = field(default_factory=list)
    nodes_online: int = 0
    nodes: int = 0
    detector_actuations: int = 0
    duration_s: float = 0.0
    flash_latency_s: float | None = None
    recovery_s: float | None = None
    guard_refusals: int = 0
    preempt_latency_s: float | None = None     # preempt input on -> the route green
    preempt_bound_s: float | None = None       # the clearance time the configuration allows
    folder: str | None = None                  # the rig's folder, kept when the run failed

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append({"check": name, "ok": bool(ok), "detail": detail})
        self.passed = self.passed and bool(ok)

    def to_json(self) -> dict:
        return dict(self.__dict__)

    def summary(self) -> str:
        lines = [f"scenario {self.scenario}: {'PASS' if self.passed else 'FAIL'}",
                 *([f"  rig folder kept: {self.folder} (controller.log, <board>/console.log)"]
                   if self.folder else []),
                 f"  {self.duration_s:.0f} s of street, {self.nodes_online}/{self.nodes} nodes "
                 f"online at the end, {self.detector_actuations} detector actuations"]
        if self.flash_latency_s is not None:
            lines.append(f"  flash latency {self.flash_latency_s:.2f} s")
        if self.recovery_s is not None:
            lines.append(f"  recovery {self.recovery_s:.1f} s")
        if self.preempt_bound_s is not None:
            lat = self.preempt_latency_s
            lines.append(f"  preempt route green {'never' if lat is None else f'{lat:.1f} s'} "
                         f"after the call (clearance time {self.preempt_bound_s:.1f} s)")
        for c in self.checks:
            lines.append(f"  [{'ok' if c['ok'] else 'FAIL'}] {c['check']}: {c['detail']}")
        for v in self.violations[:10]:
            lines.append(f"  violation t={v['t']:.1f} {v['intersection']} {v['kind']} "
                         f"{'/'.join(v['groups'])}: {v['detail']}")
        return "\n".join(lines)


class Runner:
    def __init__(self, scn: Scenario, rig: Rig):
        self.scn = scn
        self.rig = rig
        self.extra: list[Board] = []
        self.rogue_refusals = 0
        self.fault_times: list[tuple[float, float | None, set[str]]] = []  # start, end, inters
        self._threads: list[threading.Thread] = []
        self.preempt_calls: list[tuple[float, str, str, str]] = []  # t, inter, detector, green

    def affected(self, f) -> set[str]:
        cfg = self.scn.config
        if f.kind in BUS_WIDE:
            return {i.id for i in cfg.intersections}
        if "intersection" in f.args:
            return {f.args["intersection"]}
        if "unit" in f.args:
            return {i.id for i in cfg.intersections
                    if i.monitor_unit and i.monitor_unit.id == f.args["unit"]}
        if "node" in f.args:
            return {i.id for i in cfg.intersections if any(n.id == f.args["node"]
                                                           for n in i.nodes)}
        return set()

    def apply(self, f) -> float | None:
        """Start a fault; returns when it ends by itself (street time), if it does."""
        rig, a = self.rig, f.args
        dur = a.get("duration_s")
        rig.mark(f.kind)
        if f.kind == "bus_cut":
            rig.bus.cut(dur / rig.scale)
        elif f.kind in ("corrupt", "drop"):
            setattr(rig.bus.faults, f.kind, a["probability"])
        elif f.kind == "delay":                     # every frame late by `ms` street ms
            rig.bus.faults.delay_s = a["ms"] / 1000 / rig.scale
        elif f.kind == "noise":
            rig.bus.noise(a["bytes"], seed=self.scn.seed)
        elif f.kind == "two_talkers":
            doc = dict(rig.docs[a["node"]], node_id=a["node"] + "-twin")
            twin = Board(doc, workdir=str(rig.dir / "twin"), **_clock(rig))
            twin.start()
            rig.bus.attach(twin)
            self.extra.append(twin)
        elif f.kind == "kill_controller":
            rig.stop_controller(kill=True)
        elif f.kind == "start_controller":
            rig.start_controller()
        elif f.kind == "node_reset":
            rig.boards[a["node"]].reset()
            return rig.now()
        elif f.kind == "node_hang":
            rig.boards[a["node"]].stall(int(dur * 1000))
        elif f.kind == "monitor_unit_hang":
            rig.units.boards[a["unit"]].stall(int(dur * 1000))
        elif f.kind == "red_lamp_fail":
            rig.fail_lamp(a["intersection"], a["group"], "red")
        elif f.kind in ("loop_stuck_on", "loop_open", "loop_chatter"):
            level = {"loop_stuck_on": 1, "loop_open": 0, "loop_chatter": -1}[f.kind]
            rig.force_detector(a["intersection"], a["detector"], level)
        elif f.kind == "preempt_call":
            self.preempt_calls.append(call_preempt(rig, self.scn.config, a))
        elif f.kind == "bay_silent":
            rig.silent.add((a["intersection"], a["detector"]))
        elif f.kind == "corrupt_node_config":
            # a flipped digit in the stored file: the tables no longer match their CRC
            doc = json.loads(json.dumps(rig.docs[a["node"]]))
            ig = doc["safety"]["intergreen_ms"]
            ig[0][2] += 1000
            board = rig.boards[a["node"]]
            board.write_config(doc)
            board.reset()
        elif f.kind == "rogue_controller":
            rig.stop_controller()
            node = a["node"]
            doc = rig.docs[node]
            inter = self.scn.config.intersection(doc["intersection"])
            groups = [g["id"] for g in doc["groups"]]
            rogue = RogueController(rig.bus.port, self.scn.config.buses[0].baud,
                                    doc["modbus"]["address"], groups, set(inter.conflicts),
                                    rig.scale)
            try:
                self.rogue_refusals = rogue.run(dur, a.get("startup_s"))
            finally:
                rogue.close()
            rig.start_controller()
            return rig.now()
        return None if dur is None else rig.now() + dur

    def end(self, f) -> None:
        rig = self.rig
        rig.mark(f"{f.kind} ends")
        if f.kind in ("corrupt", "drop"):
            setattr(rig.bus.faults, f.kind, 0.0)
        elif f.kind == "delay":
            rig.bus.faults.delay_s = 0.0
        elif f.kind == "preempt_call":
            rig.force_detector(f.args["intersection"], f.args["detector"], None)
        elif f.kind == "two_talkers":
            for twin in self.extra:
                rig.bus.detach(twin)
                twin.close()
            self.extra.clear()


def run_scenario(scn: Scenario, plot: str | None = None) -> Verdict:
    v = Verdict(scn.name)
    docs = node_documents(scn.config)
    for doc in docs.values():
        for d in doc.get("detectors", []):
            d.update(scn.tune)
    rig = Rig(scn.config, time_scale=scn.time_scale, seed=scn.seed,
              traffic_scale=scn.traffic_scale, node_docs=docs,
              comm_timeout_ms=scn.comm_timeout_ms, ultrasonic_bays=scn.ultrasonic_bays,
              unguarded=(scn.unguarded_node,) if scn.unguarded_node else (),
              controller=scn.cabinet)
    runner = Runner(scn, rig)
    try:
        rig.start()
        _play(scn, rig, runner, v)
    finally:
        for twin in runner.extra:
            twin.close()
        status = rig.status()
        rig.close()
    _judge(scn, rig, runner, v, status)
    if plot:
        from .plot import rig_diagram
        rig_diagram(rig, plot, f"{scn.name} (HIL, {scn.duration_s:g} s)")
    if v.passed:
        rig.discard()
    else:
        v.folder = str(rig.keep_logs())
    return v


def _play(scn: Scenario, rig: Rig, runner: Runner, v: Verdict) -> None:
    exp = scn.expect
    flash_wait = exp.get("flash_within_s", 1.0) + 2.0
    pending = list(scn.faults)
    while pending:
        f = pending.pop(0)
        rig.run_for(max(0.0, f.at_s - rig.now()))
        t_fault = rig.now()
        ends = runner.apply(f)
        hit = runner.affected(f)
        if "flash_within_s" in exp and hit:
            wait = flash_wait if ends is None else min(flash_wait, ends - rig.now() - 0.2)
            rig.run_for(max(0.0, wait))
            lat = []
            for iid in hit:
                start = rig.flashing(iid, t_fault)
                lat.append(None if start is None else start - t_fault)
            worst = None if None in lat else max(lat)
            v.flash_latency_s = worst if v.flash_latency_s is None or worst is None \
                else max(v.flash_latency_s, worst)
        if ends is not None:
            rig.run_for(max(0.0, ends - rig.now()))
            if f.kind in ENDING:
                runner.end(f)
            if "recover_within_s" in exp and hit:
                t_end = rig.now()
                try:
                    # out of normal operation first (a flash, an all-red), then green again
                    rig.wait_until(lambda h=hit: not all(_green(rig, i) for i in h), 5.0,
                                   "the fault taking effect")
                    t_back = rig.wait_until(lambda h=hit: all(_green(rig, i) for i in h),
                                            exp["recover_within_s"] + 5, "recovery")
                    v.recovery_s = t_back - t_end
                except AssertionError:
                    v.recovery_s = None
    rig.run_for(max(0.0, scn.duration_s - rig.now()))
    v.guard_refusals = runner.rogue_refusals


def _green(rig: Rig, iid: str) -> bool:
    heads = rig.lamps.get(iid, {})
    return any(b & A.LAMP_GREEN for b in heads.values())


def _judge(scn: Scenario, rig: Rig, runner: Runner, v: Verdict, status: dict | None) -> None:
    exp = scn.expect
    allow = set(exp.get("allow", ()))
    found = [x for x in rig.violations()]
    counted = [x for x in found if x.kind not in allow]
    v.violations = [x._asdict() for x in found]
    v.duration_s = round(rig.now(), 1)
    v.detector_actuations = rig.actuations
    nodes = (status or {}).get("nodes", {})
    v.nodes = len(rig.docs)
    v.nodes_online = sum(1 for n in nodes.values() if n.get("online"))
    want = exp.get("violations", 0)
    v.check("monitor", len(counted) <= want,
            f"{len(counted)} violation(s) counted, at most {want} expected"
            + (f" ({len(found) - len(counted)} allowed: {', '.join(sorted(allow))})"
               if len(found) != len(counted) else ""))
    if "flash_within_s" in exp:
        lat = v.flash_latency_s
        v.check("flash", lat is not None and lat <= exp["flash_within_s"],
                "never flashing" if lat is None else
                f"every affected head flashing {lat:.2f} s after the fault "
                f"(at most {exp['flash_within_s']:g} s)")
    if "recover_within_s" in exp:
        rec = v.recovery_s
        v.check("recovery", rec is not None and rec <= exp["recover_within_s"],
                "not back to normal" if rec is None else
                f"green again {rec:.1f} s after the fault ended "
                f"(at most {exp['recover_within_s']:g} s)")
    if exp.get("all_stages_served"):
        def green(i, g):
            return any(b & A.LAMP_GREEN for _, b in rig.trace.lamps.get(f"{i.id}/{g}", []))

        missing = []
        for i in scn.config.intersections:
            for st in i.stages:
                # a stage runs when its vehicle heads go green; pedestrians come on demand
                heads = [g for g in st.groups if not i.group(g).is_pedestrian] or st.groups
                if not all(green(i, g) for g in heads):
                    missing.append(f"{i.id}/{st.id}")
        v.check("every stage served", not missing,
                "every stage ran" if not missing else f"never ran: {', '.join(missing)}")
    if exp.get("running_at_end"):
        inters = (status or {}).get("intersections", {})
        bad = [f"{i}: {s['mode']}" for i, s in inters.items() if s.get("mode") != "run"]
        v.check("running at the end", not bad and v.nodes_online == v.nodes,
                f"{v.nodes_online}/{v.nodes} nodes online"
                + (f"; not running: {', '.join(bad)}" if bad else ", every intersection runs"))
    if "detector_fault" in exp:
        iid, did = exp["detector_fault"].split("/")
        det = ((status or {}).get("intersections", {}).get(iid, {})
               .get("detectors", {}).get(did, {}))
        v.check("detector fault", bool(det.get("fault")),
                f"{iid}/{did} reported {'faulty' if det.get('fault') else 'healthy'}")
    if "recall_group" in exp:
        iid, gid = exp["recall_group"].split("/")
        greens = [t for t, b in rig.trace.lamps.get(f"{iid}/{gid}", []) if b & A.LAMP_GREEN]
        late = [t for t in greens if t > scn.faults[0].at_s] if scn.faults else greens
        v.check("recall", len(late) >= 2, f"{iid}/{gid} turned green {len(late)} time(s) "
                "after the fault, with its detector failed")
    if exp.get("no_fault_flash"):
        flashes = _fault_flashes(rig.data_dir / "record.sqlite")
        v.check("no fault flash", not flashes,
                "no intersection flashed after start-up" if not flashes else
                f"flash entered: {', '.join(flashes)}")
    if "bay_fault" in exp:
        iid, bay = exp["bay_fault"].split("/")
        area = scn.config.intersection(iid)
        area_id = next(d.area for d in area.detectors if d.id == bay)
        parking = (status or {}).get("parking", {}).get(area_id, {})
        v.check("bay fault", parking.get("faulty", 0) >= 1,
                f"area {area_id}: {parking.get('faulty', '?')} bay(s) in fault, "
                f"{parking.get('free', '?')} free of {parking.get('bays', '?')}")
    if {"transfer_within_s", "cabinet_log", "running_before_fault"} & set(exp):
        judge_unit(scn, rig, v)
    if "preempt_within_clearance" in exp:
        judge_preempt(rig, scn.config, runner.preempt_calls, v)
    if exp.get("refusals"):
        v.check("guard refusals", v.guard_refusals > 0,
                f"the node's guard refused {v.guard_refusals} command(s)")


def _fault_flashes(db: Path) -> list[str]:
    """Fault flashes (NTCIP flash status 5) in the cabinet's own record."""
    if not db.exists():
        return ["no record"]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT signal, ts FROM events WHERE code = ? AND param = ?",
                           (E.FLASH_STATUS, E.FLASH_FAULT))
        return [f"{sig} at {ts:.1f}" for sig, ts in rows]
    finally:
        con.close()


def _clock(rig: Rig) -> dict:
    return {"clock": "scaled", "time_scale": rig.scale} if rig.scale != 1.0 else {}


__all__ = ["run_scenario", "Verdict"]
