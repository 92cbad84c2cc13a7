"""A scenario file is checked before any board starts: what it asks of the host included."""

from pathlib import Path

import pytest

from controller.config.model import COMM_TIMEOUT_MS
from hil.rig import HOST_BUDGET_MS
from hil.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent.parent
CONFIG = ROOT / "examples" / "astana_cis.toml"


def scenario(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "s.toml"
    p.write_text(f'name = "s"\nconfig = "{CONFIG}"\nduration_s = 10\n{body}')
    return p


def test_a_scaled_watchdog_that_leaves_the_host_too_little_time_is_refused(tmp_path):
    with pytest.raises(ScenarioError) as e:
        load_scenario(scenario(tmp_path, "time_scale = 4\n"))
    text = str(e.value)
    assert "comm_timeout_ms" in text and "250 ms of real time" in text
    assert f"at least {4 * HOST_BUDGET_MS}" in text


def test_enough_host_time_is_accepted(tmp_path):
    s = load_scenario(scenario(tmp_path, f"time_scale = 4\ncomm_timeout_ms = {4 * HOST_BUDGET_MS}\n"))
    assert s.comm_timeout_ms == 4 * HOST_BUDGET_MS


@pytest.mark.parametrize("path", sorted((ROOT / "hil" / "scenarios").glob("*.toml")),
                         ids=lambda p: p.stem)
def test_every_shipped_scenario_loads(path):
    s = load_scenario(path)
    assert (s.comm_timeout_ms or COMM_TIMEOUT_MS) / s.time_scale >= HOST_BUDGET_MS


US = ROOT / "examples" / "us_junction.toml"


def test_a_preempt_call_must_name_a_detector_that_calls_a_preempt(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(f'name = "s"\nconfig = "{US}"\nduration_s = 10\n'
                 '[[fault]]\nat_s = 1\nkind = "preempt_call"\nintersection = "main-5th"\n'
                 'detector = "det1"\nduration_s = 5\n')
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    assert "fault[0]" in str(e.value) and "det1" in str(e.value) and "preempt" in str(e.value)


def test_a_rig_that_cannot_run_is_one_line_and_status_1(monkeypatch, capsys):
    """A board that never boots ends `smartcross hil SCENARIO` with one line naming the
    scenario and what failed, exit 1 (a failed run), never a traceback."""
    from controller import cli
    from hil import runner

    def never_boots(scn, plot=None):
        raise TimeoutError("board: timed out waiting for boot 1")

    monkeypatch.setattr(runner, "run_scenario", never_boots)
    monkeypatch.setattr("hil.rig.environment_ok", lambda: None)
    path = str(Path(__file__).resolve().parents[2] / "hil/scenarios/normal_cis.toml")
    assert cli.main(["hil", path]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "normal_cis.toml" in err and "timed out waiting for boot 1" in err
