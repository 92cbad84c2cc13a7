"""A real Mosquitto broker for tests and the demo: a free local port, a temp folder, a
generated configuration; stopped and started again on the same port (a broker outage).

    with Mosquitto() as b:            # b.url == "mqtt://127.0.0.1:PORT"
        ...
        b.stop(); ...; b.start()

`users={"name": "password"}` turns anonymous access off and writes a password file with
mosquitto_passwd; `acl` is the text of an ACL file (docs/TELEMETRY.md ships one);
`tls=(cafile, certfile, keyfile)` makes the listener a TLS one (b.url is then
"mqtts://127.0.0.1:PORT"; the certificate must name 127.0.0.1).
Persistence is on, so a subscriber with a persistent session (clean_session=False) gets
what was published while it was away, across a restart of the broker, too.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT_S = 30.0


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.access(p, os.X_OK)),
        None)


def missing() -> str | None:
    """Why no broker can be started here, or None."""
    if mosquitto_binary() is None:
        return ("Mosquitto is not installed (Debian: apt-get install mosquitto; "
                "`make test` installs it when it runs as root)")
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    def __init__(self, users: dict[str, str] | None = None, acl: str | None = None,
                 workdir: str | None = None, tls: tuple[str, str, str] | None = None):
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError(missing())
        self.binary = binary
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="smartcross-broker-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o755)            # run as root, mosquitto may read as another user
        self.port = free_port()
        self.url = f"{'mqtts' if tls else 'mqtt'}://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self._write_config(users, acl, tls)

    def _write_config(self, users: dict[str, str] | None, acl: str | None,
                      tls: tuple[str, str, str] | None = None) -> None:
        lines = [f"listener {self.port} 127.0.0.1"]
        if tls:
            lines += [f"{k} {v}" for k, v in zip(("cafile", "certfile", "keyfile"), tls)]
        lines += ["persistence true",
                 f"persistence_location {self.dir}/", "autosave_interval 1",
                 "max_queued_messages 0", "max_inflight_messages 100",
                 f"user {pwd.getpwuid(os.getuid()).pw_name}", "log_dest stderr",
                 "log_type error", "log_type warning", "log_type notice"]
        if users:
            pw = self.dir / "passwords"
            pw.write_text("")
            for name, password in users.items():
                subprocess.run([shutil.which("mosquitto_passwd") or "mosquitto_passwd", "-b",
                                str(pw), name, password], check=True, capture_output=True)
            pw.chmod(0o600)
            lines += ["allow_anonymous false", f"password_file {pw}"]
        else:
            lines.append("allow_anonymous true")
        if acl is not None:
            (self.dir / "acl").write_text(acl)
            (self.dir / "acl").chmod(0o600)
            lines.append(f"acl_file {self.dir / 'acl'}")
        (self.dir / "mosquitto.conf").write_text("\n".join(lines) + "\n")

    def start(self) -> Mosquitto:
        log = open(self.dir / "mosquitto.log", "ab")
        self.proc = subprocess.Popen([self.binary, "-c", str(self.dir / "mosquitto.conf")],
                                     stdout=log, stderr=log)
        end = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited ({self.proc.returncode}): "
                                   + (self.dir / "mosquitto.log").read_text()[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                if time.monotonic() > end:
                    self.stop()
                    raise RuntimeError(f"mosquitto did not listen on {self.port} in "
                                       f"{START_TIMEOUT_S:.0f} s") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """A clean stop (SIGTERM): persistent sessions and retained messages are saved."""
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> Mosquitto:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
