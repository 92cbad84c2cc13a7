"""The RS-485 Modbus RTU slave of both roles: UART bytes in, responses out, DE pin around
transmissions. What differs between the signal node and the monitor unit is a parameter of
`Bus`: the datastore the requests reach (the node's registers; the unit's read-only status,
whose writes answer ILLEGAL_FUNCTION), the device identification (FC43/14), and whether a
good frame is told to the node's modes (its comm watchdog; the unit has none).

Receive: every POLL_MS the bytes waiting in the UART are fed to the deframer with the
board's us ticks at that read; a request ends as soon as it has the length its header
implies with a right CRC, when it began at a frame boundary, else after 3.5 character times
of silence (protocols.modbus_rtu.SlaveDeframer); only frames with a good CRC reach the slave.
The response may therefore start less than 3.5 characters after the request (after the
board's own processing, about a ms): the master must release the line by the end of its last
stop bit, as RS-485 transceivers with automatic direction control, or a DE driven by the
UART's transmitter-empty, do.

Timing of received characters on an ESP32. MicroPython's UART gives no per-character
timestamps: the ESP-IDF driver moves bytes from the hardware FIFO into its ring buffer on
an rx timeout (by default 10 character times of quiet) or when 120 are waiting, and
`UART.irq` handlers (IRQ_RX, IRQ_RXIDLE where the port has it) are soft: they run between
bytecodes, so not during the blocking calls (a GC pass, an ultrasonic echo measurement)
that make the node read late. A node reading on time sees a silence of 3.5 characters
between two reads; a node that read late gets the noise before a request and the request in
one read, the silence between them lost. For that case the deframer resynchronises: the
frame fails its CRC, and the request for this node at its end is taken (SlaveDeframer,
address). A valid request after line noise is thus answered however late the node reads.

Transmit (half duplex): DE up, write, wait until the last stop bit has left (sleep through
most of it, then UART.flush() for the rest), DE down.
"""

# From the codec's own modules, not the protocols.modbus_rtu facade: the node never loads
# the facade's table of re-exported names (its heap, bench/node_heap.py).
import board
from protocols.rtu.const import (
    OBJ_MAJOR_MINOR_REVISION,
    OBJ_MODEL_NAME,
    OBJ_PRODUCT_CODE,
    OBJ_VENDOR_NAME,
)
from protocols.rtu.deframer import SlaveDeframer
from protocols.rtu.slave import SlaveProtocol

POLL_MS = 1


class Bus:
    def __init__(self, cfg, datastore, product, version, model, modes=None):
        """`cfg`: the Modbus settings (uart_id, baud, parity, tx, rx, de, address);
        `datastore`: what the requests reach; `product` (product code), `version`
        ((major, minor, patch)) and `model` (model name): the device identification;
        `modes`: told `frame_seen(ticks_ms)` of every good frame for this device, or None."""
        self.uart = board.uart(cfg.uart_id, cfg.baud, cfg.parity, cfg.tx, cfg.rx)
        self.de = board.output_pin(cfg.de, 0)
        self.deframer = SlaveDeframer(cfg.baud, ticks_period=board.TICKS_PERIOD,
                                      address=cfg.address)
        ident = {
            OBJ_VENDOR_NAME: "smartcross",
            OBJ_PRODUCT_CODE: product,
            OBJ_MAJOR_MINOR_REVISION: "%d.%d.%d" % version,
            OBJ_MODEL_NAME: model,
        }
        self.slave = SlaveProtocol(cfg.address, datastore, ident)
        self.modes = modes
        self.buf = bytearray(256)
        self.bv = memoryview(self.buf)
        # One character on the wire: start, 8 data, parity if any, 1 stop bit.
        bits = 10 if cfg.parity == "N" else 11
        self.char_us = (bits * 1_000_000 + cfg.baud - 1) // cfg.baud
        self.sending = False
        self.alive = 0
        self.last_turnaround_us = 0

    def frames_ok(self):
        return self.slave.frames_ok

    def crc_errors(self):
        return self.deframer.crc_errors + self.deframer.overruns + self.slave.crc_errors

    def exceptions(self):
        return self.slave.exceptions

    def reset_counters(self):
        self.slave.frames_ok = 0
        self.slave.exceptions = 0
        self.slave.crc_errors = 0
        self.deframer.crc_errors = 0
        self.deframer.overruns = 0

    def receive(self):
        """Move waiting UART bytes into the deframer; a complete good frame or None."""
        u = self.uart
        n = u.any()
        while n:
            got = u.readinto(self.buf, n if n < 256 else 256)
            if not got:
                break
            self.deframer.feed(self.bv[:got], board.ticks_us())
            n = u.any()
        return self.deframer.poll(board.ticks_us())

    def busy(self):
        """A frame is arriving or leaving: other tasks should not block the node now."""
        return self.sending or self.deframer.pending() > 0

    async def transmit(self, frame):
        """DE up, send, DE down right after the last stop bit. The other tasks run while
        most of the frame goes out; UART.flush() waits for the rest (it returns once the
        transmitter is empty, stop bit included)."""
        self.sending = True
        self.de.value(1)
        self.uart.write(frame)
        tx_us = len(frame) * self.char_us
        if tx_us > 2500:
            await board.sleep_ms((tx_us - 1500) // 1000)
        self.uart.flush()
        self.de.value(0)
        self.sending = False

    async def run(self):
        modes = self.modes
        slave = self.slave
        while True:
            frame = self.receive()
            if frame is not None:
                t0 = board.ticks_us()
                ok = slave.frames_ok
                response = slave.handle(frame)
                if slave.frames_ok != ok and modes is not None:
                    modes.frame_seen(board.ticks_ms())
                if response is not None:
                    self.last_turnaround_us = board.diff(board.ticks_us(), t0)
                    await self.transmit(response)
                    self.deframer.reset()
            self.alive += 1
            await board.sleep_ms(POLL_MS)
