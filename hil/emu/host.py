"""Host side of an emulated smartcross node (CPython).

`Board` runs the real firmware (firmware/boot.py + main.py) on the MicroPython unix port,
with hil/emu/machine.py standing in for the ESP32's `machine`. The board process gets its
own directory (its flash: node.json, boots.dat; and rtc.bin, its RTC domain) and two
AF_UNIX sockets there: pins.sock (line protocol, see emu_link.py) and uart.sock (raw bytes
of its RS-485 UART). Through them the host sets inputs (loops, buttons, bay sensors, lamp
feedback), watches outputs (lamps, DE pin; polled through `outputs`/`output_log`, or
pushed to `on_output(pin, level, board_time_us)`) and talks Modbus.

Resets are emulated as on an ESP32: machine.reset() and watchdog expiry end the process
with EXIT_RESET / EXIT_WDT after recording the cause in rtc.bin, and the host starts the
board again (auto_restart). `reset()` is a hard reset (RTC memory kept), `power_cycle()`
a power-on (RTC memory lost).

Clock: "real" (default); "scaled" with `time_scale` (board time runs that many times
faster than the host's CLOCK_MONOTONIC: ticks, sleeps, the watchdog, UART timing and
time_pulse_us are all board time, so a rig at time_scale=4.0 runs 10 minutes of street in
2.5 minutes); or "virtual": the board's time then moves only when the host calls
`advance(ms)`, so an hour of traffic runs as fast as the board computes. `board_us()` maps
the host's time.monotonic_ns() to board time for the real and scaled clocks, `host_ns()`
the other way.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from protocols.rtu import master
from protocols.rtu.const import ModbusError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIRMWARE = ROOT / "firmware"

EXIT_RESET = 66
EXIT_WDT = 67
CLOCKS = ("real", "scaled", "virtual")
SCALE_DEN = 10000       # = hil/emu/emu_clock.SCALE_DEN: the board keeps its scale as num/den
PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET, SOFT_RESET = 1, 2, 3, 4, 5


class BoardError(RuntimeError):
    pass


def micropython_executable() -> str:
    """The unix port's `micropython`, next to this Python (a venv's bin/) or on PATH."""
    here = Path(sys.executable).parent / "micropython"
    if here.exists():
        return str(here)
    found = shutil.which("micropython")
    if not found:
        raise BoardError(
            f"micropython (the unix port) not found next to {sys.executable} or on PATH")
    return found


class Board:
    """One emulated node. Use as a context manager, or call start() and close()."""

    def __init__(self, node_config: str | os.PathLike[str] | dict[str, Any] | bytes | None,
                 *, workdir: str | os.PathLike[str] | None = None, clock: str = "real",
                 time_scale: float = 1.0, ticks_start_ms: int = 0,
                 heapsize: str | None = None, auto_restart: bool = True,
                 unique_id: str = "240ac4000001", echo: bool | None = None,
                 firmware_dir: Path = FIRMWARE) -> None:
        if clock not in CLOCKS:
            raise ValueError("clock must be 'real', 'scaled' or 'virtual'")
        if clock != "scaled" and time_scale != 1.0:
            raise ValueError("time_scale needs clock='scaled'")
        num = round(float(time_scale) * SCALE_DEN)
        if not 0.01 * SCALE_DEN <= num <= 1000 * SCALE_DEN:
            raise ValueError("time_scale must be 0.01..1000")
        self.clock = clock
        self.time_scale = float(time_scale)
        # board_us = (monotonic_us - origin) * num // den; the hello confirms num and den.
        self._scale_num, self._scale_den = (num, SCALE_DEN) if clock == "scaled" else (1, 1)
        self.ticks_start_ms = ticks_start_ms
        self.heapsize = heapsize
        self.auto_restart = auto_restart
        self.unique_id = unique_id
        self.firmware_dir = Path(firmware_dir)
        self.echo = bool(os.environ.get("SMARTCROSS_BOARD_ECHO")) if echo is None else echo
        self._own_dir = workdir is None
        self.dir = Path(tempfile.mkdtemp(prefix="scb-") if workdir is None else workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        if node_config is not None:
            self.write_config(node_config)
        self._cv = threading.Condition()
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
        self.on_uart: Callable[[bytes], None] | None = None
        # Called with (pin, level, board_time_us) for every output level the board reports
        # (each change, and each output's level when a boot configures it), in order, from
        # the pins reader thread, after `outputs` and `output_log` have it; keep it short
        # (the board waits while its pins link is not read). An exception is logged.
        self.on_output: Callable[[int, int, int], None] | None = None
        self.inputs: dict[int, int] = {}          # levels the host holds on input wires
        self.echoes: dict[int, int] = {}          # echo widths of ultrasonic sensors
        self._rx = bytearray()
        self._uart_sent = 0               # bytes the board reports written to its UART
        self._uart_got = 0                # bytes the host has read from the UART socket
        self._pins: socket.socket | None = None
        self._uart: socket.socket | None = None
        self._uart_boot = -1
        self._proc: subprocess.Popen[bytes] | None = None
        self._closing = False
        self._vt = 0                      # virtual: last time the board reported idle
        self._vg = 0                      # virtual: last time granted
        self._death_t = 0
        self._origin_us = 0
        self._heap: tuple[int, int] | None = None
        self._listeners: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------ configuration
    def write_config(self, node_config: str | os.PathLike[str] | dict[str, Any] | bytes) -> None:
        """node.json for the next boot: a dict, raw bytes (possibly malformed), or a path."""
        target = self.dir / "node.json"
        if isinstance(node_config, dict):
            target.write_text(json.dumps(node_config))
        elif isinstance(node_config, bytes):
            target.write_bytes(node_config)
        else:
            shutil.copyfile(node_config, target)

    # ------------------------------------------------------------ life cycle
    def __enter__(self) -> Board:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, timeout: float = 30.0) -> None:
        """Power on: start the board and wait for its hello."""
        for name in ("pins.sock", "uart.sock"):
            path = self.dir / name
            if path.exists():
                path.unlink()
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(str(path))
            s.listen(4)
            self._listeners.append(s)
            self._thread(self._accept, s, name)
        self._spawn()
        self.wait_boot(1, timeout)

    def _thread(self, fn: Callable[..., None], *args: Any) -> None:
        t = threading.Thread(target=fn, args=args, daemon=True)
        t.start()
        self._threads.append(t)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["MICROPYPATH"] = os.pathsep.join(
            [str(HERE), str(self.firmware_dir), str(ROOT), ".frozen"])
        env["EMU_HOST"] = "1"
        env["EMU_CLOCK"] = self.clock
        env["EMU_CLOCK_SCALE"] = repr(self.time_scale)
        env["EMU_TICKS_START_MS"] = str(self.ticks_start_ms)
        env["EMU_UNIQUE_ID"] = self.unique_id
        return env

    def _spawn(self) -> None:
        lines = [f"I {p} {v}" for p, v in self.inputs.items()]
        lines += [f"E {p} {v}" for p, v in self.echoes.items()]
        (self.dir / "pins.init").write_text("".join(x + "\n" for x in lines))
        cmd = [micropython_executable()]
        if self.heapsize:
            cmd += ["-X", "heapsize=" + self.heapsize]
        cmd.append(str(HERE / "rom.py"))
        with self._cv:
            self._vt = self._vg = 0
        self._proc = subprocess.Popen(cmd, cwd=self.dir, env=self._env(),
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT)
        self._thread(self._read_stdout, self._proc)
        self._thread(self._monitor, self._proc)

    def _monitor(self, proc: subprocess.Popen[bytes]) -> None:
        code = proc.wait()
        with self._cv:
            self.exits.append(code)
            self._cv.notify_all()
        if self._closing or proc is not self._proc:
            return
        if code == -9:
            cause = self.rtc_cause()
            if cause == WDT_RESET:
                code = EXIT_WDT
        if self.auto_restart and code in (EXIT_RESET, EXIT_WDT):
            self._spawn()

    def _read_stdout(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if self.echo:
                print(f"[board {self.dir.name}] {line}", file=sys.stderr)
            with self._cv:
                self.log.append(line)
                self._cv.notify_all()

    def _accept(self, listener: socket.socket, name: str) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            if name == "pins.sock":
                self._pins = conn
                self._thread(self._read_pins, conn)
            else:
                with self._cv:
                    self._uart = conn
                    self._uart_boot = self.boots
                    self._cv.notify_all()
                self._thread(self._read_uart, conn)

    def _read_pins(self, conn: socket.socket) -> None:
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
                    hello = hello or self.boots != boots
                    self._cv.notify_all()
                cb = self.on_output
                if cb is not None and f[0] == b"O":
                    # Outside the lock: the callback may call back into the board.
                    try:
                        cb(int(f[1]), int(f[2]), int(f[3]))
                    except Exception as e:  # noqa: BLE001 - never lose the pins link
                        msg = f"on_output({f[1].decode()}, {f[2].decode()}): {e!r}"
                        print(f"[board {self.dir.name}] {msg}", file=sys.stderr)
                        with self._cv:
                            self.log.append(msg)
            if hello:
                # Levels set while the board was between boots reach it now.
                state = [f"I {p} {v}" for p, v in self.inputs.items()]
                state += [f"E {p} {v}" for p, v in self.echoes.items()]
                if state:
                    conn.sendall("".join(x + "\n" for x in state).encode())

    def _on_line(self, f: list[bytes]) -> None:
        op = f[0]
        if op == b"O":
            pin, level, t = int(f[1]), int(f[2]), int(f[3])
            self.outputs[pin] = level
            self.output_log.append((self.boots, t, pin, level))
        elif op == b"U":
            self.tx_log.append((self.boots, int(f[1]), int(f[2]), int(f[3])))
            self._uart_sent += int(f[1])
        elif op == b"R":
            self.reads.append((int(f[1]), int(f[2])))
        elif op == b"A":
            self.rx_log.append((self.boots, int(f[1]), int(f[2])))
        elif op == b"T":
            self._vt = int(f[1])
        elif op == b"M":
            self._heap = (int(f[1]), int(f[2]))
        elif op == b"W":
            self.wdt_ms = int(f[1])
        elif op == b"K":
            self._death_t = int(f[2])
        elif op == b"H":
            self.boots += 1
            self.boot_causes.append(int(f[2]))
            self._origin_us = int(f[3])
            if len(f) >= 6:
                self._scale_num, self._scale_den = int(f[4]), int(f[5])
            self.wdt_ms = 0
            self._vt = self._vg = 0

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

    def _stop_process(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def reset(self, timeout: float = 30.0) -> None:
        """Hard reset (EN pin): RTC memory is kept, the next boot sees HARD_RESET."""
        n = self.boots
        self._proc, proc = None, self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        self._set_rtc_cause(HARD_RESET)
        self._spawn()
        self.wait_boot(n + 1, timeout)

    def power_cycle(self, timeout: float = 30.0) -> None:
        """Power off and on: RTC memory is lost, the next boot sees PWRON_RESET."""
        n = self.boots
        self._proc, proc = None, self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        rtc = self.dir / "rtc.bin"
        if rtc.exists():
            rtc.unlink()
        self._spawn()
        self.wait_boot(n + 1, timeout)

    def kill(self) -> None:
        """Pull the plug for good (no restart)."""
        self._closing = True
        self._stop_process()

    def close(self) -> None:
        self._closing = True
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

    # ------------------------------------------------------------ RTC domain
    def rtc_cause(self) -> int:
        try:
            data = (self.dir / "rtc.bin").read_bytes()
        except OSError:
            return PWRON_RESET
        return data[0] if data else PWRON_RESET

    def _set_rtc_cause(self, cause: int) -> None:
        path = self.dir / "rtc.bin"
        try:
            data = path.read_bytes()
        except OSError:
            return
        path.write_bytes(bytes((cause,)) + data[1:])

    # ------------------------------------------------------------ waiting
    def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str = "") -> None:
        """Wait until predicate() (evaluated under the board's lock) or fail."""
        with self._cv:
            if not self._cv.wait_for(predicate, timeout):
                raise TimeoutError(f"board: timed out waiting for {what or predicate}")

    def wait_boot(self, n: int, timeout: float = 10.0) -> None:
        """Wait for boot number n to have said hello and opened its UART."""
        self.wait_for(lambda: self.boots >= n and self.uart_ready(), timeout, f"boot {n}")

    def wait_output(self, pin: int, level: int, timeout: float) -> None:
        self.wait_for(lambda: self.outputs.get(pin) == level, timeout,
                      f"pin {pin} at {level}")

    def wait_log(self, text: str, timeout: float) -> str:
        found: list[str] = []

        def seen() -> bool:
            found[:] = [x for x in self.log if text in x]
            return bool(found)

        self.wait_for(seen, timeout, f"log line with {text!r}")
        return found[0]

    # ------------------------------------------------------------ pins
    def output(self, pin: int) -> int | None:
        with self._cv:
            return self.outputs.get(pin)

    def set_input(self, pin: int, level: int) -> None:
        """Drive an input wire; it keeps its level through resets (and before start())."""
        self.inputs[pin] = 1 if level else 0
        self._send_state(f"I {pin} {self.inputs[pin]}")

    def set_echo(self, pin: int, width_us: int | None) -> None:
        """What time_pulse_us on `pin` measures from now on; None: the sensor never answers."""
        self.echoes[pin] = -2 if width_us is None else width_us
        self._send_state(f"E {pin} {self.echoes[pin]}")

    def _send_state(self, line: str) -> None:
        # Between boots the line is lost, but the next boot reads pins.init and gets the
        # whole state again when it says hello.
        if self.running:
            try:
                self._send(line)
            except BoardError:
                pass

    def fault_pin(self, pin: int, on: bool = True) -> None:
        """Reads of `pin` raise OSError in the board (a broken driver)."""
        self._send(f"X {pin} {1 if on else 0}")

    def stall(self, ms: int) -> None:
        """The board hangs for `ms` inside its next machine call."""
        self._send(f"Z {ms}")

    def trace_reads(self, pin: int, on: bool = True) -> None:
        """Report every read of `pin` with the board's time (Board.reads)."""
        self._send(f"S {pin} {1 if on else 0}")

    def trace_uart(self, on: bool = True) -> None:
        """Report when UART bytes reach the board, with its time (Board.rx_log); with
        tx_log this gives the node's own request-to-response turnaround."""
        self._send(f"V {1 if on else 0}")

    def heap(self, timeout: float = 10.0) -> tuple[int, int]:
        """(gc.mem_alloc(), gc.mem_free()) of the board after a gc.collect()."""
        with self._cv:
            self._heap = None
        self._send("M")
        if self.clock == "virtual":
            self.advance(1)
        self.wait_for(lambda: self._heap is not None, timeout, "heap report")
        assert self._heap is not None
        return self._heap

    # ------------------------------------------------------------ virtual clock
    @property
    def board_time_us(self) -> int:
        """Virtual clock: the board's time (us since its boot) when it last went idle."""
        return self._vt

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

    def advance(self, ms: float, timeout: float = 60.0) -> None:
        """Virtual clock: let `ms` of board time pass (across resets, too)."""
        if self.clock != "virtual":
            raise BoardError("advance() needs clock='virtual'")
        left = int(ms * 1000)
        deadline = time.monotonic() + timeout
        while left > 0:
            with self._cv:
                boot = self.boots
                target = self._vg + left
                self._vg = target
            self._send(f"G {target}")

            def done(boot: int = boot, target: int = target) -> bool:
                return self.boots != boot or self._vt >= target

            self.wait_for(done, max(0.1, deadline - time.monotonic()), "virtual time")
            with self._cv:
                if self.boots == boot:
                    return
                left = max(0, target - self._death_t)

    # ------------------------------------------------------------ UART
    def uart_ready(self) -> bool:
        """This boot of the board has opened its UART."""
        return self._uart is not None and self._uart_boot == self.boots

    def uart_write(self, data: bytes, timeout: float = 0.0) -> None:
        """Bytes onto the board's RX wire. A board between boots has no UART: BoardError at
        once, or after waiting up to `timeout` s for the next boot to open it."""
        if timeout > 0:
            self.wait_for(self.uart_ready, timeout, "the board's UART")
        conn = self._uart
        if conn is None or not self.uart_ready():
            raise BoardError("board UART not open (the board is between boots)")
        try:
            conn.sendall(data)
        except OSError as e:
            raise BoardError(f"board UART lost: {e}") from e

    def uart_settle(self, timeout: float = 5.0) -> None:
        """Wait until every byte the board has reported sending (tx_log) has reached the
        host. The board writes its UART socket before it reports, and with the virtual
        clock it may report (and go idle) before the host's reader thread has read them."""
        self.wait_for(lambda: self._uart_got >= self._uart_sent, timeout, "UART bytes")

    def uart_take(self) -> bytes:
        with self._cv:
            data = bytes(self._rx)
            self._rx.clear()
            return data

    def transact(self, request: bytes, timeout: float = 1.0) -> Any:
        """Send a Modbus request, wait for the whole response, return master.decode().
        An exception response raises ModbusError; no response raises TimeoutError."""
        self.uart_take()
        self.uart_write(request, timeout=10.0)
        want = master.response_length(request)
        last = [0, time.monotonic()]

        def complete() -> bool:
            n = len(self._rx)
            if n >= 2 and self._rx[1] & 0x80:
                return n >= 5
            if want:
                return n >= want
            # Length not known from the request (FC43): complete after a quiet spell.
            if n != last[0]:
                last[0], last[1] = n, time.monotonic()
                return False
            return n > 0 and time.monotonic() - last[1] > 0.05

        deadline = time.monotonic() + timeout
        if self.clock == "virtual":
            while True:
                with self._cv:
                    if complete():
                        break
                    behind = self._uart_got < self._uart_sent
                if time.monotonic() > deadline:
                    raise TimeoutError("no response")
                if behind:          # sent on the board's clock, not yet read here: wait
                    self.uart_settle(max(0.1, deadline - time.monotonic()))
                else:
                    self.advance(1)
        else:
            while True:
                with self._cv:
                    if self._cv.wait_for(complete, 0.02):
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError("no response")
        return master.decode(request, self.uart_take())

    def rtu(self, request: bytes, timeout: float = 1.0) -> Any:
        """transact(), but an exception response comes back as ModbusError (not raised)."""
        try:
            return self.transact(request, timeout)
        except ModbusError as e:
            return e
