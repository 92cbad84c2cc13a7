"""A plain reference datastore for the slave tests: dense lists, addresses >= size are
illegal, `fail` makes every call raise (to provoke DEVICE_FAILURE). MicroPython-safe."""

from protocols.modbus_rtu import (
    COIL,
    DISCRETE,
    HOLDING,
    ILLEGAL_DATA_ADDRESS,
    INPUT,
    ModbusError,
)


class RefStore:
    def __init__(self, size=300):
        self.size = size
        self.data = {
            COIL: [i % 3 == 0 and 1 or 0 for i in range(size)],
            DISCRETE: [i % 5 == 1 and 1 or 0 for i in range(size)],
            HOLDING: [(i * 7) & 0xFFFF for i in range(size)],
            INPUT: [(1000 + i) & 0xFFFF for i in range(size)],
        }
        self.fail = False
        self.log = []

    def _check(self, kind, addr, count):
        if self.fail:
            raise RuntimeError("datastore down")
        if addr + count > self.size:
            raise ModbusError(ILLEGAL_DATA_ADDRESS)

    def read_bits(self, kind, addr, count):
        self._check(kind, addr, count)
        self.log.append(("read_bits", kind, addr, count))
        return self.data[kind][addr:addr + count]

    def write_bits(self, kind, addr, values):
        self._check(kind, addr, len(values))
        self.log.append(("write_bits", kind, addr, list(values)))
        self.data[kind][addr:addr + len(values)] = list(values)

    def read_regs(self, kind, addr, count):
        self._check(kind, addr, count)
        self.log.append(("read_regs", kind, addr, count))
        return self.data[kind][addr:addr + count]

    def write_regs(self, kind, addr, values):
        self._check(kind, addr, len(values))
        self.log.append(("write_regs", kind, addr, list(values)))
        self.data[kind][addr:addr + len(values)] = list(values)

    def snapshot(self):
        return dict((k, list(v)) for k, v in self.data.items())
