"""Loop detectors: debounced presence, vehicle counts, occupancy per interval and the NTCIP
1202 diagnostics (no activity, max presence, erratic counts).

A detector with a diagnostic raised reports presence ON (fail-safe), so that the controller
keeps calling its movement. Diagnostics clear themselves when the condition goes: the next
change of state (no activity), the end of the presence (max presence), a minute with at most
the allowed counts (erratic counts). Call `scan` every scan period with the board's ms ticks.

Latency (issue 11): a change is timed from the input's edge, not from the scan that first
sees it: a pin interrupt (board.on_change) notes when the level last changed, and the
debounce counts from there. The Modbus datastore calls `sample` right before it fills the
process image, so a presence that completed its debounce since the last scan is reported at
once, and `presence` also reports a presence that began (and maybe ended) since the process
image was last read (`latched`, cleared by `reported`): a short pulse between two polls is
never lost.
"""

import board
from board import add, diff
from protocols import register_map as rm

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
        self.edges = 0              # level changes the pin interrupt saw (wraps)
        self.edge_ms = now          # when the last of them happened
        self._edges_seen = 0
        board.on_change(self.pin, self._edge)
        self.state = 0              # debounced presence
        self.latched = 0            # a presence began since the process image was read
        self.count = 0              # vehicles since boot (16-bit, wraps)
        self.scans = 0              # scans in this interval
        self.on_scans = 0           # scans with presence in this interval
        self.occupancy = 0          # last interval, 0.1 %
        self.last_change = now
        self.minute_start = now
        self.minute_count = 0
        self.diag = 0               # DIAG_* flags

    def _edge(self, pin):
        # A soft interrupt (ESP32): runs between bytecodes soon after the edge. Time first,
        # then the count, which `sample` reads first.
        self.edge_ms = board.ticks_ms()
        self.edges = (self.edges + 1) & 0xFFFF

    def sample(self, now):
        """Read the input and debounce it (no statistics): every scan, and before a poll's
        process image is filled."""
        seen = self.edges
        at = self.edge_ms
        v = self.pin.value() ^ self.inv
        if seen != self._edges_seen:
            # The level changed since the last sample, at `at` (its last change); without an
            # interrupt (or with it late) the sample's own time stands in for the edge.
            self._edges_seen = seen
            self.raw = v
            self.raw_since = at if diff(now, at) >= 0 else now
        elif v != self.raw:
            self.raw = v
            self.raw_since = now
        if v != self.state and diff(now, self.raw_since) >= self.debounce_ms:
            self.state = v
            self.last_change = now
            self.diag &= ~rm.DIAG_NO_ACTIVITY
            if v:
                self.count = (self.count + 1) & 0xFFFF
                self.minute_count += 1
                self.latched = 1
            else:
                self.diag &= ~rm.DIAG_MAX_PRESENCE

    def scan(self, now):
        self.sample(now)
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
        """What the controller sees: presence (or one that began since the last process
        image), or ON while a diagnostic is raised."""
        return 1 if self.state or self.latched or self.diag else 0

    def reported(self):
        """The process image with this presence has been filled for the controller."""
        self.latched = 0

    def faulty(self):
        return 1 if self.diag else 0

    def close_interval(self):
        self.occupancy = (self.on_scans * 1000 // self.scans) if self.scans else 0
        self.scans = 0
        self.on_scans = 0

    def reset_count(self):
        self.count = 0
