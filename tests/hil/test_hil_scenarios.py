"""Every scenario in hil/scenarios/ runs on the rig and gets the verdict it expects."""

from pathlib import Path

import pytest

pytestmark = [pytest.mark.micropython, pytest.mark.pty]

ROOT = Path(__file__).resolve().parent.parent.parent
SCENARIOS = sorted((ROOT / "hil" / "scenarios").glob("*.toml"))


@pytest.mark.hil
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario(path, hil_scenario):
    verdict = hil_scenario(path)
    assert verdict.passed, verdict.summary()
