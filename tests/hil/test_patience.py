"""The rig's waits stretch with the host's load (hil/emu/patience.py): never shorter than
asked, longer on a busy machine, and still bounded so that a hang ends."""

import threading
import time

from hil.emu import patience


def test_idle_machine_waits_what_is_asked(monkeypatch):
    monkeypatch.setattr(patience.os, "getloadavg", lambda: (0.3, 0.3, 0.3))
    assert patience.load_factor() == 1.0


def test_busy_machine_stretches_by_load_per_core(monkeypatch):
    monkeypatch.setattr(patience.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(patience.os, "getloadavg", lambda: (13.0, 9.0, 5.0))
    assert patience.load_factor() == 6.5
    monkeypatch.setattr(patience.os, "getloadavg", lambda: (1000.0, 9.0, 5.0))
    assert patience.load_factor() == patience.MAX_FACTOR


def test_wait_for_returns_once_true_and_gives_up_after_the_stretched_time(monkeypatch):
    cv = threading.Condition()
    with cv:
        assert patience.wait_for(cv, lambda: True, 0.0)
    monkeypatch.setattr(patience, "load_factor", lambda: 3.0)
    t0 = time.monotonic()
    with cv:
        assert not patience.wait_for(cv, lambda: False, 0.05)
    assert time.monotonic() - t0 >= 0.15        # 0.05 s stretched 3 times, never less
