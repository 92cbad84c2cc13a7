# Replays a recorded command stream into the node's guard (runs on the MicroPython unix
# port):  micropython replay_guard.py STREAM.json
# STREAM: {"tables": safety tables, "frames": [[ms, [aspect per local group]], ...]}, the
# first frame the start of the all-red. Prints "REFUSED n kinds" (n = 0: all accepted).
import json
import sys

from node import guard as gm

T0 = 123456


def t(ms):
    return (T0 + ms) & ((1 << 30) - 1)


def main(path):
    with open(path) as f:
        stream = json.load(f)
    tables = stream["tables"]
    frames = stream["frames"]
    n = len(tables["groups"])
    g = gm.Guard(tables, [False] * n, t(0), 100, 1, 250)   # counts, never trips
    g.enter_all_red(t(frames[0][0]))
    mask = (1 << n) - 1
    for k in range(1, len(frames)):
        ms, wants = frames[k]
        g.command_all(wants, mask, t(ms))
        nxt = frames[k + 1][0] if k + 1 < len(frames) else ms + 1000
        now = ms
        while True:
            d = g.due_ms(t(now))
            if d < 0 or now + max(d, 1) >= nxt:
                break
            now += max(d, 1)
            g.tick(t(now))
    kinds = [gm.NAMES[i] + "=" + str(c) for i, c in enumerate(g.by_kind) if c]
    print("REFUSED", g.refusals, " ".join(kinds))


main(sys.argv[1])
