"""The node's boot check (firmware/node/manifest_check.py), run on the MicroPython unix port
against board folders, and the host's check (bundle.check_tree): they agree on every case."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess

import pytest
from tool_helpers import ROOT, corridor_doc, flip_byte

from controller.provisioning import node_file as provisioning
from controller.tooling import bundle
from controller.tooling.deploy import BoardPlan
from hil.emu.host import micropython_executable
from protocols import register_map as rm

pytestmark = pytest.mark.micropython


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """A board folder as `smartcross flash` leaves it: bundle, node.json, manifest.json."""
    base = tmp_path_factory.mktemp("deployed")
    b = bundle.build(base / "bundle")
    doc = corridor_doc()
    plan = BoardPlan(base / "bundle", b, doc, provisioning.render(doc))
    fs = base / "fs"
    shutil.copytree(base / "bundle", fs)
    (fs / "node.json").write_bytes(plan.node_json)
    (fs / "manifest.json").write_bytes(plan.manifest_bytes)
    return fs


def on_node(folder):
    """check() as the node runs it at boot: in its filesystem, on MicroPython."""
    env = dict(os.environ, MICROPYPATH=str(ROOT / "firmware"))
    r = subprocess.run([micropython_executable(), "-c",
                        "from node import manifest_check as m; print(repr(m.check()))"],
                       cwd=folder, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    code, line = eval(r.stdout.strip())
    return code, line


def host(folder):
    m = bundle.Manifest.parse((folder / "manifest.json").read_bytes(), "board")
    return bundle.check_tree(folder, m)


def variant(deployed, tmp_path, change):
    fs = tmp_path / "fs"
    shutil.copytree(deployed, fs)
    change(fs)
    return fs


def test_a_good_deploy_passes(deployed):
    m = bundle.Manifest.parse((deployed / "manifest.json").read_bytes(), "board")
    assert on_node(deployed) == (0, f"manifest: ok, {len(m.files)} files")
    assert host(deployed) == []


def test_no_manifest_is_a_development_deploy(tmp_path):
    shutil.copytree(ROOT / "firmware" / "node", tmp_path / "node")
    assert on_node(tmp_path) == (0, "manifest: none (files not checked)")


def _set_format(fs):
    doc = json.loads((fs / "manifest.json").read_text())
    doc["format"] = 2
    (fs / "manifest.json").write_text(json.dumps(doc))


@pytest.mark.parametrize("change, line", [
    (lambda fs: (fs / "node" / "guard.mpy").unlink(), "node/guard.mpy: missing"),
    (lambda fs: (fs / "main.py").write_text("import node.app\n"),
     "main.py: 16 bytes, manifest says"),
    (lambda fs: flip_byte(fs / "protocols" / "rtu" / "crc16.mpy", 40),
     "protocols/rtu/crc16.mpy: SHA-256 differs"),
    (lambda fs: flip_byte(fs / "node.json", 5), "node.json: SHA-256 differs"),
    (lambda fs: (fs / "node" / "guard.py").write_text("# shadows guard.mpy\n"),
     "node/guard.py: not in the manifest"),
    (lambda fs: (fs / "protocols" / "rtu" / "extra.mpy").write_bytes(b"M\x06"),
     "protocols/rtu/extra.mpy: not in the manifest"),
    (lambda fs: (fs / "manifest.json").write_text('{"format": 1, "files": [{"na'),
     "manifest.json unreadable"),
    (_set_format, "manifest format 2"),
])
def test_every_difference_is_a_mismatch_on_the_node_and_on_the_host(deployed, tmp_path,
                                                                    change, line):
    fs = variant(deployed, tmp_path, change)
    code, said = on_node(fs)
    assert code == rm.CFG_FILES and said.startswith("manifest: MISMATCH " + line), said
    if "manifest" not in line:
        assert any(p.startswith(line.split(" manifest says")[0]) or line in p
                   for p in host(fs)), host(fs)


def test_leftovers_that_are_not_modules_do_not_matter(deployed, tmp_path):
    def change(fs):
        (fs / "node" / "guard.mpy.part").write_bytes(b"half")
        (fs / "boots.dat").write_text("7")
        (fs / "rtc.bin").write_bytes(b"\x01")

    fs = variant(deployed, tmp_path, change)
    assert on_node(fs)[0] == 0 and host(fs) == []


def test_the_node_and_the_host_hash_alike(deployed):
    data = (deployed / "node" / "app.mpy").read_bytes()
    m = bundle.Manifest.parse((deployed / "manifest.json").read_bytes(), "board")
    assert m.entry("node/app.mpy").sha256 == hashlib.sha256(data).hexdigest()
