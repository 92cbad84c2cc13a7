"""Helpers of the SUMO tests: where the shared kit is, and the program in a subprocess."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
KIT = ROOT.parent / "shared" / "sumo"


def smartcross(*args, timeout=120, cwd=ROOT):
    """The program in a subprocess (libsumo allows one simulation per process)."""
    import sumo

    env = dict(os.environ, SUMO_HOME=sumo.SUMO_HOME)
    return subprocess.run([sys.executable, "-m", "controller.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env)


# -- fixtures (imported by the test modules: no conftest.py, whose module name the other
# test folders would import in its place)  --------------------------------
@pytest.fixture(scope="session", name="generated")
def generated_fixture(tmp_path_factory):
    """The networks the importer has never seen, built once per session."""
    import sumo_nets

    folder = tmp_path_factory.mktemp("nets")
    return {"tee": sumo_nets.t_junction(folder), "uneven": sumo_nets.uneven_corridor(folder),
            "fiveleg": sumo_nets.skewed_five_leg(folder),
            "crossings": sumo_nets.t_junction_with_crossings(folder)}


@pytest.fixture(scope="session", name="kit")
def kit_fixture():
    """The shared kit's benchlib (its checker and run configuration), if the kit is here."""
    if not (KIT / "scenarios" / "single" / "single.net.xml").exists():
        pytest.skip("the shared SUMO kit (../shared/sumo) is not here")
    sys.path.insert(0, str(KIT))
    import benchlib

    return benchlib
