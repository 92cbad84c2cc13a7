"""The rig's claim on the CPU (hil/emu/priority.py): what it asks for, that a child it
starts gets it, and that it is a request, never a condition."""

import os
import subprocess
import sys

import pytest

from hil.emu import priority


@pytest.mark.parametrize(("value", "nice"), [(None, -10), ("-5", -5), ("0", 0), ("-40", -20),
                                             ("7", 0), ("fast", 0)])
def test_the_nice_value_asked_for(monkeypatch, value, nice):
    if value is None:
        monkeypatch.delenv("SMARTCROSS_RIG_NICE", raising=False)
    else:
        monkeypatch.setenv("SMARTCROSS_RIG_NICE", value)
    assert priority.wanted() == nice


def child():
    return subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                            stdin=subprocess.PIPE)


@pytest.mark.parametrize("nice", [-3, 0])
def test_a_child_of_the_rig_gets_its_share_and_0_leaves_it(monkeypatch, nice):
    monkeypatch.setenv("SMARTCROSS_RIG_NICE", str(nice))
    p = child()
    try:
        before = os.getpriority(os.PRIO_PROCESS, p.pid)
        priority.raise_child(p.pid)
        after = os.getpriority(os.PRIO_PROCESS, p.pid)
    finally:
        p.communicate(b"")
    if os.geteuid() == 0 and nice:
        assert after == min(before, nice)
    else:                   # 0, or without the privilege: left as it was, and no error
        assert after == before


def test_a_process_that_is_gone_is_no_error(monkeypatch):
    monkeypatch.setenv("SMARTCROSS_RIG_NICE", "-3")
    p = child()
    p.communicate(b"")
    priority.raise_child(p.pid)         # reaped: ESRCH is swallowed
