"""Node modes: boot flash, flash, safe, all-red (start-up) and run. The rule, in one place:

* Power-up / reset: BOOT_FLASH for at least startup_flash_ms, then it waits for the
  controller. A config error or a boot loop (bootmode.py) gives a SAFE that never ends.
* From any flash mode (BOOT_FLASH, FLASH, SAFE) the ONLY way out is the start-up
  sequence: the node goes to ALL_RED when, all at once,
    - the flash has lasted startup_flash_ms (whatever made the node flash),
    - the link is alive: a valid frame addressed to this node AND a change of HEARTBEAT,
      each within comm_timeout_ms,
    - no blocking fault is latched (red fail, conflict, dual indication) and COIL_REQUEST_FLASH is 0,
    - COMMAND requests ALL_RED or RUN,
    - every group has been commanded RED since the flash began (SIGNAL_CMD written after
      the node entered flash; older commands do not count).
* ALL_RED: every group steady red; any other command is refused (guard.STARTUP, counted).
  It lasts at least all_red_ms; then, if COMMAND requests RUN, the node goes to RUN.
* RUN: lamps follow SIGNAL_CMD through the guard.
* ALL_RED or RUN go to FLASH
    at once when COMMAND requests MODE_FLASH: the controller's flash, either a fault flash
      or the end of its own controlled entry (the cabinet's timing core ends every green
      through its clearance and all red before it sends MODE_FLASH);
    through the clearance on COIL_REQUEST_FLASH (a maintenance flash), as MUTCD and RiLSA
      expect: the node stops taking signal commands, ends every group through its own
      clearance (amber, pedestrian clearance; each for its minimum; red+amber back to red),
      holds all red until every intergreen from those ends of green has run
      (guard.wind_down / guard.cleared), then flashes. PI_MODE says RUN (or ALL_RED)
      meanwhile; once begun, the entry into flash is finished even if the coil is cleared.
* ALL_RED or RUN go to SAFE at once (greens end without waiting for min green), also
  during that clearance: on comm loss (either timeout above), a latched red fail, conflict
  or dual indication, or when the guard trips (refusal_limit refusals within
  refusal_window_ms).
Times are wrapping ms ticks from the board.
"""

from board import diff
from protocols import register_map as rm
from protocols.aspects import RED

from . import guard as guard_mod

FLASHING = (rm.MODE_BOOT_FLASH, rm.MODE_FLASH, rm.MODE_SAFE)

# Faults that keep the node in flash until they are cleared.
BLOCKING = rm.FAULT_RED_FAIL | rm.FAULT_CONFLICT | rm.FAULT_DUAL
# Faults that ACK_FAULTS clears (red fail only once the red lamp draws current again).
ACKABLE = rm.FAULT_GUARD_REFUSED | rm.FAULT_LAMP_FAIL | rm.FAULT_COMM_LOSS | rm.FAULT_WATCHDOG


class Modes:
    def __init__(self, cfg, guard, now, sticky_safe):
        self.cfg = cfg
        self.guard = guard                  # None when the config is bad
        self.n = len(guard.aspect) if guard is not None else 0
        self.sticky = sticky_safe or guard is None
        self.mode = rm.MODE_SAFE if self.sticky else rm.MODE_BOOT_FLASH
        self.since = now
        self.req = 0                        # requested mode from COMMAND
        self.flash_coil = False
        self.cmd = bytearray(self.n)        # last commanded aspect per group
        self.fresh = 0                      # groups commanded since the flash began
        self.all_groups = (1 << self.n) - 1
        self.last_frame = now
        self.have_frame = False
        self.last_hb = now
        self.hb = -1
        self.have_hb = False
        self.faults = 0                     # latched FAULT_* bits
        self.acked_refusals = 0
        self.winding = False                # a commanded flash is clearing the groups

    # ------------------------------------------------------------ link
    def frame_seen(self, now):
        self.last_frame = now
        self.have_frame = True

    def heartbeat(self, value, now):
        if value != self.hb:
            self.hb = value
            self.last_hb = now
            self.have_hb = True

    def comm_ok(self, now):
        t = self.cfg.comm_timeout_ms
        return (self.have_frame and self.have_hb and diff(now, self.last_frame) <= t
                and diff(now, self.last_hb) <= t)

    # ------------------------------------------------------------ commands
    def request(self, command):
        self.req = command & rm.CMD_MODE_MASK

    def commands(self, wants, mask, now):
        """Groups in bitmask `mask` were commanded wants[g]."""
        mask &= self.all_groups
        for g in range(self.n):
            if mask & (1 << g):
                self.cmd[g] = wants[g]
        self.fresh |= mask
        if self.winding:
            return                          # the node clears on its own: nothing applies
        if self.mode == rm.MODE_RUN:
            self.guard.command_all(wants, mask, now)
        elif self.mode == rm.MODE_ALL_RED:
            for g in range(self.n):
                if mask & (1 << g) and wants[g] != RED:
                    self.guard.refuse(guard_mod.STARTUP, now)

    def fault_bits(self):
        """Latched faults, plus GUARD_REFUSED while refusals are not yet acknowledged."""
        f = self.faults
        if self.guard is not None and self.guard.refusals != self.acked_refusals:
            f |= rm.FAULT_GUARD_REFUSED
        return f

    def ack(self, comm_ok):
        """ACK_FAULTS from the controller (comm loss only clears once the link is back)."""
        clear = ACKABLE if comm_ok else ACKABLE & ~rm.FAULT_COMM_LOSS
        self.faults &= ~clear
        if self.guard is not None:
            self.acked_refusals = self.guard.refusals

    # ------------------------------------------------------------ time
    def _enter(self, mode, now):
        if mode in FLASHING and self.mode not in FLASHING:
            self.guard.enter_flash(now)
            self.fresh = 0
        elif mode == rm.MODE_ALL_RED:
            self.guard.enter_all_red(now)
        self.winding = False
        self.mode = mode
        self.since = now

    def _may_start(self, now):
        if self.sticky or self.faults & BLOCKING or self.flash_coil:
            return False
        # every flash lasts the start-up flash time before the start-up sequence may follow:
        # a head that went from green straight into flash must not be red a moment later
        if diff(now, self.since) < self.cfg.startup_flash_ms:
            return False
        if self.req != rm.MODE_ALL_RED and self.req != rm.MODE_RUN:
            return False
        if self.fresh != self.all_groups or not self.comm_ok(now):
            return False
        for g in range(self.n):
            if self.cmd[g] != RED:
                return False
        return True

    def tick(self, now, new_faults):
        """Latch `new_faults` (FAULT_* bits seen this tick) and move between modes."""
        self.faults |= new_faults
        # Forget a link long gone, before its timestamps could wrap (ticks: 2**29 ms).
        limit = 2 * self.cfg.comm_timeout_ms
        if self.have_frame and diff(now, self.last_frame) > limit:
            self.have_frame = False
        if self.have_hb and diff(now, self.last_hb) > limit:
            self.have_hb = False
        mode = self.mode
        if mode in FLASHING:
            if self._may_start(now):
                self._enter(rm.MODE_ALL_RED, now)
            elif mode == rm.MODE_FLASH and (self.faults & BLOCKING or not self.comm_ok(now)):
                self.mode = rm.MODE_SAFE
            return
        if not self.comm_ok(now):
            self.faults |= rm.FAULT_COMM_LOSS
            self._enter(rm.MODE_SAFE, now)
        elif self.faults & BLOCKING or self.guard.tripped:
            self._enter(rm.MODE_SAFE, now)
        elif self.req == rm.MODE_FLASH:
            self._enter(rm.MODE_FLASH, now)
        elif self.winding or self.flash_coil:
            if not self.winding:
                self.winding = True
                self.guard.wind_down(now)
            if self.guard.cleared(now):
                self._enter(rm.MODE_FLASH, now)
        elif (mode == rm.MODE_ALL_RED and self.req == rm.MODE_RUN
              and diff(now, self.since) >= self.cfg.all_red_ms):
            self._enter(rm.MODE_RUN, now)
