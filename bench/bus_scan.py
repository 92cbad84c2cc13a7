"""`smartcross nodes scan` over all 247 Modbus addresses of an RS-485 line, at the tool's
own time-out (20 ms per silent address), with the four nodes of examples/corridor.toml on
it: emulated boards running the real firmware on the emulated line (hil/bus.py).

A technician scans a whole line to find what is on it; this is how long that takes. The
boards are scanned once each answers (a board's hello comes before its Modbus server
listens). On a real line a silent address costs the time-out plus one retry; the emulated
boards' answers cross host processes, so a loaded host makes the figure larger.

    .venv/bin/python bench/bus_scan.py [--timeout-ms MS]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from controller.provisioning import node_file  # noqa: E402
from controller.tooling import scan  # noqa: E402
from hil.bus import nodes_on_a_line  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORRIDOR = ROOT / "examples" / "corridor.toml"
NODES = ("a1-n1", "a2-heads", "a2-det", "a3-n1")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--timeout-ms", type=float, default=20.0,
                   help="wait for a first byte per address (the tool's default, 20)")
    args = p.parse_args()
    docs = [node_file.provision(str(CORRIDOR), n) for n in NODES]
    with nodes_on_a_line(docs) as (bus, boards):
        res = scan.scan(bus.port, 115200, "N", args.timeout_ms, range(1, 248))
    found = sorted(n.node_id for n in res.nodes)
    print(f"scan of {res.addresses} addresses at {args.timeout_ms:g} ms per address, "
          f"115200 baud, {len(boards)} emulated nodes on the line: found {len(found)} "
          f"({', '.join(found)}), {len(res.garbled)} garbled, in {res.seconds:.2f} s")
    if len(found) != len(boards):
        sys.exit("not every node answered the scan")
    print(f"nodes_scan_seconds: {res.seconds:.2f} s")


if __name__ == "__main__":
    main()
