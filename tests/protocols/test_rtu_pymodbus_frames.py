# cpython-only
"""Interop without I/O: pymodbus 3.16's PDU classes and RTU framer against our codec.

pymodbus request frame -> our slave -> pymodbus decodes our response, and
our master's request frame -> pymodbus's server-side decoder -> pymodbus response frame ->
our master decodes it. Byte-for-byte agreement on both sides of every function code.
"""

import pytest
from proto_refstore import RefStore

from protocols.modbus_rtu import COIL, DISCRETE, HOLDING, INPUT, ModbusError, SlaveProtocol, master

pytest.importorskip("pymodbus")
from pymodbus.framer import FramerRTU  # noqa: E402
from pymodbus.pdu import DecodePDU, ExceptionResponse  # noqa: E402
from pymodbus.pdu import bit_message as bm  # noqa: E402
from pymodbus.pdu import mei_message as mm  # noqa: E402
from pymodbus.pdu import register_message as rm  # noqa: E402

UNIT = 12


def _client_framer():
    return FramerRTU(DecodePDU(is_server=False))


def _server_framer():
    return FramerRTU(DecodePDU(is_server=True))


def _roundtrip(pdu):
    """pymodbus request -> bytes -> our slave -> bytes -> pymodbus response PDU."""
    store = RefStore()
    slave = SlaveProtocol(UNIT, store, {0: "smartcross", 1: "SCN", 2: "1.0", 5: "node-v1"})
    frame = _client_framer().buildFrame(pdu)
    resp = slave.handle(frame)
    assert resp is not None
    used, decoded = _client_framer().handleFrame(bytes(resp), UNIT, 0)
    assert used == len(resp) and decoded is not None
    return decoded, store


def test_pymodbus_requests_to_our_slave():
    r, st = _roundtrip(bm.ReadCoilsRequest(address=4, count=13, dev_id=UNIT))
    assert list(r.bits[:13]) == [bool(b) for b in st.data[COIL][4:17]]
    r, st = _roundtrip(bm.ReadDiscreteInputsRequest(address=0, count=8, dev_id=UNIT))
    assert list(r.bits[:8]) == [bool(b) for b in st.data[DISCRETE][0:8]]
    r, st = _roundtrip(rm.ReadHoldingRegistersRequest(address=7, count=3, dev_id=UNIT))
    assert list(r.registers) == st.data[HOLDING][7:10]
    r, st = _roundtrip(rm.ReadInputRegistersRequest(address=7, count=3, dev_id=UNIT))
    assert list(r.registers) == st.data[INPUT][7:10]
    r, st = _roundtrip(bm.WriteSingleCoilRequest(address=1, bits=[True], dev_id=UNIT))
    assert st.data[COIL][1] == 1 and r.address == 1
    r, st = _roundtrip(rm.WriteSingleRegisterRequest(address=2, registers=[0x1234],
                                                     dev_id=UNIT))
    assert st.data[HOLDING][2] == 0x1234
    r, st = _roundtrip(bm.WriteMultipleCoilsRequest(address=3, bits=[True, False, True],
                                                    dev_id=UNIT))
    assert st.data[COIL][3:6] == [1, 0, 1] and r.count == 3
    r, st = _roundtrip(rm.WriteMultipleRegistersRequest(address=3, registers=[1, 2, 3],
                                                        dev_id=UNIT))
    assert st.data[HOLDING][3:6] == [1, 2, 3] and r.count == 3
    r, st = _roundtrip(rm.ReadWriteMultipleRegistersRequest(
        read_address=0, read_count=4, write_address=1, write_registers=[9, 9], dev_id=UNIT))
    assert list(r.registers) == [0, 9, 9, 21]
    r, st = _roundtrip(mm.ReadDeviceInformationRequest(read_code=2, object_id=0, dev_id=UNIT))
    assert r.information[5] == b"node-v1" and r.information[0] == b"smartcross"


def test_our_exceptions_decode_in_pymodbus():
    r, st = _roundtrip(rm.ReadHoldingRegistersRequest(address=299, count=3, dev_id=UNIT))
    assert isinstance(r, ExceptionResponse) and r.exception_code == 2


def _serve(request, response_pdu):
    """Check pymodbus parses our request, then decode pymodbus's response with our master."""
    used, parsed = _server_framer().handleFrame(request, UNIT, 0)
    assert used == len(request) and parsed is not None
    response_pdu.dev_id = UNIT
    return parsed, master.decode(request, _server_framer().buildFrame(response_pdu))


def test_our_requests_to_pymodbus():
    p, got = _serve(master.read_coils(UNIT, 5, 10),
                    bm.ReadCoilsResponse(bits=[True, False] * 5))
    assert (p.function_code, p.address, p.count) == (1, 5, 10)
    assert got == [1, 0] * 5
    p, got = _serve(master.read_discrete_inputs(UNIT, 0, 3),
                    bm.ReadDiscreteInputsResponse(bits=[False, True, True]))
    assert p.function_code == 2 and got == [0, 1, 1]
    p, got = _serve(master.read_holding_registers(UNIT, 100, 2),
                    rm.ReadHoldingRegistersResponse(registers=[0xFFFF, 1]))
    assert (p.address, p.count) == (100, 2) and got == [0xFFFF, 1]
    p, got = _serve(master.read_input_registers(UNIT, 1, 1),
                    rm.ReadInputRegistersResponse(registers=[42]))
    assert p.function_code == 4 and got == [42]
    p, got = _serve(master.write_coil(UNIT, 9, True),
                    bm.WriteSingleCoilResponse(address=9, bits=[True]))
    assert p.bits[0] is True and got == (9, 1)
    p, got = _serve(master.write_register(UNIT, 9, 77),
                    rm.WriteSingleRegisterResponse(address=9, registers=[77]))
    assert list(p.registers) == [77] and got == (9, 77)
    p, got = _serve(master.write_coils(UNIT, 2, [1, 1, 0, 1]),
                    bm.WriteMultipleCoilsResponse(address=2, count=4))
    assert list(p.bits[:4]) == [True, True, False, True] and got == (2, 4)
    p, got = _serve(master.write_registers(UNIT, 2, [5, 6]),
                    rm.WriteMultipleRegistersResponse(address=2, count=2))
    assert list(p.registers) == [5, 6] and got == (2, 2)
    p, got = _serve(master.read_write_registers(UNIT, 16, 2, 0, [1, 2, 3]),
                    rm.ReadWriteMultipleRegistersResponse(registers=[8, 9]))
    assert (p.read_address, p.read_count, p.write_address) == (16, 2, 0)
    assert list(p.write_registers) == [1, 2, 3] and got == [8, 9]
    p, got = _serve(master.read_device_id(UNIT, 1, 0),
                    mm.ReadDeviceInformationResponse(read_code=1,
                                                     information={0: b"v", 1: b"p", 2: b"1"}))
    assert (p.read_code, p.object_id) == (1, 0)
    assert got["objects"] == {0: b"v", 1: b"p", 2: b"1"}


def test_pymodbus_exception_decodes_in_our_master():
    req = master.read_holding_registers(UNIT, 0, 1)
    exc = ExceptionResponse(3, exception_code=4, device_id=UNIT)
    with pytest.raises(ModbusError) as info:
        master.decode(req, _server_framer().buildFrame(exc))
    assert info.value.code == 4 and info.value.function == 3
