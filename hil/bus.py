"""The emulated RS-485 line: the boards' UARTs on one multi-drop bus, a pty for the cabinet.

`smartcross run --port BUS=<bus.port>` talks to it exactly as to a USB adapter. Bytes
from the cabinet reach every board; bytes from any board reach the cabinet. Faults on
demand, in either direction: drop, corrupt, delay, cut for a time, noise bursts, and two
talkers at once (bytes of two boards that overlap on the wire are garbled, as on a real
line).
"""

from __future__ import annotations

import os
import pty
import random
import select
import threading
import time
import tty
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from controller.tooling.scan import Link
from protocols import register_map as rm
from protocols.rtu import master

from .emu import patience, priority

TO_NODES, TO_CABINET = "to-nodes", "to-cabinet"


@dataclass
class Faults:
    """What the line does to traffic now. Change fields at any time (the bus reads them)."""
    drop: float = 0.0            # probability a frame is lost
    corrupt: float = 0.0         # probability a frame has a bit flipped
    delay_s: float = 0.0         # extra delay of every frame
    cut_until: float = 0.0       # monotonic time until which the line is cut
    direction: str | None = None  # None: both; else TO_NODES or TO_CABINET
    seed: int = 1
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self.rng.seed(self.seed)

    def applies(self, direction: str) -> bool:
        return self.direction is None or self.direction == direction


@dataclass
class LineStats:
    frames_to_nodes: int = 0
    frames_to_cabinet: int = 0
    dropped: int = 0
    corrupted: int = 0
    cut: int = 0
    collisions: int = 0
    noise_bytes: int = 0


class RS485Bus:
    def __init__(self, baud: int = 115200, bits_per_char: int = 10):
        priority.claim()            # the line's thread keeps character time (emu/priority.py)
        self.baud = baud
        self.char_s = bits_per_char / baud
        self.master, self._slave = pty.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self.faults = Faults()
        self.stats = LineStats()
        self.taps: list[Callable[[str, bytes, float], None]] = []   # observers (traces, tests)
        self._boards: list = []
        self._lock = threading.Lock()
        self._last_talker: object = None
        self._talk_until = 0.0
        self._running = True
        self._thread = threading.Thread(target=self._from_cabinet, name="rs485", daemon=True)
        self._thread.start()

    # -- wiring ---------------------------------------------------------------------------
    def attach(self, board) -> None:
        """Put a board (hil.emu.host.Board) on the line."""
        self._boards.append(board)
        board.on_uart = lambda data, b=board: self._from_board(b, data)

    def detach(self, board) -> None:
        if board in self._boards:
            self._boards.remove(board)
        board.on_uart = None

    def close(self) -> None:
        self._running = False
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
        self._thread.join(timeout=2)

    # -- faults on demand -------------------------------------------------------------------
    def wait_answering(self, addresses, timeout: float = 30.0, reply_s: float = 1.5) -> None:
        """Wait until each board at `addresses` answers a read of its status block: a board
        that has said hello is still setting up its Modbus server for a moment, longer on a
        busy host. The wait stretches with the host's load (emu/patience.py); each read may
        take `reply_s` of real time. Raises TimeoutError naming the silent addresses."""
        link = Link(self.port, self.baud, "N", reply_s)
        try:
            start = time.monotonic()
            waiting = list(addresses)
            while waiting:
                a = waiting[0]
                if link.transact(master.read_holding_registers(a, rm.STATUS_BLOCK, 1)):
                    waiting.pop(0)
                elif time.monotonic() - start > timeout * patience.load_factor():
                    raise TimeoutError(f"no answer on the emulated line from address(es) "
                                       f"{', '.join(map(str, waiting))}")
        finally:
            link.close()

    def cut(self, seconds: float) -> None:
        self.faults.cut_until = time.monotonic() + seconds

    def restore(self) -> None:
        self.faults = Faults()

    def noise(self, n_bytes: int, direction: str | None = None, seed: int = 0) -> None:
        """A burst of random bytes on the line, heard by the cabinet and every board."""
        rng = random.Random(seed)
        junk = bytes(rng.randrange(256) for _ in range(n_bytes))
        self.stats.noise_bytes += n_bytes
        if direction in (None, TO_CABINET):
            self._write_cabinet(junk)
        if direction in (None, TO_NODES):
            for b in list(self._boards):
                self._write_board(b, junk)

    # -- traffic --------------------------------------------------------------------------
    def _impair(self, data: bytes, direction: str) -> bytes | None:
        f = self.faults
        for tap in self.taps:
            tap(direction, data, time.monotonic())
        if time.monotonic() < f.cut_until and f.applies(direction):
            self.stats.cut += 1
            return None
        if not f.applies(direction):
            return data
        if f.drop and f.rng.random() < f.drop:
            self.stats.dropped += 1
            return None
        if f.corrupt and f.rng.random() < f.corrupt:
            self.stats.corrupted += 1
            buf = bytearray(data)
            i = f.rng.randrange(len(buf))
            buf[i] ^= 1 << f.rng.randrange(8)
            data = bytes(buf)
        if f.delay_s:
            time.sleep(f.delay_s)
        return data

    def _from_cabinet(self) -> None:
        while self._running:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.2)
                if not ready:
                    continue
                data = os.read(self.master, 4096)
            except OSError:
                if not self._running:
                    return
                time.sleep(0.01)          # the cabinet closed its end; it may reopen
                continue
            self.stats.frames_to_nodes += 1
            with self._lock:
                self._last_talker = None      # the master spoke: the line is its again
                self._talk_until = 0.0
            data = self._impair(data, TO_NODES)
            if data:
                for b in list(self._boards):
                    self._write_board(b, data)

    def _from_board(self, board, data: bytes) -> None:
        now = time.monotonic()
        with self._lock:
            # two talkers at once: a board that starts while another is still sending
            if self._last_talker is not board and now < self._talk_until:
                self.stats.collisions += 1
                data = bytes(b ^ 0x5A for b in data)
            self._last_talker = board
            self._talk_until = now + len(data) * self.char_s
        self.stats.frames_to_cabinet += 1
        data = self._impair(data, TO_CABINET)
        if data:
            self._write_cabinet(data)

    def _write_cabinet(self, data: bytes) -> None:
        with self._lock:
            try:
                os.write(self.master, data)
            except OSError:
                pass

    @staticmethod
    def _write_board(board, data: bytes) -> None:
        try:
            board.uart_write(data)
        except Exception:   # a board that is resetting misses what is on the line
            pass


@contextmanager
def nodes_on_a_line(docs, baud: int = 115200):
    """One emulated board per node document (hil.emu.host.Board, the real firmware) on one
    new line; yields (bus, boards) once every node answers (RS485Bus.wait_answering), and
    closes them all after."""
    from .emu.host import Board

    bus = RS485Bus(baud=baud)
    boards = []
    try:
        for d in docs:
            b = Board(d)
            boards.append(b)
            b.start()
            bus.attach(b)
        bus.wait_answering([d["modbus"]["address"] for d in docs])
        yield bus, boards
    finally:
        for b in boards:
            b.close()
        bus.close()
