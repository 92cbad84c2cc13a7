"""The monitor unit's wiring and tasks: monitor.json -> Unit -> asyncio tasks (scan, bus,
supervisor). main.py starts it when the board holds a monitor.json (the unit's role)."""

import asyncio
import gc
import sys

import board
import munit
from board.bus import Bus
from protocols import monitor_map as mm

from .unit import FW_MAJOR, FW_MINOR, FW_PATCH, Status, Unit

CONFIG_PATH = "monitor.json"
CHECK_MS = 100


class Scan:
    def __init__(self, unit, scan_ms):
        self.unit = unit
        self.scan_ms = scan_ms

    async def run(self):
        unit = self.unit
        while True:
            unit.scan(board.ticks_ms())
            await board.sleep_ms(self.scan_ms)


async def supervise(tasks, wdt):
    """Feed the hardware watchdog only while every task moves: a hung unit resets, and its
    relay drops while it does."""
    seen = [-1] * len(tasks)
    while True:
        await board.sleep_ms(CHECK_MS)
        ok = True
        for i in range(len(tasks)):
            if tasks[i].alive == seen[i]:
                ok = False
            seen[i] = tasks[i].alive
        if ok and wdt is not None:
            wdt.feed()


def build(path=CONFIG_PATH):
    from . import config  # boot only: unloaded below, its bytecode leaves the heap

    cfg = config.load(path)
    if munit.files[0]:                  # the boot's file check failed: the relay stays dropped
        cfg.error, cfg.error_text = mm.MU_CFG_FILES, munit.files[1]
    if cfg.error:
        print("monitor.json: error %d (%s): %s" % (cfg.error, mm.MU_CFG_NAMES[cfg.error],
                                                    cfg.error_text))
    unit = Unit(cfg, board.ticks_ms(), board.reset_cause())
    # status only: no modes to tell of frames (the unit has no comm watchdog)
    bus = Bus(cfg, Status(unit), mm.PRODUCT_CODE, (FW_MAJOR, FW_MINOR, FW_PATCH), cfg.unit_id)
    sys.modules.pop("munit.config", None)
    if "config" in munit.__dict__:
        delattr(munit, "config")
    gc.collect()
    return unit, bus


async def _run(unit, bus):
    scan = Scan(unit, unit.cfg.scan_ms)
    asyncio.create_task(scan.run())
    asyncio.create_task(bus.run())
    wdt = board.start_watchdog(unit.cfg.wdt_ms)
    await supervise([unit, bus], wdt)


def main(path=CONFIG_PATH):
    unit, bus = build(path)
    print("monitor unit %s: %s, table CRC 0x%08X" % (
        unit.cfg.unit_id, mm.MU_STATE_NAMES[unit.state], unit.cfg.crc))
    gc.collect()
    asyncio.run(_run(unit, bus))
