"""The host's end of an emulated board's link (CPython): two AF_UNIX sockets in the board's
state folder, pins.sock (one text line per event each way, see emu_link.py) and uart.sock
(the raw bytes of its UART). Each boot of the board connects both anew.

`LinkHost` listens, accepts each boot's connections and reads them on threads of their own:
every pins line goes to `_on_line` (what it means for the board: hil/emu/board_host.py),
under the board's lock; UART bytes go to `on_uart` or the receive buffer. The two sockets
are read by two threads, so the host may take a boot's UART before it has read that boot's
hello: each connection is tied to the process that made it (SO_PEERCRED), and the UART
belongs to the boot whose process said the last hello (`_uart_pid == _hello_pid`).
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


class BoardError(RuntimeError):
    pass


def peer_pid(conn: socket.socket) -> int:
    """The process at the other end of an AF_UNIX connection (Linux SO_PEERCRED), -1 if
    the system does not say."""
    try:
        cred = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (AttributeError, OSError):
        return -1
    return struct.unpack("3i", cred)[0]


class LinkHost:
    """Sockets, threads and line reading of one board's link; a board host builds on it."""

    dir: Path
    boots: int
    _cv: threading.Condition

    def _init_link(self) -> None:
        self.on_uart: Callable[[bytes], None] | None = None
        self._rx = bytearray()
        self._uart_got = 0                # bytes the host has read from the UART socket
        self._pins: socket.socket | None = None
        self._uart: socket.socket | None = None
        self._uart_pid = -1               # the process that opened the UART
        self._hello_pid = -2              # the process that said the last hello
        self._listeners: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    # what the board host makes of the link
    def _on_line(self, f: list[bytes]) -> None:
        raise NotImplementedError

    def _hello(self, conn: socket.socket) -> None:
        """A boot said hello on `conn` (called without the lock)."""

    def _output_callback(self, f: list[bytes]) -> None:
        """An output line ("O pin level t"), outside the lock."""

    def _listen(self) -> None:
        """The board's link: pins.sock and uart.sock in its state folder."""
        for name in ("pins.sock", "uart.sock"):
            path = self.dir / name
            if path.exists():
                path.unlink()
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(str(path))
            s.listen(4)
            self._listeners.append(s)
            self._thread(self._accept, s, name)

    def _thread(self, fn: Callable[..., None], *args: Any) -> None:
        t = threading.Thread(target=fn, args=args, daemon=True)
        t.start()
        self._threads.append(t)

    def _accept(self, listener: socket.socket, name: str) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            pid = peer_pid(conn)
            if name == "pins.sock":
                self._pins = conn
                self._thread(self._read_pins, conn, pid)
            else:
                with self._cv:
                    self._uart = conn
                    self._uart_pid = pid
                    self._cv.notify_all()
                self._thread(self._read_uart, conn)

    def _read_pins(self, conn: socket.socket, pid: int) -> None:
        buf = b""
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            *lines, buf = buf.split(b"\n")
            hello = False
            for line in lines:
                f = line.split()
                if not f:
                    continue
                with self._cv:
                    boots = self.boots
                    self._on_line(f)
                    if self.boots != boots:
                        hello = True
                        self._hello_pid = pid
                    self._cv.notify_all()
                if f[0] == b"O":
                    self._output_callback(f)
            if hello:
                self._hello(conn)

    def _read_uart(self, conn: socket.socket) -> None:
        while True:
            try:
                data = conn.recv(4096)
            except OSError:
                return
            if not data:
                return
            cb = self.on_uart
            if cb is not None:
                cb(data)
                with self._cv:
                    self._uart_got += len(data)
                    self._cv.notify_all()
                continue
            with self._cv:
                self._rx.extend(data)
                self._uart_got += len(data)
                self._cv.notify_all()

    def _send(self, line: str) -> None:
        conn = self._pins
        if conn is None:
            raise BoardError("board not connected")
        try:
            conn.sendall(line.encode() + b"\n")
        except OSError as e:
            raise BoardError(f"board link lost: {e}") from e
