"""A bus whose port cannot be opened at start is tried again, with backoff and a message
each time, until it opens (an adapter plugged in late); then its nodes are polled."""

from __future__ import annotations

import asyncio
import logging
import os

from controller.config import load
from controller.runtime.fieldbus import REOPEN_MAX_S, BusLink

from sc_paths import ROOT

BUS = load(ROOT / "examples" / "corridor.toml").buses[0]      # 115200 8N1


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_port_that_appears_later_is_opened_with_backoff(tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="smartcross.fieldbus")
    port = tmp_path / "ttyUSB0"                 # not plugged in yet
    clock = Clock()
    master, slave = os.openpty()

    async def scenario() -> None:
        link = BusLink(BUS, str(port), clock=clock)
        try:
            assert not await link.connect()
            clock.t += 0.9
            assert not await link.reopen_if_due() and link.open_attempts == 1   # not yet
            clock.t += 0.1
            assert not await link.reopen_if_due() and link.open_attempts == 2
            clock.t += 1.9
            assert not await link.reopen_if_due() and link.open_attempts == 2   # 2 s now
            port.symlink_to(os.ttyname(slave))  # the adapter is plugged in
            clock.t += 0.1
            assert await link.reopen_if_due() and link.opened and link.connected
            assert link.open_attempts == 3
            assert await link.reopen_if_due() and link.open_attempts == 3       # stays open
        finally:
            link.close()

    try:
        asyncio.run(scenario())
    finally:
        os.close(slave)
        os.close(master)
    said = [r.getMessage() for r in caplog.records]
    assert [m.rsplit(";", 1)[1] for m in said if "cannot open" in m] == \
        [" trying again in 1 s", " trying again in 2 s"]
    assert f"bus {BUS.id}: {port} is open now (attempt 3); polling its nodes" in said


def test_the_backoff_is_capped(tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="smartcross.fieldbus")
    clock = Clock()

    async def scenario() -> None:
        link = BusLink(BUS, str(tmp_path / "missing"), clock=clock)
        await link.connect()
        for _ in range(8):
            clock.t += REOPEN_MAX_S
            await link.reopen_if_due()
        link.close()

    asyncio.run(scenario())
    waits = [r.getMessage().rsplit(" ", 2)[1] for r in caplog.records
             if "cannot open" in r.getMessage()]
    assert waits == ["1", "2", "4", "8", "16", "30", "30", "30", "30"]
