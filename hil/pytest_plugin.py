"""pytest fixtures for HIL tests: `rig` (a started rig factory), `hil_scenario` and `broker`.

    def test_my_case(rig):
        r = rig("examples/astana_cis.toml", time_scale=2)
        r.run_for(30)
        assert r.violations() == []

Load it with `pytest_plugins = ["hil.pytest_plugin"]` in a conftest.py. Rigs are closed
after the test; on failure the rig's folder (controller log, board folders) is kept and
its path printed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.config import load

from .rig import Rig, environment_ok
from .runner import run_scenario
from .scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item: the `rig` fixture looks at the call's."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"_rig_report_{rep.when}", rep)


@pytest.fixture
def rig(request):
    problem = environment_ok()
    if problem:
        pytest.skip(f"the HIL rig cannot run here: {problem}")
    made: list[Rig] = []

    def make(config: str, **kw) -> Rig:
        r = Rig(load(ROOT / config), **kw)
        made.append(r)
        return r.start()

    yield make
    rep = getattr(request.node, "_rig_report_call", None)
    failed = rep is None or rep.failed
    for r in made:
        r.close()
        if failed:
            print(f"rig folder kept: {r.keep_logs()} (controller.log, <board>/console.log)")
        else:
            r.discard()


@pytest.fixture
def hil_scenario(tmp_path):
    """Run a scenario file; returns its Verdict (the diagram lands in tmp_path)."""
    problem = environment_ok()
    if problem:
        pytest.skip(f"the HIL rig cannot run here: {problem}")

    def run(path: str | Path):
        scn = load_scenario(path)
        return run_scenario(scn, plot=str(tmp_path / f"{scn.name}.png"))

    return run


@pytest.fixture
def broker():
    """A Mosquitto of its own on a free port (hil/broker.py); skips where none is installed."""
    from .broker import Mosquitto, missing

    why = missing()
    if why:
        pytest.skip(why)
    b = Mosquitto().start()
    yield b
    b.stop()
