"""Input-scan period jitter of a field node at a 10 ms scan (real clock, emulated board).

The example node runs with a cabinet polling it every 100 ms (FC23), its loops changing,
its ultrasonic bay measuring every 500 ms (a blocking echo measurement of up to 7 ms) and
its heads flashing. The emulated board reports every read of a loop input with its own
clock: one read per scan. Jitter = |period - 10 ms|. Target: p99 <= 3 ms.

    .venv/bin/python bench/node_scan_jitter.py [--seconds S]
"""

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hil.emu import drive  # noqa: E402
from hil.emu.host import FIRMWARE, Board  # noqa: E402
from protocols import register_map as rm  # noqa: E402
from protocols.aspects import RED  # noqa: E402

DET_PIN, ECHO_PIN = 39, 22


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    cfg = json.loads((FIRMWARE / "node.example.json").read_text())
    cfg["modbus"]["parity"] = "N"
    scan_ms = cfg["scan_ms"]
    with Board(cfg) as board:
        board.set_echo(ECHO_PIN, 100 * 58)                 # the sensor answers: full blocking
        cab = drive.Poller(board, cfg["modbus"]["address"], len(cfg["groups"]))
        stop = threading.Event()

        def cabinet() -> None:
            k = 0
            while not stop.is_set():
                cab.poll(rm.MODE_FLASH, [RED, RED, RED])
                if k % 7 == 0:
                    board.set_input(DET_PIN, (k // 7) & 1)
                k += 1
                time.sleep(0.1)                            # the poll cycle, not a sync

        t = threading.Thread(target=cabinet, daemon=True)
        t.start()
        board.trace_reads(DET_PIN)
        n = int(args.seconds * 1000 / scan_ms)
        board.wait_for(lambda: len(board.reads) > n, args.seconds * 2 + 10, "scans")
        board.trace_reads(DET_PIN, False)
        stop.set()
        t.join()
        times = [tu for pin, tu in board.reads if pin == DET_PIN][:n + 1]
    periods = [(b - a) / 1000 for a, b in zip(times, times[1:], strict=False)]
    jitter = [abs(p - scan_ms) for p in periods]
    print(f"{len(periods)} scan periods at {scan_ms} ms on the unix port (real clock), "
          f"cabinet polling every 100 ms, ultrasonic bay every 500 ms")
    print(f"period: mean {statistics.mean(periods):.3f} ms, min {min(periods):.2f} ms, "
          f"max {max(periods):.2f} ms")
    print(f"jitter: median {statistics.median(jitter):.3f} ms, p90 {pct(jitter, 90):.2f} ms, "
          f"p99 {pct(jitter, 99):.2f} ms, max {max(jitter):.2f} ms")
    print(f"node_scan_jitter: {pct(jitter, 99):.2f} ms")


if __name__ == "__main__":
    main()
