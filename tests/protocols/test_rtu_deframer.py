"""Deframing by silence with passed-in timestamps. Runs on CPython and MicroPython."""

from protocols.modbus_rtu import Deframer, MasterDeframer, char_us, master, silence_us

REQ = master.read_holding_registers(1, 0, 10)           # 8 bytes
REQ2 = master.write_register(2, 5, 0x1234)


def test_timing_constants():
    assert silence_us(115200) == 1750
    assert silence_us(38400) == 1750
    assert silence_us(19200) == 2006          # 3.5 * 11 bits / 19200, rounded up
    assert silence_us(9600) == 4011
    assert char_us(115200) == 96
    assert char_us(9600) == 1146
    assert char_us(9600, 10) == 1042 and silence_us(9600, 10) == 3646
    d = Deframer(9600, bits=10)
    assert (d.char_us, d.silence_us) == (1042, 3646)


def test_frame_completes_only_after_silence():
    d = Deframer(115200)
    d.feed(REQ, 10000)
    assert d.poll(10000) is None
    assert d.poll(10000 + 1749) is None
    f = d.poll(10000 + 1750)
    assert f is not None and bytes(f) == REQ
    assert d.poll(20000) is None              # returned once
    assert d.frames == 1


def test_byte_by_byte_back_to_back_is_one_frame():
    d = Deframer(9600)
    t = 0
    for b in REQ:
        t += char_us(9600)
        d.feed(bytes((b,)), t)
        assert d.poll(t) is None
    assert bytes(d.poll(t + silence_us(9600))) == REQ


def test_chunk_arrival_time_accounts_for_chunk_length():
    # A 40-byte chunk at 115200 takes 3.8 ms on the wire: arriving 3.9 ms after the
    # previous chunk is NOT a silence of 3.9 ms.
    payload = master.write_registers(1, 0, list(range(16)))   # 41 bytes
    d = Deframer(115200)
    d.feed(payload[:1], 0)
    d.feed(payload[1:], 0 + 40 * 96 + 100)
    assert bytes(d.poll(10 ** 6)) == payload


def test_silence_inside_feed_sequence_splits_frames():
    d = Deframer(115200)
    d.feed(REQ, 1000)
    d.feed(REQ2, 1000 + 1750 + len(REQ2) * 96)   # exactly 3.5 chars of silence before it
    assert bytes(d.poll(1000 + 1750 + len(REQ2) * 96)) == REQ
    assert d.poll(3000 + len(REQ2) * 96) is None
    assert bytes(d.poll(10 ** 6)) == REQ2


def test_short_gap_merges_and_crc_rejects():
    d = Deframer(115200)
    d.feed(REQ, 1000)
    d.feed(REQ2, 1000 + 1000 + len(REQ2) * 96)    # 1 ms gap: not a frame boundary
    assert d.poll(10 ** 6) is None
    assert d.crc_errors == 1 and d.frames == 0


def test_bad_crc_is_counted_and_dropped():
    bad = bytearray(REQ)
    bad[3] ^= 0x40
    d = Deframer(115200)
    d.feed(bad, 0)
    assert d.poll(5000) is None
    assert d.crc_errors == 1
    d.feed(REQ, 10000)
    assert bytes(d.poll(20000)) == REQ


def test_too_short_is_a_crc_error():
    d = Deframer(115200)
    d.feed(b"\x01\x03\x00", 0)
    assert d.poll(5000) is None
    assert d.crc_errors == 1


def test_overlong_frame_is_an_overrun():
    d = Deframer(115200, max_frame=16)
    d.feed(b"\x00" * 10, 0)
    d.feed(b"\x00" * 10, 960)
    assert d.poll(10 ** 6) is None
    assert d.overruns == 1
    d.feed(REQ, 2 * 10 ** 6)
    assert bytes(d.poll(3 * 10 ** 6)) == REQ


def test_unpolled_frame_is_replaced_and_counted():
    d = Deframer(115200)
    d.feed(REQ, 0)
    d.feed(REQ2, 100000)
    d.feed(REQ, 200000)          # REQ2 completes while REQ is still waiting
    assert d.dropped == 1
    assert bytes(d.poll(200000)) == REQ2
    assert bytes(d.poll(300000)) == REQ


def test_returned_frame_survives_the_next_feed():
    d = Deframer(115200)
    d.feed(REQ, 0)
    f = d.poll(5000)
    d.feed(REQ2[:3], 6000)
    assert bytes(f) == REQ


def test_wrapping_ticks():
    period = 1 << 30
    d = Deframer(115200, ticks_period=period)
    t0 = period - 200
    d.feed(REQ, t0)
    assert d.poll((t0 + 1000) % period) is None
    assert bytes(d.poll((t0 + 1750) % period)) == REQ


def test_reset_drops_partial_frame():
    d = Deframer(115200)
    d.feed(REQ[:4], 0)
    d.reset()
    assert d.pending() == 0
    d.feed(REQ, 10)
    assert bytes(d.poll(5000)) == REQ


def test_master_completes_by_expected_length_without_silence():
    d = MasterDeframer(115200)
    resp = bytes((1, 3, 4, 0, 1, 0, 2))
    from protocols.modbus_rtu import crc16
    c = crc16(resp)
    resp = resp + bytes((c & 0xFF, c >> 8))
    d.expect(master.response_length(master.read_holding_registers(1, 0, 2)))
    d.feed(resp[:5], 100)
    assert d.poll(100) is None
    d.feed(resp[5:], 200)
    assert bytes(d.poll(200)) == resp         # no 1.75 ms wait


def test_master_exception_response_is_five_bytes():
    d = MasterDeframer(115200)
    d.expect(200)
    exc = bytearray((1, 0x83, 2, 0, 0))
    from protocols.rtu.crc16 import put
    put(exc, 3)
    d.feed(bytes(exc), 0)
    assert bytes(d.poll(0)) == bytes(exc)


def test_master_without_expectation_uses_silence():
    d = MasterDeframer(115200)
    d.expect(0)
    d.feed(REQ, 0)
    assert d.poll(100) is None
    assert bytes(d.poll(1750)) == REQ


def test_master_longer_than_expected_is_dropped():
    d = MasterDeframer(115200)
    d.expect(6)
    d.feed(REQ, 0)                # 8 bytes arrive at once, 6 expected
    assert d.poll(10 ** 6) is None
    assert d.overruns == 1
