"""The emulated board's wire to its host: one AF_UNIX stream socket, one text line per event.

MicroPython code (runs inside the board process, next to the emulated `machine`).

host -> board                          board -> host
  I <pin> <0|1>      input level         H <clock> <cause> <t0> <num> <den>
  E <pin> <us>       echo width for                          hello, once per boot (below)
                     time_pulse_us        O <pin> <0|1> <t_us>    output level changed
                     (-2: never answers)  U <n> <t0_us> <t1_us>   UART sent n bytes, on
  X <pin> <0|1>      reads of pin raise                           the wire from t0 to t1
                     OSError (fault)      W <timeout_ms> <t_us>   WDT started
                                          F <t_us>                WDT fed
  Z <ms>             stall the board      T <t_us>                virtual clock idle at t
                     (board ms)           M <alloc> <free>        heap after gc.collect()
  S <pin> <0|1>      trace reads of pin   R <pin> <t_us>          traced read of pin
  V <0|1>            trace UART input     A <n> <t_us>            n UART chars received,
                                                                  the last at t (traced)
  G <t_us>           grant virtual time   K <cause> <t_us>        about to reset
  M                  report heap
  Q                  quit (exit 0)
  L <out> <in> <on> <sensed>   a lamp on output `out` lights while the output is at `on`;
                     its current sense is input `in`, at `sensed` while current flows
                     (machine.py sets it as the output changes, in the board's own time)
  B <out> <0|1>      the lamp on output `out` failed (1: draws no current) or replaced

Hello: clock is real, scaled or virtual; t0 is board time 0 on the unix port's
CLOCK_MONOTONIC (us); for real and scaled clocks board_us = (monotonic_us - t0) * num // den
(num = den = 1 for real; emu_clock.scale_fraction for scaled).

Times are the board clock in microseconds since the board process started (never wrap).
Without a host (EMU_HOST unset) the link is absent and every send is dropped.
"""

import os
import select
import socket
import struct

_sock = None
_poll = None
_buf = b""
_handler = None


def connect(path, handler):
    """Connect to the host's socket and register `handler(fields)` for its lines."""
    global _sock, _poll, _handler
    _handler = handler
    if not path:
        return False
    _sock = unix_connect(path)
    s = _sock
    _poll = select.poll()
    _poll.register(s, select.POLLIN)
    return True


def connected():
    return _sock is not None


def unix_connect(path):
    """A connected AF_UNIX stream socket (the unix port wants a raw sockaddr_un)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(struct.pack("H", socket.AF_UNIX) + path.encode() + b"\0")
    return s


def send(line):
    if _sock is not None:
        _sock.write(line)


def pump(timeout_ms=0):
    """Handle host lines that have arrived; wait up to timeout_ms (-1: forever) for one."""
    global _buf
    if _poll is None:
        return False
    got = False
    for _ in _poll.ipoll(timeout_ms):
        data = _sock.recv(4096)
        if not data:
            # The host went away: a board without its host has no reason to live.
            raise SystemExit(0)
        _buf += data
        got = True
    if got:
        while True:
            i = _buf.find(b"\n")
            if i < 0:
                break
            line = _buf[:i]
            _buf = _buf[i + 1:]
            if line:
                _handler(line.split())
    return got


def path(name):
    """A file of the link (pins.sock, uart.sock, pins.init): in EMU_DIR, else here."""
    d = getenv("EMU_DIR")
    return d + "/" + name if d else name


def getenv(name, default=None):
    v = os.getenv(name)
    return default if v is None or v == "" else v
