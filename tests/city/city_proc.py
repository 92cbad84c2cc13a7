"""`smartcross city` as a process for tests: started on a free port, read over HTTP, with
waits that poll on generous deadlines."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from polling import wait_for

from hil.broker import free_port

from sc_paths import ROOT


class CityProcess:
    def __init__(self, broker: str, data: Path, *extra: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = data / "city.log"
        data.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "controller.cli", "city", "--broker", broker, "--http",
             f"127.0.0.1:{self.port}", "--data", str(data), *extra],
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, cwd=ROOT)
        self.wait_for(self._listening, 60, "the city's HTTP port")

    def _listening(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"city exited {self.proc.returncode}: {self.log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def get(self, path: str, raw: bool = False):
        with urllib.request.urlopen(self.base + path, timeout=30) as r:
            body = r.read()
        return body.decode() if raw else json.loads(body)

    def status_of(self, path: str, method: str = "GET") -> int:
        try:
            with urllib.request.urlopen(urllib.request.Request(self.base + path, method=method),
                                        timeout=30) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def call(self, method: str, path: str, body=None, token: str | None = None
             ) -> tuple[int, object]:
        """(status, decoded JSON) of a request with a JSON body and a bearer token."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def login(self, user: str, password: str) -> str:
        status, doc = self.call("POST", "/api/login", {"user": user, "password": password})
        assert status == 200, doc
        return doc["token"]

    def wait_for(self, predicate, timeout_s: float, what: str):
        return wait_for(predicate, timeout_s, what)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
