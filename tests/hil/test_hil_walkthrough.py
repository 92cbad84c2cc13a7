"""The README's emulated-board walkthrough, as written: provision a node, serve it with
`smartcross hil board`, run the cabinet service on its port. The board emulates the
current of the lamps its node.json wires, so the node's lamp sense sees healthy lamps:
its junction goes through the start-up sequence to run, with no red fail."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys

import pytest

from hil.rig import DEFER_MAX_MS, HOST_BUDGET_MS

from sc_paths import ROOT

pytestmark = [pytest.mark.hil, pytest.mark.micropython, pytest.mark.pty]

CORRIDOR = str(ROOT / "examples" / "corridor.toml")


def smartcross(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "controller.cli", *args], cwd=ROOT, **kw)


def test_hil_board_and_run_reach_run_without_a_red_fail(tmp_path) -> None:
    node = tmp_path / "a1-n1.json"
    assert smartcross("nodes", "provision", CORRIDOR, "a1-n1", "-o", str(node)).wait(120) == 0
    doc = json.loads(node.read_text())
    assert any(g.get("feedback") for g in doc["groups"]), "the walkthrough's node senses lamps"
    # the rig's allowances for a loaded machine (hil/rig.py: HOST_BUDGET_MS, HOST_JITTER_MS);
    # the walkthrough itself runs as written
    doc["modbus"]["comm_timeout_ms"] = HOST_BUDGET_MS
    doc.setdefault("guard", {})["defer_ms"] = DEFER_MAX_MS
    node.write_text(json.dumps(doc))
    board = smartcross("hil", "board", str(node), stdout=subprocess.PIPE, text=True)
    try:
        assert board.stdout is not None
        first = board.stdout.readline()
        assert first.startswith("port: "), first
        port = first.split(":", 1)[1].strip()
        data = tmp_path / "cabinet"
        run = smartcross("run", CORRIDOR, "--port", f"abay-rs485={port}", "--data", str(data),
                         "--duration", "20", "--min-reply-timeout-ms", "250",
                         stderr=subprocess.PIPE, text=True)
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    finally:
        board.send_signal(signal.SIGTERM)
        board.wait(timeout=30)
    con = sqlite3.connect(data / "record.sqlite")
    health = con.execute("SELECT mode, faults FROM node_health WHERE node = 'a1-n1' "
                         "ORDER BY rowid").fetchall()
    con.close()
    assert ("run", "") in health, (health, err)
    assert not any("red-fail" in faults for _, faults in health), (health, err)
