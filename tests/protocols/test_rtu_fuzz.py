# cpython-only
"""Property tests (hypothesis): random and mutated byte streams through Deframer +
SlaveProtocol never raise and never answer a frame with a bad CRC; every well-formed request
is answered exactly as a small reference model says (result, exception code and the state
of the datastore afterwards)."""

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from proto_refstore import RefStore

from protocols.modbus_rtu import (
    COIL,
    DEVICE_FAILURE,
    HOLDING,
    ILLEGAL_DATA_ADDRESS,
    ILLEGAL_DATA_VALUE,
    MAX_ADU,
    Deframer,
    ModbusError,
    SlaveDeframer,
    SlaveProtocol,
    master,
)

UNIT = 17
SIZE = 300
BAUD = 19200
CHAR = 573          # us per character at 19200 baud, 11 bits (rounded up)
SILENCE = 2006

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _crc_ok(frame):
    # Independent bitwise CRC, not the codec's table.
    crc = 0xFFFF
    for b in frame[:-2]:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return len(frame) >= 4 and frame[-2] == crc & 0xFF and frame[-1] == crc >> 8


def _deliver(deframer, slave, chunks):
    """Feed (gap_us, bytes) chunks; return [(request frame, response or None)]."""
    out = []
    t = 1000
    for gap, data in chunks:
        t += gap + len(data) * CHAR
        deframer.feed(data, t)
        _drain(deframer, slave, t, out)
    _drain(deframer, slave, t + SILENCE, out)
    return out


def _drain(deframer, slave, t, out):
    while True:
        f = deframer.poll(t)
        if f is None:
            return
        req = bytes(f)
        r = slave.handle(f)
        out.append((req, None if r is None else bytes(r)))


# --- random bytes -------------------------------------------------------------------------

chunks = st.lists(st.tuples(st.integers(0, 5000), st.binary(min_size=1, max_size=40)),
                  max_size=30)


@SETTINGS
@given(chunks)
def test_random_streams_never_raise_nor_answer_bad_crc(stream):
    store = RefStore(SIZE)
    deframer = Deframer(BAUD)
    slave = SlaveProtocol(UNIT, store)
    for req, resp in _deliver(deframer, slave, stream):
        assert _crc_ok(req)
        if resp is not None:
            assert req[0] == UNIT and _crc_ok(resp) and resp[0] == UNIT


@SETTINGS
@given(chunks)
def test_slave_deframer_never_answers_bad_crc(stream):
    store = RefStore(SIZE)
    slave = SlaveProtocol(UNIT, store)
    for req, resp in _deliver(SlaveDeframer(BAUD), slave, stream):
        assert _crc_ok(req)
        if resp is not None:
            assert req[0] == UNIT and _crc_ok(resp) and resp[0] == UNIT


def _frames(deframer, stream):
    out = []
    _deliver(deframer, _Collect(out), stream)
    return out


class _Collect:
    def __init__(self, out):
        self.out = out

    def handle(self, frame):
        self.out.append(bytes(frame))


@SETTINGS
@given(st.lists(st.binary(min_size=1, max_size=40), max_size=20))
def test_slave_deframer_frames_like_silence_when_chunks_are_frames(bursts):
    """Bursts separated by silences: ending a request by its length changes no frame."""
    stream = [(SILENCE, b) for b in bursts]
    assert _frames(SlaveDeframer(BAUD), stream) == _frames(Deframer(BAUD), stream)


@SETTINGS
@given(chunks, st.data())
def test_slave_deframer_resyncs_after_garbage(garbage, data):
    """Whatever came before, a silence then a well-formed request: the request is returned
    as soon as its last byte is in, without waiting for the next silence."""
    req = data.draw(requests())
    assume(len(req) <= MAX_ADU)
    d = SlaveDeframer(BAUD)
    t = 1000
    d.poll(t)                               # the node polls from the start
    for gap, chunk in garbage:
        t += gap + len(chunk) * CHAR
        d.feed(chunk, t)
        d.poll(t)
    t += SILENCE
    d.poll(t)                               # (the node polls every ms: it sees the silence)
    while d.poll(t) is not None:            # drain what the silence ended
        pass
    got = None
    for k in range(len(req)):
        t += CHAR
        d.feed(req[k:k + 1], t)
        f = d.poll(t)
        if f is not None:
            assert got is None
            got = bytes(f)
            assert k == len(req) - 1, "not before its last byte"
    if req[1] in (1, 2, 3, 4, 5, 6, 15, 16, 23):
        assert got == req


# --- well-formed requests and a reference model --------------------------------------------

small_addr = st.integers(0, SIZE + 5)
addr = st.integers(0, 0xFFFF) | small_addr | st.integers(0, SIZE - 40)
unit = st.sampled_from([UNIT, UNIT, UNIT, UNIT, UNIT, 0, 3])


@st.composite
def requests(draw):
    fc = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 15, 16, 23]))
    u = draw(unit)
    a = draw(addr)
    if fc in (1, 2):
        n = draw(st.integers(0, 2001) | st.integers(1, 40) | st.integers(1, 40))
        return (master.read_coils if fc == 1 else master.read_discrete_inputs)(u, a, n)
    if fc in (3, 4):
        n = draw(st.integers(0, 126) | st.integers(1, 10) | st.integers(1, 10))
        return (master.read_holding_registers if fc == 3 else master.read_input_registers)(
            u, a, n)
    if fc == 5:
        return master.write_coil(u, a, draw(st.booleans()))
    if fc == 6:
        return master.write_register(u, a, draw(st.integers(0, 0xFFFF)))
    if fc == 15:
        bits = draw(st.lists(st.integers(0, 1), min_size=0, max_size=60))
        if draw(st.booleans()) and bits:
            bits = bits * 33                      # sometimes near and above 1968
        return master.write_coils(u, a, bits)
    if fc == 16:
        n = draw(st.sampled_from([0, 1, 2, 5, 123, 124]))
        return master.write_registers(u, a, draw(st.lists(st.integers(0, 0xFFFF),
                                                          min_size=n, max_size=n)))
    n = draw(st.sampled_from([0, 1, 3, 6, 6, 121, 122]))
    values = draw(st.lists(st.integers(0, 0xFFFF), min_size=n, max_size=n))
    rn = draw(st.integers(0, 126) | st.integers(1, 20))
    return master.read_write_registers(u, draw(addr), rn, a, values)


def _u16(b, i):
    return (b[i] << 8) | b[i + 1]


def _model(req, data, fail):
    """(expected result or ('exc', code), data after). `data` is mutated in place."""
    fc = req[1]

    def span(a, n, limit):
        if not 1 <= n <= limit:
            return ILLEGAL_DATA_VALUE
        if a + n > 0x10000:
            return ILLEGAL_DATA_ADDRESS         # the codec refuses before the datastore
        if fail:
            return DEVICE_FAILURE               # RefStore fails before it checks its size
        if a + n > SIZE:
            return ILLEGAL_DATA_ADDRESS
        return 0

    if fc in (1, 2, 3, 4):
        a, n = _u16(req, 2), _u16(req, 4)
        e = span(a, n, 2000 if fc <= 2 else 125)
        if e:
            return ("exc", e)
        kind = ("coil", "discrete", "holding", "input")[fc - 1]
        return list(data[kind][a:a + n])
    if fc in (5, 6):
        a, v = _u16(req, 2), _u16(req, 4)
        e = span(a, 1, 1)
        if e:
            return ("exc", e)
        if fc == 5:
            data[COIL][a] = 1 if v else 0
            return (a, 1 if v else 0)
        data[HOLDING][a] = v
        return (a, v)
    if fc in (15, 16):
        a, n = _u16(req, 2), _u16(req, 4)
        e = span(a, n, 1968 if fc == 15 else 123)
        if e:
            return ("exc", e)
        if fc == 15:
            data[COIL][a:a + n] = [(req[7 + (i >> 3)] >> (i & 7)) & 1 for i in range(n)]
        else:
            data[HOLDING][a:a + n] = [_u16(req, 7 + 2 * i) for i in range(n)]
        return (a, n)
    ra, rn, wa, wn = _u16(req, 2), _u16(req, 4), _u16(req, 6), _u16(req, 8)
    if not (1 <= rn <= 125 and 1 <= wn <= 121):
        return ("exc", ILLEGAL_DATA_VALUE)
    if ra + rn > 0x10000 or wa + wn > 0x10000:
        return ("exc", ILLEGAL_DATA_ADDRESS)
    e = span(wa, wn, 121)
    if e:
        return ("exc", e)
    data[HOLDING][wa:wa + wn] = [_u16(req, 11 + 2 * i) for i in range(wn)]
    e = span(ra, rn, 125)
    if e:
        return ("exc", e)
    return list(data[HOLDING][ra:ra + rn])


@SETTINGS
@given(st.lists(requests(), min_size=1, max_size=8), st.booleans(),
       st.lists(st.integers(SILENCE, 20000), min_size=8, max_size=8))
def test_well_formed_requests_match_the_reference_model(reqs, fail, gaps):
    reqs = [r for r in reqs if len(r) <= MAX_ADU]   # longer ones cannot exist on RTU
    store = RefStore(SIZE)
    store.fail = fail
    model = store.snapshot()
    deframer = Deframer(BAUD)
    slave = SlaveProtocol(UNIT, store)
    got = _deliver(deframer, slave, list(zip(gaps, reqs)))
    assert [g[0] for g in got] == reqs          # every frame came through, in order
    for req, resp in got:
        if req[0] not in (UNIT, 0):
            assert resp is None
            continue
        before = {k: list(v) for k, v in model.items()}
        want = _model(req, model, fail)
        if req[0] == 0:
            assert resp is None
            if req[1] not in (5, 6, 15, 16):
                model.clear()
                model.update(before)            # broadcast reads/FC23: nothing happens
            elif isinstance(want, tuple) and want[0] == "exc":
                model.clear()
                model.update(before)
            continue
        assert resp is not None
        try:
            result = master.decode(req, resp)
        except ModbusError as e:
            result = ("exc", e.code)
        assert result == want, (req.hex(), resp.hex())
    assert store.data == model


# --- mutated well-formed frames -------------------------------------------------------------

@SETTINGS
@given(st.lists(requests(), min_size=1, max_size=4), st.data())
def test_mutated_frames_are_never_answered_unless_crc_is_valid(reqs, data):
    stream = b"".join(reqs)
    buf = bytearray(stream)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        i = data.draw(st.integers(0, max(0, len(buf) - 1)))
        if op == "flip" and buf:
            buf[i] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "insert":
            buf[i:i] = bytes((data.draw(st.integers(0, 255)),))
        elif buf:
            del buf[i]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(buf)), max_size=6)))
    pieces = []
    last = 0
    for c in cuts + [len(buf)]:
        if c > last:
            pieces.append((data.draw(st.integers(0, 3 * SILENCE)), bytes(buf[last:c])))
            last = c
    store = RefStore(SIZE)
    slave = SlaveProtocol(UNIT, store)
    for req, resp in _deliver(Deframer(BAUD), slave, pieces):
        assert _crc_ok(req)
        if resp is not None:
            assert _crc_ok(resp)
    # and straight into the slave, without the deframer's CRC check in front of it
    direct = SlaveProtocol(UNIT, RefStore(SIZE))
    for k in range(0, len(buf), 7):
        frame = bytes(buf[k:k + data.draw(st.integers(0, 40))])
        if direct.handle(frame) is not None:
            assert _crc_ok(frame)
