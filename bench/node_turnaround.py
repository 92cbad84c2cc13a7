"""Request-to-response turnaround inside a field node (real clock, emulated board).

The cabinet's poll (FC23: write 6, read 18 registers) is sent to the example node at
115200 baud, every 20 ms, while it runs (inputs scanned every 10 ms, lamps flashing).
Turnaround: from the end of the request (the host's write: an emulated line has no wire
time) to the first start bit of the response (the board's UART transmit start), both on
the board's clock. It includes what a real node spends: noticing the bytes (1 ms UART
poll), recognising the end of the request (by its length when the CRC is right, else by
the 3.5-character silence, 1.75 ms above 19200 baud), decoding, the datastore, encoding
and raising DE. Target: median <= 5 ms.

    .venv/bin/python bench/node_turnaround.py [--requests N]
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hil.emu.host import FIRMWARE, Board  # noqa: E402
from protocols import register_map as rm  # noqa: E402
from protocols.aspects import RED  # noqa: E402
from protocols.rtu import master  # noqa: E402


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=500)
    args = ap.parse_args()
    cfg = json.loads((FIRMWARE / "node.example.json").read_text())
    cfg["modbus"]["parity"] = "N"
    unit = cfg["modbus"]["address"]
    inside: list[float] = []
    outside: list[float] = []
    with Board(cfg) as board:
        for i in range(args.requests):
            regs = rm.command_regs(i & 0xFFFF, rm.MODE_FLASH, [RED, RED, RED])
            req = master.read_write_registers(unit, rm.POLL_READ_ADDR, rm.POLL_READ_COUNT,
                                              rm.POLL_WRITE_ADDR, regs)
            sent = len(board.tx_log)
            t_ns = time.monotonic_ns()
            board.transact(req, timeout=1.0)
            outside.append((time.monotonic_ns() - t_ns) / 1e6)
            board.wait_for(lambda n=sent: len(board.tx_log) > n, 1.0, "tx record")
            t0_board = board.tx_log[sent][2]
            inside.append((t0_board - board.board_us(t_ns)) / 1000)
            time.sleep(0.02)                # the poll cycle's spacing, not a sync
    print(f"{args.requests} FC23 polls to {Path('firmware/node.example.json')} at "
          f"{cfg['modbus']['baud']} baud on the unix port (real clock)")
    print(f"inside the node:  median {statistics.median(inside):.2f} ms, "
          f"p90 {pct(inside, 90):.2f} ms, p99 {pct(inside, 99):.2f} ms, "
          f"max {max(inside):.2f} ms")
    print(f"seen from the host (+ socket hops, thread wake-ups):  median "
          f"{statistics.median(outside):.2f} ms, p99 {pct(outside, 99):.2f} ms")
    print(f"node_turnaround: {statistics.median(inside):.2f} ms")


if __name__ == "__main__":
    main()
