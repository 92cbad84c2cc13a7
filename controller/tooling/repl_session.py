"""One raw-REPL session on a MicroPython board through mpremote's serial transport: how
`smartcross flash` reaches a board that may be booting, running the node, or silent."""

from __future__ import annotations

import contextlib
import io
import re
import time
from typing import Any

from . import FAILED, INPUT, ToolError


class Session:
    """One raw-REPL session on the board through mpremote's serial transport."""

    QUIET = 0.2
    READ_TIMEOUT = 5.0

    def __init__(self, port: str, baud: int = 115200, connect_timeout: float = 10.0,
                 attempts: int = 3, wdt_ms: int = 0) -> None:
        from mpremote.transport import TransportError
        from mpremote.transport_serial import SerialTransport

        self.port = port
        self.wdt_ms = wdt_ms
        noise = io.StringIO()
        last: Exception | None = None
        self.t: Any = None
        try:
            with contextlib.redirect_stdout(noise):
                # a timeout on every read: a board that stops answering mid-command (a
                # reset, a lead pulled) is an error, not a hang
                self.t = SerialTransport(port, baudrate=baud, timeout=self.READ_TIMEOUT)
        except (TransportError, OSError) as e:
            raise ToolError(f"--port {port}: cannot open it ({e})", INPUT) from None
        for _ in range(attempts):
            try:
                self._to_prompt(connect_timeout)
                with contextlib.redirect_stdout(noise):
                    self.t.enter_raw_repl(soft_reset=False, timeout_overall=connect_timeout)
                return
            except (TransportError, OSError) as e:
                last = e
        self.close()
        said = " ".join(noise.getvalue().split())[-160:]
        raise ToolError(f"{port}: no MicroPython REPL answered ({last}); check the port, the "
                        "lead, and that the board runs MicroPython (or use --base-image)"
                        + (f"; the board said: {said}" if said else ""), FAILED)

    def _to_prompt(self, timeout: float) -> None:
        """Ctrl-C (and Ctrl-B) until the friendly prompt shows, then wait for quiet. One
        Ctrl-C is not enough
        on a board that is booting: it may stop boot.py, and main.py (the node) starts
        after it; bytes sent meanwhile would come out of the REPL later, out of step."""
        ser = self.t.serial
        blocking = ser.timeout
        deadline = time.monotonic() + timeout
        seen = b""
        # The node's watchdog runs on after Ctrl-C: the first line the REPL runs takes it
        # over (typed ahead: the REPL reads it as soon as it is there).
        takeover = (f"import machine; machine.WDT(timeout={self.wdt_ms}).feed()\r".encode()
                    if self.wdt_ms else b"")
        while time.monotonic() < deadline:
            # interrupt; leave a raw REPL for the friendly one; take over the watchdog
            ser.write(b"\r\x03\x02" + takeover)
            # read until the board has been quiet for QUIET s: a second Ctrl-C while it
            # still prints the first one's traceback would land somewhere unplanned
            ser.timeout = self.QUIET
            while time.monotonic() < deadline:
                chunk = ser.read(max(1, ser.in_waiting))
                if not chunk:
                    break
                seen = (seen + chunk)[-64:]
            if seen.endswith(b">>> "):
                break
        ser.timeout = blocking

    def exec(self, code: str, timeout: float = 10.0) -> bytes:
        from mpremote.transport import TransportExecError

        out, err = self.t.exec_raw(code, timeout=timeout)
        if err:
            raise TransportExecError(out, err.decode(errors="replace"))
        return out

    def eval(self, expr: str) -> Any:
        import ast

        out = self.exec(f"print(repr({expr}))")
        return ast.literal_eval(out.decode().strip())

    def send_no_follow(self, code: str) -> None:
        self.t.exec_raw_no_follow(code)

    def read_console(self, until: re.Pattern[bytes], timeout: float) -> bytes:
        """Console output until `until` matches or `timeout` s pass."""
        ser = self.t.serial
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ser.timeout = max(0.01, min(0.2, deadline - time.monotonic()))
            try:
                chunk = ser.read(max(1, ser.in_waiting))
            except OSError:         # native USB (ESP32-S3) leaves with the reset
                break
            if chunk:
                data += chunk
                m = until.search(data)
                if m and data[m.end():m.end() + 1] in (b"\r", b"\n"):
                    break
        return data

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.t.close()
