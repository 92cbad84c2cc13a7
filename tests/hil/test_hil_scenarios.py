"""Every scenario in hil/scenarios/ runs on the rig and gets the verdict it expects."""

import tomllib
from pathlib import Path

import pytest

pytestmark = [pytest.mark.micropython, pytest.mark.pty]

ROOT = Path(__file__).resolve().parent.parent.parent


def _real_s(path: Path) -> float:
    doc = tomllib.loads(path.read_text())
    return doc.get("duration_s", 60.0) / doc.get("time_scale", 1.0)


# the longest first, so that the HIL round's workers finish together (pytest-xdist hands
# tests out in this order)
SCENARIOS = sorted((ROOT / "hil" / "scenarios").glob("*.toml"), key=lambda p: (-_real_s(p), p.name))


@pytest.mark.hil
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario(path, hil_scenario):
    verdict = hil_scenario(path)
    assert verdict.passed, verdict.summary()
