"""The unit's board layer: the ONLY module of the unit that touches `machine` and the clock.

The same code runs on an ESP32 and on the MicroPython unix port with the emulated
`machine` of hil/emu (which brings its own, possibly scaled or virtual, clock). Ticks
wrap: compare them only with `diff`.
"""

import asyncio
import time

import machine

_clock = getattr(machine, "emu_clock", None)

if _clock is not None:
    ticks_ms = _clock.ticks_ms
    diff = _clock.ticks_diff
    sleep_ms = _clock.sleep_ms
else:  # pragma: no cover - on the ESP32
    ticks_ms = time.ticks_ms
    diff = time.ticks_diff

    async def sleep_ms(ms):
        await asyncio.sleep_ms(ms)  # type: ignore[attr-defined]


def input_pin(num, pull_up=False):
    if pull_up:
        return machine.Pin(num, machine.Pin.IN, machine.Pin.PULL_UP)
    return machine.Pin(num, machine.Pin.IN)


def output_pin(num, level=0):
    return machine.Pin(num, machine.Pin.OUT, value=level)


def uart(uart_id, baud, parity, tx, rx):
    par = None if parity == "N" else (0 if parity == "E" else 1)
    return machine.UART(uart_id, baudrate=baud, bits=8, parity=par, stop=1, tx=tx, rx=rx,
                        rxbuf=512, txbuf=512, timeout=0, timeout_char=0)


def ticks_us():
    return _clock.ticks_us() if _clock is not None else time.ticks_us()


def start_watchdog(timeout_ms):
    return machine.WDT(timeout=timeout_ms)


def reset_cause():
    return machine.reset_cause()
