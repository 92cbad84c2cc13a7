"""The board layer: the ONLY module that touches `machine` (and the clock), for both roles,
the signal node (node/) and the monitor unit (munit/).

Everything else in the firmware gets pins, the UART, the watchdog, RTC memory and time from
here, so the same firmware runs on an ESP32, on the MicroPython unix port with the emulated
`machine` of hil/emu (real or virtual clock), and in tests. `board.bus` is the RS-485 Modbus
RTU slave both roles answer the cabinet with.

Time is wrapping ticks (period TICKS_PERIOD, 2**30 on an ESP32): compare them only with
`diff` and move them only with `add`. All waiting goes through `sleep_ms`, so that an
emulator can run the firmware on a virtual clock.
"""

import asyncio
import gc
import time

import machine

# The emulated board (hil/emu/machine.py) brings its own clock; an ESP32 does not.
_clock = getattr(machine, "emu_clock", None)

TICKS_PERIOD = 1 << 30

if _clock is not None:
    ticks_ms = _clock.ticks_ms
    ticks_us = _clock.ticks_us
    diff = _clock.ticks_diff
    add = _clock.ticks_add
    _wait_us = _clock.wait_us
    sleep_ms = _clock.sleep_ms
else:  # pragma: no cover - on the ESP32
    ticks_ms = time.ticks_ms
    ticks_us = time.ticks_us
    diff = time.ticks_diff
    add = time.ticks_add
    _wait_us = time.sleep_us

    async def sleep_ms(ms):
        await asyncio.sleep_ms(ms)  # type: ignore[attr-defined]


def busy_wait_us(us):
    """Block the whole board for a few microseconds (a sensor's trigger pulse)."""
    _wait_us(us)


# ---------------------------------------------------------------- pins
def input_pin(num, pull_up=False):
    """A digital input; the caller reads it with .value()."""
    if pull_up:
        return machine.Pin(num, machine.Pin.IN, machine.Pin.PULL_UP)
    return machine.Pin(num, machine.Pin.IN)


def on_change(pin, handler):
    """Call handler(pin) after each level change of an input: a soft interrupt on the
    ESP32 (it runs between bytecodes, soon after the edge), so the handler may only note
    what happened and when."""
    pin.irq(handler, machine.Pin.IRQ_RISING | machine.Pin.IRQ_FALLING)


def output_pin(num, level=0):
    """A digital output, driven to `level` at once."""
    return machine.Pin(num, machine.Pin.OUT, value=level)


def pulse_in_us(pin, level, timeout_us):
    """Length of the next pulse at `level` on `pin` in us; -2: it never started, -1: it
    lasted longer than timeout_us. Blocks for at most about 2 x timeout_us."""
    return machine.time_pulse_us(pin, level, timeout_us)


# ---------------------------------------------------------------- UART
def uart(uart_id, baud, parity, tx, rx):
    """The RS-485 UART, 8 data bits, 1 stop bit; parity "N", "E" or "O"."""
    par = None if parity == "N" else (0 if parity == "E" else 1)
    return machine.UART(uart_id, baudrate=baud, bits=8, parity=par, stop=1, tx=tx, rx=rx,
                        rxbuf=512, txbuf=512, timeout=0, timeout_char=0)


# ---------------------------------------------------------------- watchdog, reset, memory
def start_watchdog(timeout_ms):
    """Start the hardware watchdog. It cannot be stopped again."""
    return machine.WDT(timeout=timeout_ms)


def reset_cause():
    return machine.reset_cause()


def reset():
    machine.reset()


def rtc_memory():
    """The user RTC memory: survives resets (not a power-on)."""
    return bytes(machine.RTC().memory())


def set_rtc_memory(data):
    machine.RTC().memory(data)


def unique_id():
    return machine.unique_id()


def heap_used():
    gc.collect()
    return gc.mem_alloc()
