"""FC43/14 read device identification. Runs on CPython and MicroPython."""

from proto_refstore import RefStore

from protocols.modbus_rtu import (
    ILLEGAL_DATA_ADDRESS,
    ILLEGAL_DATA_VALUE,
    OBJ_MAJOR_MINOR_REVISION,
    OBJ_MODEL_NAME,
    OBJ_PRODUCT_CODE,
    OBJ_USER_APPLICATION_NAME,
    OBJ_VENDOR_NAME,
    ModbusError,
    SlaveProtocol,
    master,
)

IDENT = {OBJ_VENDOR_NAME: "smartcross", OBJ_PRODUCT_CODE: "SCN-ESP32",
         OBJ_MAJOR_MINOR_REVISION: "1.2", OBJ_MODEL_NAME: "node-v1",
         OBJ_USER_APPLICATION_NAME: "junction 12 node 3"}


def _ask(slave, code, obj=0, unit=9):
    req = master.read_device_id(unit, code, obj)
    r = slave.handle(req)
    return master.decode(req, bytes(r))


def test_basic_stream():
    s = SlaveProtocol(9, RefStore(), IDENT)
    r = _ask(s, 1)
    assert r["objects"] == {0: b"smartcross", 1: b"SCN-ESP32", 2: b"1.2"}
    assert r["conformity"] == 0x82 and not r["more"] and r["next"] == 0 and r["code"] == 1


def test_regular_stream_includes_model_and_application():
    s = SlaveProtocol(9, RefStore(), IDENT)
    r = _ask(s, 2)
    assert r["objects"][OBJ_MODEL_NAME] == b"node-v1"
    assert r["objects"][OBJ_USER_APPLICATION_NAME] == b"junction 12 node 3"
    assert len(r["objects"]) == 5


def test_stream_from_an_object_id():
    s = SlaveProtocol(9, RefStore(), IDENT)
    assert sorted(_ask(s, 2, OBJ_MODEL_NAME)["objects"]) == [5, 6]


def test_unknown_start_restarts_at_zero():
    s = SlaveProtocol(9, RefStore(), IDENT)
    assert sorted(_ask(s, 2, 0x44)["objects"]) == [0, 1, 2, 5, 6]
    assert sorted(_ask(s, 1, OBJ_MODEL_NAME)["objects"]) == [0, 1, 2]


def test_individual_access():
    s = SlaveProtocol(9, RefStore(), IDENT)
    assert _ask(s, 4, OBJ_PRODUCT_CODE)["objects"] == {1: b"SCN-ESP32"}
    try:
        _ask(s, 4, 0x03)
    except ModbusError as e:
        assert e.code == ILLEGAL_DATA_ADDRESS
    else:
        raise AssertionError("unknown object answered")


def test_bad_access_code():
    s = SlaveProtocol(9, RefStore(), IDENT)
    for code in (0, 5, 0xFF):
        try:
            _ask(s, code)
        except ModbusError as e:
            assert e.code == ILLEGAL_DATA_VALUE
        else:
            raise AssertionError(f"code {code} answered")


def test_more_follows_when_objects_do_not_fit():
    big = dict(IDENT)
    big[3] = "u" * 200
    big[4] = "p" * 200
    s = SlaveProtocol(9, RefStore(), big)
    first = _ask(s, 2)
    assert first["more"] and first["next"] == 4
    assert sorted(first["objects"]) == [0, 1, 2, 3]
    rest = _ask(s, 2, first["next"])
    assert not rest["more"] and sorted(rest["objects"]) == [4, 5, 6]


def test_basic_only_device_conformity():
    s = SlaveProtocol(9, RefStore(), {0: "v", 1: "p", 2: "1"})
    assert _ask(s, 1)["conformity"] == 0x81


def test_defaults_when_no_ident():
    s = SlaveProtocol(9, RefStore())
    assert _ask(s, 1)["objects"] == {0: b"", 1: b"", 2: b""}
