"""Emulated `machine` module of an ESP32 board, for the MicroPython unix port.

Put hil/emu first on MICROPYPATH and `import machine` gets this instead of the unix port's
own module. The board's pins, UART, watchdog and RTC memory are emulated; its host (a
CPython process, see host.py) sets input levels and sees output levels and UART bytes over
AF_UNIX sockets in the board's working directory (protocol: emu_link.py).

Environment (all optional; without EMU_HOST the board runs alone, inputs at their pulls):
  EMU_HOST=1              connect to ./pins.sock (and ./uart.sock when a UART is made)
  EMU_DIR=path            where pins.sock, uart.sock and pins.init are; default: .
  EMU_CLOCK=virtual       the host grants time (emu_clock.py); default: real time
  EMU_CLOCK=scaled        real time, EMU_CLOCK_SCALE times faster (e.g. 4.0; emu_clock.py)
  EMU_TICKS_START_MS=n    where ticks_ms() starts (test the 2**30 wrap); default 0
  EMU_UNIQUE_ID=hex       machine.unique_id(); default 24 0a c4 00 00 01
  EMU_RTC=path            RTC domain file (reset cause + RTC memory); default ./rtc.bin
                          with a host, none (memory only) without

The watchdog is the host's (hil/emu/watchdog.py): WDT only reports its start and feeds.
Resets end the process with a code the host knows (EXIT_RESET, EXIT_WDT) after recording
the cause in the RTC domain file, so that the next boot's reset_cause() reports it and
RTC().memory() survives, as on an ESP32 (user RTC memory is lost only at power-on, which
the host emulates by deleting the file).
"""

import gc
import time

import emu_clock
import emu_link
import emu_uart

# ESP32 reset causes (same values as the real port).
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

EXIT_RESET = 66     # machine.reset() / hard reset request
EXIT_WDT = 67       # watchdog expired

RTC_MEMORY_MAX = 2048

# The RTC domain outlives the process only for a board with a host (which restarts it) or
# an explicit file; a board running alone keeps it in memory and leaves no file behind.
_RTC_PATH = emu_link.getenv("EMU_RTC", "rtc.bin" if emu_link.getenv("EMU_HOST") else None)
_clock_mode = emu_link.getenv("EMU_CLOCK", "real")
_virtual = _clock_mode == "virtual"
emu_clock_obj = emu_clock.Clock(_clock_mode, int(emu_link.getenv("EMU_TICKS_START_MS", "0")),
                                float(emu_link.getenv("EMU_CLOCK_SCALE", "1")))
emu_clock = emu_clock_obj   # what the firmware's board layer looks for

_levels = {}        # pin -> level set by the host
_echo = {}          # pin -> echo pulse width in us for time_pulse_us (-2: no answer)
_faulty = set()     # pins whose reads raise OSError
_traced = set()     # pins whose reads are reported
_outputs = {}       # pin -> Pin (outputs, for irq-less bookkeeping)
_loads = {}         # lamp output pin -> (sense input pin, output level that lights it,
                    #                     sense level while current flows)
_burnt = set()      # lamp output pins whose lamp has failed (draws no current)
_inputs = {}        # pin -> Pin (inputs with irq handlers)
_stall_ms = 0
_last_pump = 0


# ---------------------------------------------------------------- RTC domain file
def _rtc_load():
    if _RTC_PATH is None:
        return PWRON_RESET, b""
    try:
        with open(_RTC_PATH, "rb") as f:
            data = f.read()
    except OSError:
        return PWRON_RESET, b""
    if not data:
        return PWRON_RESET, b""
    return data[0], data[1:]


def _rtc_store(cause, memory):
    if _RTC_PATH is None:
        return
    with open(_RTC_PATH, "wb") as f:
        f.write(bytes((cause,)) + memory)


_reset_cause, _rtc_memory = _rtc_load()
# Until something else is recorded, a process that just dies looks like a hard reset.
_rtc_store(HARD_RESET, _rtc_memory)


def _die(cause, code):
    _rtc_store(cause, _rtc_memory)
    emu_link.send(b"K %d %d\n" % (cause, emu_clock_obj.now_us()))
    raise SystemExit(code)


# ---------------------------------------------------------------- input wires
def _drive(pin, level):
    """An input wire goes to `level` (edge handlers run if it changed)."""
    old = _levels.get(pin)
    _levels[pin] = level
    p = _inputs.get(pin)
    if p is not None and old != level:
        p._edge(level)


# ---------------------------------------------------------------- lamp current
# The lamps hang on the board's outputs; a lamp's current sense is an input of the same
# board. On the street the current follows the output at once, so it does here: the sense
# input changes in the same instant (board time) as the output that feeds it, whatever the
# host is doing. The host only says how the heads are wired ("L") and which lamps have
# failed ("B"); both survive resets through pins.init, like the wires they are.
def _lamp_current(out):
    load = _loads.get(out)
    if load is None:
        return
    sense, on, sensed = load
    p = _outputs.get(out)
    lit = p is not None and p._out == on and out not in _burnt
    _drive(sense, sensed if lit else 1 - sensed)


# ---------------------------------------------------------------- the host link
def _on_host_line(f):
    global _stall_ms
    op = f[0]
    if op == b"I":
        _drive(int(f[1]), int(f[2]))
    elif op == b"L":            # L <out> <sense> <lit at level> <sense level while lit>
        out = int(f[1])
        _loads[out] = (int(f[2]), int(f[3]), int(f[4]))
        _lamp_current(out)
    elif op == b"B":            # B <out> 1: its lamp fails; 0: replaced
        out = int(f[1])
        (_burnt.add if f[2] == b"1" else _burnt.discard)(out)
        _lamp_current(out)
    elif op == b"E":
        _echo[int(f[1])] = int(f[2])
    elif op == b"X":
        (_faulty.add if f[2] == b"1" else _faulty.discard)(int(f[1]))
    elif op == b"S":
        (_traced.add if f[2] == b"1" else _traced.discard)(int(f[1]))
    elif op == b"Z":
        _stall_ms = int(f[1])
    elif op == b"V":
        emu_uart.trace_rx = f[1] == b"1"
    elif op == b"G":
        emu_clock_obj.grant(int(f[1]))
    elif op == b"M":
        gc.collect()
        emu_link.send(b"M %d %d\n" % (gc.mem_alloc(), gc.mem_free()))
    elif op == b"Q":
        raise SystemExit(0)


def _pump():
    """Let the host's lines in: at most once a millisecond of real time (cheap calls)."""
    global _last_pump, _stall_ms
    now = time.ticks_ms()
    if now != _last_pump:
        _last_pump = now
        emu_link.pump(0)
    if _stall_ms:
        ms, _stall_ms = _stall_ms, 0
        emu_clock_obj.wait_us(ms * 1000)


def _load_pins_init():
    """Input levels and echo widths the host set before this boot (pins.init): a board's
    inputs are wires, they do not forget their levels when the board resets."""
    try:
        with open(emu_link.path("pins.init"), "rb") as f:
            for line in f:
                if line.strip():
                    _on_host_line(line.split())
    except OSError:
        pass


_load_pins_init()
emu_link.connect(emu_link.path("pins.sock") if emu_link.getenv("EMU_HOST") else None, _on_host_line)
# The board's time 0 on the unix port's monotonic clock (CLOCK_MONOTONIC, like the host's
# time.monotonic()) and the scale num/den, so a host can put its own events on the board's
# time line: board_us = (monotonic_us - t0) * num // den.
emu_link.send(b"H %s %d %d %d %d\n" % (emu_clock_obj.mode.encode(), _reset_cause,
                                        emu_clock_obj.origin_us(), emu_clock_obj.num,
                                        emu_clock_obj.den))


# ---------------------------------------------------------------- module functions
def reset_cause():
    return _reset_cause


def reset():
    _die(SOFT_RESET, EXIT_RESET)


def soft_reset():
    raise SystemExit(0)


def unique_id():
    h = emu_link.getenv("EMU_UNIQUE_ID", "240ac4000001")
    return bytes(int(h[i:i + 2], 16) for i in range(0, len(h), 2))


_freq = 160_000_000


def freq(hz=None):
    global _freq
    if hz is None:
        return _freq
    _freq = hz


def idle():
    _pump()


def disable_irq():
    return 0


def enable_irq(state=0):
    pass


def time_pulse_us(pin, pulse_level, timeout_us=1_000_000):
    """Like the real one: -2 if the pulse never starts, -1 if it outlasts the timeout."""
    _pump()
    width = _echo.get(pin._id, -2)
    if width < 0:
        emu_clock_obj.wait_us(timeout_us)
        return -2
    if width > timeout_us:
        emu_clock_obj.wait_us(2 * timeout_us)
        return -1
    emu_clock_obj.wait_us(width)
    return width


# ---------------------------------------------------------------- Pin
class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_DOWN = 1
    PULL_UP = 2
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, id, mode=-1, pull=-1, *, value=None):
        self._id = id
        self._mode = Pin.IN
        self._pull = -1
        self._out = 0
        self._irq = None
        self._trigger = 0
        self.init(mode, pull, value=value)

    def init(self, mode=-1, pull=-1, *, value=None):
        if pull != -1:
            self._pull = pull
        if mode != -1:
            self._mode = mode
        if self._mode == Pin.IN:
            if _outputs.pop(self._id, None) is not None:
                _lamp_current(self._id)         # no longer driven: its lamp goes out
            if value is not None:
                self._out = value
        else:
            _outputs[self._id] = self
            self._set(self._out if value is None else value, True)

    def _set(self, v, force=False):
        v = 1 if v else 0
        if v != self._out or force:
            self._out = v
            if self._id in _loads:
                _lamp_current(self._id)
            if emu_link.connected():    # (formatting allocates: not without a host)
                emu_link.send(b"O %d %d %d\n" % (self._id, v, emu_clock_obj.now_us()))

    def _edge(self, level):
        if self._irq is not None:
            if (level and self._trigger & Pin.IRQ_RISING) or (
                    not level and self._trigger & Pin.IRQ_FALLING):
                self._irq(self)

    def value(self, x=None):
        if x is not None:
            self._set(x)
            return None
        _pump()
        pin = self._id
        if pin in _faulty:
            raise OSError(5)
        if pin in _traced:
            emu_link.send(b"R %d %d\n" % (pin, emu_clock_obj.now_us()))
        if self._mode != Pin.IN:
            return self._out
        level = _levels.get(pin)
        if level is None:
            return 1 if self._pull == Pin.PULL_UP else 0
        return level

    def __call__(self, x=None):
        return self.value(x)

    def on(self):
        self._set(1)

    def off(self):
        self._set(0)

    def toggle(self):
        self._set(1 - self._out)

    def irq(self, handler=None, trigger=3):
        self._irq = handler
        self._trigger = trigger
        if handler is None:
            _inputs.pop(self._id, None)
        else:
            _inputs[self._id] = self

    def mode(self, mode=None):
        if mode is None:
            return self._mode
        self.init(mode)

    def pull(self, pull=None):
        if pull is None:
            return self._pull
        self._pull = pull


class Signal:
    def __init__(self, pin, invert=False):
        self._pin = pin
        self._invert = invert

    def value(self, x=None):
        if x is None:
            return self._pin.value() ^ self._invert
        self._pin.value((1 if x else 0) ^ self._invert)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


# ---------------------------------------------------------------- UART
UART = emu_uart.UART        # hil/emu/emu_uart.py: characters timed on the board's clock
emu_uart.pump = _pump
emu_uart.clock = emu_clock_obj
emu_clock_obj.on_grant = emu_uart.on_grant


# ---------------------------------------------------------------- WDT
class WDT:
    """Starts on construction and cannot be stopped, like the ESP32's. Its host keeps it
    (hil/emu/watchdog.py), outside this process as the ESP32's timer is outside its CPU:
    the board only says when it starts and when it is fed (board time)."""

    def __init__(self, id=0, timeout=5000):
        emu_link.send(b"W %d %d\n" % (timeout, emu_clock_obj.now_us()))

    def feed(self):
        emu_link.send(b"F %d\n" % emu_clock_obj.now_us())


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
        _rtc_store(HARD_RESET, _rtc_memory)
        return None

    def datetime(self, dt=None):
        return time.localtime()[:7] + (0,)


# ---------------------------------------------------------------- after main.py
def emu_repl_idle():
    """What an ESP32 does when main.py ends or dies: sit at the REPL. The outputs keep
    their levels; a started WDT (kept by the host) resets the board when it expires."""
    while True:
        if _virtual:
            emu_clock_obj.wait_us(1_000_000)
        else:
            emu_link.pump(1000)
            if not emu_link.connected():
                time.sleep_ms(1000)
