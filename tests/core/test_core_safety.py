"""The timing core under random traffic, faults, flash commands and plan changes.

The independent monitor watches the lamps the core's aspects would light; it must
never see a violation, on every example configuration and on generated ones.
"""

import random

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from controller.config import load, loads
from controller.config.civil import DEFAULT_DAY
from controller.config.model import PARKING_BAY, PED_BUTTON
from controller.config.monitor_table import monitor_table
from controller.core import events as E
from controller.engine import Inputs, IntersectionCore
from monitor import SignalMonitor
from protocols import aspects as A

from generated import group_toml
from sc_paths import EXAMPLES

REST = (A.RED, A.DARK)      # everything else is non-red: a TS2 monitor's right of way
configs = st.one_of(st.sampled_from(EXAMPLES).map(load), group_toml().map(loads))


class CoreUnderFire(RuleBasedStateMachine):
    @initialize(cfg=configs, start_h=st.integers(0, 23), which=st.integers(0, 10))
    def setup(self, cfg, start_h, which):
        inter = cfg.intersections[which % len(cfg.intersections)]
        self.inter = inter
        self.plans = list(inter.plans)
        self.plan = cfg.plan_at(cfg.zone.instant(DEFAULT_DAY, start_h * 3600.0))
        self.k = start_h * 36000
        self.core = IntersectionCore(inter, self.plan, start=self.k / 10)
        self.monitor = SignalMonitor(monitor_table(inter))
        self.loops = [d.id for d in inter.detectors if d.kind not in (PARKING_BAY, PED_BUTTON)]
        self.buttons = [d.id for d in inter.detectors if d.kind == PED_BUTTON]
        self.faults: set[str] = set()
        self.flash = False
        self.started = self.k / 10 + inter.startup_flash_s + 1

    def _tick(self, presence=frozenset(), fault_flash=False):
        now = self.k / 10
        out = self.core.step(now, Inputs(presence, frozenset(self.faults), self.flash,
                                         fault_flash), self.plan)
        self.monitor.feed(now, {g: A.lamps(a, self.k * 100) for g, a in out.aspects.items()})
        # The core's own audit flashes at once on a conflict it made itself: with correct
        # timing that never happens (a monitor sees no violation in a flash, so say it here).
        own = [e for e in out.events if e.code == E.FLASH_STATUS and e.param == E.FLASH_FAULT]
        assert fault_flash or not own, f"the core's audit tripped at {now}"
        if self.core.mode != "flash":
            self._no_two_conflicting_non_red(out.aspects, now)
        self.k += 1
        return out

    def _no_two_conflicting_non_red(self, aspects, now):
        for a, b in self.inter.conflicts:
            if aspects[a] not in REST and aspects[b] not in REST:
                raise AssertionError(f"{now}: {a} {A.name(aspects[a])} with {b} "
                                     f"{A.name(aspects[b])}")

    @rule(n=st.integers(1, 600), seed=st.integers(0, 2**16), p=st.floats(0.0, 0.4))
    def traffic(self, n, seed, p):
        rng = random.Random(seed)
        on: set[str] = set()
        for _ in range(n):
            for d in self.loops:
                if rng.random() < p * 0.2:
                    on.symmetric_difference_update({d})
            self._tick(frozenset(on))

    @rule(data=st.data())
    def press_button(self, data):
        if self.buttons:
            self._tick(frozenset({data.draw(st.sampled_from(self.buttons))}))

    @rule(data=st.data())
    def toggle_detector_fault(self, data):
        if self.loops:
            self.faults ^= {data.draw(st.sampled_from(self.loops))}

    # Flash commands and faults once the start-up flash is over: a monitor times the
    # start-up flash (4-11 s) and cannot tell an operator's flash that extends it.
    @precondition(lambda self: self.core.mode != "flash" or self.k / 10 > self.started)
    @rule(on=st.booleans())
    def flash_command(self, on):
        self.flash = on

    @precondition(lambda self: self.core.mode != "flash" or self.k / 10 > self.started)
    @rule(n=st.integers(1, 30))
    def fault_flash(self, n):
        for _ in range(n):
            self._tick(fault_flash=True)

    @rule(data=st.data())
    def change_plan(self, data):
        self.plan = data.draw(st.sampled_from(self.plans))

    @invariant()
    def monitor_sees_nothing(self):
        if not hasattr(self, "monitor"):
            return
        assert self.monitor.violations == [], self.monitor.violations[:3]

    def teardown(self):
        if hasattr(self, "monitor"):
            self.monitor.finish(self.k / 10)
            assert self.monitor.violations == [], self.monitor.violations[:3]


TestCoreUnderFire = CoreUnderFire.TestCase
