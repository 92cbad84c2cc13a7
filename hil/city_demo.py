"""The city layer of `smartcross demo`: a broker (the given one, or an embedded Mosquitto
when it is installed) and the central service (`smartcross city`, a process of its own)
with its page on a local port."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .broker import Mosquitto, free_port, missing

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0


class CityDemo:
    def __init__(self, workdir: Path, broker: str | None, http_port: int | None = None):
        self.dir = workdir
        self.embedded: Mosquitto | None = None
        self.broker = broker
        self.note: str | None = None
        self.port = http_port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc: subprocess.Popen | None = None

    def start(self) -> str | None:
        """Start the broker (if none was given) and the city; the broker URL, or None with
        `note` saying why the demo runs without the city layer."""
        if self.broker is None:
            why = missing()
            if why:
                self.note = f"no city layer: {why}"
                return None
            self.embedded = Mosquitto(workdir=str(self.dir / "broker")).start()
            self.broker = self.embedded.url
        log = open(self.dir / "city.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "controller.cli", "city", "--broker", self.broker,
             "--http", f"127.0.0.1:{self.port}", "--data", str(self.dir / "city")],
            stdout=log, stderr=log, cwd=ROOT)
        end = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                self.note = f"the city service exited; see {self.dir / 'city.log'}"
                return self.broker
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self.broker
            except OSError:
                if time.monotonic() > end:
                    self.note = f"the city service did not listen; see {self.dir / 'city.log'}"
                    return self.broker
                time.sleep(0.1)

    def get(self, path: str):
        try:
            with urllib.request.urlopen(self.url.rstrip("/") + path, timeout=10) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.embedded is not None:
            self.embedded.stop()
