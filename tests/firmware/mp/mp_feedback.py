# Lamp sense on every lamp: a sensed conflict (any non-red indication on two conflicting
# groups) or a dual indication on one head latches and the node flashes (unix port).
from fx import FB_RED, P1, PINS, V1, V2, cfg, eq, level, node_json, out
from protocols import register_map as rm
from protocols.aspects import AMBER, FLASH_AMBER, GREEN, RED, RED_AMBER
from rig import Rig

R = RED
# Sense inputs per group: (red, amber, green); pedestrians have no amber.
SENSE = {V1: (FB_RED[V1], 2, 5), V2: (FB_RED[V2], 15, 37), P1: (FB_RED[P1], None, 38)}
LATCHED = rm.FAULT_CONFLICT | rm.FAULT_DUAL


class SenseRig(Rig):
    """Every lamp has current sense; `stuck[(g, k)]` lights lamp k of group g whatever the
    node drives (a welded load switch), `dark[(g, k)]` keeps it dark (a burnt-out lamp)."""

    def __init__(self):
        d = node_json()
        for i in (V1, V2, P1):
            fb = {}
            for k, name in ((0, "red"), (1, "amber"), (2, "green")):
                if SENSE[i][k] is not None:
                    fb[name] = SENSE[i][k]
            d["groups"][i]["feedback"] = fb
        self.stuck = {}
        self.dark = {}
        Rig.__init__(self, c=cfg(d))

    def feedback(self):
        for g in SENSE:
            for k in range(3):
                if SENSE[g][k] is not None:
                    lit = out(PINS[g][k]) and not self.dark.get((g, k))
                    level(SENSE[g][k], 1 if self.stuck.get((g, k)) else 1 if lit else 0)


def faults(r):
    return r.read(rm.PI_FAULTS)


def test_legal_cycle_with_every_lamp_sensed_raises_nothing():
    r = SenseRig()
    r.startup()
    r.command(RED_AMBER, R, R)
    r.run(1000)
    r.command(GREEN, R, R)
    r.run(5000)
    r.command(AMBER, R, R)
    r.run(3000)
    r.command(R, R, R)                    # V1 red: now V2's red+amber (IG V1->V2 5 s)
    r.run(1000)
    r.command(R, RED_AMBER, R)
    r.run(1000)
    r.command(R, GREEN, R)
    r.run(6000)
    eq(r.shown(V2), GREEN)
    eq(faults(r) & (LATCHED | rm.FAULT_LAMP_FAIL | rm.FAULT_RED_FAIL), 0)
    eq(r.mode_now(), rm.MODE_RUN)


def test_flash_mode_ambers_are_no_conflict():
    r = SenseRig()
    r.run(8000)                           # boot flash: every vehicle amber flashing
    eq(r.shown(V1), FLASH_AMBER)
    eq(faults(r) & LATCHED, 0)


def test_sensed_red_amber_against_walk_latches_and_flashes():
    # The issue's case, from the lamps: V2's amber welded on (red+amber shown with its red)
    # while the crossing P1 walks: a conflict and a dual indication.
    r = SenseRig()
    r.startup()
    r.command(R, R, GREEN)
    r.run(1000)
    eq(r.shown(P1), GREEN)
    r.stuck[(V2, 1)] = 1
    r.run(350)
    eq(r.mode_now(), rm.MODE_RUN, "350 ms: inside the TS2 window")
    eq(faults(r) & LATCHED, 0)
    r.run(100)
    eq(r.mode_now(), rm.MODE_SAFE, "flashes by 450 ms")
    eq(faults(r) & LATCHED, LATCHED)
    eq(r.shown(V2), FLASH_AMBER)
    r.stuck.clear()
    r.command(R, R, R, mode=rm.MODE_RUN | rm.CMD_ACK_FAULTS)
    r.run(8000)
    eq(r.mode_now(), rm.MODE_SAFE, "latched: ACK_FAULTS does not clear it")
    eq(faults(r) & LATCHED, LATCHED)


def test_sensed_amber_alone_against_green_is_a_conflict_only():
    # V2 shows amber instead of red (red lamp out, amber welded on) while V1 is green.
    r = SenseRig()
    r.startup()
    r.command(RED_AMBER, R, R)
    r.run(1000)
    r.command(GREEN, R, R)
    r.run(500)
    r.stuck[(V2, 1)] = 1
    r.dark[(V2, 0)] = 1
    r.run(350)
    eq(r.mode_now(), rm.MODE_RUN, "350 ms: inside the TS2 window")
    r.run(100)
    eq(r.mode_now(), rm.MODE_SAFE)
    eq(faults(r) & LATCHED, rm.FAULT_CONFLICT, "amber alone is no dual indication")


def test_walk_with_dont_walk_is_a_dual_indication():
    r = SenseRig()
    r.startup()
    r.stuck[(P1, 2)] = 1                  # P1's walk lamp welded on beside its don't walk
    r.run(350)
    eq(faults(r) & LATCHED, 0)
    r.run(100)
    eq(faults(r) & LATCHED, rm.FAULT_DUAL, "no conflicting group shows right of way")
    eq(r.mode_now(), rm.MODE_SAFE)


def test_green_with_amber_on_one_head_is_a_dual_indication():
    r = SenseRig()
    r.startup()
    r.command(RED_AMBER, R, R)
    r.run(1000)
    r.command(GREEN, R, R)
    r.run(1000)
    r.stuck[(V1, 1)] = 1
    r.run(450)
    eq(faults(r) & rm.FAULT_DUAL, rm.FAULT_DUAL)
    eq(r.mode_now(), rm.MODE_SAFE)


def test_a_brief_overlap_is_ignored():
    r = SenseRig()
    r.startup()
    r.command(R, R, GREEN)
    r.run(1000)
    r.stuck[(V2, 2)] = 1                  # 150 ms of a conflicting green, then gone
    r.run(150)
    r.stuck.clear()
    r.run(2000)
    eq(faults(r) & LATCHED, 0)
    eq(r.mode_now(), rm.MODE_RUN)
