"""The slave: every function code, exceptions, broadcast, addressing, bad CRC, FC23 order.
Requests are built with the master module and checked byte for byte where the spec gives
the bytes. Runs on CPython and MicroPython."""

from proto_refstore import RefStore

from protocols.modbus_rtu import (
    COIL,
    DEVICE_FAILURE,
    HOLDING,
    ILLEGAL_DATA_ADDRESS,
    ILLEGAL_DATA_VALUE,
    ILLEGAL_FUNCTION,
    OBJ_MODEL_NAME,
    OBJ_USER_APPLICATION_NAME,
    SlaveProtocol,
    crc16,
    master,
)
from protocols.rtu.crc16 import put

UNIT = 7


def _slave(size=300):
    store = RefStore(size)
    ident = {0: "smartcross", 1: "SCN-ESP32", 2: "1.0", OBJ_MODEL_NAME: "node-v1",
             OBJ_USER_APPLICATION_NAME: "junction 12 node 3"}
    return SlaveProtocol(UNIT, store, ident), store


def _adu(*body):
    buf = bytearray(len(body) + 2)
    buf[:len(body)] = bytes(body)
    put(buf, len(body))
    return bytes(buf)


def _call(slave, req):
    r = slave.handle(req)
    return None if r is None else bytes(r)


def _exc(slave, req):
    """The exception code the slave answers `req` with (the response must be one)."""
    r = _call(slave, req)
    assert r is not None and len(r) == 5 and r[1] == req[1] | 0x80 and crc16(r) == 0, r
    return r[2]


def test_read_coils():
    s, st = _slave()
    req = master.read_coils(UNIT, 3, 11)
    assert master.decode(req, _call(s, req)) == st.data[COIL][3:14]


def test_read_coils_bytes_as_in_the_spec():
    # Spec example shape: 10 coils packed LSB first, unused high bits zero.
    s, st = _slave()
    st.data[COIL][0:10] = [1, 0, 1, 1, 0, 0, 1, 1, 1, 0]
    r = _call(s, master.read_coils(UNIT, 0, 10))
    assert r[:5] == bytes((UNIT, 1, 2, 0xCD, 0x01))


def test_read_discrete_inputs():
    s, st = _slave()
    req = master.read_discrete_inputs(UNIT, 0, 2000 if st.size >= 2000 else st.size)
    assert master.decode(req, _call(s, req)) == st.data["discrete"][:st.size]


def test_read_holding_registers():
    s, st = _slave()
    req = master.read_holding_registers(UNIT, 10, 125)
    r = _call(s, req)
    assert len(r) == 5 + 250
    assert master.decode(req, r) == st.data[HOLDING][10:135]


def test_read_input_registers():
    s, st = _slave()
    req = master.read_input_registers(UNIT, 299, 1)
    assert master.decode(req, _call(s, req)) == [1299]


def test_write_single_coil_echoes():
    s, st = _slave()
    for on in (1, 0, 1):
        req = master.write_coil(UNIT, 5, on)
        r = _call(s, req)
        assert r == req
        assert master.decode(req, r) == (5, on)
        assert st.data[COIL][5] == on


def test_write_single_coil_rejects_other_values():
    s, st = _slave()
    assert _exc(s, _adu(UNIT, 5, 0, 5, 0x12, 0x34)) == ILLEGAL_DATA_VALUE
    assert _exc(s, _adu(UNIT, 5, 0, 5, 0x00, 0xFF)) == ILLEGAL_DATA_VALUE


def test_write_single_register_echoes():
    s, st = _slave()
    req = master.write_register(UNIT, 42, 0xBEEF)
    r = _call(s, req)
    assert r == req and master.decode(req, r) == (42, 0xBEEF)
    assert st.data[HOLDING][42] == 0xBEEF


def test_write_multiple_coils():
    s, st = _slave()
    bits = [1, 1, 0, 1, 0, 0, 0, 1, 1, 0, 1]
    req = master.write_coils(UNIT, 20, bits)
    r = _call(s, req)
    assert master.decode(req, r) == (20, len(bits))
    assert st.data[COIL][20:31] == bits


def test_write_multiple_registers():
    s, st = _slave()
    values = list(range(1000, 1123))          # 123 = the limit
    req = master.write_registers(UNIT, 100, values)
    assert master.decode(req, _call(s, req)) == (100, 123)
    assert st.data[HOLDING][100:223] == values


def test_fc23_writes_before_reading():
    s, st = _slave()
    req = master.read_write_registers(UNIT, 0, 8, 2, [0xAAAA, 0xBBBB, 0xCCCC])
    got = master.decode(req, _call(s, req))
    assert got[2:5] == [0xAAAA, 0xBBBB, 0xCCCC]
    assert [e[0] for e in st.log] == ["write_regs", "read_regs"]


def test_fc23_limits():
    s, st = _slave()
    ok = master.read_write_registers(UNIT, 0, 125, 0, [1] * 121)
    assert len(master.decode(ok, _call(s, ok))) == 125
    assert _exc(s, master.read_write_registers(UNIT, 0, 126, 0, [1])) == ILLEGAL_DATA_VALUE
    assert _exc(s, master.read_write_registers(UNIT, 0, 1, 0, [1] * 122)) == ILLEGAL_DATA_VALUE
    assert _exc(s, master.read_write_registers(UNIT, 0, 0, 0, [1])) == ILLEGAL_DATA_VALUE


def test_fc23_write_stays_applied_when_read_fails():
    s, st = _slave()
    req = master.read_write_registers(UNIT, 290, 20, 1, [77])
    assert _exc(s, req) == ILLEGAL_DATA_ADDRESS
    assert st.data[HOLDING][1] == 77


def test_quantity_limits():
    s, st = _slave(4000)
    assert _exc(s, master.read_coils(UNIT, 0, 0)) == ILLEGAL_DATA_VALUE
    assert _exc(s, master.read_coils(UNIT, 0, 2001)) == ILLEGAL_DATA_VALUE
    assert len(master.decode(master.read_coils(UNIT, 0, 2000),
                             _call(s, master.read_coils(UNIT, 0, 2000)))) == 2000
    assert _exc(s, master.read_discrete_inputs(UNIT, 0, 2001)) == ILLEGAL_DATA_VALUE
    assert _exc(s, master.read_holding_registers(UNIT, 0, 126)) == ILLEGAL_DATA_VALUE
    assert _exc(s, master.read_input_registers(UNIT, 0, 0)) == ILLEGAL_DATA_VALUE
    assert _exc(s, master.write_registers(UNIT, 0, [0] * 124)) == ILLEGAL_DATA_VALUE
    assert _exc(s, master.write_registers(UNIT, 0, [])) == ILLEGAL_DATA_VALUE
    assert _exc(s, master.write_coils(UNIT, 0, [1] * 1969)) == ILLEGAL_DATA_VALUE
    req = master.write_coils(UNIT, 0, [1] * 1968)
    assert master.decode(req, _call(s, req)) == (0, 1968)


def test_address_beyond_65535_is_illegal_address():
    s, st = _slave()
    assert _exc(s, master.read_holding_registers(UNIT, 0xFFFF, 2)) == ILLEGAL_DATA_ADDRESS
    assert _exc(s, master.read_coils(UNIT, 0xFFF0, 17)) == ILLEGAL_DATA_ADDRESS
    assert st.log == []                        # refused before the datastore was asked


def test_datastore_address_refusal():
    s, st = _slave()
    assert _exc(s, master.read_holding_registers(UNIT, 299, 2)) == ILLEGAL_DATA_ADDRESS
    assert _exc(s, master.write_coil(UNIT, 300, 1)) == ILLEGAL_DATA_ADDRESS


def test_quantity_checked_before_address():
    s, st = _slave()
    assert _exc(s, master.read_holding_registers(UNIT, 0xFFFF, 200)) == ILLEGAL_DATA_VALUE


def test_unknown_function():
    s, st = _slave()
    for fc in (0, 7, 8, 0x11, 0x14, 0x16, 0x18, 0x2A, 0x7F):
        assert _exc(s, _adu(UNIT, fc, 0, 0, 0, 1)) == ILLEGAL_FUNCTION


def test_wrong_mei_type_is_illegal_function():
    s, st = _slave()
    assert _exc(s, _adu(UNIT, 0x2B, 0x0D, 1, 0)) == ILLEGAL_FUNCTION


def test_malformed_requests_are_illegal_value():
    s, st = _slave()
    assert _exc(s, _adu(UNIT, 3, 0, 0, 0)) == ILLEGAL_DATA_VALUE             # too short
    assert _exc(s, _adu(UNIT, 3, 0, 0, 0, 1, 0)) == ILLEGAL_DATA_VALUE       # too long
    # FC16 byte count disagrees with the quantity
    assert _exc(s, _adu(UNIT, 16, 0, 0, 0, 2, 2, 0, 1)) == ILLEGAL_DATA_VALUE
    # FC15 byte count right, data missing
    assert _exc(s, _adu(UNIT, 15, 0, 0, 0, 9, 2, 0xFF)) == ILLEGAL_DATA_VALUE
    assert _exc(s, _adu(UNIT, 23, 0, 0, 0, 1, 0, 0, 0, 1, 2, 0)) == ILLEGAL_DATA_VALUE


def test_datastore_exception_is_device_failure():
    s, st = _slave()
    st.fail = True
    assert _exc(s, master.read_holding_registers(UNIT, 0, 1)) == DEVICE_FAILURE
    assert _exc(s, master.write_register(UNIT, 0, 1)) == DEVICE_FAILURE
    assert _exc(s, master.read_coils(UNIT, 0, 1)) == DEVICE_FAILURE
    assert s.exceptions == 3


def test_datastore_returning_wrong_length_is_device_failure():
    s, st = _slave()
    st.read_regs = lambda kind, addr, count: [1]
    assert _exc(s, master.read_holding_registers(UNIT, 0, 2)) == DEVICE_FAILURE


def test_exception_decodes_on_the_master():
    s, st = _slave()
    req = master.read_holding_registers(UNIT, 299, 5)
    try:
        master.decode(req, _call(s, req))
    except Exception as e:
        assert e.code == ILLEGAL_DATA_ADDRESS and e.function == 3
    else:
        raise AssertionError("no ModbusError")


def test_broadcast_writes_are_applied_and_not_answered():
    s, st = _slave()
    assert _call(s, master.write_register(0, 9, 4321)) is None
    assert _call(s, master.write_registers(0, 10, [1, 2])) is None
    assert _call(s, master.write_coil(0, 1, 1)) is None
    assert _call(s, master.write_coils(0, 2, [1, 1])) is None
    assert st.data[HOLDING][9:12] == [4321, 1, 2]
    assert st.data[COIL][1:4] == [1, 1, 1]


def test_broadcast_reads_and_errors_are_silent():
    s, st = _slave()
    assert _call(s, master.read_holding_registers(0, 0, 3)) is None
    assert _call(s, master.read_write_registers(0, 0, 3, 0, [5])) is None
    assert _call(s, master.read_device_id(0)) is None
    assert _call(s, master.write_register(0, 5000, 1)) is None      # bad address: silent
    assert _call(s, _adu(0, 0x41, 0, 0)) is None                     # bad function: silent
    assert st.data[HOLDING][0] == 0
    assert [e[0] for e in st.log] == []


def test_other_addresses_are_ignored():
    s, st = _slave()
    for unit in (1, 6, 8, 247, 248, 255):
        assert _call(s, master.write_register(unit, 0, 99)) is None
    assert st.data[HOLDING][0] == 0 and s.ignored == 6


def test_bad_crc_is_never_answered():
    s, st = _slave()
    req = bytearray(master.write_register(UNIT, 0, 99))
    req[-1] ^= 1
    assert _call(s, bytes(req)) is None
    assert st.data[HOLDING][0] == 0 and s.crc_errors == 1
    assert _call(s, b"") is None and _call(s, b"\x07\x03") is None


def test_response_buffer_is_reused_but_correct():
    s, st = _slave()
    a = _call(s, master.read_holding_registers(UNIT, 0, 2))
    b = _call(s, master.read_holding_registers(UNIT, 2, 2))
    assert a != b


def test_counters():
    s, st = _slave()
    _call(s, master.read_holding_registers(UNIT, 0, 1))
    _call(s, master.read_holding_registers(UNIT, 0, 0))
    _call(s, master.read_holding_registers(3, 0, 1))
    assert (s.frames_ok, s.exceptions, s.ignored) == (2, 1, 1)


def test_slave_address_range():
    for bad in (0, 248):
        try:
            SlaveProtocol(bad, RefStore())
        except ValueError:
            pass
        else:
            raise AssertionError(f"address {bad} accepted")
