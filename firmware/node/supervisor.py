"""Liveness: the hardware watchdog is fed only while every task is alive.

Each task bumps its own counter (`alive`) once per loop. Every CHECK_MS the supervisor
looks at all of them; only if every one has moved since the last look does it feed the
WDT. A task that died or hangs therefore resets the board within wdt_ms. After stable_s
seconds of such healthy running the boot counter is cleared (bootmode.py), unless the
node is in safe mode.
"""

import board

from . import bootmode

CHECK_MS = 100


class Supervisor:
    def __init__(self, tasks, wdt_ms, stable_s, clear_boots):
        """`tasks`: objects with an `alive` counter; `wdt_ms` 0: no hardware watchdog."""
        self.tasks = tasks
        self.seen = [-1] * len(tasks)
        self.wdt = board.start_watchdog(wdt_ms) if wdt_ms else None
        self.stable_ms = stable_s * 1000
        self.healthy_ms = 0
        self.clear_boots = clear_boots
        self.feeds = 0

    def check(self):
        """True (and the WDT fed) if every task moved since the last check."""
        ok = True
        for i in range(len(self.tasks)):
            a = self.tasks[i].alive
            if a == self.seen[i]:
                ok = False
            self.seen[i] = a
        if ok:
            if self.wdt is not None:
                self.wdt.feed()
            self.feeds += 1
        return ok

    async def run(self):
        while True:
            await board.sleep_ms(CHECK_MS)
            if self.check():
                if self.clear_boots and self.healthy_ms < self.stable_ms:
                    self.healthy_ms += CHECK_MS
                    if self.healthy_ms >= self.stable_ms:
                        bootmode.set_unstable_boots(0)
            else:
                self.healthy_ms = 0
