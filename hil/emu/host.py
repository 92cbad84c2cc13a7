"""Host side of an emulated smartcross node (CPython).

`Board` runs the real firmware (firmware/boot.py + main.py) on the MicroPython unix port,
with hil/emu/machine.py standing in for the ESP32's `machine`; what every emulated board
shares (the process, its link, the watchdog, resets, teardown) is hil/emu/board_host.py.
The board process gets its own directory (its flash: node.json, boots.dat; and rtc.bin,
its RTC domain) and two AF_UNIX sockets there: pins.sock (line protocol, see emu_link.py)
and uart.sock (raw bytes of its RS-485 UART). Through them the host sets inputs (loops,
buttons, bay sensors, lamp feedback), watches outputs (lamps, DE pin; polled through
`outputs`/`output_log`, or pushed to `on_output(pin, level, board_time_us)`) and talks
Modbus.

Resets are emulated as on an ESP32: machine.reset() ends the process with EXIT_RESET after
recording the cause in rtc.bin, the host's watchdog (hil/emu/watchdog.py) kills it and
records WDT_RESET, and the host starts the board again (auto_restart). `reset()` is a hard
reset (RTC memory kept), `power_cycle()` a power-on (RTC memory lost).

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
import time
from pathlib import Path
from typing import Any

from protocols.rtu import master
from protocols.rtu.const import ModbusError

from . import patience
from .board_host import (
    DEEPSLEEP_RESET,
    EXIT_RESET,
    EXIT_WDT,
    FIRMWARE,
    HARD_RESET,
    HERE,
    PWRON_RESET,
    ROOT,
    SCALE_DEN,
    SOFT_RESET,
    WDT_RESET,
    BoardError,
    BoardHost,
    micropython_executable,
)

__all__ = ["CLOCKS", "DEEPSLEEP_RESET", "EXIT_RESET", "EXIT_WDT", "FIRMWARE", "HARD_RESET",
           "HERE", "PWRON_RESET", "ROOT", "SCALE_DEN", "SOFT_RESET", "WDT_RESET", "Board",
           "BoardError", "micropython_executable"]

CLOCKS = ("real", "scaled", "virtual")
# Real seconds after which a wait on the virtual clock gives up: not a timing assumption (the
# board's time is granted by the host, so a slow host only makes the test slower), only the
# end of a host or board that hangs.
HANG_GUARD_S = 120.0


class Board(BoardHost):
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
        self.virtual = clock == "virtual"
        super().__init__(Path(tempfile.mkdtemp(prefix="scb-") if workdir is None else workdir),
                         heapsize=heapsize, own_dir=workdir is None)
        self.time_scale = float(time_scale)
        # board_us = (monotonic_us - origin) * num // den; the hello confirms num and den.
        self._scale_num, self._scale_den = (num, SCALE_DEN) if clock == "scaled" else (1, 1)
        self.ticks_start_ms = ticks_start_ms
        self.auto_restart = auto_restart
        self.unique_id = unique_id
        self.firmware_dir = Path(firmware_dir)
        self.echo = bool(os.environ.get("SMARTCROSS_BOARD_ECHO")) if echo is None else echo
        if node_config is not None:
            self.write_config(node_config)
        self.inputs: dict[int, int] = {}          # levels the host holds on input wires
        self.echoes: dict[int, int] = {}          # echo widths of ultrasonic sensors
        self.lamp_loads: dict[int, tuple[int, int, int]] = {}   # see wire_lamp()
        self.failed_lamps: set[int] = set()       # outputs whose lamp has failed

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

    def start(self, timeout: float = 30.0) -> None:
        """Power on: start the board and wait for its hello."""
        self._listen()
        self._spawn()
        self.wait_boot(1, timeout)

    def _env(self) -> dict[str, str]:
        env = super()._env()
        # hil/emu first (its machine.py is the board's), then the firmware folder (boot.py,
        # main.py and the packages board, node and munit; or a bundle of them), then the
        # repository root (protocols, monitor); no module of hil/emu may take one of their names
        env["MICROPYPATH"] = os.pathsep.join(
            [str(HERE), str(self.firmware_dir), str(ROOT), ".frozen"])
        env["EMU_CLOCK"] = self.clock
        env["EMU_CLOCK_SCALE"] = repr(self.time_scale)
        env["EMU_TICKS_START_MS"] = str(self.ticks_start_ms)
        env["EMU_UNIQUE_ID"] = self.unique_id
        return env

    def _command(self) -> list[str]:
        return [str(HERE / "rom.py")]

    def _popen_io(self) -> dict[str, Any]:
        return {"stdin": subprocess.DEVNULL, "stdout": subprocess.PIPE,
                "stderr": subprocess.STDOUT}

    def _state_lines(self) -> list[str]:
        lines = [f"I {p} {v}" for p, v in self.inputs.items()]
        lines += [f"E {p} {v}" for p, v in self.echoes.items()]
        lines += [f"L {o} {s} {on} {sensed}" for o, (s, on, sensed) in self.lamp_loads.items()]
        return lines + [f"B {o} 1" for o in self.failed_lamps]

    def _spawn(self, kind: str = "") -> None:
        (self.dir / "pins.init").write_text("".join(x + "\n" for x in self._state_lines()))
        super()._spawn(kind)

    def _started(self, proc: subprocess.Popen[bytes]) -> None:
        self._thread(self._read_stdout, proc)

    def _exited(self, proc: subprocess.Popen[bytes], code: int) -> None:
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

    def _hello(self, conn: socket.socket) -> None:
        # Levels set while the board was between boots reach it now.
        state = self._state_lines()
        if state:
            conn.sendall("".join(x + "\n" for x in state).encode())

    def reset(self, timeout: float = 30.0) -> None:
        """Hard reset (EN pin): RTC memory is kept, the next boot sees HARD_RESET."""
        n = self.boots
        self._replace("hard")
        self.wait_boot(n + 1, timeout)

    def power_cycle(self, timeout: float = 30.0) -> None:
        """Power off and on: RTC memory is lost, the next boot sees PWRON_RESET."""
        n = self.boots
        self._replace("power")
        self.wait_boot(n + 1, timeout)

    # ------------------------------------------------------------ waiting
    def wait_boot(self, n: int, timeout: float = 10.0) -> None:
        """Wait for boot number n to have said hello and opened its UART."""
        self.wait_for(lambda: self.boots >= n and self.uart_ready(), timeout, f"boot {n}")

    def wait_output(self, pin: int, level: int, timeout: float) -> None:
        self.wait_for(lambda: self.outputs.get(pin) == level, timeout,
                      f"pin {pin} at {level}")

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

    def wire_lamp(self, out: int, sense: int, *, lit_at: int = 1, sensed: int = 1) -> None:
        """A lamp on output `out` (lit while the output is at `lit_at`) whose current sense
        is input `sense` (at `sensed` while current flows). The board drives the sense input
        itself, in the instant the output changes (hil/emu/machine.py), so the node's lamp
        sense never waits for this host. Wiring survives resets (and may precede start())."""
        self.lamp_loads[out] = (sense, 1 if lit_at else 0, 1 if sensed else 0)
        self._send_state(f"L {out} {sense} {self.lamp_loads[out][1]} {self.lamp_loads[out][2]}")

    def fail_lamp(self, out: int, failed: bool = True) -> None:
        """The lamp on output `out` fails (draws no current from now on), or is replaced."""
        (self.failed_lamps.add if failed else self.failed_lamps.discard)(out)
        self._send_state(f"B {out} {1 if failed else 0}")

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
        """Report when received characters complete (their stop bit in, hil/emu/emu_uart.py),
        with the board's time of the last of them (Board.rx_log); with
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
            if self._advance_boot(boot, target, deadline):
                return
            with self._cv:
                left = max(0, target - self._death_t)

    def _advance_boot(self, boot: int, target: int, deadline: float) -> bool:
        """Grant this boot time up to `target`, never past its watchdog's deadline (the
        host's watchdog fires when the board gets there). True: the board is at `target`;
        False: it reset on the way (at self._death_t)."""
        while True:
            with self._cv:
                if self.boots != boot:
                    return False
                if self._vt >= target:
                    return True
                proc = self._proc
                dying = proc is not None and proc is self._wdt_victim
                grant = self._vg
                if not dying:
                    cap = self._watchdog.deadline
                    grant = max(grant, target if cap is None else min(target, cap))
                send = grant > self._vg
                self._vg = grant
            if send:
                self._send(f"G {grant}")

            def done(grant: int = grant, proc: Any = proc) -> bool:
                return self.boots != boot or (self._vt >= grant
                                              and self._wdt_victim is not proc)

            self.wait_for(done, max(0.1, deadline - time.monotonic()), "virtual time")

    # ------------------------------------------------------------ UART
    def uart_ready(self) -> bool:
        """This boot of the board has opened its UART: the process that said the last hello
        is the one whose UART connection the host holds. (The board says hello on its pins
        link before it opens its UART, but the host reads the two on two threads: on a busy
        host the UART's accept ran before the hello was read, the UART was taken for the
        last boot's, and a board that had booted was never ready.)"""
        return (self._uart is not None and self.boots > 0
                and self._uart_pid == self._hello_pid)

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
        An exception response raises ModbusError; no response raises TimeoutError.

        `timeout` is seconds of the board's time: on the virtual clock the board must answer
        within that much virtual time, however long the host takes to run it (a loaded
        machine changes nothing; HANG_GUARD_S of real time only ends a host that hangs)."""
        self.uart_take()
        self.uart_write(request, timeout=HANG_GUARD_S)
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

        if self.clock == "virtual":
            waited_ms = 0
            guard = time.monotonic() + max(HANG_GUARD_S, timeout)
            while True:
                with self._cv:
                    if complete():
                        break
                    behind = self._uart_got < self._uart_sent
                if behind:          # sent on the board's clock, not yet read here: wait
                    self.uart_settle(max(0.1, guard - time.monotonic()))
                    continue
                if waited_ms >= timeout * 1000:
                    raise TimeoutError("no response")
                if time.monotonic() > guard:
                    raise TimeoutError(f"no response: the host did not run the board for "
                                       f"{HANG_GUARD_S:g} s")
                self.advance(1)
                waited_ms += 1
        else:
            start = time.monotonic()
            while True:
                with self._cv:
                    if self._cv.wait_for(complete, 0.02):
                        break
                if time.monotonic() - start > timeout * patience.load_factor():
                    raise TimeoutError("no response")
        return master.decode(request, self.uart_take())

    def rtu(self, request: bytes, timeout: float = 1.0) -> Any:
        """transact(), but an exception response comes back as ModbusError (not raised)."""
        try:
            return self.transact(request, timeout)
        except ModbusError as e:
            return e
