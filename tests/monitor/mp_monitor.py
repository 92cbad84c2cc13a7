"""Run the monitor over recorded lamp streams; works under MicroPython and CPython.

    MICROPYPATH=<repo> micropython tests/monitor/mp_monitor.py CASES.jsonl

CASES.jsonl: one case a line, {"name", "table", "tolerance_s", "stream": [[ms, {group:
bits}], ...], "finish_ms"} (a line at a time: the VM's heap is small). Sample times are
ms / 1000 s, as in monitor_streams.samples. Prints one JSON line a case:
[name, [[t_ms, t_exact, intersection, kind, [groups], detail], ...]].
"""

import json
import sys

from monitor import SignalMonitor


def violations(case):
    mon = SignalMonitor(case["table"], tolerance_s=case["tolerance_s"])
    for ms, lamps in case["stream"]:
        mon.feed(ms / 1000, lamps)
    mon.finish(case["finish_ms"] / 1000)
    return mon.violations


def as_rows(found):
    """Times as whole ms plus whether t is exactly ms / 1000 (floats never leave as text)."""
    out = []
    for v in found:
        ms = round(v.t * 1000)
        out.append([ms, v.t == ms / 1000, v.intersection, v.kind, list(v.groups), v.detail])
    return out


def main(path):
    with open(path) as f:
        for line in f:
            if line.strip():
                case = json.loads(line)
                print(json.dumps([case["name"], as_rows(violations(case))]))
                case = None


if __name__ == "__main__":
    main(sys.argv[1])
