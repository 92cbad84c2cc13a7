"""The host's end of an emulated board's serial lead: one pty server for every kind.

    port = PtyPort(on_data)      # on_data(bytes): what a client wrote, from the port's thread
    port.start()                 # port.port: /dev/pts/N, for pyserial, mpremote, pymodbus...
    port.write(data)             # to the client

The node board bridges its RS-485 UART to it (hil/emu/pty_board.py), the raw-REPL board
its USB-serial console (hil/emu/repl_board.py). Both sides are raw (8N1, any baud: a pty
has no parity and no speed). The client's side stays open here, so the server never sees
EIO between clients. `cut()` pulls the lead: the client's port fails from then on.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import threading
import tty
from collections.abc import Callable


class PtyPort:
    def __init__(self, on_data: Callable[[bytes], None], name: str = "pty-port") -> None:
        self._on_data = on_data
        self._name = name
        self.master, self._slave = pty.openpty()
        tty.setraw(self.master)
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        fcntl.fcntl(self.master, fcntl.F_SETFL,
                    fcntl.fcntl(self.master, fcntl.F_GETFL) | os.O_NONBLOCK)
        self.connected = True             # the lead is in
        self._lock = threading.Lock()
        self._out = bytearray()           # to the client, written by the server's thread
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)    # one pending wake-up is enough
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
        self._thread.start()

    def write(self, data: bytes) -> None:
        """Queue bytes for the client; never blocks (a client that does not read holds
        them back, as a USB host does, not the board)."""
        if not self.connected or not data:
            return
        with self._lock:
            self._out.extend(data)
        try:
            os.write(self._wake_w, b"x")
        except BlockingIOError:
            pass

    def _flush(self) -> None:
        with self._lock:
            if not self._out:
                return
            try:
                n = os.write(self.master, self._out)
            except BlockingIOError:
                return
            except OSError:
                n = len(self._out)
            del self._out[:n]

    def cut(self) -> None:
        """The lead comes out (call from on_data: the server's thread)."""
        self.connected = False
        try:
            os.close(self.master)
        except OSError:
            pass

    def close(self) -> None:
        self._stop.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=2)
        fds = (self.master, self._slave) if self.connected else (self._slave,)
        fds += (self._wake_r, self._wake_w)
        self.connected = False
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass

    def _serve(self) -> None:
        while not self._stop.is_set() and self.connected:
            with self._lock:
                pending = [self.master] if self._out else []
            try:
                ready, writable, _ = select.select([self.master, self._wake_r], pending, [],
                                                   0.1)
            except (OSError, ValueError):
                return
            if self._wake_r in ready:
                os.read(self._wake_r, 4096)
            if writable:
                self._flush()
            if self.master not in ready:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                continue
            if data:
                self._on_data(data)
