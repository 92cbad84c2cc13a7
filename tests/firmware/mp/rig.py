# A node on the emulated board with a pretend controller writing its registers the way the
# cabinet does (one FC23-style write of HEARTBEAT, COMMAND and SIGNAL_CMD per poll).
from node.core import Node
from node.datastore import Datastore

from fx import FB_RED, PINS, cfg, clear_pins, level, out, t
from protocols import register_map as rm
from protocols.modbus_rtu import HOLDING


class Rig:
    def __init__(self, c=None, lamps_ok=True, sticky_safe=False, reset_cause=1, **kw):
        clear_pins()
        self.now = 0
        self.cfg = cfg(**kw) if c is None else c
        self.node = Node(self.cfg, t(0), sticky_safe=sticky_safe, reset_cause=reset_cause)
        self.ds = Datastore(self.node, ticks_ms=lambda: t(self.now))
        self.hb = 0
        self.lamps_ok = lamps_ok      # red lamps draw current when driven
        self.mode = rm.MODE_RUN
        self.aspects = None
        self.polling = True

    # ---- the controller
    def poll(self, mode=None, aspects=None):
        if mode is not None:
            self.mode = mode
        if aspects is not None:
            self.aspects = list(aspects)
        self.hb = (self.hb + 1) & 0xFFFF
        regs = rm.command_regs(self.hb, self.mode, self.aspects or [])
        self.node.modes.frame_seen(t(self.now))
        self.ds.write_regs(HOLDING, 0, regs)

    def command(self, *aspects, mode=None):
        self.poll(mode, aspects or None)

    def read(self, addr, count=1):
        v = self.ds.read_regs(HOLDING, addr, count)
        return v[0] if count == 1 else list(v)

    # ---- time
    def run(self, ms, poll_ms=100):
        """Let `ms` pass in 10 ms output ticks, plus a tick whenever a deferred command is
        due (as app.Outputs does); the controller polls every poll_ms while self.polling
        (it keeps repeating its last command)."""
        end = self.now + ms
        while self.now < end:
            step = 10 - self.now % 10
            g = self.node.guard
            if g is not None and g.npend:
                due = g.due_ms(t(self.now))
                if 0 <= due < step:
                    step = due
            self.now += step
            grid = self.now % 10 == 0
            if grid and self.polling and self.aspects is not None and \
                    self.now % poll_ms == 0:
                self.poll()
            self.feedback()
            if grid:
                self.node.scan_inputs(t(self.now))
            self.node.tick(t(self.now))

    def feedback(self):
        for g in FB_RED:
            red = PINS[g][0]
            level(FB_RED[g], out(red) if self.lamps_ok else 0)

    # ---- what the node does
    def mode_now(self):
        return self.node.modes.mode

    def shown(self, g):
        return self.node.shown()[g]

    def lamps(self, g):
        """(red, amber, green) output levels of group g."""
        return tuple(None if p is None else out(p) for p in PINS[g])

    def startup(self, n=3):
        """Boot flash over, all red commanded, all-red held: the node runs."""
        self.command(*([1] * n), mode=rm.MODE_RUN)
        self.run(5000)
        self.run(3100)
        assert self.mode_now() == rm.MODE_RUN, self.mode_now()
