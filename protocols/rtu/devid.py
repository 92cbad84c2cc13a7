"""Read Device Identification (FC43 / MEI 14): the slave's objects and the response PDU, and
the master's decoding of it.

Basic objects 0x00-0x02 (VendorName, ProductCode, MajorMinorRevision) are mandatory;
regular objects 0x03-0x7F (VendorUrl, ProductName, ModelName, UserApplicationName, ...)
are optional. Stream access (codes 01 basic, 02 regular, 03 extended) returns the objects of
the category from the requested object id on, splitting over several transactions ("more
follows") when they do not fit in one PDU; an unknown start id restarts at object 0.
Individual access (code 04) returns one object, or ILLEGAL_DATA_ADDRESS if it is unknown.
"""

from .const import (
    DEVID_SPECIFIC,
    ENCAPSULATED_INTERFACE,
    ILLEGAL_DATA_ADDRESS,
    ILLEGAL_DATA_VALUE,
    ILLEGAL_FUNCTION,
    MEI_READ_DEVICE_ID,
    FrameError,
    ModbusError,
)

MAX_PDU = 253
_HEADER = 7                 # fc, mei, code, conformity, more follows, next id, count
_LAST_ID = (0, 0x02, 0x7F, 0xFF)   # last object id of each stream category (codes 1..3)
MAX_OBJECT = MAX_PDU - _HEADER - 2


def _as_bytes(v):
    if isinstance(v, str):
        return v.encode("utf-8")
    return bytes(v)


class Identity:
    """The identification objects of one slave: {object id: str or bytes}."""

    def __init__(self, objects=None):
        objs = {0: b"", 1: b"", 2: b""}
        if objects:
            for k in objects:
                if not 0 <= k <= 0xFF:
                    raise ValueError("object id must be 0..255")
                v = _as_bytes(objects[k])
                if len(v) > MAX_OBJECT:
                    raise ValueError("identification object too long")
                objs[k] = v
        self.objects = objs
        self.ids = sorted(objs)
        self.conformity = 0x82 if self.ids[-1] > 0x02 else 0x81   # + individual access

    def respond(self, pdu, buf, pos):
        """Write the response PDU for request `pdu` at buf[pos]; return the end index."""
        if len(pdu) < 2 or pdu[1] != MEI_READ_DEVICE_ID:
            raise ModbusError(ILLEGAL_FUNCTION)
        if len(pdu) != 4:
            raise ModbusError(ILLEGAL_DATA_VALUE)
        code = pdu[2]
        obj = pdu[3]
        if code < 1 or code > DEVID_SPECIFIC:
            raise ModbusError(ILLEGAL_DATA_VALUE)
        objs = self.objects
        if code == DEVID_SPECIFIC:
            if obj not in objs:
                raise ModbusError(ILLEGAL_DATA_ADDRESS)
            todo = [obj]
        else:
            last = _LAST_ID[code]
            todo = [i for i in self.ids if i <= last]
            if obj not in todo:
                obj = 0
            todo = todo[todo.index(obj):]
        buf[pos] = ENCAPSULATED_INTERFACE
        buf[pos + 1] = MEI_READ_DEVICE_ID
        buf[pos + 2] = code
        buf[pos + 3] = self.conformity
        buf[pos + 4] = 0
        buf[pos + 5] = 0
        k = pos + _HEADER
        limit = pos + MAX_PDU
        count = 0
        for i in todo:
            v = objs[i]
            if k + 2 + len(v) > limit:
                buf[pos + 4] = 0xFF
                buf[pos + 5] = i
                break
            buf[k] = i
            buf[k + 1] = len(v)
            buf[k + 2:k + 2 + len(v)] = v
            k += 2 + len(v)
            count += 1
        buf[pos + 6] = count
        return k


def decode(pdu):
    """The response PDU as {"code", "conformity", "more", "next", "objects": {id: bytes}}."""
    if len(pdu) < _HEADER or pdu[1] != MEI_READ_DEVICE_ID:
        raise FrameError("not a device identification response")
    objects = {}
    k = _HEADER
    for _ in range(pdu[6]):
        if k + 2 > len(pdu) or k + 2 + pdu[k + 1] > len(pdu):
            raise FrameError("truncated identification object")
        objects[pdu[k]] = bytes(pdu[k + 2:k + 2 + pdu[k + 1]])
        k += 2 + pdu[k + 1]
    if k != len(pdu):
        raise FrameError("trailing bytes after identification objects")
    return {"code": pdu[2], "conformity": pdu[3], "more": pdu[4] == 0xFF,
            "next": pdu[5], "objects": objects}
