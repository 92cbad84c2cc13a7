"""Run the MicroPython unit-test modules in tests/firmware/mp on the unix port.

Each module runs once per test session in its own process and working directory (files
and RTC memory are per run), with the emulated `machine` but no host and a virtual clock
that runs free. Its PASS/FAIL lines become one pytest test per function.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from hil.emu.host import FIRMWARE, ROOT, micropython_executable
from hil.emu.host import HERE as EMU

MP = Path(__file__).resolve().parent / "mp"


def names_of(module: str) -> list[str]:
    text = (MP / f"{module}.py").read_text()
    return re.findall(r"^def (test_\w+)", text, re.M)


@cache
def run_module(module: str) -> dict[str, str]:
    """{test name: "" if it passed, else its traceback}."""
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join([str(EMU), str(FIRMWARE), str(ROOT), str(MP), ".frozen"])
    env["EMU_CLOCK"] = "virtual"
    env.pop("EMU_HOST", None)
    with tempfile.TemporaryDirectory(prefix="scmp-") as cwd:
        proc = subprocess.run([micropython_executable(), str(MP / "runner.py"), module],
                              cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    results: dict[str, str] = {}
    current = None
    lines: list[str] = []
    for line in proc.stdout.splitlines():
        if line.startswith("PASS "):
            results[line[5:]] = ""
        elif line.startswith("FAIL "):
            current, lines = line[5:], []
        elif line.startswith("END ") and current:
            results[current] = "\n".join(lines) or "failed"
            current = None
        elif current:
            lines.append(line)
    if not results:
        results["<module>"] = proc.stdout + proc.stderr
    return results


def check(module: str, name: str) -> None:
    results = run_module(module)
    if name not in results:
        raise AssertionError(f"{module}.{name} did not run:\n" + "\n".join(
            f"{k}: {v}" for k, v in results.items() if v))
    if results[name]:
        raise AssertionError(f"{module}.{name} failed on MicroPython:\n{results[name]}")
