"""The emulated board's UART: its RX wire times every character on the board's clock.

MicroPython code (inside the board process; `machine.UART` is this class). The wire is
./uart.sock (raw bytes, see emu_link.py). A byte the host writes is not readable at once,
as it would not be on an ESP32: it goes onto the wire when the board first sees it (at once
if the line is free, else right after the byte before it) and enters the receive FIFO when
its stop bit is in, one character time (start + data + parity + stop bits at the baud rate)
later, and reaches the driver (`any()`/`read()`/`readinto()`) once the burst on the wire
has ended or RX_FULL_THRESH characters wait, as on an ESP32. So a burst of noise, a silence
and a request written by the host with the virtual clock (emu_clock.py) reach the node
exactly as timed on the board's clock, whatever the load of the machine that runs the test.

With the virtual clock the board looks at its socket whenever the host grants time (before
its clock moves: `on_grant`), so bytes the host wrote while the board was idle at board time
t go onto the wire at t. With the real and scaled clocks it looks whenever the firmware asks
(every ms or so) and bytes go onto the wire then.

Transmit: bytes leave at once; `flush()`/`txdone()` follow the baud (tx end on the board's
clock), and the host is told when they were on the wire ("U <n> <t0> <t1>").
"""

import emu_link

_uarts = []             # open UARTs, for the clock's grant hook
trace_rx = False        # report FIFO arrivals to the host ("A <n> <t_us>")
RX_FULL_THRESH = 120    # characters: the ESP32 UART's RX FIFO-full threshold
pump = None             # machine._pump: let the host's lines in
clock = None            # the board's emu_clock.Clock


def on_grant():
    """The host granted time: take what it wrote while the board was idle, at this time."""
    for u in _uarts:
        u._take()


class UART:
    def __init__(self, id, baudrate=9600, bits=8, parity=None, stop=1, **kw):
        self._id = id
        self._sock = None
        self._poll = None
        self._rx = bytearray()      # the receive FIFO: characters whose stop bit is in
        self._wire = bytearray()    # characters still arriving, back to back
        self._wire_t = 0            # board us when _wire[0]'s stop bit is in
        self._line_t = 0            # board us when the last character on the wire ends
        self._tx_end = 0
        self.init(baudrate, bits, parity, stop, **kw)
        if emu_link.connected():
            import select
            s = emu_link.unix_connect(emu_link.path("uart.sock"))
            self._sock = s
            self._poll = select.poll()
            self._poll.register(s, select.POLLIN)
            _uarts.append(self)

    def init(self, baudrate=9600, bits=8, parity=None, stop=1, **kw):
        self._baud = baudrate
        frame_bits = 1 + bits + (0 if parity is None else 1) + stop
        self._char_us = (frame_bits * 1_000_000 + baudrate - 1) // baudrate

    def deinit(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            if self in _uarts:
                _uarts.remove(self)

    def _take(self):
        """Bytes the host has written go onto the wire now (or after what is on it)."""
        if self._poll is None:
            return
        for _ in self._poll.ipoll(0):
            data = self._sock.recv(512)
            if not data:
                raise SystemExit(0)
            now = clock.now_us()
            if not self._wire:
                start = now if now > self._line_t else self._line_t
                self._wire_t = start + self._char_us
                self._line_t = start
            self._wire.extend(data)
            self._line_t += len(data) * self._char_us

    def _fill(self):
        pump()
        self._take()
        w = self._wire
        if not w:
            return
        now = clock.now_us()
        if now < self._wire_t:
            return
        k = (now - self._wire_t) // self._char_us + 1
        if k > len(w):
            k = len(w)
        elif k < RX_FULL_THRESH:
            # An ESP32's UART hands what it received to the driver when its FIFO reaches a
            # threshold or the line goes idle (its RX timeout), not character by character:
            # a request is read whole. A board process that the host keeps waiting in the
            # middle of a frame then cannot see a silence inside it that the line never had.
            return
        self._rx.extend(w[:k])
        self._wire = w[k:]
        last = self._wire_t + (k - 1) * self._char_us
        self._wire_t = last + self._char_us
        if trace_rx:
            emu_link.send(b"A %d %d\n" % (k, last))

    def any(self):
        self._fill()
        return len(self._rx)

    def read(self, n=None):
        self._fill()
        if not self._rx:
            return None
        if n is None or n >= len(self._rx):
            data = bytes(self._rx)
            self._rx = bytearray()
            return data
        data = bytes(self._rx[:n])
        self._rx = self._rx[n:]
        return data

    def readinto(self, buf, n=None):
        self._fill()
        if not self._rx:
            return None
        n = min(len(buf) if n is None else n, len(self._rx))
        buf[:n] = self._rx[:n]
        self._rx = self._rx[n:]
        return n

    def write(self, buf):
        n = len(buf)
        now = clock.now_us()
        start = now if self._tx_end < now else self._tx_end
        self._tx_end = start + n * self._char_us
        if self._sock is not None:
            self._sock.write(buf)
        emu_link.send(b"U %d %d %d\n" % (n, start, self._tx_end))
        return n

    def txdone(self):
        pump()
        return clock.now_us() >= self._tx_end

    def flush(self):
        clock.wait_us(self._tx_end - clock.now_us())
