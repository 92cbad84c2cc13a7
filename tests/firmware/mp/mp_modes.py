# Node modes: boot flash, the start-up rule, comm watchdog, controller flash, guard trip,
# lamp feedback faults, config errors; and what the lamps do in each (unix port).
from node import config
from node import guard as gm

from fx import P1, V1, V2, eq, level, node_json, t
from protocols import register_map as rm
from protocols.aspects import AMBER, DARK, FLASH_AMBER, GREEN, RED, RED_AMBER
from rig import Rig

R = RED


def test_boot_flash_waits_for_the_controller():
    r = Rig()
    eq(r.mode_now(), rm.MODE_BOOT_FLASH)
    r.run(20000)
    eq(r.mode_now(), rm.MODE_BOOT_FLASH, "no controller: flash forever")
    eq(r.shown(V1), FLASH_AMBER)
    eq(r.shown(P1), DARK)


def test_vehicle_heads_flash_amber_at_1hz_pedestrians_dark():
    r = Rig()
    seen = []
    for _ in range(200):
        r.run(10)
        seen.append(r.lamps(V1))
        eq(r.lamps(P1), (0, None, 0), "pedestrians dark")
    on = [s for s in seen if s == (0, 1, 0)]
    off = [s for s in seen if s == (0, 0, 0)]
    eq(len(on) + len(off), 200, "only amber, never red or green")
    if not 95 <= len(on) <= 105:
        raise AssertionError("amber on %d of 200 ticks" % len(on))
    # 1 Hz: it changes 4 times in 2 s.
    changes = sum(1 for i in range(1, 200) if seen[i] != seen[i - 1])
    if not 3 <= changes <= 4:
        raise AssertionError("%d changes in 2 s" % changes)


def test_boot_flash_lasts_its_minimum():
    r = Rig()
    r.command(R, R, R, mode=rm.MODE_RUN)
    r.run(4900)
    eq(r.mode_now(), rm.MODE_BOOT_FLASH, "4.9 s: still boot flash")
    r.run(200)
    eq(r.mode_now(), rm.MODE_ALL_RED)
    eq([r.shown(g) for g in (V1, V2, P1)], [R, R, R])
    eq(r.lamps(V1), (1, 0, 0))
    eq(r.lamps(P1), (1, None, 0))


def test_start_needs_every_group_red():
    r = Rig()
    r.command(R, R, DARK, mode=rm.MODE_RUN)
    r.run(8000)
    eq(r.mode_now(), rm.MODE_BOOT_FLASH)
    r.command(R, R, R)
    r.run(100)
    eq(r.mode_now(), rm.MODE_ALL_RED)


def test_start_needs_a_live_heartbeat():
    r = Rig()
    r.command(R, R, R, mode=rm.MODE_RUN)
    r.polling = False                     # one write, then silence
    r.run(6000)
    eq(r.mode_now(), rm.MODE_BOOT_FLASH)


def test_start_needs_a_start_request():
    r = Rig()
    r.command(R, R, R, mode=rm.MODE_FLASH)
    r.run(8000)
    eq(r.mode_now(), rm.MODE_BOOT_FLASH)
    r.command(mode=rm.MODE_ALL_RED)
    r.run(200)
    eq(r.mode_now(), rm.MODE_ALL_RED)
    r.run(10000)
    eq(r.mode_now(), rm.MODE_ALL_RED, "ALL_RED was asked for: no RUN")


def test_all_red_held_before_any_green():
    r = Rig()
    r.command(R, R, R, mode=rm.MODE_RUN)
    while r.mode_now() != rm.MODE_ALL_RED:
        r.run(10)
    since = r.now
    r.command(RED_AMBER, R, R)
    eq(r.shown(V1), RED, "refused during the all-red")
    eq(r.node.guard.last_refusal, gm.STARTUP)
    r.command(R, R, R)
    while r.mode_now() == rm.MODE_ALL_RED:
        r.run(10)
    if r.now - since < 3000:
        raise AssertionError("all-red only %d ms" % (r.now - since))
    eq(r.mode_now(), rm.MODE_RUN)
    r.command(RED_AMBER, R, R)
    eq(r.shown(V1), RED_AMBER)


def test_commands_from_before_the_flash_do_not_count():
    r = Rig()
    r.startup()                           # all groups were commanded red ...
    r.polling = False
    r.run(1200)
    eq(r.mode_now(), rm.MODE_SAFE)        # ... then the link dropped
    for _ in range(60):                   # heartbeat and COMMAND only, no SIGNAL_CMD
        r.hb += 1
        r.node.modes.frame_seen(t(r.now))
        r.ds.write_regs("holding", rm.HEARTBEAT, [r.hb, rm.MODE_RUN])
        r.run(100)
    eq(r.mode_now(), rm.MODE_SAFE)
    r.command(R, R, R)
    r.run(20)
    eq(r.mode_now(), rm.MODE_ALL_RED)


def test_run_follows_commands_through_the_guard():
    r = Rig()
    r.startup()
    r.command(RED_AMBER, R, R)
    r.run(1000)
    r.command(GREEN, R, R)
    r.run(10)
    eq(r.lamps(V1), (0, 0, 1))
    eq(r.read(rm.PI_LAMP_ASPECT) & 0xF, GREEN)
    r.command(GREEN, RED_AMBER, R)        # red+amber against a conflicting green: refused
    eq(r.shown(V2), R)
    r.command(GREEN, R, R)
    eq(r.read(rm.PI_GUARD_REFUSALS), 1)
    eq(r.read(rm.PI_FAULTS) & rm.FAULT_GUARD_REFUSED, rm.FAULT_GUARD_REFUSED)
    r.poll(mode=rm.MODE_RUN | rm.CMD_ACK_FAULTS)
    r.poll(mode=rm.MODE_RUN)
    eq(r.read(rm.PI_FAULTS) & rm.FAULT_GUARD_REFUSED, 0, "acknowledged")


def test_comm_loss_goes_to_flash():
    r = Rig()
    r.startup()
    r.command(RED_AMBER, R, R)
    r.run(1000)
    r.command(GREEN, R, R)
    r.run(500)
    r.polling = False
    r.run(990)
    eq(r.mode_now(), rm.MODE_RUN)
    r.run(120)
    eq(r.mode_now(), rm.MODE_SAFE, "1000 ms without a frame")
    eq(r.shown(V1), FLASH_AMBER, "green straight to flash")
    eq(r.node.fault_bits() & rm.FAULT_COMM_LOSS, rm.FAULT_COMM_LOSS)
    # Back: only through the start-up sequence.
    r.polling = True
    r.command(GREEN, R, R)
    r.run(3000)
    eq(r.mode_now(), rm.MODE_SAFE)
    r.command(R, R, R)
    r.run(100)
    eq(r.mode_now(), rm.MODE_SAFE, "a flash lasts the start-up flash time")
    r.run(2000)
    eq(r.mode_now(), rm.MODE_ALL_RED)


def test_frozen_heartbeat_is_comm_loss():
    r = Rig()
    r.startup()
    r.polling = False
    for _ in range(15):                   # frames keep coming, the heartbeat does not move
        r.hb = (r.hb - 1) & 0xFFFF
        r.poll()
        r.run(100)
    eq(r.mode_now(), rm.MODE_SAFE)


def test_controller_flash_request_and_coil():
    r = Rig()
    r.startup()
    r.command(R, R, R, mode=rm.MODE_FLASH)
    r.run(20)
    eq(r.mode_now(), rm.MODE_FLASH)
    r.command(R, R, R, mode=rm.MODE_RUN)
    r.run(3100)
    eq(r.mode_now(), rm.MODE_FLASH, "a flash lasts the start-up flash time")
    r.run(5000)
    eq(r.mode_now(), rm.MODE_RUN)
    r.ds.write_bits("coil", rm.COIL_REQUEST_FLASH, [1])
    r.run(20)
    eq(r.mode_now(), rm.MODE_FLASH)
    r.run(5000)
    eq(r.mode_now(), rm.MODE_FLASH, "the coil is maintained")
    r.ds.write_bits("coil", rm.COIL_REQUEST_FLASH, [0])
    r.run(100)
    eq(r.mode_now(), rm.MODE_ALL_RED)


def test_unsafe_controller_sends_node_to_flash():
    r = Rig()
    r.startup()
    r.command(RED_AMBER, R, R)
    r.run(1000)
    r.command(GREEN, R, R)
    r.run(100)
    r.command(GREEN, GREEN, R)            # keeps asking for a conflicting green
    r.run(400)
    eq(r.mode_now(), rm.MODE_SAFE, "5 refusals within 10 s")
    eq(r.shown(V1), FLASH_AMBER)


def test_red_fail_latches_and_flashes():
    r = Rig()
    r.startup()
    r.lamps_ok = False                    # the red lamps stop drawing current
    r.run(700)
    eq(r.mode_now(), rm.MODE_RUN, "700 ms is tolerated")
    r.run(100)
    eq(r.mode_now(), rm.MODE_SAFE)
    eq(r.read(rm.PI_RED_FAIL), 0b111)
    eq(r.node.fault_bits() & rm.FAULT_RED_FAIL, rm.FAULT_RED_FAIL)
    r.lamps_ok = True
    r.command(R, R, R, mode=rm.MODE_RUN)
    r.run(5000)
    eq(r.mode_now(), rm.MODE_SAFE, "latched until acknowledged")
    r.poll(mode=rm.MODE_RUN | rm.CMD_ACK_FAULTS)
    r.run(100)
    eq(r.read(rm.PI_RED_FAIL), 0, "in flash the red is dark: nothing wrong now")
    eq(r.mode_now(), rm.MODE_ALL_RED)


def test_lamp_fail_of_a_green_is_a_flag():
    r = Rig()
    r.startup()
    r.command(R, R, GREEN)                # the pedestrian green lamp has no feedback ...
    r.run(100)
    eq(r.read(rm.PI_LAMP_FAIL), 0)
    r.lamps_ok = False
    r.run(900)
    eq(r.read(rm.PI_LAMP_FAIL) & 0b011, 0b011, "red lamps of the vehicles")


def test_config_error_flashes_for_good():
    d = node_json()
    d["safety"]["crc"] ^= 1
    c = config.parse(d)
    eq(c.error, rm.CFG_CRC_MISMATCH)
    r = Rig(c)
    eq(r.mode_now(), rm.MODE_SAFE)
    r.command(R, R, R, mode=rm.MODE_RUN)
    r.run(10000)
    eq(r.mode_now(), rm.MODE_SAFE)
    eq(r.lamps(V1)[1] in (0, 1), True)
    eq(r.read(rm.CONFIG_ERROR), rm.CFG_CRC_MISMATCH)
    eq(r.read(rm.PI_FAULTS) & rm.FAULT_CONFIG, rm.FAULT_CONFIG)
    eq(r.lamps(V1)[0], 0)
    eq(r.lamps(V1)[2], 0)


def test_safe_mode_after_boot_loop_ignores_the_controller():
    r = Rig(sticky_safe=True, reset_cause=rm.RESET_WATCHDOG)
    r.command(R, R, R, mode=rm.MODE_RUN)
    r.run(10000)
    eq(r.mode_now(), rm.MODE_SAFE)
    eq(r.read(rm.UPTIME_S, 2)[1], 10)
    faults = r.read(rm.PI_FAULTS)
    eq(faults & rm.FAULT_BOOT_LOOP, rm.FAULT_BOOT_LOOP, "boot-loop safe mode says so")
    eq(faults & rm.FAULT_WATCHDOG, 0, "instead of the watchdog it could acknowledge")
    r.command(R, R, R, mode=rm.MODE_RUN | rm.CMD_ACK_FAULTS)
    r.run(100)
    eq(r.read(rm.PI_FAULTS) & rm.FAULT_BOOT_LOOP, rm.FAULT_BOOT_LOOP, "not acknowledgeable")
    eq(r.mode_now(), rm.MODE_SAFE)


def test_amber_ends_on_the_node_when_commanded_red():
    r = Rig()
    r.startup()
    r.command(RED_AMBER, R, R)
    r.run(1010)
    r.command(GREEN, R, R)
    r.run(5010)
    r.command(R, R, R)
    eq(r.lamps(V1), (0, 1, 0), "amber, not red")
    r.run(2990)
    eq(r.lamps(V1), (0, 1, 0))
    r.run(20)
    eq(r.lamps(V1), (1, 0, 0))
    eq(r.shown(V1), RED)
    eq(r.node.guard.by_kind[gm.SKIPPED_CLEARANCE], 1)


def test_watchdog_reset_is_reported():
    r = Rig(reset_cause=rm.RESET_WATCHDOG)
    eq(r.read(rm.RESET_CAUSE), rm.RESET_WATCHDOG)
    eq(r.read(rm.PI_FAULTS) & rm.FAULT_WATCHDOG, rm.FAULT_WATCHDOG)
    r.command(R, R, R, mode=rm.MODE_FLASH | rm.CMD_ACK_FAULTS)
    eq(r.read(rm.PI_FAULTS) & rm.FAULT_WATCHDOG, 0)


def test_amber_shown_in_register_while_node_clears():
    r = Rig()
    r.startup()
    r.command(RED_AMBER, R, R)
    r.run(1010)
    r.command(GREEN, R, R)
    r.run(5010)
    r.command(R, R, R)
    eq(r.read(rm.PI_LAMP_ASPECT) & 0xF, AMBER)


def test_scan_and_tick_allocate_nothing():
    import micropython

    r = Rig()
    r.startup()
    r.command(RED_AMBER, R, R)
    r.run(2000)
    r.command(GREEN, R, R)
    node = r.node
    r.feedback()
    micropython.heap_lock()
    try:
        for k in range(1, 1001):           # 10 s of scans and ticks, a detector pulsing
            level(39, (k // 30) & 1)
            node.scan_inputs(t(r.now + 10 * k))
            node.tick(t(r.now + 10 * k))
    finally:
        micropython.heap_unlock()
    eq(node.detectors[0].count, 17)


def test_deferred_command_applied_by_the_tick_without_allocating():
    import micropython

    r = Rig()                                 # node.json default: guard.defer_ms 250
    eq(r.cfg.defer_ms, 250)
    r.startup()
    r.command(RED_AMBER, R, R)
    since = r.now
    r.run(990)
    r.command(GREEN, R, R)                    # 10 ms before red+amber's 1000 ms are over
    eq(r.shown(V1), RED_AMBER)
    node = r.node
    r.feedback()
    micropython.heap_lock()
    try:
        due = node.guard.due_ms(t(r.now))
        node.tick(t(r.now + due - 1))
        before = node.shown()[V1]
        node.tick(t(r.now + due))
    finally:
        micropython.heap_unlock()
    # Over at tick since + 1000 + 1 (the ms clock truncates: guard._left_ms).
    eq((due, before), (11, RED_AMBER))
    eq(r.shown(V1), GREEN)
    eq(r.lamps(V1), (0, 0, 1))
    eq(node.guard.since[V1], t(since + 1001))
    eq(r.read(rm.PI_GUARD_REFUSALS), 0)
