"""`smartcross flash` end to end against an emulated ESP32 speaking the MicroPython raw REPL
over a pty (hil/repl.py: the unix port's own REPL), including a deploy cut half-way and a
file corrupted on the board. Neither may be reported as success; both must be seen, by
the tool and by the node's boot check (firmware/node/manifest_check.py)."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time
import tty

import pytest
from tool_helpers import (
    ROOT,
    board_manifest,
    corridor_doc,
    flip_byte,
    status,
    write_node_json,
)

from controller.cli import main
from controller.config import load
from controller.provisioning import layouts
from controller.provisioning import node_file as provisioning
from controller.tooling import ToolError, bundle
from controller.tooling.deploy import BoardPlan, Deployer
from hil.repl import ReplBoard
from protocols import register_map as rm

pytestmark = [pytest.mark.micropython, pytest.mark.pty]

CORRIDOR = ROOT / "examples" / "corridor.toml"


@pytest.fixture(scope="module")
def checked_bundle(tmp_path_factory):
    """The firmware bundle, as `smartcross firmware build` makes it."""
    out = tmp_path_factory.mktemp("bundle") / "fw"
    bundle.build(out)
    assert bundle.load(out).entry("node/manifest_check.mpy") is not None
    return out


@pytest.fixture(scope="module")
def nb(checked_bundle):
    """Files in the bundle; the board has one more (node.json), and manifest.json."""
    return len(bundle.load(checked_bundle).files)


@pytest.fixture(scope="module")
def node_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("nodes")
    return {nid: write_node_json(d / f"{nid}.json", corridor_doc(nid))
            for nid in ("a1-n1", "a2-heads")}


@pytest.fixture
def board(tmp_path):
    with ReplBoard(tmp_path / "fs") as b:
        b.wait_console(">>> ")
        yield b


def flash(*args):
    return main(["flash", *map(str, args)])


def plan_for(bundle_dir, node_path):
    doc = provisioning.read_node_json(node_path)
    return BoardPlan(bundle_dir, bundle.load(bundle_dir), doc, node_path.read_bytes())


# ---------------------------------------------------------------- the good path
def test_flash_deploys_reads_back_and_resets_into_a_running_node(board, checked_bundle,
                                                                 node_files, nb, capsys):
    t0 = time.monotonic()
    code = flash("--port", board.port, "--node", node_files["a1-n1"], "--bundle",
                 checked_bundle, "--boot-timeout", 30)
    seconds = time.monotonic() - t0
    out, err = capsys.readouterr()
    assert code == 0, err
    m = board_manifest(board.fs)
    assert len(m.files) == nb + 1
    assert f"verified: all {nb + 2} files on the board match the manifest" in out
    assert f'its boot check says "manifest: ok, {nb + 1} files"' in out
    assert "done: node a1-n1 deployed and verified" in out
    assert f"writing {nb + 1} files" in err and f"reading back {nb + 2} files" in err
    # the board's filesystem is exactly the bundle plus node.json, under manifest.json
    assert bundle.check_tree(board.fs, m) == []
    assert m.node_id == "a1-n1"
    assert set(m.files) == {*bundle.load(checked_bundle).files, m.entry("node.json")}
    assert (board.fs / "node.json").read_bytes() == node_files["a1-n1"].read_bytes()
    assert not list(board.fs.rglob("*.part"))
    assert board.resets[-1] == "hard"
    print(f"deploy time, fresh board: {seconds:.2f} s")
    board.close()
    # the deployed node answers the bus with the controller's safety CRC
    st = status(board.fs, 1)
    assert st["config_error"] == rm.CFG_OK and f"manifest: ok, {nb + 1} files" in st["log"]
    assert st["safety_crc"] == layouts(load(CORRIDOR))["a1-n1"].safety_crc()


def test_a_second_flash_stops_the_running_node_and_writes_only_what_differs(
        board, checked_bundle, node_files, nb, capsys):
    assert flash("--port", board.port, "--node", node_files["a1-n1"], "--bundle",
                 checked_bundle, "--boot-timeout", 30) == 0
    capsys.readouterr()
    # the node now runs (main.py, its watchdog started); re-flash with another node.json
    assert flash("--port", board.port, "--node", node_files["a2-heads"], "--bundle",
                 checked_bundle, "--boot-timeout", 30) == 0
    out = capsys.readouterr().out
    assert "heads dark (10 lamp outputs off)" in out        # the old node.json's lamps
    assert f"board: {nb} file(s) already as in the manifest, not rewritten" in out
    assert f"(1 file written, {nb} already right, {nb + 2} read back)" in out
    assert board_manifest(board.fs).node_id == "a2-heads"
    assert flash("--port", board.port, "--node", node_files["a2-heads"], "--bundle",
                 checked_bundle, "--force", "--boot-timeout", 30) == 0
    assert f"({nb + 1} files written, 0 already right" in capsys.readouterr().out


def test_mpremote_itself_talks_to_the_emulated_board(board):
    """The emulation is what mpremote expects: soft reset into the raw REPL, raw paste,
    filesystem commands on the board's folder."""
    (board.fs / "hello.txt").write_text("hi\n")
    mp = [sys.executable, "-m", "mpremote", "connect", board.port]
    r = subprocess.run(mp + ["fs", "ls", "+", "exec", "print(6 * 7)"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "hello.txt" in r.stdout and "42" in r.stdout
    assert "soft" in board.resets


# ---------------------------------------------------------------- interrupted
def test_a_deploy_cut_half_way_is_reported_and_the_node_boots_into_safe_mode(
        board, checked_bundle, node_files, nb, capsys):
    assert flash("--port", board.port, "--node", node_files["a1-n1"], "--bundle",
                 checked_bundle, "--boot-timeout", 30) == 0
    capsys.readouterr()
    plan = plan_for(checked_bundle, node_files["a2-heads"])
    order = plan.order()
    written: list[str] = []

    def on_event(what, name):
        if what == "written" and name != "manifest.json":
            written.append(name)
            if len(written) == len(order) // 2:
                board.cut_after(300)        # the lead comes out inside the next file

    said: list[str] = []
    start = len(board.console)
    resets = len(board.resets)
    deployer = Deployer(board.port, say=said.append, force=True, wdt_ms=1500,
                        on_event=on_event)
    with pytest.raises(ToolError) as e:
        deployer.run(plan)
    msg = str(e.value)
    assert e.value.status == 1
    assert "connection to the board lost" in msg and "half-written" in msg
    assert "safe mode" in msg and f"writing {order[len(order) // 2]}" in msg
    assert not any("verified" in s for s in said)
    # on the board: the new manifest is in place, node.json (written last) is the old one
    m = board_manifest(board.fs)
    assert m.node_id == "a2-heads"
    problems = bundle.check_tree(board.fs, m)
    assert problems and all(p.startswith("node.json: ") for p in problems)
    # the deploy's watchdog resets the board; its boot check refuses the files
    board.wait_resets(resets + 1, timeout=20)
    board.wait_console("manifest: MISMATCH node.json: ", timeout=20, start=start)
    assert board.resets[-1] == "wdt"
    board.close()
    st = status(board.fs, 1)       # old node.json: address 1
    assert st["config_error"] == rm.CFG_FILES and st["mode"] == rm.MODE_SAFE
    assert st["faults"] & rm.FAULT_CONFIG
    # the technician plugs the lead back in and flashes again: all good
    with ReplBoard(board.fs) as again:
        again.wait_console("manifest: MISMATCH node.json: ")      # powered on: safe mode
        assert flash("--port", again.port, "--node", node_files["a2-heads"], "--bundle",
                     checked_bundle, "--boot-timeout", 30) == 0
        out = capsys.readouterr().out
        assert f"manifest: ok, {nb + 1} files" in out and "done: node a2-heads" in out


def test_the_cli_reports_a_cut_deploy_as_a_failure(board, checked_bundle, node_files,
                                                   capsys):
    board.cut_after(25_000)             # about half of a fresh board's deploy
    code = flash("--port", board.port, "--node", node_files["a1-n1"], "--bundle",
                 checked_bundle)
    out, err = capsys.readouterr()
    assert code == 1
    assert "error: deploy failed while writing" in err
    assert "connection to the board lost" in err and "Traceback" not in err
    assert "verified" not in out and "done:" not in out
    problems = bundle.check_tree(board.fs, board_manifest(board.fs))
    assert problems and any("missing" in p for p in problems)


# ---------------------------------------------------------------- corrupted
def test_a_file_corrupted_on_the_board_fails_the_read_back(board, checked_bundle,
                                                           node_files):
    def on_event(what, name):
        if what == "written" and name == "node/guard.mpy":
            flip_byte(board.fs / name, 100)         # the flash kept a wrong bit

    said: list[str] = []
    start = len(board.console)
    with pytest.raises(ToolError) as e:
        Deployer(board.port, say=said.append, on_event=on_event).run(
            plan_for(checked_bundle, node_files["a1-n1"]))
    msg = str(e.value)
    assert e.value.status == 1
    assert msg.startswith("verification FAILED on 1 file(s): node/guard.mpy: SHA-256 on the "
                          "board differs from the manifest")
    assert "Nothing was deployed" in msg
    assert not any(s.startswith("verified") for s in said)
    # the tool reset the node: its own boot check sees the same file
    board.wait_console("manifest: MISMATCH node/guard.mpy: SHA-256 differs", timeout=20,
                       start=start)


def test_a_file_that_rots_after_a_good_deploy_is_seen_at_boot_and_repaired(
        board, checked_bundle, node_files, nb, capsys):
    assert flash("--port", board.port, "--node", node_files["a1-n1"], "--bundle",
                 checked_bundle, "--boot-timeout", 30) == 0
    capsys.readouterr()
    flip_byte(board.fs / "protocols" / "register_map.mpy", 50)
    start = len(board.console)
    board.reset()
    board.wait_console("manifest: MISMATCH protocols/register_map.mpy: SHA-256 differs",
                       timeout=20, start=start)
    (board.fs / "node" / "stray.py").write_text("print('not from the bundle')\n")
    assert flash("--port", board.port, "--node", node_files["a1-n1"], "--bundle",
                 checked_bundle, "--boot-timeout", 30) == 0
    out = capsys.readouterr().out
    assert f"(1 file written, {nb} already right" in out
    assert "removed 1 file(s) the manifest does not list: node/stray.py" in out
    assert f"manifest: ok, {nb + 1} files" in out


# ---------------------------------------------------------------- refusals
def test_a_board_with_an_older_micropython_is_refused_before_anything_is_written(
        board, checked_bundle, node_files):
    plan = plan_for(checked_bundle, node_files["a1-n1"])
    plan.bundle.micropython = "1.99"
    plan.__post_init__()
    with pytest.raises(ToolError) as e:
        Deployer(board.port, say=lambda s: None).run(plan)
    assert "this bundle needs 1.99 or later" in str(e.value)
    assert "no file on the board was changed" in str(e.value)
    assert not (board.fs / "manifest.json").exists()


def test_no_repl_on_the_port_is_a_clear_failure(tmp_path):
    master, slave = pty.openpty()
    tty.setraw(slave)
    try:
        with pytest.raises(ToolError, match="no MicroPython REPL answered") as e:
            Deployer(os.ttyname(slave), say=lambda s: None, connect_timeout=0.3).run(
                plan_for(bundle_dir_for(tmp_path), write_node_json(tmp_path / "n.json",
                                                                   corridor_doc())))
        assert e.value.status == 1
    finally:
        os.close(master)
        os.close(slave)


def bundle_dir_for(tmp_path):
    out = tmp_path / "bundle"
    bundle.build(out)
    return out


def test_bad_input_is_refused_before_the_board_is_touched(board, tmp_path, node_files,
                                                          capsys):
    bad = corridor_doc()
    bad["groups"][0]["red"] = bad["groups"][1]["red"]
    path = write_node_json(tmp_path / "bad.json", bad)
    assert flash("--port", board.port, "--node", path) == 2
    assert "the node would refuse this file (CONFIG_ERROR 5" in capsys.readouterr().err
    assert flash("--port", "/nonexistent/tty", "--node", node_files["a1-n1"]) == 2
    assert "cannot open" in capsys.readouterr().err
    assert flash("--port", board.port, "--node", node_files["a1-n1"], "--bundle",
                 tmp_path) == 2
    assert "not a firmware bundle" in capsys.readouterr().err
    assert board.received == 0


def test_dry_run_prints_every_step_and_touches_nothing(board, node_files, tmp_path, capsys):
    image = tmp_path / "micropython.bin"
    image.write_bytes(bytes([0xE9, 3, 2, 0x20]) + bytes(8) + bytes([9, 0]) + bytes(2000))
    assert flash("--port", board.port, "--node", node_files["a1-n1"], "--base-image", image,
                 "--dry-run") == 0                  # a1-n1 is an ESP32-S3 node: its chip
    out = capsys.readouterr().out
    py = sys.executable
    assert (f"{py} -m esptool --chip esp32s3 --port {board.port} --baud 460800 erase-flash"
            in out)
    assert (f"{py} -m esptool --chip esp32s3 --port {board.port} --baud 460800 write-flash "
            f"0x0 {image}" in out)
    assert "write manifest.json first" in out and "write node/guard.mpy" in out
    assert re.search(r"read back size and SHA-256 of all \d+ files", out)
    assert "machine.reset()" in out
    assert board.received == 0 and not (board.fs / "manifest.json").exists()
