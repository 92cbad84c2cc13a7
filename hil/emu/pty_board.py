"""One emulated node on a new pseudo-terminal, for Modbus tools that want a serial port.

    python -m hil.emu.pty_board NODE_CONFIG      (or: smartcross hil board NODE_CONFIG)

The first line on stdout is `port: /dev/pts/N`; open that port (8N1, any baud: a pty has
no parity and no speed) and the node answers at the address in NODE_CONFIG. Healthy lamps
hang on its heads as NODE_CONFIG wires them (their current sense works, so the node runs
under a cabinet instead of latching a red fail). It serves until SIGINT or SIGTERM, then
stops the board and returns 0.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .drive import wire_lamps
from .host import Board, BoardError
from .pty_port import PtyPort


class PtyBoard:
    """A Board whose UART is bridged to a new pty (hil/emu/pty_port.py)."""

    def __init__(self, node_config: str | os.PathLike[str], clock: str = "real") -> None:
        self._pty = PtyPort(self._from_port, name="pty-board")
        self.port = self._pty.port
        self.board = Board(node_config, clock=clock)
        self.board.on_uart = self._pty.write
        try:
            doc = json.loads(Path(node_config).read_text())
        except (OSError, ValueError):
            doc = None              # the node reports its own configuration error
        if isinstance(doc, dict):
            wire_lamps(self.board, doc)

    def _from_port(self, data: bytes) -> None:
        try:
            self.board.uart_write(data)
        except BoardError:
            pass                        # the board is resetting: the bytes are lost

    def start(self) -> None:
        self.board.start()
        self._pty.start()

    def close(self) -> None:
        self._pty.close()
        self.board.close()

    def __enter__(self) -> PtyBoard:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve_board_on_pty(node_config_path: str | os.PathLike[str]) -> int:
    """Serve one board on a pty until SIGINT/SIGTERM; prints `port: ...` first. Exit code."""
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with PtyBoard(node_config_path) as pb:
            print(f"port: {pb.port}", flush=True)
            while not done.wait(0.5):
                pass
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return 0


def main(node_config: str | os.PathLike[str] | None = None) -> int:
    if node_config is None:
        if len(sys.argv) != 2:
            print("usage: python -m hil.emu.pty_board NODE_CONFIG", file=sys.stderr)
            return 2
        node_config = sys.argv[1]
    return serve_board_on_pty(node_config)


if __name__ == "__main__":
    sys.exit(main())
