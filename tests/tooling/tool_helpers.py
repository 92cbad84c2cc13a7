"""Helpers for the field-tooling tests: provisioned node documents and reading a deployed
board's status over Modbus."""

from __future__ import annotations

import json
from pathlib import Path

from controller.provisioning import node_file as provisioning
from controller.tooling import bundle
from hil.emu.host import Board
from protocols import register_map as rm
from protocols.rtu import master

ROOT = Path(__file__).resolve().parent.parent.parent
CORRIDOR = ROOT / "examples" / "corridor.toml"


def corridor_doc(node_id: str = "a1-n1") -> dict:
    return provisioning.provision(str(CORRIDOR), node_id)


def write_node_json(path: Path, doc: dict) -> Path:
    path.write_bytes(provisioning.render(doc))
    return path


def status(folder: Path, address: int, timeout: float = 20.0) -> dict:
    """Boot the node deployed in `folder` (its own .mpy files and node.json, emulated board)
    and read its status block over its UART."""
    with Board(None, workdir=folder, firmware_dir=folder) as b:
        regs = b.transact(master.read_holding_registers(address, rm.STATUS_BLOCK,
                                                        rm.STATUS_BLOCK_COUNT), timeout)
        log = list(b.log)

    def r(a: int) -> int:
        return regs[a - rm.STATUS_BLOCK]

    return {"safety_crc": (r(rm.SAFETY_CRC) << 16) | r(rm.SAFETY_CRC + 1),
            "config_error": r(rm.CONFIG_ERROR), "mode": r(rm.MODE), "faults": r(rm.FAULTS),
            "fw_version": r(rm.FW_VERSION), "fw_patch": r(rm.FW_PATCH),
            "layout": r(rm.LAYOUT_VERSION_REG), "log": log}


def board_manifest(folder: Path) -> bundle.Manifest:
    return bundle.Manifest.parse((folder / bundle.MANIFEST).read_bytes(), "board")


def flip_byte(path: Path, offset: int = -1) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def load_json(path: Path) -> dict:
    return json.loads(path.read_text())
