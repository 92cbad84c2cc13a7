"""The field-tooling subcommands as a user meets them: help, bad input, the pty servers."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from tool_helpers import ROOT

pytestmark = [pytest.mark.micropython, pytest.mark.pty]


def run(*args, **kw):
    return subprocess.run([sys.executable, "-m", "controller.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120, **kw)


@pytest.mark.parametrize("sub", [["firmware"], ["firmware", "build"], ["nodes"],
                                 ["nodes", "provision"], ["nodes", "scan"], ["flash"],
                                 ["hil"]])
def test_help_on_every_tooling_subcommand(sub):
    r = run(*sub, "--help")
    assert r.returncode == 0 and "usage: smartcross" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["nodes", "provision", "/nonexistent.toml", "a1"], "cannot read the file"),
    (["nodes", "provision", "examples/corridor.toml", "zz"], "no node 'zz'"),
    (["flash", "--port", "/dev/null", "--node", "/nonexistent.json"], "cannot read"),
    (["flash", "--port", "/dev/null", "--node", "firmware/node.example.json",
      "--base-image", "/nonexistent.bin"], "--base-image /nonexistent.bin: cannot read"),
    (["firmware", "build", "-o", "README.md"], "is not a bundle folder"),
    (["nodes", "scan", "--port", "/nonexistent/tty"], "cannot open"),
])
def test_bad_input_is_a_message_and_status_2(args, message):
    r = run(*args)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr


def test_hil_repl_board_serves_a_board_for_mpremote(tmp_path):
    fs = tmp_path / "fs"
    p = subprocess.Popen([sys.executable, "-m", "controller.cli", "hil", "repl-board", str(fs)],
                         cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("port: /dev/pts/")
        port = line.split()[1]
        r = subprocess.run([sys.executable, "-m", "mpremote", "connect", port, "exec",
                            "open('made-here.txt', 'w').write('x')"], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert (fs / "made-here.txt").read_text() == "x"
    finally:
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=20) == 0
