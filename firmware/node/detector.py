"""Loop detectors: debounced presence, vehicle counts, occupancy per interval and the NTCIP
1202 diagnostics (no activity, max presence, erratic counts).

A detector with a diagnostic raised reports presence ON (fail-safe), so that the controller
keeps calling its movement. Diagnostics clear themselves when the condition goes: the next
change of state (no activity), the end of the presence (max presence), a minute with at most
the allowed counts (erratic counts). Call `scan` every scan period with the board's ms ticks.
"""

from protocols import register_map as rm

from . import board
from .board import add, diff

MINUTE_MS = 60_000


class Detector:
    def __init__(self, d, now):
        self.pin = board.input_pin(d.pin, pull_up=d.active_low)
        self.inv = 1 if d.active_low else 0
        self.debounce_ms = d.debounce_ms
        self.no_activity_ms = d.no_activity_min * MINUTE_MS
        self.max_presence_ms = d.max_presence_min * MINUTE_MS
        self.erratic = d.erratic_per_min
        self.raw = 0
        self.raw_since = now
        self.state = 0              # debounced presence
        self.count = 0              # vehicles since boot (16-bit, wraps)
        self.scans = 0              # scans in this interval
        self.on_scans = 0           # scans with presence in this interval
        self.occupancy = 0          # last interval, 0.1 %
        self.last_change = now
        self.minute_start = now
        self.minute_count = 0
        self.diag = 0               # DIAG_* flags

    def scan(self, now):
        v = self.pin.value() ^ self.inv
        if v != self.raw:
            self.raw = v
            self.raw_since = now
        if v != self.state and diff(now, self.raw_since) >= self.debounce_ms:
            self.state = v
            self.last_change = now
            self.diag &= ~rm.DIAG_NO_ACTIVITY
            if v:
                self.count = (self.count + 1) & 0xFFFF
                self.minute_count += 1
            else:
                self.diag &= ~rm.DIAG_MAX_PRESENCE
        self.scans += 1
        if self.state:
            self.on_scans += 1
        self._diagnose(now)

    def _diagnose(self, now):
        quiet = diff(now, self.last_change)
        if self.no_activity_ms and quiet > self.no_activity_ms:
            self.diag |= rm.DIAG_NO_ACTIVITY
        if self.max_presence_ms and self.state and quiet > self.max_presence_ms:
            self.diag |= rm.DIAG_MAX_PRESENCE
        if quiet > 2 * MINUTE_MS * 256:
            # Keep the reference within the ticks' range (it only has to stay "long ago").
            self.last_change = add(now, -MINUTE_MS * 256)
        if self.erratic:
            if self.minute_count > self.erratic:
                self.diag |= rm.DIAG_ERRATIC_COUNTS
            if diff(now, self.minute_start) >= MINUTE_MS:
                if self.minute_count <= self.erratic:
                    self.diag &= ~rm.DIAG_ERRATIC_COUNTS
                self.minute_start = now
                self.minute_count = 0

    def presence(self):
        """What the controller sees: presence, or ON while a diagnostic is raised."""
        return 1 if self.state or self.diag else 0

    def faulty(self):
        return 1 if self.diag else 0

    def close_interval(self):
        self.occupancy = (self.on_scans * 1000 // self.scans) if self.scans else 0
        self.scans = 0
        self.on_scans = 0

    def reset_count(self):
        self.count = 0
