"""The rig's folder: a run that passes leaves nothing behind; one that fails keeps the
controller's log and each board's console for whoever looks into it."""

from pathlib import Path

import pytest

from controller.config import load
from hil.rig import Rig

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = [pytest.mark.hil, pytest.mark.micropython, pytest.mark.pty]


def test_a_rig_that_ends_well_removes_its_folder():
    with Rig(load(ROOT / "examples/astana_cis.toml"), controller=False) as r:
        folder = r.dir
        assert folder.is_dir()
    assert not folder.exists()


def test_a_rig_that_ends_in_an_error_keeps_each_boards_console(tmp_path):
    with pytest.raises(RuntimeError, match="the test's own"):
        with Rig(load(ROOT / "examples/astana_cis.toml"), controller=False) as r:
            boards = list(r.boards)
            raise RuntimeError("the test's own")
    try:
        assert boards
        for bid in boards:
            console = (r.dir / bid / "console.log").read_text()
            assert console.strip(), bid               # what the board printed as it booted
    finally:
        r.discard()
    assert not r.dir.exists()


def test_a_folder_given_to_the_rig_is_the_callers(tmp_path):
    with Rig(load(ROOT / "examples/astana_cis.toml"), controller=False,
             workdir=str(tmp_path / "mine")) as r:
        pass
    assert r.dir.is_dir()
