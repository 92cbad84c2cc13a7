"""SUMO tests: the generated networks (built once per session) and the shared kit."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

ROOT = HERE.parent.parent
KIT = ROOT.parent / "shared" / "sumo"

import nets  # noqa: E402


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nets")
    return {"tee": nets.t_junction(folder), "uneven": nets.uneven_corridor(folder),
            "fiveleg": nets.skewed_five_leg(folder)}


@pytest.fixture(scope="session")
def kit():
    if not (KIT / "scenarios" / "single" / "single.net.xml").exists():
        pytest.skip("the shared SUMO kit (../shared/sumo) is not here")
    sys.path.insert(0, str(KIT))
    import benchlib

    return benchlib


def smartcross(*args, timeout=120, cwd=ROOT):
    """The program in a subprocess (libsumo allows one simulation per process)."""
    import sumo

    env = dict(os.environ, SUMO_HOME=sumo.SUMO_HOME)
    return subprocess.run([sys.executable, "-m", "controller.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env)
