"""`smartcross firmware build` and `smartcross nodes provision`, on the real files."""

from __future__ import annotations

import ast
import hashlib
import json
import re

import pytest
from tool_helpers import CORRIDOR, ROOT, corridor_doc, flip_byte, status

from controller.cli import main
from controller.config import load
from controller.provisioning import layouts
from controller.provisioning import node_file as provisioning
from controller.tooling import ToolError, bundle
from protocols import register_map as rm
from protocols import safety_tables


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "fw"
    assert main(["firmware", "build", "-o", str(out)]) == 0
    return out


def test_bundle_holds_every_node_file_compiled_with_a_manifest(built):
    m = bundle.load(built)          # every file checked against the manifest on the way
    names = {f.name for f in m.files}
    want = {"boot.py", "main.py"}
    # both roles: the signal node (node/) and the monitor unit (munit/ and monitor/), on the
    # board layer they share (board/)
    for pkg in ("board", "node", "munit"):
        want |= {p.relative_to(ROOT / "firmware").as_posix()[:-3] + ".mpy"
                 for p in (ROOT / "firmware" / pkg).glob("*.py")}
    for pkg in ("monitor", "protocols"):
        want |= {p.relative_to(ROOT).as_posix()[:-3] + ".mpy"
                 for p in (ROOT / pkg).rglob("*.py") if "__pycache__" not in p.parts}
    assert "munit/app.mpy" in want and "monitor/signal_monitor.mpy" in want
    assert "board/__init__.mpy" in want and "board/bus.mpy" in want
    assert names == want
    assert [f.name for f in m.files] == sorted(names)
    on_disk = {p.relative_to(built).as_posix() for p in built.rglob("*") if p.is_file()}
    assert on_disk == want | {"manifest.json"}
    for f in m.files:
        data = (built / f.name).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (f.size, f.sha256)
        if f.name.endswith(".mpy"):
            # .mpy v6, bytecode only (no native code: any ESP32 flavour and the unix port
            # load it), compiled with its relative name, not this laptop's path
            assert data[:2] == b"M\x06" and data[2] >> 2 == 0
            assert str(ROOT).encode() not in data
            assert f.name[:-4].encode() + b".py" in data
    assert (built / "boot.py").read_bytes() == (ROOT / "firmware" / "boot.py").read_bytes()


def test_manifest_says_what_the_node_reports_and_needs(built):
    doc = json.loads((built / "manifest.json").read_text())
    core = (ROOT / "firmware" / "node" / "core.py").read_text()
    fw = [re.search(rf"^{k} = (\d+)", core, re.M)[1] for k in ("FW_MAJOR", "FW_MINOR",
                                                                  "FW_PATCH")]
    assert doc["firmware"] == ".".join(fw)
    assert doc["layout_version"] == rm.LAYOUT_VERSION
    assert doc["micropython"] == "1.28" and doc["mpy"][0] == 6
    assert doc["march"] == "xtensawin" and doc["format"] == 1
    assert all(set(f) == {"name", "size", "sha256"} for f in doc["files"])


def test_sources_are_in_the_order_of_their_names_on_the_board():
    names = [name for _, name, _ in bundle.sources()]
    assert names == sorted(names) and len(set(names)) == len(names)
    # the node's boot check looks for stray files in the same packages the bundle fills
    check = (ROOT / "firmware" / "node" / "manifest_check.py").read_text()
    packages = re.search(r"^PACKAGES = (\(.*?\))", check, re.M)[1]
    assert sorted(ast.literal_eval(packages)) == sorted(bundle.COMPILED_DIRS)
    assert {n.split("/")[0] for n in names if "/" in n} == set(bundle.COMPILED_DIRS)


def test_build_is_reproducible_and_replaces_only_a_bundle(built, tmp_path):
    again = bundle.build(tmp_path / "again")
    assert again.files == bundle.load(built).files
    assert bundle.build(tmp_path / "again").files == again.files     # over an earlier bundle
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ToolError) as e:
        bundle.build(tmp_path / "mine")
    assert e.value.status == 2 and (tmp_path / "mine" / "notes.txt").exists()


def test_a_tampered_bundle_is_refused(built, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    flip_byte(copy / "node" / "guard.mpy")
    with pytest.raises(ToolError, match=r"node/guard\.mpy: SHA-256 differs"):
        bundle.load(copy)
    flip_byte(copy / "node" / "guard.mpy")
    (copy / "node" / "guard.py").write_text("# a stray source file shadows guard.mpy\n")
    with pytest.raises(ToolError, match=r"node/guard\.py: not in the manifest"):
        bundle.load(copy)


def test_wrong_mpy_cross_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(bundle, "mpy_cross_version", lambda exe: ((1, 22), (6, 2)))
    with pytest.raises(ToolError, match="mpy-cross is MicroPython 1.22"):
        bundle.build(tmp_path / "fw")
    assert not (tmp_path / "fw").exists()


# ---------------------------------------------------------------- provisioning
def test_every_example_node_is_provisioned_as_the_node_and_the_controller_agree():
    for path in sorted((ROOT / "examples").glob("*.toml")):
        cfg = load(path)
        for nid, lay in layouts(cfg).items():
            doc = provisioning.provision(str(path), nid)
            assert provisioning.node_verdict(doc) == (rm.CFG_OK, ""), (path.name, nid)
            assert safety_tables.validate(doc["safety"]) is None
            assert doc["safety"]["crc"] == lay.safety_crc() == safety_tables.crc(doc["safety"])
            assert doc["modbus"]["address"] == lay.node.address


@pytest.mark.micropython
def test_provision_cli_writes_a_file_the_node_runs(tmp_path, capsys):
    out = tmp_path / "a1-n1.json"
    assert main(["nodes", "provision", str(CORRIDOR), "a1-n1", "-o", str(out)]) == 0
    assert "node a1-n1 (a1): address 1" in capsys.readouterr().err
    doc = json.loads(out.read_text())
    want = layouts(load(CORRIDOR))["a1-n1"].safety_crc()
    assert doc["safety"]["crc"] == want
    # the node itself: boot an emulated board on the file, read SAFETY_CRC over Modbus
    node = tmp_path / "board"
    node.mkdir()
    (node / "node.json").write_bytes(out.read_bytes())
    st = status_from_source(node)
    assert st["safety_crc"] == want and st["config_error"] == rm.CFG_OK


def status_from_source(workdir):
    """The firmware from the source tree (not a bundle) on an emulated board in workdir."""
    from hil.emu.host import Board
    from protocols.rtu import master

    with Board(None, workdir=workdir) as b:
        regs = b.transact(master.read_holding_registers(1, rm.STATUS_BLOCK,
                                                        rm.STATUS_BLOCK_COUNT), 20.0)
    return {"safety_crc": (regs[rm.SAFETY_CRC - 256] << 16) | regs[rm.SAFETY_CRC - 255],
            "config_error": regs[rm.CONFIG_ERROR - 256]}


def test_provision_to_stdout_and_errors(capsys):
    assert main(["nodes", "provision", str(CORRIDOR), "a2-det"]) == 0
    assert json.loads(capsys.readouterr().out)["node_id"] == "a2-det"
    assert main(["nodes", "provision", str(CORRIDOR), "nope"]) == 2
    err = capsys.readouterr().err
    assert "no node 'nope'" in err and "a1-n1" in err and "Traceback" not in err


def test_a_node_json_the_node_would_refuse_is_refused(tmp_path):
    doc = corridor_doc()
    doc["safety"]["intergreen_ms"][0][2] += 1000         # tables edited, CRC not
    path = tmp_path / "node.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ToolError, match="CONFIG_ERROR 3, crc-mismatch") as e:
        provisioning.read_node_json(path)
    assert e.value.status == 2


def test_the_bundle_runs_as_the_node(built, tmp_path):
    """The compiled bundle (xtensawin .mpy: bytecode) with a provisioned node.json, booted on
    the emulated board: it reports the bundle's firmware and the controller's CRC."""
    import shutil

    folder = tmp_path / "board"
    shutil.copytree(built, folder)
    doc = corridor_doc("a3-n1")
    (folder / "node.json").write_bytes(provisioning.render(doc))
    st = status(folder, doc["modbus"]["address"])
    m = bundle.load(built)
    major, minor, patch = (int(x) for x in m.firmware.split("."))
    assert (st["fw_version"], st["fw_patch"]) == ((major << 8) | minor, patch)
    assert st["layout"] == m.layout_version
    assert st["safety_crc"] == layouts(load(CORRIDOR))["a3-n1"].safety_crc()
    assert st["config_error"] == rm.CFG_OK
