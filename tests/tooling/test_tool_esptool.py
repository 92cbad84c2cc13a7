"""The esptool step of `smartcross flash --base-image`, without a chip: the exact commands
(esptool 5 names), checked against esptool's own command line, and what happens when one
of them fails."""

from __future__ import annotations

import sys
import warnings

import esptool
import pytest
from tool_helpers import corridor_doc, write_node_json

from controller.cli import main
from controller.tooling import ToolError, esp
from hil.repl import ReplBoard

pytestmark = [pytest.mark.micropython, pytest.mark.pty]

PY = sys.executable


def image(path, chip_id=0):
    """The first bytes of an ESP image: magic 0xE9, segment count, flash mode/size, entry,
    extended header with the chip id at byte 12."""
    path.write_bytes(bytes([0xE9, 3, 2, 0x20]) + bytes(8) + bytes([chip_id, 0]) + bytes(4000))
    return path


def parse_with_esptool(argv):
    """Parse argv (after `python -m esptool`) with esptool's own click CLI, run nothing."""
    assert tuple(argv[:3]) == (PY, "-m", "esptool")
    cli = esptool.cli
    cli._esp = None
    ctx = cli.make_context("esptool", list(argv[3:]))
    with warnings.catch_warnings():             # click 8.2: protected_args is deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        tokens = [*ctx.protected_args, *ctx.args]
    name, cmd, rest = cli.resolve_command(ctx, tokens)
    sub = cmd.make_context(name, rest, parent=ctx)
    return ctx.params, name, sub.params


def test_the_exact_commands_for_an_esp32(tmp_path):
    img = image(tmp_path / "micropython.bin")
    steps = esp.plan(str(img), "esp32", "/dev/ttyUSB0")
    assert [s.argv for s in steps] == [
        (PY, "-m", "esptool", "--chip", "esp32", "--port", "/dev/ttyUSB0", "--baud", "460800",
         "erase-flash"),
        (PY, "-m", "esptool", "--chip", "esp32", "--port", "/dev/ttyUSB0", "--baud", "460800",
         "write-flash", "0x1000", str(img)),
    ]
    for step in steps:
        params, name, sub = parse_with_esptool(step.argv)
        assert params["chip"] == "esp32" and params["port"] == "/dev/ttyUSB0"
        assert params["baud"] == 460800 and name == step.command
        assert "_" not in name                  # esptool 5 names, not the v4 aliases
    assert parse_with_esptool(steps[1].argv)[2]["addr_filename"][0][0] == 0x1000


def test_an_esp32s3_image_goes_to_address_zero(tmp_path):
    img = image(tmp_path / "s3.bin", chip_id=9)
    steps = esp.plan(str(img), "esp32s3", "/dev/ttyACM0", baud=921600)
    assert steps[1].argv[3:] == ("--chip", "esp32s3", "--port", "/dev/ttyACM0", "--baud",
                                 "921600", "write-flash", "0x0", str(img))
    assert parse_with_esptool(steps[1].argv)[1] == "write-flash"


@pytest.mark.parametrize("content, chip, message", [
    (b"\x7fELF" + bytes(100), "esp32", "not an ESP firmware image"),
    (None, "esp32", "an image for esp32s3, not esp32"),
])
def test_a_wrong_image_is_refused_before_the_chip_is_touched(tmp_path, content, chip, message):
    path = tmp_path / "x.bin"
    if content is None:
        image(path, chip_id=9)
    else:
        path.write_bytes(content)
    with pytest.raises(ToolError, match=message) as e:
        esp.plan(str(path), chip, "/dev/ttyUSB0")
    assert e.value.status == 2


@pytest.fixture
def board(tmp_path):
    with ReplBoard(tmp_path / "fs") as b:
        b.wait_console(">>> ")
        yield b


def test_flash_with_a_base_image_runs_esptool_then_deploys(board, tmp_path, monkeypatch,
                                                           capsys):
    ran = []

    def fake_esptool(argv):
        ran.append(tuple(argv))
        return 0

    monkeypatch.setattr(esp, "run_subprocess", fake_esptool)
    img = image(tmp_path / "micropython.bin")
    node = write_node_json(tmp_path / "node.json", corridor_doc("a2-det"))   # an ESP32
    assert main(["flash", "--port", board.port, "--node", str(node), "--base-image", str(img),
                 "--boot-timeout", "1"]) == 0
    out = capsys.readouterr().out
    assert [a[-1] if a[-1] == "erase-flash" else a[-3] for a in ran] == ["erase-flash",
                                                                         "write-flash"]
    assert ran[0][5:7] == ("--port", board.port) and ran[1][-2:] == ("0x1000", str(img))
    assert out.index("esptool: erase the whole flash") < out.index("esptool: write the") \
        < out.index("board: MicroPython") < out.index("verified: all")


def test_a_failed_write_stops_before_the_deploy_and_says_the_board_is_erased(
        board, tmp_path, monkeypatch, capsys):
    ran = []

    def fake_esptool(argv):
        ran.append(tuple(argv))
        return 2 if "write-flash" in argv else 0

    monkeypatch.setattr(esp, "run_subprocess", fake_esptool)
    img = image(tmp_path / "micropython.bin")
    node = write_node_json(tmp_path / "node.json", corridor_doc("a2-det"))   # an ESP32
    assert main(["flash", "--port", board.port, "--node", str(node), "--base-image",
                 str(img)]) == 1
    out, err = capsys.readouterr()
    assert len(ran) == 2
    assert "error: esptool write-flash failed (exit status 2)" in err
    assert "the flash is erased: the board has no MicroPython until this succeeds" in err
    assert "verified" not in out and "done:" not in out
    assert board.received == 0                      # no deploy was attempted


def test_a_failed_erase_leaves_the_board_unchanged(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(esp, "run_subprocess", lambda argv: 1)
    img = image(tmp_path / "micropython.bin")
    node = write_node_json(tmp_path / "node.json", corridor_doc("a2-det"))   # an ESP32
    assert main(["flash", "--port", "/dev/null", "--node", str(node), "--base-image",
                 str(img)]) == 1
    assert "esptool erase-flash failed (exit status 1); the board is unchanged" in \
        capsys.readouterr().err


def test_the_chip_is_the_node_json_board(tmp_path, capsys):
    # a1-n1 is an ESP32-S3 node: an ESP32 image is refused before anything is touched, and
    # so is a --chip that contradicts node.json
    node = write_node_json(tmp_path / "node.json", corridor_doc("a1-n1"))
    img = image(tmp_path / "micropython.bin")
    assert main(["flash", "--port", "/dev/null", "--node", str(node), "--base-image",
                 str(img)]) == 2
    assert "an image for esp32, not esp32s3" in capsys.readouterr().err
    assert main(["flash", "--port", "/dev/null", "--node", str(node), "--base-image",
                 str(img), "--chip", "esp32"]) == 2
    assert "is for a node on an esp32s3 board" in capsys.readouterr().err
