"""An ESP32 running MicroPython as a USB-serial client sees it: the REPL on a pty.

    board = ReplBoard(fs_dir)        # fs_dir: the board's filesystem (a folder)
    board.start()                    # board.port: open it with mpremote, pyserial, ...

The REPL is the real one: the MicroPython unix port (the same 1.28 toolchain that runs the
firmware in tests) with its own friendly REPL, raw REPL (Ctrl-A, Ctrl-B, Ctrl-D to run) and
raw-paste mode (Ctrl-E A Ctrl-A, the window and flow control mpremote uses), Ctrl-C as a
keyboard interrupt while a program runs. Its working directory is the board's filesystem, and
`machine` is the emulated ESP32 of hil/emu (pins, WDT, RTC memory, reset) running alone.
What this module adds is what the board does around the REPL, as an ESP32 does it:

* power-on and hard reset (`machine.reset()`, the watchdog, `reset()` here): boot.py, then
  main.py, then the friendly REPL (a traceback first if main.py ended in one; Ctrl-C on a
  running main.py lands here too);
* soft reset (Ctrl-D at an empty raw REPL or at the friendly prompt): "MPY: soft reboot",
  boot.py, and back to the mode it came from (main.py only from the friendly REPL).

The hardware watchdog is kept here, outside the board's CPU, as on an ESP32: once started
(`machine.WDT`) it resets the board when not fed in time, whatever the board is doing
(blocked on the serial line included), and a soft reset does not stop it.

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
import shutil
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty
from pathlib import Path

HERE = Path(__file__).resolve().parent
EMU = HERE / "emu"

SENTINEL = b"\x00smartcross-rom-done\x00"
WDT_RESET_CAUSE = 3
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
SOFT_REBOOT = b"MPY: soft reboot\r\n"
EXIT_RESET, EXIT_WDT = 66, 67

# What the ESP32's ROM and MicroPython's main loop do after a reset, in the unix port. The
# board's own files are run by name like on the ESP32 (boot.py always, main.py only when the
# REPL it returns to is the friendly one); a traceback is printed and the REPL follows.
_ROM = """\
import sys, os
def _rom_run(name):
    try:
        os.stat(name + '.py')
    except OSError:
        return
    try:
        __import__(name)
    except SystemExit:
        raise
    except BaseException as e:
        sys.print_exception(e)
for _n in ('boot', 'main') if {run_main} else ('boot',):
    try:
        _rom_run(_n)
    except KeyboardInterrupt:   # a second Ctrl-C while the first one's traceback printed
        pass
del _rom_run
while True:
    try:
        print({sentinel!r})
        break
    except KeyboardInterrupt:
        pass
"""


# The board's `machine`: hil/emu/machine.py, except that the watchdog is kept by the host,
# like the ESP32's timer outside the CPU: WDT() and feed() write its timeout to a file whose
# modification time is the last feed; the host resets the board when it expires (blocked
# or busy, the CPU cannot stop it), and, as on an ESP32, a soft reset does not stop it.
_MACHINE = """\
_src = {emu!r}
exec(open(_src).read(), globals())
_wdt_file = {wdt!r}
_wdt_timeout_ms = 0


def _wdt_write():
    with open(_wdt_file, "w") as f:
        f.write(str(_wdt_timeout_ms))


class WDT:
    \"\"\"Starts on construction and cannot be stopped; the REPL board's host keeps it.\"\"\"

    def __init__(self, id=0, timeout=5000):
        global _wdt_timeout_ms
        _wdt_timeout_ms = timeout
        _wdt_write()

    def feed(self):
        _wdt_write()
"""


def micropython_executable() -> str:
    here = Path(sys.executable).parent / "micropython"
    if here.exists():
        return str(here)
    found = shutil.which("micropython")
    if not found:
        raise RuntimeError("micropython (the unix port) not found")
    return found


class ReplBoard:
    """One emulated ESP32 behind a USB-serial port. Use as a context manager."""

    def __init__(self, fs_dir: str | os.PathLike[str], *, heapsize: str | None = "4M",
                 env: dict[str, str] | None = None) -> None:
        self.fs = Path(fs_dir)
        self.fs.mkdir(parents=True, exist_ok=True)
        self._state = Path(tempfile.mkdtemp(prefix="screpl-"))     # RTC domain, watchdog
        self._wdt = self._state / "wdt"
        (self._state / "machine.py").write_text(
            _MACHINE.format(emu=str(EMU / "machine.py"), wdt=str(self._wdt)))
        self.heapsize = heapsize
        self.extra_env = dict(env or {})
        # the host's end (USB): clients open self.port
        self._host, self._host_slave = pty.openpty()
        tty.setraw(self._host)
        tty.setraw(self._host_slave)
        self.port = os.ttyname(self._host_slave)
        # the board's console: the unix port's controlling terminal. Raw, except that
        # Ctrl-C raises a keyboard interrupt while a program runs (the REPL turns ISIG off
        # while it reads a line, as an ESP32's REPL reads Ctrl-C as a character).
        self._con, self._con_slave = pty.openpty()
        tty.setraw(self._con_slave)
        attrs = termios.tcgetattr(self._con_slave)
        attrs[3] |= termios.ISIG | termios.NOFLSH
        termios.tcsetattr(self._con_slave, termios.TCSANOW, attrs)

        self._cv = threading.Condition()
        self.console = bytearray()        # everything the board sent to the host
        self.received = 0                 # bytes the board got from the host
        self.resets: list[str] = []       # "power", "hard", "wdt", "soft"
        self.exit_codes: list[int] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._pidfd = -1
        self._mode = "friendly"
        self._filter: bytes | None = None  # output held back until the REPL is up
        self._held = b""
        self._tail = b""
        self._requests: list[str] = []    # resets asked for by other threads
        self._cut_at: int | None = None
        self._cable = True
        self._powered = False
        self._stop = False
        self._closed = False
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ life cycle
    def __enter__(self) -> ReplBoard:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Power on."""
        self._powered = True
        with self._cv:
            self._spawn("power", run_main=True, raw=False)
        self._thread = threading.Thread(target=self._loop, name="repl-board", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop = True
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._kill()
        for fd in (self._host, self._host_slave, self._con, self._con_slave, self._wake_r,
                   self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._state, ignore_errors=True)

    def reset(self) -> None:
        """The EN button: a hard reset (RTC memory kept)."""
        self._request("hard")

    def power_off(self) -> None:
        """Cut the power: the board stops; nothing more is sent or received."""
        self._request("off")

    def _request(self, what: str) -> None:
        n = len(self.resets)
        with self._cv:
            self._requests.append(what)
        os.write(self._wake_w, b"x")
        with self._cv:
            self._cv.wait_for(lambda: what not in self._requests, 10.0)
        if what == "hard":
            self.wait_resets(n + 1)

    def cut_after(self, n_bytes: int) -> None:
        """Pull the USB lead once the board has received n_bytes more from the host."""
        with self._cv:
            self._cut_at = self.received + n_bytes

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # ------------------------------------------------------------ waiting (for tests)
    def wait_console(self, text: bytes | str, timeout: float = 10.0, start: int = 0) -> int:
        """Wait until the board has sent `text` (from console offset `start`); its offset."""
        needle = text.encode() if isinstance(text, str) else text
        found = [-1]

        def seen() -> bool:
            found[0] = self.console.find(needle, start)
            return found[0] >= 0

        with self._cv:
            if not self._cv.wait_for(seen, timeout):
                raise TimeoutError(f"board never sent {needle!r}; tail: "
                                   f"{bytes(self.console[-300:])!r}")
        return found[0]

    def wait_resets(self, n: int, timeout: float = 10.0) -> None:
        with self._cv:
            if not self._cv.wait_for(lambda: len(self.resets) >= n, timeout):
                raise TimeoutError(f"board reset {len(self.resets)} times, not {n}; tail: "
                                   f"{bytes(self.console[-300:])!r}")

    # ------------------------------------------------------------ the process
    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("EMU_HOST", None)
        # '' first: the board's filesystem (its working directory), then the emulated machine
        env["MICROPYPATH"] = os.pathsep.join(["", str(self._state), str(EMU), ".frozen"])
        env["EMU_RTC"] = str(self._state / "rtc.bin")
        env.update(self.extra_env)
        return env

    def _spawn(self, kind: str, run_main: bool, raw: bool) -> None:
        if kind == "power":
            (self._state / "rtc.bin").unlink(missing_ok=True)
        if kind != "soft":              # a reset stops the watchdog; a soft reset does not
            self._wdt.unlink(missing_ok=True)
        cmd = [micropython_executable()]
        if self.heapsize:
            cmd += ["-X", "heapsize=" + self.heapsize]
        cmd += ["-i", "-c", _ROM.format(run_main=run_main, sentinel=SENTINEL.decode())]
        slave = self._con_slave

        def controlling_tty() -> None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self._proc = subprocess.Popen(cmd, cwd=self.fs, env=self._env(), stdin=slave,
                                      stdout=slave, stderr=slave, start_new_session=True,
                                      preexec_fn=controlling_tty)
        self._pidfd = os.pidfd_open(self._proc.pid)
        self._mode = "raw" if raw else "friendly"
        self._filter = SENTINEL
        self._held = b""
        self.resets.append(kind)
        self._cv.notify_all()

    def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1
        self._proc = None

    def _exited(self) -> None:
        """The unix port ended: a reset of some kind, as the board would do it."""
        proc = self._proc
        assert proc is not None
        code = proc.wait()
        self._drain_console()
        self.exit_codes.append(code)
        os.close(self._pidfd)
        self._pidfd = -1
        self._proc = None
        if not self._powered or self._stop:
            return
        if code == 0:       # Ctrl-D: soft reset, back to the REPL it was in
            raw = self._tail.endswith(b"OK\r\n")
            self._to_host(SOFT_REBOOT)
            self._spawn("soft", run_main=not raw, raw=raw)
        else:               # machine.reset() (66), the watchdog (67 or killed), a crash
            self._spawn("wdt" if code in (EXIT_WDT, -9) else "hard", run_main=True, raw=False)

    # ------------------------------------------------------------ the wires
    def _to_host(self, data: bytes) -> None:
        if not data:
            return
        self._tail = (self._tail + data)[-64:]
        with self._cv:
            self.console.extend(data)
            self._cv.notify_all()
        if self._cable:
            try:
                os.write(self._host, data)
            except OSError:
                pass

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
        while True:
            r, _, _ = select.select([self._con], [], [], 0)
            if not r:
                return
            try:
                data = os.read(self._con, 4096)
            except OSError:
                return
            if not data:
                return
            self._from_board(data)

    def _from_host(self, data: bytes) -> None:
        with self._cv:
            if self._cut_at is not None and self.received + len(data) >= self._cut_at:
                data = data[:self._cut_at - self.received]
                self._cable = False
            self.received += len(data)
        if data and self._proc is not None:
            os.write(self._con, data)
        if not self._cable:
            # The lead is out: the host's port fails from now on; the board runs on.
            try:
                os.close(self._host)
            except OSError:
                pass
            self._host = -1

    def _loop(self) -> None:
        while not self._stop:
            fds = [self._con, self._wake_r]
            if self._cable and self._host >= 0:
                fds.append(self._host)
            if self._pidfd >= 0:
                fds.append(self._pidfd)
            try:
                ready, _, _ = select.select(fds, [], [], 0.05 if self._wdt.exists() else 1.0)
            except (OSError, ValueError):
                if self._stop:
                    return
                continue
            if self._wake_r in ready:
                os.read(self._wake_r, 64)
                with self._cv:
                    for what in self._requests:
                        self._kill()
                        if what == "off":
                            self._powered = False
                        else:
                            self._spawn(what, run_main=True, raw=False)
                    self._requests.clear()
                    self._cv.notify_all()
            if self._con in ready:
                try:
                    data = os.read(self._con, 4096)
                except OSError:
                    data = b""
                if data:
                    self._from_board(data)
            if self._host in ready and self._cable:
                try:
                    data = os.read(self._host, 4096)
                except OSError:
                    data = b""
                if data:
                    self._from_host(data)
            if self._pidfd >= 0 and self._pidfd in ready:
                with self._cv:
                    if self._proc is not None and self._proc.poll() is not None:
                        self._exited()
            self._watchdog()

    def _watchdog(self) -> None:
        try:
            st = self._wdt.stat()
            timeout_ms = int(self._wdt.read_text() or 0)
        except (OSError, ValueError):
            return
        if not self._powered or timeout_ms <= 0:
            return
        if time.time() - st.st_mtime <= timeout_ms / 1000:
            return
        with self._cv:
            self._kill()
            self._drain_console()
            rtc = self._state / "rtc.bin"
            data = rtc.read_bytes() if rtc.exists() else b"\x01"
            rtc.write_bytes(bytes((WDT_RESET_CAUSE,)) + data[1:])
            self.exit_codes.append(-9)
            self._spawn("wdt", run_main=True, raw=False)


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


if __name__ == "__main__":
    sys.exit(main())
