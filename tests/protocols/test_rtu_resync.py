"""Resynchronisation of the slave's deframer: line noise and a request read as one burst (the
silence between them unseen) still yield the request. Runs on CPython and MicroPython."""

from protocols.modbus_rtu import SlaveDeframer, crc16, master

NODE = 1
REQUESTS = [
    master.read_holding_registers(NODE, 0, 10),                    # FC03, 8 bytes
    master.write_registers(NODE, 40, list(range(12))),             # FC16, 33 bytes
    master.read_write_registers(NODE, 0, 18, 100, [1, 2, 3, 4]),   # FC23, 21 bytes
    master.read_device_id(NODE, 1, 0),                 # FC43/14, 7 bytes
    master.write_registers(0, 40, [7]),                            # broadcast FC16
]


class Lcg:
    """A fixed-seed generator that behaves the same under CPython and MicroPython."""

    def __init__(self, seed):
        self.x = seed

    def below(self, n):
        self.x = (self.x * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.x >> 8) % n

    def noise(self, lo, hi):
        return bytes(self.below(256) for _ in range(lo + self.below(hi - lo + 1)))


def frame(body):
    c = crc16(body)
    return bytes(body) + bytes((c & 0xFF, c >> 8))


def one_burst(data, address=NODE):
    """`data` read in one go (no silence seen inside), then the line goes quiet."""
    d = SlaveDeframer(115200, address=address)
    d.feed(data, 10000)
    f = d.poll(10 ** 6)
    return d, (None if f is None else bytes(f))


def test_noise_then_request_in_one_burst_yields_the_request():
    rng = Lcg(11)
    for i in range(400):
        req = REQUESTS[i % len(REQUESTS)]
        d, got = one_burst(rng.noise(1, 32) + req)
        assert got == req, (i, got)
        assert d.resyncs == 1 and d.crc_errors == 1 and d.frames == 1


def test_a_request_for_another_node_is_not_taken():
    rng = Lcg(12)
    for _ in range(100):
        req = master.read_holding_registers(2, 0, 10)
        d, got = one_burst(rng.noise(1, 32) + req)
        assert got is None and d.resyncs == 0 and d.crc_errors == 1
        d, got = one_burst(rng.noise(1, 32) + req, address=None)   # any address
        assert got == req


def test_noise_alone_yields_nothing():
    rng = Lcg(13)
    found = 0
    for _ in range(500):
        data = rng.noise(4, 64)
        d, got = one_burst(data)
        if got is not None:
            found += 1
        assert d.crc_errors == 1
    assert found == 0


def test_noise_after_the_request_yields_nothing():
    # The request must end the burst: bytes after it mean it was not the last thing sent.
    req = REQUESTS[0]
    d, got = one_burst(req + b"\x55\xaa\x01")
    assert got is None and d.resyncs == 0


def test_good_frame_is_not_resynchronised():
    for req in REQUESTS:
        d, got = one_burst(req)
        assert got == req and d.resyncs == 0 and d.crc_errors == 0


def test_a_good_frame_that_contains_a_request_stays_whole():
    # A write whose payload happens to be a request for this node: the frame's own CRC is
    # right, so it is taken whole and never searched.
    inner = REQUESTS[0]
    outer = frame(bytes((2, 16, 0, 0, 0, 4, 8)) + inner)
    d, got = one_burst(outer)
    assert got == outer and d.resyncs == 0


def test_resynchronised_frame_survives_the_next_feed():
    req = REQUESTS[1]
    d = SlaveDeframer(115200, address=NODE)
    d.feed(b"\x13\x37\x00\xff" + req, 0)
    f = d.poll(10 ** 5)
    d.feed(REQUESTS[0][:5], 2 * 10 ** 5)
    assert bytes(f) == req


def test_overrun_is_not_searched():
    d = SlaveDeframer(115200, max_frame=16, address=NODE)
    d.feed(b"\x00" * 12 + REQUESTS[0], 0)
    assert d.poll(10 ** 6) is None
    assert d.overruns == 1 and d.resyncs == 0


def test_resync_after_a_seen_silence_still_works():
    # Noise seen as its own frame (silence seen), then noise + request merged: both bursts
    # are errors, the second yields the request.
    req = REQUESTS[2]
    d = SlaveDeframer(115200, address=NODE)
    d.feed(b"\x01\x03\x99", 0)
    assert d.poll(5000) is None
    d.feed(b"\xfe\x01" + req, 10000)
    assert bytes(d.poll(20000)) == req
    assert d.crc_errors == 2 and d.resyncs == 1
