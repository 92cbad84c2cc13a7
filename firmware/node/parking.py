"""Parking bays: a digital presence input, or an ultrasonic echo sensor (HC-SR04 style).

Digital: occupied once the input has held its new level for debounce_ms.
Ultrasonic: every period_ms a 10 us trigger pulse, then the echo pulse width is measured
(board.pulse_in_us; 58 us per cm there and back). Hysteresis: a reading at or below
occupied_cm votes "occupied", at or above free_cm (or no echo within max_cm) votes "free",
between them nothing; `confirm` votes in a row change the state. A sensor whose echo never
starts `fault_after` times in a row is faulty (its last state is kept and flagged) until it
answers again.
"""

import board
from board import diff

US_PER_CM = 58
TRIGGER_US = 10


class DigitalBay:
    def __init__(self, b, now):
        self.pin = board.input_pin(b.pin, pull_up=b.active_low)
        self.inv = 1 if b.active_low else 0
        self.debounce_ms = b.debounce_ms
        self.raw = 0
        self.raw_since = now
        self.occupied = 0
        self.fault = 0

    def scan(self, now):
        v = self.pin.value() ^ self.inv
        if v != self.raw:
            self.raw = v
            self.raw_since = now
        elif v != self.occupied and diff(now, self.raw_since) >= self.debounce_ms:
            self.occupied = v


class UltrasonicBay:
    def __init__(self, b, now):
        self.trigger = board.output_pin(b.trigger, 0)
        self.echo = board.input_pin(b.echo)
        self.period_ms = b.period_ms
        self.occupied_cm = b.occupied_cm
        self.free_cm = b.free_cm
        self.timeout_us = b.max_cm * US_PER_CM
        self.confirm = b.confirm
        self.fault_after = b.fault_after
        self.last = now
        self.votes = 0              # consecutive votes for the other state
        self.misses = 0
        self.occupied = 0
        self.fault = 0
        self.cm = -1                # last distance, -1: none / out of range

    def due(self, now):
        return diff(now, self.last) >= self.period_ms

    def measure(self, now):
        """One trigger and echo; blocks for at most the echo timeout (max_cm)."""
        self.last = now
        self.trigger.value(1)
        board.busy_wait_us(TRIGGER_US)
        self.trigger.value(0)
        us = board.pulse_in_us(self.echo, 1, self.timeout_us)
        if us == -2:
            self.misses += 1
            if self.misses >= self.fault_after:
                self.fault = 1
            return
        self.misses = 0
        self.fault = 0
        if us < 0:
            self.cm = -1
            vote = 0
        else:
            self.cm = us // US_PER_CM
            if self.cm <= self.occupied_cm:
                vote = 1
            elif self.cm >= self.free_cm:
                vote = 0
            else:
                self.votes = 0
                return
        if vote == self.occupied:
            self.votes = 0
            return
        self.votes += 1
        if self.votes >= self.confirm:
            self.occupied = vote
            self.votes = 0
