"""The unit's RS-485 Modbus RTU slave: UART bytes in, status responses out, DE pin around
transmissions. The same sans-IO codec as the node (protocols.modbus_rtu); what the
requests can reach is the unit's read-only Status (unit.py)."""

from protocols.modbus_rtu import (
    OBJ_MAJOR_MINOR_REVISION,
    OBJ_MODEL_NAME,
    OBJ_PRODUCT_CODE,
    OBJ_VENDOR_NAME,
    SlaveDeframer,
    SlaveProtocol,
)
from protocols.monitor_map import PRODUCT_CODE

from . import hw
from .unit import FW_MAJOR, FW_MINOR, FW_PATCH

POLL_MS = 1
TICKS_PERIOD = 1 << 30


class Link:
    def __init__(self, cfg, store):
        self.uart = hw.uart(cfg.uart_id, cfg.baud, cfg.parity, cfg.tx, cfg.rx)
        self.de = hw.output_pin(cfg.de, 0)
        self.deframer = SlaveDeframer(cfg.baud, ticks_period=TICKS_PERIOD, address=cfg.address)
        ident = {OBJ_VENDOR_NAME: "smartcross", OBJ_PRODUCT_CODE: PRODUCT_CODE,
                 OBJ_MAJOR_MINOR_REVISION: "%d.%d.%d" % (FW_MAJOR, FW_MINOR, FW_PATCH),
                 OBJ_MODEL_NAME: cfg.unit_id}
        self.slave = SlaveProtocol(cfg.address, store, ident)
        self.buf = bytearray(256)
        self.bv = memoryview(self.buf)
        bits = 10 if cfg.parity == "N" else 11
        self.char_us = (bits * 1_000_000 + cfg.baud - 1) // cfg.baud
        self.alive = 0

    def receive(self):
        u = self.uart
        n = u.any()
        while n:
            got = u.readinto(self.buf, n if n < 256 else 256)
            if not got:
                break
            self.deframer.feed(self.bv[:got], hw.ticks_us())
            n = u.any()
        return self.deframer.poll(hw.ticks_us())

    async def transmit(self, frame):
        self.de.value(1)
        self.uart.write(frame)
        tx_us = len(frame) * self.char_us
        if tx_us > 2500:
            await hw.sleep_ms((tx_us - 1500) // 1000)
        self.uart.flush()
        self.de.value(0)

    async def run(self):
        while True:
            frame = self.receive()
            if frame is not None:
                response = self.slave.handle(frame)
                if response is not None:
                    await self.transmit(response)
                    self.deframer.reset()
            self.alive += 1
            await hw.sleep_ms(POLL_MS)
