"""Heap of a running field node: after start-up and after hours of traffic (virtual clock).

The example node (firmware/node.example.json: 2 vehicle groups, 1 pedestrian group, 2 loops,
2 parking bays) runs on an emulated board; a pretend cabinet polls it every 100 ms with a
60 s fixed-time plan, vehicles cross the loops, the bays fill and empty. gc.mem_alloc()
after gc.collect() is read at start-up and every 10 simulated minutes.

On the unix port the node's bytecode lives in the heap (loaded from .py); in the ESP32
build it is frozen into flash (firmware/manifest.py) and the heap holds the node's data
only: the headline. Code and totals are printed above it.

    .venv/bin/python bench/node_heap.py [--hours H]
"""

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hil.emu import drive  # noqa: E402
from hil.emu.host import FIRMWARE, HERE, ROOT, Board, micropython_executable  # noqa: E402
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


def heap_of(code: str) -> int:
    """gc.mem_alloc() of a fresh unix-port process after running `code` (no host)."""
    env = dict(os.environ, MICROPYPATH=os.pathsep.join(
        [str(HERE), str(FIRMWARE), str(ROOT), ".frozen"]))
    env.pop("EMU_HOST", None)
    out = subprocess.run([micropython_executable(), "-c",
                          code + "\nimport gc\ngc.collect()\nprint(gc.mem_alloc())"],
                         env=env, capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=1.0, help="simulated hours (1)")
    args = p.parse_args()
    emulator = heap_of("import machine")
    code = heap_of("import machine\nimport node.app") - emulator
    rng = random.Random(1)
    cfg = __import__("json").loads(EXAMPLE.read_text())
    cfg["modbus"]["parity"] = "N"
    pairs = drive.feedback_pairs(cfg)
    samples = []
    wall = time.monotonic()
    with Board(cfg, clock="virtual") as board:
        cab = drive.Poller(board, cfg["modbus"]["address"], len(cfg["groups"]))
        for pin in (*DET_PINS, BAY_PIN):                      # every wire has a level from
            board.set_input(pin, 0)                           # the start, so the emulator's
        board.set_echo(ECHO_PIN, 150 * 58)                    # own tables do not grow later
        for _ in range(200):                                  # start-up
            drive.lamps_follow(board, pairs)
            cab.poll(rm.MODE_RUN, [RED, RED, RED])
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
            cab.poll(rm.MODE_RUN, aspects)
            board.advance(97)
            if step % 6000 == 5999:
                samples.append(((step + 1) / 36000, board.heap()[0]))
        image = cab.poll()
        refusals = image["guard_refusals"]
        mode = image["mode"]
    wall = time.monotonic() - wall
    start, end = samples[0][1], samples[-1][1]
    print(f"unix port (64-bit), virtual clock, {EXAMPLE.name}: {args.hours:g} h of traffic in "
          f"{wall:.0f} s wall, {steps} polls, {actuations} detector actuations, "
          f"{refusals} guard refusals, mode {rm.MODE_NAMES[mode]}")
    for h, a in samples:
        print(f"  t = {h:4.2f} h: heap of the board process {a / 1024:6.1f} KB")
    print(f"emulated machine (not on an ESP32): {emulator / 1024:.1f} KB")
    print(f"node bytecode loaded from .py (in flash when frozen, firmware/manifest.py): "
          f"{code / 1024:.1f} KB")
    print(f"node heap incl. bytecode: {(start - emulator) / 1024:.1f} KB after start-up, "
          f"{(end - emulator) / 1024:.1f} KB after {args.hours:g} h")
    print(f"node data: {(start - emulator - code) / 1024:.1f} KB after start-up, "
          f"{(end - emulator - code) / 1024:.1f} KB after {args.hours:g} h, "
          f"growth {end - start:+d} bytes (target <= 64 KB, no growth)")
    assert refusals == 0 and mode == rm.MODE_RUN
    print(f"node_heap_data: {(end - emulator - code) / 1024:.1f} KB")


if __name__ == "__main__":
    main()
