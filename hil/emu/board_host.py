"""The host of one emulated board (CPython): what every kind of emulated board shares.

A board is the MicroPython unix port (`micropython`, the 1.28 toolchain that runs the
firmware in tests) with hil/emu on its MICROPYPATH, so that `import machine` gets the
emulated ESP32 of hil/emu/machine.py. `BoardHost` spawns that process, serves its link
(two AF_UNIX sockets in the board's state folder: pins.sock, one text line per event,
see emu_link.py, and uart.sock, the raw bytes of its UART), keeps its hardware watchdog
(hil/emu/watchdog.py: outside the board's process, as on an ESP32), emulates its resets
(hard reset and power-on, the watchdog's, the board's own `machine.reset()`), waits for its
boots on events (the hello each boot sends, never a fixed sleep) and tears it all down.

Two kinds build on it and differ only in what the process runs and where its console goes:

* `hil.emu.host.Board`, the smartcross node: hil/emu/rom.py runs the firmware (boot.py,
  main.py), its console is a log; the host drives its pins, clock and UART;
* `hil.emu.repl_board.ReplBoard`, an ESP32 as a USB-serial client sees it: the unix
  port's own REPL on a pty (hil/emu/emu_rom_repl.py is its ROM), for the field tooling.

Resets: the process ends with EXIT_RESET (machine.reset()) or EXIT_WDT after recording
the cause in the RTC domain file (rtc.bin: cause byte + RTC memory), or the host kills it
(its watchdog fired, or reset()/power_cycle()); `_exited` says what the kind does next.
A power-on deletes rtc.bin (RTC memory lost); a hard reset keeps it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import patience, priority
from .link_host import BoardError, LinkHost
from .watchdog import Watchdog

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIRMWARE = ROOT / "firmware"

EXIT_RESET = 66
EXIT_WDT = 67
PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET, SOFT_RESET = 1, 2, 3, 4, 5
SCALE_DEN = 10000       # = hil/emu/emu_clock.SCALE_DEN: the board keeps its scale as num/den


def micropython_executable() -> str:
    """The unix port's `micropython`: $SMARTCROSS_MICROPYTHON if set (e.g. a 32-bit build for
    bench/node_heap.py), else the one next to this Python (a venv's bin/) or on PATH."""
    chosen = os.environ.get("SMARTCROSS_MICROPYTHON")
    if chosen:
        return chosen
    here = Path(sys.executable).parent / "micropython"
    if here.exists():
        return str(here)
    found = shutil.which("micropython")
    if not found:
        raise BoardError(
            f"micropython (the unix port) not found next to {sys.executable} or on PATH")
    return found


class BoardHost(LinkHost):
    """Process, link, watchdog, resets and teardown of one emulated board. A kind says what
    runs (`_command`, `_env`, `_popen_io`, `_started`) and what an exit means (`_exited`)."""

    virtual = False           # the board's clock moves only when the host grants time

    def __init__(self, state_dir: Path, *, heapsize: str | None, own_dir: bool) -> None:
        self.dir = state_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self._own_dir = own_dir
        self.heapsize = heapsize
        self._cv = threading.Condition()
        self._init_link()
        self.outputs: dict[int, int] = {}
        self.output_log: list[tuple[int, int, int, int]] = []   # (boot, t_us, pin, level)
        self.tx_log: list[tuple[int, int, int, int]] = []       # (boot, n, t0_us, t1_us)
        self.reads: list[tuple[int, int]] = []                  # traced (pin, t_us)
        self.rx_log: list[tuple[int, int, int]] = []            # traced (boot, n, t_us)
        self.log: list[str] = []
        self.boots = 0                    # hellos seen
        self.boot_causes: list[int] = []
        self.exits: list[int] = []
        self.wdt_ms = 0
        self.last_feed_us = 0             # board time this boot's watchdog last started/fed
        self.ended_feeds: list[int] = []  # the same, of each boot that has ended
        # Called with (pin, level, board_time_us) for every output level the board reports
        # (each change, and each output's level when a boot configures it), in order, from
        # the pins reader thread, after `outputs` and `output_log` have it; keep it short
        # (the board waits while its pins link is not read). An exception is logged.
        self.on_output: Callable[[int, int, int], None] | None = None
        self._uart_sent = 0               # bytes the board reports written to its UART
        self._proc: subprocess.Popen[bytes] | None = None
        self._closing = False
        self._vt = 0                      # virtual: last time the board reported idle
        self._vg = 0                      # virtual: last time granted
        self._death_t = 0
        self._origin_us = 0
        self._scale_num, self._scale_den = 1, 1
        self._heap: tuple[int, int] | None = None
        self._watchdog = Watchdog(self._watchdog_fired, timed=not self.virtual)
        self._wdt_victim: subprocess.Popen[bytes] | None = None   # killed by the watchdog

    # ------------------------------------------------------------ what a kind runs
    def _command(self) -> list[str]:
        """micropython's arguments after the heap size."""
        raise NotImplementedError

    def _cwd(self) -> Path:
        return self.dir

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["EMU_HOST"] = "1"
        return env

    def _popen_io(self) -> dict[str, Any]:
        raise NotImplementedError

    def _started(self, proc: subprocess.Popen[bytes]) -> None:
        """The process runs (called without the lock)."""

    def _exited(self, proc: subprocess.Popen[bytes], code: int) -> None:
        """The process ended with `code` (EXIT_WDT if the watchdog reset it), not because
        the host stopped or replaced it. Called without the lock."""
        raise NotImplementedError

    # ------------------------------------------------------------ life cycle
    def __enter__(self) -> BoardHost:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        raise NotImplementedError

    def _spawn(self, kind: str = "") -> None:
        """Start the board process after a reset of `kind` ("soft" keeps the watchdog)."""
        if kind != "soft":
            self._watchdog.stop()
        cmd = [micropython_executable()]
        if self.heapsize:
            cmd += ["-X", "heapsize=" + self.heapsize]
        cmd += self._command()
        with self._cv:
            self._vt = self._vg = 0
        priority.claim()            # the board's CPU: see hil/emu/priority.py
        proc = subprocess.Popen(cmd, cwd=self._cwd(), env=self._env(), **self._popen_io())
        priority.raise_child(proc.pid)
        with self._cv:
            self._proc = proc
        self._thread(self._monitor, proc)
        self._started(proc)

    def _monitor(self, proc: subprocess.Popen[bytes]) -> None:
        code = proc.wait()
        with self._cv:
            if proc is self._wdt_victim:
                # The watchdog's reset: recorded once the process can no longer write.
                self._set_rtc_cause(WDT_RESET, create=True)
            self.exits.append(code)
            self._cv.notify_all()
        if self._closing or proc is not self._proc:
            return
        if code == -9 and self.rtc_cause() == WDT_RESET:
            code = EXIT_WDT
        self._exited(proc, code)

    def _replace(self, kind: str) -> None:
        """The host resets the board: "hard" (EN pin, RTC memory kept) or "power"."""
        with self._cv:
            self._proc, proc = None, self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if kind == "power":
            self.rtc_path().unlink(missing_ok=True)
        else:
            self._set_rtc_cause(HARD_RESET)
        self._spawn(kind)

    def _stop_process(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def kill(self) -> None:
        """Pull the plug for good (no restart)."""
        self._closing = True
        self._stop_process()

    def close(self) -> None:
        self._closing = True
        self._watchdog.close()
        if self._pins is not None and self._proc is not None and self._proc.poll() is None:
            try:
                self._send("Q")
                self._proc.wait(timeout=2)
            except (BoardError, subprocess.TimeoutExpired):
                pass
        self._stop_process()
        for s in self._listeners + [c for c in (self._pins, self._uart) if c is not None]:
            try:
                s.close()
            except OSError:
                pass
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # ------------------------------------------------------------ watchdog
    def _watchdog_fired(self, deadline: int) -> None:
        """The watchdog expired: the chip resets, whatever its CPU was doing."""
        with self._cv:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                return
            self._wdt_victim = proc
            self._death_t = deadline if self.virtual else self.board_us(deadline * 1000)
            proc.kill()             # _monitor records the cause and boots it again
            self._cv.notify_all()

    def _wdt_now(self, board_t_us: int) -> int:
        """A board time of this boot in the watchdog's time base."""
        return board_t_us if self.virtual else self.host_ns(board_t_us) // 1000

    def _wdt_timeout(self, ms: int) -> int:
        if self.virtual:
            return ms * 1000
        return -(-ms * 1000 * self._scale_den // self._scale_num)

    # ------------------------------------------------------------ RTC domain
    def rtc_path(self) -> Path:
        return self.dir / "rtc.bin"

    def rtc_cause(self) -> int:
        try:
            data = self.rtc_path().read_bytes()
        except OSError:
            return PWRON_RESET
        return data[0] if data else PWRON_RESET

    def _set_rtc_cause(self, cause: int, create: bool = False) -> None:
        path = self.rtc_path()
        try:
            data = path.read_bytes()
        except OSError:
            if not create:
                return
            data = b"\x01"
        path.write_bytes(bytes((cause,)) + data[1:])

    # ------------------------------------------------------------ time
    def board_us(self, monotonic_ns: int | None = None) -> int:
        """Real and scaled clocks: a host time.monotonic_ns() (default: now) as the board's
        time in us since its boot (both count CLOCK_MONOTONIC; the scaled board's time runs
        time_scale times faster, from the same origin)."""
        t = time.monotonic_ns() if monotonic_ns is None else monotonic_ns
        return (t // 1000 - self._origin_us) * self._scale_num // self._scale_den

    def host_ns(self, board_us: int) -> int:
        """Real and scaled clocks: the host time.monotonic_ns() at which the board's clock
        read `board_us` (the inverse of board_us(), to the microsecond)."""
        return (self._origin_us + board_us * self._scale_den // self._scale_num) * 1000

    # ------------------------------------------------------------ waiting
    def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str = "") -> None:
        """Wait until predicate() (evaluated under the board's lock) or fail; `timeout` is
        for an idle host and stretches with its load (patience.py)."""
        with self._cv:
            if not patience.wait_for(self._cv, predicate, timeout):
                raise TimeoutError(f"board: timed out waiting for {what or predicate}")

    def wait_log(self, text: str, timeout: float) -> str:
        found: list[str] = []

        def seen() -> bool:
            found[:] = [x for x in self.log if text in x]
            return bool(found)

        self.wait_for(seen, timeout, f"log line with {text!r}")
        return found[0]

    def _output_callback(self, f: list[bytes]) -> None:
        cb = self.on_output
        if cb is None:
            return
        # Outside the lock: the callback may call back into the board.
        try:
            cb(int(f[1]), int(f[2]), int(f[3]))
        except Exception as e:  # noqa: BLE001 - never lose the pins link
            msg = f"on_output({f[1].decode()}, {f[2].decode()}): {e!r}"
            print(f"[board {self.dir.name}] {msg}", file=sys.stderr)
            with self._cv:
                self.log.append(msg)

    def _hello(self, conn: socket.socket) -> None:
        """A boot said hello on `conn` (called without the lock)."""

    def _on_line(self, f: list[bytes]) -> None:
        op = f[0]
        if op == b"O":
            pin, level, t = int(f[1]), int(f[2]), int(f[3])
            self.outputs[pin] = level
            self.output_log.append((self.boots, t, pin, level))
        elif op == b"U":
            self.tx_log.append((self.boots, int(f[1]), int(f[2]), int(f[3])))
            self._uart_sent += int(f[1])
        elif op == b"F":
            self.last_feed_us = int(f[1])
            self._watchdog.feed(self._wdt_now(int(f[1])))
        elif op == b"R":
            self.reads.append((int(f[1]), int(f[2])))
        elif op == b"A":
            self.rx_log.append((self.boots, int(f[1]), int(f[2])))
        elif op == b"T":
            self._vt = int(f[1])
            if self.virtual:        # the board is there: the host's watchdog may fire
                self._watchdog.check(self._vt)
        elif op == b"M":
            self._heap = (int(f[1]), int(f[2]))
        elif op == b"W":
            self.wdt_ms = int(f[1])
            self.last_feed_us = int(f[2])
            self._watchdog.start(self._wdt_timeout(self.wdt_ms), self._wdt_now(int(f[2])))
        elif op == b"K":
            self._death_t = int(f[2])
        elif op == b"H":
            if self.boots:
                self.ended_feeds.append(self.last_feed_us)
            self.last_feed_us = 0
            self.boots += 1
            self.boot_causes.append(int(f[2]))
            self._origin_us = int(f[3])
            if len(f) >= 6:
                self._scale_num, self._scale_den = int(f[4]), int(f[5])
            self.wdt_ms = 0
            self._vt = self._vg = 0
