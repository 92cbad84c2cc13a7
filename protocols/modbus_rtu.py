"""Modbus RTU, sans-IO, for the node (MicroPython) and the cabinet's tools (CPython).

h11-style: bytes in -> frames/responses out, requests in -> bytes out. No port, no clock:
timestamps are passed in. The layers, each knowing only the one below it:

    rtu/crc16.py     CRC-16/MODBUS
    rtu/deframer.py  byte stream + arrival times -> frames (Deframer, SlaveDeframer,
                     MasterDeframer)
    rtu/slave.py     request frame -> response frame, through a datastore (SlaveProtocol)
    rtu/devid.py     FC43/14 read device identification
    rtu/master.py    requests -> bytes, response bytes -> results

`master` is imported on first use (a module __getattr__): a node that only serves never
loads it, nor pays its heap.

A node's receive loop:

    deframer = SlaveDeframer(115200, ticks_period=1 << 30)
    slave = SlaveProtocol(address, datastore, ident={OBJ_VENDOR_NAME: "smartcross", ...})
    ...
    deframer.feed(uart_bytes, time.ticks_us())        # whenever bytes arrive
    frame = deframer.poll(time.ticks_us())            # often (every ms or so); a request
                                                      # ends by its length, or by silence
    if frame is not None:
        response = slave.handle(frame)
        if response is not None:
            transmit(response); deframer.reset()      # drop our own echo on the bus
"""

from .rtu.const import (
    BROADCAST,
    COIL,
    DEVICE_FAILURE,
    DEVID_BASIC,
    DEVID_EXTENDED,
    DEVID_REGULAR,
    DEVID_SPECIFIC,
    DISCRETE,
    HOLDING,
    ILLEGAL_DATA_ADDRESS,
    ILLEGAL_DATA_VALUE,
    ILLEGAL_FUNCTION,
    INPUT,
    KINDS,
    MAX_ADU,
    MAX_READ_BITS,
    MAX_READ_REGS,
    MAX_RW_WRITE_REGS,
    MAX_WRITE_BITS,
    MAX_WRITE_REGS,
    OBJ_MAJOR_MINOR_REVISION,
    OBJ_MODEL_NAME,
    OBJ_PRODUCT_CODE,
    OBJ_PRODUCT_NAME,
    OBJ_USER_APPLICATION_NAME,
    OBJ_VENDOR_NAME,
    OBJ_VENDOR_URL,
    FrameError,
    ModbusError,
)
from .rtu.crc16 import check as check_crc
from .rtu.crc16 import crc16
from .rtu.deframer import (
    Deframer,
    MasterDeframer,
    SlaveDeframer,
    char_us,
    request_length,
    silence_us,
)
from .rtu.slave import SlaveProtocol


def __getattr__(name):
    # The master side, on demand: `from protocols.modbus_rtu import master` still works.
    if name == "master":
        from .rtu import master

        return master
    raise AttributeError(name)

__all__ = [
    "BROADCAST", "COIL", "DEVICE_FAILURE", "DEVID_BASIC", "DEVID_EXTENDED", "DEVID_REGULAR",
    "DEVID_SPECIFIC", "DISCRETE", "HOLDING", "ILLEGAL_DATA_ADDRESS", "ILLEGAL_DATA_VALUE",
    "ILLEGAL_FUNCTION", "INPUT", "KINDS", "MAX_ADU", "MAX_READ_BITS", "MAX_READ_REGS",
    "MAX_RW_WRITE_REGS", "MAX_WRITE_BITS", "MAX_WRITE_REGS", "OBJ_MAJOR_MINOR_REVISION",
    "OBJ_MODEL_NAME", "OBJ_PRODUCT_CODE", "OBJ_PRODUCT_NAME", "OBJ_USER_APPLICATION_NAME",
    "OBJ_VENDOR_NAME", "OBJ_VENDOR_URL", "Deframer", "FrameError", "MasterDeframer",
    "ModbusError", "SlaveDeframer", "SlaveProtocol", "char_us", "check_crc", "crc16",
    "request_length", "silence_us",
    "master",  # noqa: F822 - defined on first use by __getattr__
]
