"""The node on MicroPython's 32-bit WebAssembly port (bench/wasm32): bench/node_heap.py's
default run, shortened to a few simulated minutes. The deployed bundle boots on the port
with the stand-in board and the pretend cabinet in its interpreter, reaches RUN, follows
the plan without a guard refusal, and the bench reports the heap at the ESP32's word size.

Needs Node.js and the npm package `make setup` installs in bench/wasm32 (skipped without)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from sc_paths import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import node_heap  # noqa: E402

MINUTES = 3
MISSING = node_heap.wasm32_missing()

pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"bench/wasm32: {MISSING}")


def test_the_node_runs_the_plan_and_the_heap_is_reported_at_32_bit_words() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "node_heap.py"),
                           "--port", "wasm32", "--hours", str(MINUTES / 60)],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = proc.stdout.splitlines()

    first = report[0]
    assert first.startswith("MicroPython's WebAssembly port (32-bit, "), first
    assert f"{MINUTES * 60 * 10} polls" in first, first
    assert ", 0 guard refusals, mode run" in first, first
    actuations = re.search(r"(\d+) detector actuations", first)
    assert actuations and int(actuations.group(1)) > 0, first

    samples = [line for line in report if line.startswith("  t = ")]
    assert len(samples) == 2, report                    # after start-up, at the end
    headline = next(line for line in report if line.startswith("node RAM as deployed"))
    assert "32-bit words, the ESP32's word size" in headline, headline
    m = re.fullmatch(r"node_heap_as_deployed: (\d+\.\d) KB", report[-1])
    assert m, report[-1]
    deployed = float(m.group(1))
    assert f"{deployed:.1f} KB after {MINUTES / 60:g} h" in headline, headline
    code = re.search(r"loaded from \.mpy: (\d+\.\d) KB", proc.stdout)
    assert code and 0 < float(code.group(1)) < deployed, report   # bytecode, and data
