"""The timing core under preempt calls and bus check-ins, with traffic, faults, flash
commands and plan changes, on generated intersections with generated preemption and
priority sections, on the control tests' junction (permissive lefts, every plan mode) with
emergency, rail and bus priority, and on the examples that have them.

The independent monitor watches the lamps, with the minimum greens the node's guard
gets too (`Intersection.green_floor_s`); it must never see a violation, the core's audit
never trip, and a rail dwell never show a track clearance movement.
"""

import random

from generated_preempt import junction_preempt_toml, preempt_toml
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from controller.config import load, loads
from controller.config.civil import DEFAULT_DAY
from controller.config.model import PARKING_BAY, PED_BUTTON, PREEMPT, PRIORITY, RAIL
from controller.config.monitor_table import monitor_table
from controller.config.preempts import worst_entry_s
from controller.core import events as E
from controller.core.preempt import DWELL
from controller.engine import Inputs, IntersectionCore
from monitor import SignalMonitor
from protocols import aspects as A

from sc_paths import EXAMPLES

REST = (A.RED, A.DARK)
WITH_PREEMPT = [p for p in EXAMPLES if "[[intersection.preempt]]" in p.read_text()]
configs = st.one_of(st.sampled_from(WITH_PREEMPT).map(load), preempt_toml().map(loads),
                    junction_preempt_toml().map(loads))


class PreemptUnderFire(RuleBasedStateMachine):
    @initialize(cfg=configs, start_h=st.integers(0, 23))
    def setup(self, cfg, start_h):
        inter = next(i for i in cfg.intersections if i.preempts)
        self.inter = inter
        self.plans = list(inter.plans)
        self.plan = cfg.plan_at(cfg.zone.instant(DEFAULT_DAY, start_h * 3600.0))
        self.k = start_h * 36000
        self.core = IntersectionCore(inter, self.plan, start=self.k / 10)
        self.monitor = SignalMonitor(monitor_table(inter))
        kinds = {d.id: d.kind for d in inter.detectors}
        self.loops = [d for d, k in kinds.items() if k not in (PARKING_BAY, PED_BUTTON, PREEMPT,
                                                                 PRIORITY)]
        self.special = sorted(d for d, k in kinds.items() if k in (PREEMPT, PRIORITY))
        self.held: set[str] = set()            # preempt / priority detectors held on
        self.calls: set[str] = set()           # preempt ids called from outside
        self.buses: set[str] = set()           # priority ids checked in from outside
        self.faults: set[str] = set()
        self.flash = False
        self.codes: set[int] = set()
        self.rail_entry = None

    def _tick(self, loops=frozenset(), fault_flash=False):
        now = self.k / 10
        inputs = Inputs(frozenset(loops) | self.held, frozenset(self.faults), self.flash,
                        fault_flash, preempt_calls=frozenset(self.calls),
                        priority_calls=frozenset(self.buses))
        out = self.core.step(now, inputs, self.plan)
        self.monitor.feed(now, {g: A.lamps(a, self.k * 100) for g, a in out.aspects.items()})
        own = [e for e in out.events if e.code == E.FLASH_STATUS and e.param == E.FLASH_FAULT]
        assert fault_flash or not own, f"the core's audit tripped at {now}"
        self.codes.update(e.code for e in out.events)
        self._rail_in_time(out.events)
        if self.core.mode != "flash":
            for a, b in self.inter.conflicts:
                assert out.aspects[a] in REST or out.aspects[b] in REST, (now, a, b)
        self._rail_dwell(out.aspects, now)
        self.k += 1

    def _rail_in_time(self, events):
        """The track clearance begins within the worst entry `check` counts with."""
        for e in events:
            p = next((p for p in self.inter.preempts if p.number == e.param), None)
            if p is None or p.kind != RAIL:
                continue
            if e.code == E.PREEMPT_ENTRY:
                self.rail_entry = e.t
            elif e.code == E.PREEMPT_TRACK_CLEARANCE and self.rail_entry is not None:
                bound = worst_entry_s(p, {g.id: g for g in self.inter.groups},
                                      self.inter.conflicts, self.inter.intergreen)
                assert e.t - self.rail_entry <= bound + 1e-6, (e.t, self.rail_entry, bound)
                self.rail_entry = None

    def _rail_dwell(self, aspects, now):
        pre = self.core.preempt
        p = pre.active
        if p is None or pre.phase != DWELL or self.core.mode != "run":
            return
        for gid in p.route:
            if not self.inter.group(gid).is_pedestrian:
                assert aspects[gid] == A.GREEN, f"{now}: dwell of {p.id} without {gid} green"
        if p.kind == RAIL:
            for gid in p.track.groups:
                assert aspects[gid] in REST, f"{now}: rail dwell shows track group {gid}"

    @rule(n=st.integers(1, 600), seed=st.integers(0, 2**16), p=st.floats(0.0, 0.4))
    def traffic(self, n, seed, p):
        rng = random.Random(seed)
        on: set[str] = set()
        for _ in range(n):
            for d in self.loops:
                if rng.random() < p * 0.2:
                    on.symmetric_difference_update({d})
            self._tick(on)

    @rule(data=st.data(), n=st.integers(1, 300))
    def toggle_special_detector(self, data, n):
        if self.special:
            self.held ^= {data.draw(st.sampled_from(self.special))}
        for _ in range(n):
            self._tick()

    @rule(data=st.data(), n=st.integers(1, 300))
    def toggle_outside_call(self, data, n):
        ids = [p.id for p in self.inter.preempts]
        self.calls ^= {data.draw(st.sampled_from(ids))}
        for _ in range(n):
            self._tick()

    @rule(data=st.data())
    def toggle_outside_checkin(self, data):
        if self.inter.priorities:
            self.buses ^= {data.draw(st.sampled_from([q.id for q in self.inter.priorities]))}

    @rule(data=st.data())
    def toggle_detector_fault(self, data):
        if self.loops or self.special:
            self.faults ^= {data.draw(st.sampled_from(self.loops + self.special))}

    # Flash commands and faults while the stages run: a monitor times the start-up flash
    # (4-11 s) and takes a fault flash in the start-up all-red for more of it (that case
    # is the plain core's, test_core_safety.py; here the stages and preemption matter).
    @precondition(lambda self: self.core.mode == "run" or self.flash)
    @rule(on=st.booleans())
    def flash_command(self, on):
        self.flash = on

    @precondition(lambda self: self.core.mode == "run")
    @rule(n=st.integers(1, 30))
    def fault_flash(self, n):
        for _ in range(n):
            self._tick(fault_flash=True)

    @rule(data=st.data())
    def change_plan(self, data):
        self.plan = data.draw(st.sampled_from(self.plans))

    @invariant()
    def monitor_sees_nothing(self):
        if hasattr(self, "monitor"):
            assert self.monitor.violations == [], self.monitor.violations[:3]

    def teardown(self):
        if hasattr(self, "monitor"):
            self.monitor.finish(self.k / 10)
            assert self.monitor.violations == [], self.monitor.violations[:3]


TestPreemptUnderFire = PreemptUnderFire.TestCase
