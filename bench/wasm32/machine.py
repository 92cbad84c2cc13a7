"""Stand-in `machine` of an ESP32 board, for MicroPython's WebAssembly port (run.mjs).

MicroPython code: what hil/emu/machine.py is on the unix port, with its host in the same
interpreter (cabinet.py) instead of behind sockets. The node's board layer
(firmware/node/board.py) finds the virtual clock as `machine.emu_clock` (emu_link.py), and
pins, the UART, the watchdog and RTC memory here. The host sets input levels and echo
widths and reads outputs and the UART through the functions at the end (host side).

Only what the node's board layer uses, as hil/emu/machine.py has it: a reset is the end of
the bench (emu_link.NodeReset), the watchdog is a check at each of the host's turns. The
pins are made at import, as an ESP32's are in its firmware (constant objects, no heap), and
the pin tables are lists of every GPIO: what the node configures adds nothing here.
"""

import emu_link

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5
RTC_MEMORY_MAX = 2048

emu_clock = emu_link.clock  # what the firmware's board layer looks for
_clock = emu_link.clock

GPIOS = 40          # an ESP32's GPIO numbers: 0..39
_levels = [None] * GPIOS    # level the host holds on each input wire (None: not driven)
_echo = [-2] * GPIOS        # echo pulse width in us for time_pulse_us (-2: no answer)
_uarts = []
_rtc_memory = b""


def _drive(pin, level):
    """An input wire goes to `level` (edge handlers run if it changed)."""
    old = _levels[pin]
    _levels[pin] = level
    p = _PINS[pin]
    if p._irq is not None and old != level:
        p._edge(level)


# ---------------------------------------------------------------- module functions
def reset_cause():
    return PWRON_RESET


def reset():
    raise emu_link.NodeReset("machine.reset()")


def soft_reset():
    raise emu_link.NodeReset("machine.soft_reset()")


def unique_id():
    return b"\x24\x0a\xc4\x00\x00\x01"


_freq = 160_000_000


def freq(hz=None):
    global _freq
    if hz is None:
        return _freq
    _freq = hz


def idle():
    pass


def disable_irq():
    return 0


def enable_irq(state=0):
    pass


def time_pulse_us(pin, pulse_level, timeout_us=1_000_000):
    """Like the real one: -2 if the pulse never starts, -1 if it outlasts the timeout."""
    width = _echo[pin._id]
    if width < 0:
        _clock.wait_us(timeout_us)
        return -2
    if width > timeout_us:
        _clock.wait_us(2 * timeout_us)
        return -1
    _clock.wait_us(width)
    return width


# ---------------------------------------------------------------- Pin
class Pin:
    """An ESP32's pins are constant objects of its firmware (machine.Pin(n) configures and
    returns pin n's, no heap): so are these, made once at import (the stand-in's share),
    every attribute set, so that configuring one adds nothing to the heap."""

    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_DOWN = 1
    PULL_UP = 2
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __new__(cls, id, mode=-1, pull=-1, *, value=None):
        return _PINS[id]

    def __init__(self, id, mode=-1, pull=-1, *, value=None):
        self.init(mode, pull, value=value)

    def init(self, mode=-1, pull=-1, *, value=None):
        if pull != -1:
            self._pull = pull
        if mode != -1:
            self._mode = mode
        if value is not None:
            self._out = 1 if value else 0

    def _edge(self, level):
        if (level and self._trigger & Pin.IRQ_RISING) or (
                not level and self._trigger & Pin.IRQ_FALLING):
            self._irq(self)

    def value(self, x=None):
        if x is not None:
            self._out = 1 if x else 0
            return None
        if self._mode != Pin.IN:
            return self._out
        level = _levels[self._id]
        if level is None:
            return 1 if self._pull == Pin.PULL_UP else 0
        return level

    def __call__(self, x=None):
        return self.value(x)

    def on(self):
        self._out = 1

    def off(self):
        self._out = 0

    def toggle(self):
        self._out = 1 - self._out

    def irq(self, handler=None, trigger=3):
        self._irq = handler
        self._trigger = trigger

    def mode(self, mode=None):
        if mode is None:
            return self._mode
        self.init(mode)

    def pull(self, pull=None):
        if pull is None:
            return self._pull
        self._pull = pull


def _gpio(n):
    p = object.__new__(Pin)
    p._id = n
    p._mode = Pin.IN
    p._pull = -1
    p._out = 0
    p._irq = None
    p._trigger = 0
    return p


_PINS = [_gpio(n) for n in range(GPIOS)]


# ---------------------------------------------------------------- UART
RX_FULL_THRESH = 120    # characters: the ESP32 UART's RX FIFO-full threshold


class UART:
    """hil/emu/emu_uart.py's timing on the wrapping us ticks: a byte the host writes goes
    onto the RX wire when it is written (at once if the line is free, else after the byte
    before it), enters the FIFO when its stop bit is in, and reaches the driver once the
    burst has ended or RX_FULL_THRESH characters wait. Transmitted bytes are the host's at
    once (`uart_tx`); flush() waits until the last stop bit has left."""

    def __init__(self, id, baudrate=9600, bits=8, parity=None, stop=1, **kw):
        self._id = id
        self._rx = bytearray()      # the receive FIFO: characters whose stop bit is in
        self._wire = bytearray()    # characters still arriving, back to back
        self._wire_t = 0            # us ticks when _wire[0]'s stop bit is in
        self._line_t = 0            # us ticks when the last character on the wire ends
        self._tx_end = 0
        self.tx = bytearray()       # what the node sent, for the host
        self.init(baudrate, bits, parity, stop, **kw)
        _uarts.append(self)

    def init(self, baudrate=9600, bits=8, parity=None, stop=1, **kw):
        self._baud = baudrate
        frame_bits = 1 + bits + (0 if parity is None else 1) + stop
        self._char_us = (frame_bits * 1_000_000 + baudrate - 1) // baudrate

    def deinit(self):
        if self in _uarts:
            _uarts.remove(self)

    def _host_write(self, data):
        now = _clock.us
        diff = _clock.ticks_diff
        if not self._wire:
            start = now if diff(now, self._line_t) > 0 else self._line_t
            self._wire_t = (start + self._char_us) & emu_link.MASK
            self._line_t = start
        self._wire.extend(data)
        self._line_t = (self._line_t + len(data) * self._char_us) & emu_link.MASK

    def _fill(self):
        w = self._wire
        if not w:
            return
        late = _clock.ticks_diff(_clock.us, self._wire_t)
        if late < 0:
            return
        k = late // self._char_us + 1
        if k > len(w):
            k = len(w)
        elif k < RX_FULL_THRESH:
            return
        self._rx.extend(w[:k])
        self._wire = w[k:]
        self._wire_t = (self._wire_t + k * self._char_us) & emu_link.MASK

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
        now = _clock.us
        start = now if _clock.ticks_diff(self._tx_end, now) < 0 else self._tx_end
        self._tx_end = (start + n * self._char_us) & emu_link.MASK
        self.tx.extend(buf)
        return n

    def txdone(self):
        return _clock.ticks_diff(_clock.us, self._tx_end) >= 0

    def flush(self):
        _clock.wait_us(_clock.ticks_diff(self._tx_end, _clock.us))


# ---------------------------------------------------------------- WDT
class WDT:
    """Starts on construction and cannot be stopped. Not fed for `timeout` ms of board
    time, it would reset the node: the clock checks it at each of the host's turns."""

    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self.fed = _clock.ms
        _clock.wdt = self

    def feed(self):
        self.fed = _clock.ms


# ---------------------------------------------------------------- RTC
class RTC:
    def __init__(self, id=0):
        pass

    def memory(self, data=None):
        global _rtc_memory
        if data is None:
            return _rtc_memory
        if len(data) > RTC_MEMORY_MAX:
            raise ValueError("RTC memory is %d bytes" % RTC_MEMORY_MAX)
        _rtc_memory = bytes(data)
        return None


# ---------------------------------------------------------------- host side
def set_input(pin, level):
    _drive(pin, 1 if level else 0)


def input_level(pin):
    return _levels[pin]


def set_echo(pin, width_us):
    _echo[pin] = width_us


def output(pin):
    """The level an output drives (0 while the pin is an input)."""
    p = _PINS[pin]
    return 0 if p._mode == Pin.IN else p._out


def uart_write(data):
    """Bytes onto the node's RX wire, now."""
    _uarts[0]._host_write(data)


def uart_tx():
    """What the node has sent since the last uart_take()."""
    return _uarts[0].tx


def uart_take():
    u = _uarts[0]
    data = u.tx
    u.tx = bytearray()
    return data
