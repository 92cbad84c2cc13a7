"""An emulated board's two links reach the host in either order.

The board says hello on pins.sock, then opens its UART (uart.sock); the host reads each on
a thread of its own, so on a busy host the UART's connection can be taken before the hello
is read. The host once took such a UART for the previous boot's and waited for the board's
UART for ever ("timed out waiting for boot 1"; a node reset by its watchdog never answered
again). Here a stand-in board opens its UART first, then says hello: the host must see that
boot ready, and the UART's bytes must reach it."""

import sys
import textwrap

import pytest

from hil.emu.host import Board

pytestmark = [pytest.mark.pty]

UART_FIRST = textwrap.dedent("""
    import socket, sys, time
    uart = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    uart.connect("uart.sock")
    time.sleep(0.2)             # the host's UART accept runs well before the hello below
    pins = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    pins.connect("pins.sock")
    pins.sendall(b"H real 1 %d 1 1\\n" % (time.monotonic_ns() // 1000))
    data = uart.recv(64)        # echo one write back, then run until the host ends it
    uart.sendall(data)
    time.sleep(60)
""")


class UartFirst(Board):
    def _command(self) -> list[str]:
        script = self.dir / "uart_first.py"
        script.write_text(UART_FIRST)
        return [str(script)]


def test_a_uart_opened_before_the_hello_is_read_belongs_to_that_boot(monkeypatch):
    monkeypatch.setenv("SMARTCROSS_MICROPYTHON", sys.executable)   # CPython runs the stand-in
    got = []
    with UartFirst(None, auto_restart=False) as b:                  # start(): waits for boot 1
        assert b.boots == 1 and b.uart_ready()
        b.on_uart = got.append
        b.uart_write(b"\x01\x03")
        b.wait_for(lambda: b"".join(got) == b"\x01\x03", 30, "the echo")
