# Entering flash (unix port): a maintenance flash (COIL_REQUEST_FLASH) ends every green
# through its amber and red, holds all red for the intergreens, then flashes; the
# controller's MODE_FLASH and every fault flash are immediate.
from fx import P1, V1, V2, eq
from protocols import register_map as rm
from protocols.aspects import AMBER, DARK, FLASH_AMBER, GREEN, RED, RED_AMBER
from rig import Rig

R = RED


def v1_green(r):
    r.startup()
    r.command(RED_AMBER, R, R)
    r.run(1000)
    r.command(GREEN, R, R)
    r.run(10)
    eq(r.shown(V1), GREEN)


def trace(r, ms, step=10):
    """[(ms, V1 aspect, mode)] at each change over the next `ms`."""
    seen = []
    for k in range(ms // step):
        r.run(step)
        s = (r.shown(V1), r.mode_now())
        if not seen or seen[-1][1:] != s:
            seen.append(((k + 1) * step,) + s)
    return seen


def test_maintenance_flash_goes_through_amber_and_red():
    r = Rig()
    v1_green(r)                            # V1 green since 0, min green 5000
    r.run(1990)
    r.ds.write_bits("coil", rm.COIL_REQUEST_FLASH, [1])
    r.command(GREEN, GREEN, R)             # ignored while the node clears: no refusal
    seen = trace(r, 9000)
    eq([s[1:] for s in seen], [(GREEN, rm.MODE_RUN), (AMBER, rm.MODE_RUN),
                               (R, rm.MODE_RUN), (FLASH_AMBER, rm.MODE_FLASH)])
    amber, red, flash = seen[1][0], seen[2][0], seen[3][0]
    if not 3000 <= amber <= 3020:          # green held to its minimum (5000 ms)
        raise AssertionError("amber at %d ms" % amber)
    if not 3000 <= red - amber <= 3020:
        raise AssertionError("amber lasted %d ms" % (red - amber))
    # all red until the intergreen V1 -> V2 (5000 ms from the end of green) has run
    if not 5000 <= flash - amber <= 5020:
        raise AssertionError("flash %d ms after the end of green" % (flash - amber))
    eq(r.shown(P1), DARK)
    eq(r.read(rm.PI_GUARD_REFUSALS), 0)
    eq(r.shown(V2), FLASH_AMBER)


def test_maintenance_flash_is_finished_even_if_the_coil_is_cleared():
    r = Rig()
    v1_green(r)
    r.run(5000)
    r.ds.write_bits("coil", rm.COIL_REQUEST_FLASH, [1])
    r.run(20)
    eq(r.shown(V1), AMBER)
    r.ds.write_bits("coil", rm.COIL_REQUEST_FLASH, [0])
    r.command(GREEN, R, R)
    r.run(5100)
    eq(r.mode_now(), rm.MODE_FLASH)


def test_fault_during_the_clearance_flashes_at_once():
    r = Rig()
    v1_green(r)
    r.run(5000)
    r.ds.write_bits("coil", rm.COIL_REQUEST_FLASH, [1])
    r.run(20)
    eq(r.shown(V1), AMBER)
    r.polling = False                      # the cabinet goes silent
    r.run(1100)
    eq(r.mode_now(), rm.MODE_SAFE)


def test_controller_mode_flash_is_immediate():
    # The cabinet sends MODE_FLASH after its own clearance, or for a fault: at once.
    r = Rig()
    v1_green(r)
    r.command(GREEN, R, R, mode=rm.MODE_FLASH)
    r.run(10)
    eq(r.mode_now(), rm.MODE_FLASH)
    eq(r.shown(V1), FLASH_AMBER)
