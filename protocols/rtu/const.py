"""Modbus names shared by every layer of the codec: function codes, exception codes,
quantity limits, the four data kinds of the datastore interface, and ModbusError.

Numbers are from the Modbus Application Protocol Specification V1.1b3.
"""

# Function codes.
READ_COILS = 0x01
READ_DISCRETE_INPUTS = 0x02
READ_HOLDING_REGISTERS = 0x03
READ_INPUT_REGISTERS = 0x04
WRITE_SINGLE_COIL = 0x05
WRITE_SINGLE_REGISTER = 0x06
WRITE_MULTIPLE_COILS = 0x0F
WRITE_MULTIPLE_REGISTERS = 0x10
READ_WRITE_MULTIPLE_REGISTERS = 0x17
ENCAPSULATED_INTERFACE = 0x2B   # with MEI type 0x0E: read device identification
MEI_READ_DEVICE_ID = 0x0E

# Exception codes.
ILLEGAL_FUNCTION = 0x01
ILLEGAL_DATA_ADDRESS = 0x02
ILLEGAL_DATA_VALUE = 0x03
DEVICE_FAILURE = 0x04

EXCEPTION_NAMES = {
    ILLEGAL_FUNCTION: "illegal function",
    ILLEGAL_DATA_ADDRESS: "illegal data address",
    ILLEGAL_DATA_VALUE: "illegal data value",
    DEVICE_FAILURE: "server device failure",
}

# Quantity limits (per request).
MAX_READ_BITS = 2000        # FC01, FC02
MAX_WRITE_BITS = 1968       # FC15
MAX_READ_REGS = 125         # FC03, FC04, FC23 read part
MAX_WRITE_REGS = 123        # FC16
MAX_RW_WRITE_REGS = 121     # FC23 write part

BROADCAST = 0
MAX_ADU = 256               # address + PDU (<= 253) + CRC

# Read device identification: access codes and object ids.
DEVID_BASIC = 0x01
DEVID_REGULAR = 0x02
DEVID_EXTENDED = 0x03
DEVID_SPECIFIC = 0x04
OBJ_VENDOR_NAME = 0x00
OBJ_PRODUCT_CODE = 0x01
OBJ_MAJOR_MINOR_REVISION = 0x02
OBJ_VENDOR_URL = 0x03
OBJ_PRODUCT_NAME = 0x04
OBJ_MODEL_NAME = 0x05
OBJ_USER_APPLICATION_NAME = 0x06

# The four kinds of data the datastore serves (strings: readable in logs, interned on
# MicroPython so comparing them costs a pointer compare).
COIL = "coil"
DISCRETE = "discrete"
HOLDING = "holding"
INPUT = "input"
KINDS = (COIL, DISCRETE, HOLDING, INPUT)


class ModbusError(Exception):
    """A Modbus exception response, as a Python exception.

    The datastore raises it (usually ILLEGAL_DATA_ADDRESS or ILLEGAL_DATA_VALUE) to make
    the slave answer with that exception code; any other exception from the datastore
    becomes DEVICE_FAILURE. The master decoder raises it when the response is an
    exception response. `code` is the exception code.
    """

    def __init__(self, code, function=0):
        super().__init__(code, function)
        self.code = code
        self.function = function

    def __str__(self):
        name = EXCEPTION_NAMES.get(self.code, "?")
        return f"modbus exception {self.code} ({name}) to function {self.function}"


class FrameError(ValueError):
    """A response that is not a valid answer to the request (master side)."""
