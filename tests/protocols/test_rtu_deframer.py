"""Deframing by silence with passed-in timestamps. Runs on CPython and MicroPython."""

from protocols.modbus_rtu import (
    Deframer,
    MasterDeframer,
    SlaveDeframer,
    char_us,
    master,
    request_length,
    silence_us,
)

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


# --- slave: a request ends by its length --------------------------------------------------

FC23 = master.read_write_registers(1, 16, 18, 0, [1, 2, 3, 4, 5, 6])      # 25 bytes
FC16 = master.write_registers(1, 0, [7, 8, 9])                            # 15 bytes
FC15 = master.write_coils(1, 0, [1, 0, 1])                                # 10 bytes
FC43 = master.read_device_id(1, 1, 0)                                     # 7 bytes
SIL = 1750


def _quiet_slave(t=0):
    """A SlaveDeframer that has seen the line quiet for a silence up to t + SIL."""
    d = SlaveDeframer(115200)
    d.poll(t)
    d.poll(t + SIL)
    return d


def test_request_lengths():
    for req in (REQ, REQ2, FC23, FC16, FC15, FC43, master.read_coils(1, 0, 9),
                master.write_coil(3, 1, True), master.read_input_registers(2, 0, 3)):
        assert request_length(req, len(req)) == len(req), req
    assert request_length(FC23, 10) == 0          # byte count not there yet
    assert request_length(FC16, 6) == 0
    assert request_length(bytes((1, 7, 0, 0)), 4) == 0          # no fixed shape: silence
    assert request_length(bytes((1, 0x2B, 0x0D, 0)), 4) == 0    # MEI other than 14


def test_slave_completes_a_request_by_its_length():
    for req in (REQ, FC23, FC16, FC15, FC43):
        d = _quiet_slave()
        t = 10000
        d.feed(req, t)
        f = d.poll(t)
        assert f is not None and bytes(f) == req, req            # no 1.75 ms wait
        assert d.frames == 1 and d.pending() == 0


def test_slave_length_in_pieces():
    d = _quiet_slave()
    t = 10000
    for k in range(len(FC23)):
        t += 96
        d.feed(FC23[k:k + 1], t)
        f = d.poll(t)
        if k < len(FC23) - 1:
            assert f is None, k
    assert bytes(f) == FC23


def test_slave_bad_crc_at_the_length_waits_for_the_silence():
    bad = bytearray(FC23)
    bad[12] ^= 0x10
    d = _quiet_slave()
    d.feed(bytes(bad), 10000)
    assert d.poll(10000) is None
    assert d.crc_errors == 0, "not counted until the frame ends"
    assert d.poll(10000 + SIL) is None
    assert d.crc_errors == 1 and d.frames == 0


def test_slave_longer_than_its_length_is_left_to_the_crc():
    from protocols.rtu.crc16 import check
    d = _quiet_slave()
    assert not check(REQ + b"\x55")
    d.feed(REQ + b"\x55", 10000)               # a good request and one more byte
    assert d.poll(10000) is None
    assert d.poll(10000 + SIL) is None
    assert d.crc_errors == 1


def test_slave_first_frame_without_a_time_reference_ends_by_silence():
    d = SlaveDeframer(115200)
    d.feed(REQ, 5000)                           # the node may have started mid-frame
    assert d.poll(5000) is None
    assert bytes(d.poll(5000 + SIL)) == REQ
    d.feed(REQ2, 20000)                         # after a silence: by length
    assert bytes(d.poll(20000)) == REQ2


def test_slave_resyncs_after_garbage():
    d = _quiet_slave()
    d.feed(b"\x13\x37\x00", 10000)
    d.feed(REQ, 10000 + 500 + len(REQ) * 96)    # no silence: one frame, unaligned
    assert d.poll(10000 + 500 + len(REQ) * 96) is None
    t = 10000 + 500 + len(REQ) * 96 + SIL
    # At the silence the merged frame fails its CRC; the request at its end is found.
    assert bytes(d.poll(t)) == REQ and d.crc_errors == 1 and d.resyncs == 1
    d.feed(REQ2, t + 5000)                      # the next one, after the silence
    assert bytes(d.poll(t + 5000)) == REQ2      # by length: the line is in step again


def test_slave_after_a_length_end_the_next_frame_needs_a_silence():
    d = _quiet_slave()
    d.feed(REQ, 10000)
    assert bytes(d.poll(10000)) == REQ
    d.feed(REQ2, 10000 + 300 + len(REQ2) * 96)  # 0.3 ms later: not a frame boundary
    assert d.poll(10000 + 300 + len(REQ2) * 96) is None
    t = 10000 + 300 + len(REQ2) * 96 + SIL
    assert bytes(d.poll(t)) == REQ2             # its own CRC is right: by silence


def test_slave_quiet_line_seen_by_feed_gap():
    d = _quiet_slave()
    d.feed(REQ, 10000)
    d.poll(10000)
    d.feed(REQ2, 10000 + SIL + len(REQ2) * 96)   # the gap itself was a silence
    assert bytes(d.poll(10000 + SIL + len(REQ2) * 96)) == REQ2


def test_slave_reset_is_a_frame_boundary():
    d = SlaveDeframer(115200)
    d.feed(REQ[:3], 0)
    d.reset()                                   # after the node's own transmission
    d.feed(REQ2, 100)
    assert bytes(d.poll(100)) == REQ2


def test_slave_unknown_function_ends_by_silence():
    from protocols.rtu.crc16 import put
    req = bytearray(6)
    req[0], req[1], req[2], req[3] = 1, 7, 0, 0
    put(req, 4)
    d = _quiet_slave()
    d.feed(bytes(req), 10000)
    assert d.poll(10000) is None
    assert bytes(d.poll(10000 + SIL)) == bytes(req)


def test_slave_wrapping_ticks():
    period = 1 << 30
    d = SlaveDeframer(115200, ticks_period=period)
    t0 = period - 1000
    d.poll(t0)
    d.poll((t0 + SIL) % period)
    d.feed(REQ, (t0 + 3000) % period)
    assert bytes(d.poll((t0 + 3000) % period)) == REQ
