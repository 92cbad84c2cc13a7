# Loop detectors and parking bays on the emulated board's inputs (unix port).
import machine
from node.detector import Detector
from node.parking import DigitalBay, UltrasonicBay

from fx import BAY_PIN, DET_PINS, ECHO, TRIG, cfg, clear_pins, echo, eq, level, t
from protocols import register_map as rm

D1 = DET_PINS[0]


def setup():
    clear_pins()


def det(**over):
    c = cfg()
    d = c.detectors[0]
    for k in over:
        setattr(d, k, over[k])
    return Detector(d, t(0))


def scan(d, start, ms, v=None, step=10):
    """Scan every `step` ms from `start` for `ms`; set the loop to v first."""
    if v is not None:
        level(D1, v)
    at = start
    while at < start + ms:
        at += step
        d.scan(t(at))
    return at


def test_debounce_ignores_short_glitches():
    d = det()
    at = scan(d, 0, 100, 0)
    at = scan(d, at, 10, 1)               # one scan high: shorter than 20 ms
    at = scan(d, at, 100, 0)
    eq(d.state, 0)
    eq(d.count, 0)
    at = scan(d, at, 30, 1)
    eq(d.state, 1, "held 30 ms")
    eq(d.count, 1)
    at = scan(d, at, 10, 0)
    eq(d.state, 1, "a short drop out does not end the presence")
    at = scan(d, at, 10, 1)
    at = scan(d, at, 100, 1)
    eq(d.count, 1)


def test_counts_and_occupancy():
    d = det()
    at = 0
    for _ in range(10):                   # 10 vehicles, 300 ms on, 700 ms off
        at = scan(d, at, 300, 1)
        at = scan(d, at, 700, 0)
    eq(d.count, 10)
    d.close_interval()
    if not 290 <= d.occupancy <= 310:
        raise AssertionError("occupancy %d (0.1 %%), about 300 expected" % d.occupancy)
    at = scan(d, at, 1000, 0)
    d.close_interval()
    eq(d.occupancy, 0)


def test_no_activity_raises_fault_and_presence():
    d = det()
    at = scan(d, 0, 2 * 60000, 0, step=100)
    eq(d.diag & rm.DIAG_NO_ACTIVITY, 0, "exactly 2 min: not yet")
    at = scan(d, at, 200, 0)
    eq(d.diag & rm.DIAG_NO_ACTIVITY, rm.DIAG_NO_ACTIVITY)
    eq(d.presence(), 1, "fail-safe: a faulty detector calls")
    eq(d.faulty(), 1)
    at = scan(d, at, 50, 1)
    eq(d.diag, 0, "activity clears it")
    at = scan(d, at, 50, 0)
    d.reported()                          # (a poll has read that short presence)
    eq(d.presence(), 0)


def test_max_presence():
    d = det()
    at = scan(d, 0, 60000, 1, step=100)
    eq(d.diag & rm.DIAG_MAX_PRESENCE, 0)
    at = scan(d, at, 300, 1)
    eq(d.diag & rm.DIAG_MAX_PRESENCE, rm.DIAG_MAX_PRESENCE)
    at = scan(d, at, 50, 0)
    eq(d.diag & rm.DIAG_MAX_PRESENCE, 0, "the presence ended")


def test_erratic_counts():
    d = det()
    at = 0
    for _ in range(31):                   # 31 counts within a minute, limit 30
        at = scan(d, at, 40, 1)
        at = scan(d, at, 40, 0)
    eq(d.diag & rm.DIAG_ERRATIC_COUNTS, rm.DIAG_ERRATIC_COUNTS)
    eq(d.presence(), 1)
    at = scan(d, at, 60000, 0, step=100)  # a quiet minute
    for _ in range(3):
        at = scan(d, at, 40, 1)
        at = scan(d, at, 40, 0)
    at = scan(d, at, 60000, 0, step=100)
    eq(d.diag & rm.DIAG_ERRATIC_COUNTS, 0)


def test_diagnostics_off_when_zero():
    d = det(no_activity_min=0, max_presence_min=0, erratic_per_min=0)
    scan(d, 0, 600000, 1, step=1000)
    eq(d.diag, 0)


def test_active_low_detector():
    c = cfg()
    dd = c.detectors[0]
    dd.active_low = True
    d = Detector(dd, t(0))
    level(D1, 1)
    at = scan(d, 0, 100)
    eq(d.state, 0)
    at = scan(d, at, 100, 0)
    eq(d.state, 1)


def test_digital_bay_debounce():
    b = DigitalBay(cfg().bays[0], t(0))
    level(BAY_PIN, 1)
    for at in range(0, 990, 10):
        b.scan(t(at))
    eq(b.occupied, 0)
    b.scan(t(1000))
    eq(b.occupied, 1)
    level(BAY_PIN, 0)
    b.scan(t(1010))
    level(BAY_PIN, 1)
    b.scan(t(1020))
    eq(b.occupied, 1, "a flicker does not free the bay")


def ultra():
    return UltrasonicBay(cfg().bays[1], t(0))


def measure(u, n, start):
    at = start
    for _ in range(n):
        at += 500
        eq(u.due(t(at)), True)
        u.measure(t(at))
    return at


def test_ultrasonic_hysteresis():
    u = ultra()
    echo(ECHO, 150 * 58)                  # 150 cm: free
    at = measure(u, 3, 0)
    eq(u.occupied, 0)
    echo(ECHO, 50 * 58)                   # a car at 50 cm
    at = measure(u, 2, at)
    eq(u.occupied, 0, "two readings are not enough")
    at = measure(u, 1, at)
    eq(u.occupied, 1)
    eq(u.cm, 50)
    echo(ECHO, 90 * 58)                   # between the thresholds: no change
    at = measure(u, 10, at)
    eq(u.occupied, 1)
    echo(ECHO, 100 * 58)
    at = measure(u, 3, at)
    eq(u.occupied, 0)
    eq(u.due(t(at + 100)), False)


def test_ultrasonic_out_of_range_is_free():
    u = ultra()
    echo(ECHO, 50 * 58)
    at = measure(u, 3, 0)
    eq(u.occupied, 1)
    echo(ECHO, 400 * 58)                  # longer than max_cm: time_pulse_us gives -1
    at = measure(u, 3, at)
    eq(u.occupied, 0)
    eq(u.fault, 0)


def test_ultrasonic_fault_when_sensor_silent():
    u = ultra()
    echo(ECHO, 50 * 58)
    at = measure(u, 3, 0)
    echo(ECHO, -2)                        # the echo never starts
    at = measure(u, 4, at)
    eq(u.fault, 0)
    at = measure(u, 1, at)
    eq(u.fault, 1)
    eq(u.occupied, 1, "the last state is kept, flagged")
    echo(ECHO, 50 * 58)
    measure(u, 1, at)
    eq(u.fault, 0)


def test_ultrasonic_trigger_pulse():
    import machine

    u = ultra()
    echo(ECHO, 50 * 58)
    u.measure(t(500))
    eq(machine._outputs[TRIG]._out, 0, "trigger back low")


# ---------------------------------------------------------------- latency (issue 11)
def irq_edge(d, at):
    """What the pin interrupt notes for an edge at `at` (the handler reads the board's
    clock; here the test's time line is t())."""
    d.edge_ms = t(at)
    d.edges += 1


def test_pin_interrupt_notes_every_edge():
    d = det()
    machine._on_host_line([b"I", b"%d" % D1, b"1"])      # the host drives the wire
    machine._on_host_line([b"I", b"%d" % D1, b"0"])
    eq(d.edges, 2, "both edges seen")


def test_debounce_counts_from_the_edge_not_the_scan():
    d = det()                             # debounce 20 ms, scans every 10 ms
    scan(d, 0, 100, 0)                    # to 100
    level(D1, 1)
    irq_edge(d, 101)                      # just after a scan
    d.scan(t(110))
    eq(d.raw_since, t(101))
    d.scan(t(120))
    eq(d.state, 0, "19 ms")
    d.sample(t(121))                      # a poll at 121: 20 ms since the edge
    eq(d.state, 1)
    eq(d.presence(), 1)


def test_edge_without_interrupt_is_timed_by_the_sample():
    d = det()
    at = scan(d, 0, 100, 0)
    level(D1, 1)                          # no interrupt: the scan at 110 sees it
    at = scan(d, at, 20)
    eq(d.state, 0, "20 ms after the scan that saw it, not yet")
    at = scan(d, at, 10)
    eq(d.state, 1)


def test_glitch_between_samples_is_ignored():
    d = det()
    at = scan(d, 0, 100, 0)
    irq_edge(d, 102)                      # up at 102, down at 104: level 0 at the scan
    irq_edge(d, 104)
    at = scan(d, at, 100)
    eq(d.state, 0)
    eq(d.count, 0)


def test_short_pulse_between_polls_is_reported_once():
    d = det()
    at = scan(d, 0, 100, 0)
    d.sample(t(at))
    eq(d.presence(), 0)
    d.reported()                          # a poll read the image at 100
    at = scan(d, at, 40, 1)               # a 40 ms pulse, between two polls
    at = scan(d, at, 40, 0)
    eq(d.state, 0)
    eq(d.count, 1)
    eq(d.presence(), 1, "latched until the controller has read it")
    d.reported()
    eq(d.presence(), 0, "and reported once")


def test_sample_keeps_scan_statistics():
    d = det()
    scan(d, 0, 100, 1)
    n = d.scans
    d.sample(t(105))
    eq(d.scans, n, "a poll's sample is not a scan (occupancy counts scans)")
