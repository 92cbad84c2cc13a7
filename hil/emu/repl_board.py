"""An ESP32 running MicroPython as a USB-serial client sees it: the REPL on a pty.

    board = ReplBoard(fs_dir)        # fs_dir: the board's filesystem (a folder)
    board.start()                    # board.port: open it with mpremote, pyserial, ...

The REPL is the real one: the MicroPython unix port (the same 1.28 toolchain that runs the
firmware in tests) with its own friendly REPL, raw REPL (Ctrl-A, Ctrl-B, Ctrl-D to run) and
raw-paste mode (Ctrl-E A Ctrl-A, the window and flow control mpremote uses), Ctrl-C as a
keyboard interrupt while a program runs. Its working directory is the board's filesystem, and
`machine` is the emulated ESP32 of hil/emu (pins, WDT, RTC memory, reset). The process, its
link, the watchdog and teardown are the shared host's (hil/emu/board_host.py); what this
kind adds is what the board does around the REPL, as an ESP32 does it:

* power-on and hard reset (`machine.reset()`, the watchdog, `reset()` here): boot.py, then
  main.py, then the friendly REPL (a traceback first if main.py ended in one; Ctrl-C on a
  running main.py lands here too); hil/emu/emu_rom_repl.py is that ROM;
* soft reset (Ctrl-D at an empty raw REPL or at the friendly prompt): "MPY: soft reboot",
  boot.py, and back to the mode it came from (main.py only from the friendly REPL).

The hardware watchdog is the host's (hil/emu/watchdog.py), outside the board's CPU, as on
an ESP32: once started (`machine.WDT`) it resets the board when not fed in time, whatever
the board is doing (blocked on the serial line included), and a soft reset does not stop it.

A difference from an ESP32 worth knowing: the program's own output ends lines with "\\n"
(the ESP32 sends "\\r\\n"; mpremote accepts both).

Faults on demand, for deploy tests: `cut_after(n)` pulls the USB lead after n more bytes from
the host (the host's port fails at once; the board keeps running, so a watchdog the host had
started resets it), `power_off()` cuts the power.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty
from pathlib import Path
from typing import Any

from . import patience
from .board_host import EXIT_WDT, HERE, BoardHost
from .pty_port import PtyPort

EMU = HERE
SENTINEL = b"\x00smartcross-rom-done\x00"       # = emu_rom_repl.SENTINEL
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
SOFT_REBOOT = b"MPY: soft reboot\r\n"


class ReplBoard(BoardHost):
    """One emulated ESP32 behind a USB-serial port. Use as a context manager."""

    def __init__(self, fs_dir: str | os.PathLike[str], *, heapsize: str | None = "4M",
                 env: dict[str, str] | None = None) -> None:
        # the state folder: the link's sockets and the RTC domain (the board's flash is fs)
        super().__init__(Path(tempfile.mkdtemp(prefix="screpl-")), heapsize=heapsize,
                         own_dir=True)
        self.fs = Path(fs_dir)
        self.fs.mkdir(parents=True, exist_ok=True)
        self.extra_env = dict(env or {})
        self._usb = PtyPort(self._from_host, name="repl-board")
        self.port = self._usb.port
        # the board's console: the unix port's controlling terminal. Raw, except that
        # Ctrl-C raises a keyboard interrupt while a program runs (the REPL turns ISIG off
        # while it reads a line, as an ESP32's REPL reads Ctrl-C as a character).
        self._con, self._con_slave = pty.openpty()
        tty.setraw(self._con_slave)
        attrs = termios.tcgetattr(self._con_slave)
        attrs[3] |= termios.ISIG | termios.NOFLSH
        termios.tcsetattr(self._con_slave, termios.TCSANOW, attrs)

        self.console = bytearray()        # everything the board sent to the host
        self.received = 0                 # bytes the board got from the host
        self.resets: list[str] = []       # "power", "hard", "wdt", "soft"
        self.exit_codes: list[int] = []
        self._mode = "friendly"
        self._run_main = True
        self._filter: bytes | None = None  # output held back until the REPL is up
        self._held = b""
        self._tail = b""
        self._cut_at: int | None = None
        self._powered = False
        self._closed = False

    # ------------------------------------------------------------ life cycle
    def __enter__(self) -> ReplBoard:
        self.start()
        return self

    def start(self) -> None:
        """Power on."""
        self._powered = True
        self._listen()
        self._usb.start()
        self._thread(self._read_console)
        self._boot("power", run_main=True, raw=False)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._powered = False
        self._usb.close()
        self.kill()                     # at its REPL the board does not read its link
        super().close()
        for fd in (self._con, self._con_slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def reset(self) -> None:
        """The EN button: a hard reset (RTC memory kept)."""
        self._replace("hard")

    def power_off(self) -> None:
        """Cut the power: the board stops; nothing more is sent or received."""
        self._powered = False
        with self._cv:
            self._proc, proc = None, self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        self._watchdog.stop()

    def cut_after(self, n_bytes: int) -> None:
        """Pull the USB lead once the board has received n_bytes more from the host."""
        with self._cv:
            self._cut_at = self.received + n_bytes

    # ------------------------------------------------------------ waiting (for tests)
    def wait_console(self, text: bytes | str, timeout: float = 10.0, start: int = 0) -> int:
        """Wait until the board has sent `text` (from console offset `start`); its offset."""
        needle = text.encode() if isinstance(text, str) else text
        found = [-1]

        def seen() -> bool:
            found[0] = self.console.find(needle, start)
            return found[0] >= 0

        with self._cv:
            if not patience.wait_for(self._cv, seen, timeout):
                raise TimeoutError(f"board never sent {needle!r}; tail: "
                                   f"{bytes(self.console[-300:])!r}")
        return found[0]

    def wait_resets(self, n: int, timeout: float = 10.0) -> None:
        with self._cv:
            if not patience.wait_for(self._cv, lambda: len(self.resets) >= n, timeout):
                raise TimeoutError(f"board reset {len(self.resets)} times, not {n} "
                                   f"({self._watchdog_state()}); tail: "
                                   f"{bytes(self.console[-300:])!r}")

    def _watchdog_state(self) -> str:
        """The watchdog and process as a time-out message shows them."""
        deadline = self._watchdog.deadline
        due = ("off" if deadline is None else
               f"due in {(deadline - time.monotonic_ns() // 1000) / 1e6:.1f} s")
        return (f"watchdog {self.wdt_ms} ms, {due}; process "
                f"{'running' if self.running else 'not running'}, exits {self.exit_codes}, "
                f"resets {self.resets}")

    # ------------------------------------------------------------ the process
    def _cwd(self) -> Path:
        return self.fs

    def _env(self) -> dict[str, str]:
        env = super()._env()
        # '' first: the board's filesystem (its working directory), then the emulated machine
        env["MICROPYPATH"] = os.pathsep.join(["", str(EMU), ".frozen"])
        env["EMU_DIR"] = str(self.dir)
        env["EMU_RTC"] = str(self.rtc_path())
        env["EMU_ROM_MAIN"] = "1" if self._run_main else "0"
        for name in ("EMU_CLOCK", "EMU_CLOCK_SCALE", "EMU_TICKS_START_MS"):
            env.pop(name, None)
        env.update(self.extra_env)
        return env

    def _command(self) -> list[str]:
        return ["-i", "-c", "import emu_rom_repl"]

    def _popen_io(self) -> dict[str, Any]:
        def controlling_tty() -> None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        slave = self._con_slave
        return {"stdin": slave, "stdout": slave, "stderr": slave, "start_new_session": True,
                "preexec_fn": controlling_tty}

    def _boot(self, kind: str, run_main: bool, raw: bool) -> None:
        with self._cv:
            self._run_main = run_main
            self._spawn(kind)

    def _spawn(self, kind: str = "") -> None:
        with self._cv:
            self._drain_console()       # what the last process said comes first
            if kind == "power":
                self.rtc_path().unlink(missing_ok=True)
            self._mode = "friendly" if self._run_main else "raw"
            self._filter = SENTINEL
            self._held = b""
            super()._spawn(kind)
            self.resets.append(kind)
            self._cv.notify_all()

    def _replace(self, kind: str) -> None:
        with self._cv:
            self._run_main = True
            super()._replace(kind)

    def _exited(self, proc: subprocess.Popen[bytes], code: int) -> None:
        """The unix port ended: a reset of some kind, as the board would do it."""
        with self._cv:
            self._drain_console()
            self.exit_codes.append(proc.returncode)
            if not self._powered or self._closed or proc is not self._proc:
                return
            if code == 0:       # Ctrl-D: soft reset, back to the REPL it was in
                raw = self._tail.endswith(b"OK\r\n")
                self._to_host(SOFT_REBOOT)
                self._boot("soft", run_main=not raw, raw=raw)
            else:               # machine.reset() (66), the watchdog (67 or killed), a crash
                self._boot("wdt" if code == EXIT_WDT else "hard", run_main=True, raw=False)

    # ------------------------------------------------------------ the wires
    def _to_host(self, data: bytes) -> None:
        if not data:
            return
        self._tail = (self._tail + data)[-64:]
        with self._cv:
            self.console.extend(data)
            self._cv.notify_all()
        self._usb.write(data)

    def _from_board(self, data: bytes) -> None:
        if self._filter is None:
            self._to_host(data)
            return
        # Between a (re)start and the REPL: the ROM's marker, then the unix port's banner.
        buf = self._held + data
        if self._filter == SENTINEL:
            k = buf.find(SENTINEL)
            if k < 0:
                # hold back only a tail that may be the start of the marker
                keep = 0
                for n in range(min(len(buf), len(SENTINEL) - 1), 0, -1):
                    if SENTINEL.startswith(buf[-n:]):
                        keep = n
                        break
                self._to_host(buf[:len(buf) - keep])
                self._held = buf[len(buf) - keep:]
                return
            self._to_host(buf[:k])
            buf = buf[k + len(SENTINEL):].lstrip(b"\r\n")
            if self._mode == "raw":
                self._filter = RAW_BANNER
                os.write(self._con, b"\x01")        # the REPL starts in raw mode
            else:
                self._filter = None
                self._held = b""
                self._to_host(buf)
                return
        k = buf.find(RAW_BANNER)
        if k < 0:
            self._held = buf
            return
        self._filter = None
        self._held = b""
        self._to_host(buf[k:])

    def _drain_console(self) -> None:
        """Everything the console has now (call with the lock)."""
        while True:
            try:
                r, _, _ = select.select([self._con], [], [], 0)
                if not r:
                    return
                data = os.read(self._con, 4096)
            except (OSError, ValueError):
                return
            if not data:
                return
            self._from_board(data)

    def _read_console(self) -> None:
        while not self._closed:
            try:
                select.select([self._con], [], [], 0.2)
            except (OSError, ValueError):
                return
            with self._cv:
                if not self._closed:
                    self._drain_console()

    def _from_host(self, data: bytes) -> None:
        with self._cv:
            if self._cut_at is not None and self.received + len(data) >= self._cut_at:
                data = data[:self._cut_at - self.received]
                cut = True
            else:
                cut = False
            self.received += len(data)
            running = self._proc is not None
        if data and running:
            os.write(self._con, data)
        if cut:
            # The lead is out: the host's port fails from now on; the board runs on.
            self._usb.cut()


def main(argv: list[str] | None = None) -> int:
    """python -m hil.repl FS_DIR: serve a board on a pty until Ctrl-C (for mpremote by hand)."""
    import signal

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m hil.repl FS_DIR", file=sys.stderr)
        return 2
    done = threading.Event()
    old = {s: signal.signal(s, lambda *_: done.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with ReplBoard(args[0]) as board:
            print(f"port: {board.port}", flush=True)
            while not done.wait(0.5):
                pass
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return 0
