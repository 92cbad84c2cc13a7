"""What the program says when a run goes wrong, as a user sees it (a subprocess each):
a port that refuses the bus's framing, a bus where nobody answers, the status of a service
that never ran, a flood of problems, and the progress of a long simulation."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys

from controller.runtime.logs import LibraryWords

from sc_paths import ROOT

CORRIDOR = str(ROOT / "examples" / "corridor.toml")
EU = str(ROOT / "examples" / "eu_junction.toml")
ASTANA = str(ROOT / "examples" / "astana_cis.toml")


def smartcross(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "controller.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120, **kw)


def a_pty() -> tuple[int, int, str]:
    master, slave = os.openpty()
    return master, slave, os.ttyname(slave)


def test_a_pty_cannot_do_the_buses_parity_one_message_and_status_1(tmp_path):
    master, slave, port = a_pty()          # nobody answers on it; it cannot do 8E1
    try:
        r = smartcross("run", EU, "--port", f"schrank-rs485={port}", "--data",
                       str(tmp_path), "--duration", "0.3")
    finally:
        os.close(slave)
        os.close(master)
    assert "Traceback" not in r.stderr and "termios.error" not in r.stderr
    assert r.returncode == 1, r.stderr
    [line] = [x for x in r.stderr.splitlines() if "cannot open" in x]
    assert f"bus schrank-rs485: cannot open {port} at 19200 8E1: the port refuses this " \
           "framing" in line
    assert "ptys cannot do parity" in line
    assert "no node ever answered (bus schrank-rs485 on " f"{port}: the port never opened)" \
        in r.stderr


def test_a_silent_bus_is_a_failed_run_in_the_services_own_words(tmp_path):
    master, slave, port = a_pty()
    try:
        r = smartcross("run", CORRIDOR, "--port", f"abay-rs485={port}", "--data",
                       str(tmp_path), "--duration", "0.5")
    finally:
        os.close(slave)
        os.close(master)
    assert r.returncode == 1, r.stderr
    assert "no node ever answered (bus abay-rs485 on " f"{port}: 4 node(s) polled at 115200 " \
        "8N1, none answered)" in r.stderr
    for internal in (">>>>>", "Repeating", "No response received", "Traceback"):
        assert internal not in r.stderr, r.stderr
    log_line = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR) \S")
    strays = [line for line in r.stderr.splitlines() if not log_line.match(line)]
    assert strays == []                   # every line is one of the service's log lines
    assert "intersection a1 to flash: node a1-n1: not answering" in r.stderr


def test_library_logging_becomes_one_line_of_the_service_or_nothing():
    words = LibraryWords()

    def record(name: str, msg: str, level: int = logging.ERROR) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, msg, (), None)

    said = record("pymodbus.logging", "No response received after 1 retries, continue with "
                  "next request\n>>>>> send: 0x1 0x3 0x1 0x0\n>>>>> Repeating....")
    assert not words.filter(said)                  # the service says it per node
    assert not words.filter(record("pymodbus.logging", "Repeating...."))
    other = record("pymodbus.logging", "Frame check failed, ignoring!!\n>>>>> recv: 0x1")
    assert words.filter(other)
    assert other.getMessage() == "fieldbus: Frame check failed, ignoring!!"
    mine = record("smartcross.runtime", "node a1-n1 answers", logging.INFO)
    assert words.filter(mine) and mine.getMessage() == "node a1-n1 answers"


def test_status_and_log_export_agree_on_a_service_that_never_ran(tmp_path):
    status = smartcross("status", CORRIDOR, "--data", str(tmp_path))
    export = smartcross("log", "export", CORRIDOR, "--data", str(tmp_path), "--from",
                        "2026-01-01T00:00", "--to", "2026-01-02T00:00")
    for r in (status, export):
        assert r.returncode == 2 and r.stderr.startswith("error: ") and \
            r.stderr.count("\n") == 1, r.stderr
        assert str(tmp_path) in r.stderr


def test_a_flood_of_problems_is_cut_to_50_and_a_count(tmp_path):
    text = open(ASTANA).read()
    junk = "".join(f"favourite_{i} = {i}\n" for i in range(60_000))
    bad = tmp_path / "huge.toml"
    bad.write_text(text.replace("startup_flash_s = 6", "startup_flash_s = 6\n" + junk, 1))
    r = smartcross("check", str(bad))
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 52
    assert lines[0] == f"error: {bad}: intersection[kb-turan].favourite_0: unknown key"
    assert lines[50] == "error: ... and 59950 more problems"
    assert lines[51] == "60000 problem(s); nothing was changed."


def _on_a_terminal(*args: str) -> tuple[int, str]:
    """The program with its stderr on a pty, as in a terminal: (status, what it drew)."""
    master, slave, _ = a_pty()
    p = subprocess.Popen([sys.executable, "-m", "controller.cli", *args], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:                      # EIO: the program closed its end
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    return p.wait(timeout=120), drawn.decode(errors="replace")


def test_simulate_draws_a_progress_bar_on_a_terminal_only():
    code, drawn = _on_a_terminal("simulate", CORRIDOR, "--duration", "7200")
    assert code == 0
    assert "\rsimulating 7200 s [" in drawn and "100% 7200 s/7200 s" in drawn
    code, drawn = _on_a_terminal("simulate", CORRIDOR, "--duration", "7200", "--json")
    assert code == 0 and drawn == ""
    r = smartcross("simulate", CORRIDOR, "--duration", "7200")       # a pipe: nothing
    assert r.returncode == 0 and r.stderr == ""
