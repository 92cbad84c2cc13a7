"""The node's state in one object: modes, guard, heads, lamp feedback, detectors, bays.

Tasks (app.py) call `scan_inputs` every scan period and `tick` every output period; the
Modbus datastore calls `apply` right after a write, so an accepted command reaches the
lamps at once (the guard's timers start when the lamps change, not a tick later).
"""

import board
from board import diff
from protocols import register_map as rm
from protocols.aspects import FLASH_PERIOD_MS

from .detector import Detector
from .feedback import Feedback
from .guard import Guard
from .heads import Heads
from .modes import Modes
from .parking import DigitalBay, UltrasonicBay

FW_MAJOR = 1
FW_MINOR = 0
FW_PATCH = 0
PRODUCT_CODE = "SC-NODE"        # the device identification's (FC43/14), board.bus


class Node:
    def __init__(self, cfg, now, sticky_safe=False, reset_cause=0, boot_count=0,
                 maintenance=False):
        """`sticky_safe`: the boot-loop safe mode (bootmode.BootState.safe)."""
        self.cfg = cfg
        ok = cfg.error == rm.CFG_OK
        self.guard = None
        conflicts = []
        if ok:
            self.guard = Guard(cfg.tables, [g.flash_red for g in cfg.groups], now,
                               cfg.refusal_limit, cfg.refusal_window_ms, cfg.defer_ms)
            for i in range(self.guard.n):
                for j in self.guard.conflicts[i]:
                    if i < j:
                        conflicts.append((i, j))
        self.modes = Modes(cfg, self.guard, now, sticky_safe)
        self.heads = Heads(cfg.groups, cfg.outputs_active_low)
        self.feedback = Feedback(cfg.groups, conflicts, now)
        self.detectors = [Detector(d, now) for d in cfg.detectors]
        self.bays = []  # type: list[DigitalBay | UltrasonicBay]
        self.digital_bays = []  # type: list[DigitalBay]
        self.echo_bays = []  # type: list[UltrasonicBay]
        for b in cfg.bays:
            if b.type == "ultrasonic":
                u = UltrasonicBay(b, now)
                self.echo_bays.append(u)
                self.bays.append(u)
            else:
                d = DigitalBay(b, now)
                self.digital_bays.append(d)
                self.bays.append(d)
        self._next_bay = 0
        self.interval_ms = cfg.interval_s * 1000
        self.interval_start = now
        self.interval_seq = 0
        self.phase_ms = 0
        self.last_tick = now
        self.uptime_s = 0
        self._up_ms = 0
        self.reset_cause = reset_cause
        self.boot_count = boot_count
        self.maintenance = maintenance
        self.identify = False
        self.bus = None                 # bus.Bus, for its counters
        self.led = None if cfg.status_led is None else board.output_pin(cfg.status_led)
        if sticky_safe:
            # Boot-loop safe mode: say so (not ACK-able) rather than FAULT_WATCHDOG, which
            # the controller could acknowledge while the node flashes for good.
            self.modes.faults |= rm.FAULT_BOOT_LOOP
        elif reset_cause == rm.RESET_WATCHDOG:
            self.modes.faults |= rm.FAULT_WATCHDOG
        self.render()

    # ------------------------------------------------------------ outputs
    def shown(self):
        return self.heads.flash_aspect if self.guard is None else self.guard.aspect

    def render(self):
        self.heads.render(self.shown(), self.phase_ms)
        if self.led is not None:
            on = self.phase_ms < 500 if self.identify else self.modes.mode == rm.MODE_RUN
            self.led.value(1 if on else 0)

    def apply(self, now):
        """Let the modes react, then drive the lamps (after a write or each tick)."""
        self.modes.tick(now, 0)
        self.render()

    def tick(self, now):
        dt = diff(now, self.last_tick)
        if dt < 0:
            dt = 0
        self.last_tick = now
        self.phase_ms = (self.phase_ms + dt) % FLASH_PERIOD_MS
        self._up_ms += dt
        while self._up_ms >= 1000:
            self._up_ms -= 1000
            self.uptime_s += 1
        if self.guard is not None:
            self.guard.tick(now)
        faults = self.feedback.scan(self.shown(), self.heads.lit, now)
        self.modes.tick(now, faults)
        self.render()

    # ------------------------------------------------------------ inputs
    def sample_detectors(self, now):
        """Debounce the loops now (a poll is about to read them). An input that cannot be
        read is left to the input task (it dies of it, and the watchdog resets the node):
        the poll is answered with what the last scan saw."""
        try:
            for d in self.detectors:
                d.sample(now)
        except OSError:
            pass

    def scan_inputs(self, now):
        for d in self.detectors:
            d.scan(now)
        if diff(now, self.interval_start) >= self.interval_ms:
            self.interval_start = now
            self.interval_seq = (self.interval_seq + 1) & 0xFFFF
            for d in self.detectors:
                d.close_interval()
        for b in self.digital_bays:
            b.scan(now)
        # At most one ultrasonic measurement per scan: it blocks for up to its echo timeout,
        # so never while a Modbus frame is arriving or leaving (it waits for a later scan).
        if self.bus is not None and self.bus.busy():
            return
        echo = self.echo_bays
        for k in range(len(echo)):
            i = (self._next_bay + k) % len(echo)
            u = echo[i]
            if u.due(now):
                u.measure(now)
                self._next_bay = i + 1
                break

    # ------------------------------------------------------------ faults
    def fault_bits(self):
        f = self.modes.fault_bits()
        if self.cfg.error != rm.CFG_OK:
            f |= rm.FAULT_CONFIG
        if self.feedback.red_fail:
            f |= rm.FAULT_RED_FAIL
        if self.feedback.lamp_fail:
            f |= rm.FAULT_LAMP_FAIL
        if self.feedback.conflict:
            f |= rm.FAULT_CONFLICT
        if self.feedback.dual:
            f |= rm.FAULT_DUAL
        for d in self.detectors:
            if d.diag:
                f |= rm.FAULT_DETECTOR
                break
        for b in self.bays:
            if b.fault:
                f |= rm.FAULT_BAY
                break
        return f

    def ack_faults(self, now):
        self.feedback.ack()
        if not self.feedback.red_fail:
            self.modes.faults &= ~rm.FAULT_RED_FAIL
        self.modes.ack(self.modes.comm_ok(now))
