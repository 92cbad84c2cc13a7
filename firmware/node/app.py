"""Wiring and tasks: config -> node -> asyncio tasks (bus, inputs, outputs, supervisor).

boot.py calls `prepare()` (config, maintenance pin, boot counter); main.py calls `main()`.
"""

import asyncio
import gc
import sys

import board
from board import add, diff
from board.bus import Bus

from . import bootmode
from .core import FW_MAJOR, FW_MINOR, FW_PATCH, PRODUCT_CODE, Node
from .datastore import Datastore
from .supervisor import Supervisor

CONFIG_PATH = "node.json"
OUTPUT_MS = 10

_boot = None


def prepare(path=CONFIG_PATH):
    """Read the config and decide maintenance / safe mode (once per boot)."""
    global _boot
    if _boot is None:
        from . import config

        cfg = config.load(path)
        if cfg.error:
            print("node.json: config error %d: %s" % (cfg.error, cfg.error_text))
        _boot = bootmode.BootState(cfg)
        if _boot.maintenance:
            print("maintenance boot: hardware watchdog off")
        if _boot.safe:
            print("%d boots without a stable run: safe mode" % _boot.unstable)
    return _boot


class Inputs:
    """Scans the detectors and bays every scan_ms, on a fixed grid (no drift)."""

    def __init__(self, node, scan_ms):
        self.node = node
        self.scan_ms = scan_ms
        self.alive = 0

    async def run(self):
        node = self.node
        period = self.scan_ms
        due = board.ticks_ms()
        while True:
            now = board.ticks_ms()
            node.scan_inputs(now)
            self.alive += 1
            due = add(due, period)
            wait = diff(due, board.ticks_ms())
            if wait < 0:                  # overran a whole period: start a new grid
                due = board.ticks_ms()
                wait = 0
            await board.sleep_ms(wait)


class Outputs:
    """Times the modes, the guard's own clearances and deferred commands, flashing and lamp
    feedback. Every OUTPUT_MS, and exactly when a deferred command becomes legal."""

    def __init__(self, node):
        self.node = node
        self.alive = 0

    async def run(self):
        node = self.node
        guard = node.guard
        while True:
            node.tick(board.ticks_ms())
            self.alive += 1
            wait = OUTPUT_MS
            if guard is not None and guard.npend:
                due = guard.due_ms(board.ticks_ms())
                if 0 <= due < wait:
                    wait = due
            await board.sleep_ms(wait)


# Needed only to read node.json: their bytecode leaves the heap once the node is built.
BOOT_ONLY = ("node.config", "protocols.safety_tables", "protocols.boards")


def _unload(names):
    for name in names:
        sys.modules.pop(name, None)
        pkg, _, leaf = name.rpartition(".")
        parent = sys.modules.get(pkg)
        if parent is not None and leaf in parent.__dict__:
            delattr(parent, leaf)
    gc.collect()


def build(boot):
    cfg = boot.cfg
    node = Node(cfg, board.ticks_ms(), sticky_safe=boot.safe, reset_cause=boot.reset_cause,
                boot_count=boot.boots, maintenance=boot.maintenance)
    cfg.tables = None               # the guard keeps what it needs, in its own form
    _unload(BOOT_ONLY)
    bus = Bus(cfg, Datastore(node), PRODUCT_CODE, (FW_MAJOR, FW_MINOR, FW_PATCH), cfg.node_id,
              node.modes)
    node.bus = bus
    tasks = [bus, Inputs(node, cfg.scan_ms), Outputs(node)]
    sup = Supervisor(tasks, 0 if boot.maintenance else cfg.wdt_ms, cfg.stable_s,
                     clear_boots=not boot.safe)
    return node, tasks, sup


async def _run(tasks, sup):
    for t in tasks:
        asyncio.create_task(t.run())
    await sup.run()


def _scrub_stack(depth):
    """Overwrite the C stack below us with non-pointers. MicroPython's GC scans the stack
    conservatively: a stale word left there by the boot (reading node.json, building the
    node) can pin the whole parsed document, about 12 KB, for as long as the node runs."""
    a = b = c = d = e = f = g = h = 0
    if depth:
        _scrub_stack(depth - 1)
    return a + b + c + d + e + f + g + h


def main():
    boot = prepare()
    node, tasks, sup = build(boot)
    try:
        _scrub_stack(16)
    except RuntimeError:            # a smaller stack than expected: nothing lost
        pass
    gc.collect()
    asyncio.run(_run(tasks, sup))
