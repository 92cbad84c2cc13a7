"""`smartcross ... | head`: a reader that goes away ends the command quietly (status 141,
as a shell shows for `cat`), never with a BrokenPipeError traceback."""

from __future__ import annotations

import subprocess
import sys

from sc_paths import ROOT


def test_a_closed_pipe_is_no_traceback() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "controller.cli", "check",
                             str(ROOT / "examples" / "astana_cis.toml")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()                 # the reader is gone before the command writes
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
