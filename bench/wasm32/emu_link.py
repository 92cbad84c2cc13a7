"""The board's clock and its link to the host, when both live in one MicroPython process.

MicroPython code, for bench/node_heap.py on MicroPython's WebAssembly port (run.mjs): the
stand-in for hil/emu/emu_clock.py (virtual clock) and hil/emu/emu_link.py, where the host
is not a CPython process on a socket but cabinet.py in the same interpreter (the port has
no sockets and no `machine`).

Virtual clock, as hil/emu's: board time stands still while the node's code runs and moves
only when every task sleeps (to the earliest deadline), or inside a busy wait (`wait_us`:
a UART flush, an echo pulse); never past what the host has granted. There the host runs:
its generator (cabinet.py) is resumed, does what a host does between two grants (inputs,
a Modbus request on the UART) and yields how many ms of board time it grants next, where
hil/emu's board would send "T <t>" and wait for "G <t>". All firmware waits go through
`sleep_ms` (firmware/node/board.py), here a generator that takes the task off asyncio's
run queue until its deadline: so when asyncio's queue is empty, every task sleeps.

Board time in small ints, as on an ESP32: ticks_ms and ticks_us wrap at 2**30 (the ESP32's
period), and nothing keeps absolute microseconds (2**30 us is 18 minutes: past it, a
32-bit port's ints would become long ints on the heap and look like the node's growth).

Heap samples: this port (the pyscript variant: split heap) collects garbage only when
control returns to JavaScript, and then with no roots but the interpreter's own (no C
stack). So `run()`, which run.mjs calls again and again, returns to it at the top level,
with every task asleep on this clock, whenever the host asks for a sample or the scenario
ends, and every RUN_TURNS rounds in between (so garbage never piles up); run.mjs then reads
gc.mem_alloc() on the way back in: the live heap, exactly.
"""

import asyncio
import gc
from asyncio import core

PERIOD = 1 << 30
MASK = PERIOD - 1
HALF = PERIOD >> 1
SLOTS = 8               # sleeping tasks at once (the node has four)
RUN_TURNS = 64          # scheduler rounds per run() call


class Started(BaseException):
    """asyncio.run() was called: the node's tasks are created; back to run.mjs."""


class NodeReset(BaseException):
    """The node reset itself, or its watchdog would have (a failed bench)."""


class Clock:
    mode = "virtual"
    virtual = True

    def __init__(self):
        self.ms = 0             # ticks_ms
        self.us = 0             # ticks_us
        self.frac = 0           # us since the last whole ms
        self.grant = 0          # us the host has granted beyond now
        self.free = False       # run on without the host until run() is back at the top
        self.done = False       # the host's scenario has ended
        self.tag = 0            # what run() returns for the sample the host asked for
        self.failure = None     # why the bench failed (raised by run(), at the top level)
        self.when = [0] * SLOTS
        self.who = [None] * SLOTS
        self.host = None        # the host's generator (cabinet.py)
        self.wdt = None         # machine.WDT, once started

    # ---- ESP32-like wrapping ticks ----
    def ticks_ms(self):
        return self.ms

    def ticks_us(self):
        return self.us

    @staticmethod
    def ticks_diff(a, b):
        return ((a - b + HALF) & MASK) - HALF

    @staticmethod
    def ticks_add(a, delta):
        return (a + delta) & MASK

    # ---- time passes ----
    def _step(self, us):
        self.us = (self.us + us) & MASK
        f = self.frac + us
        if f >= 1000:
            q = f // 1000
            self.ms = (self.ms + q) & MASK
            f -= q * 1000
        self.frac = f
        if not self.free:
            self.grant -= us

    def _turn(self):
        """Board time is at the grant: the host runs until it grants more. What goes wrong
        here ends the bench from run(): raised here, inside a node task's wait, asyncio
        would take it for that task's end."""
        w = self.wdt
        if w is not None and self.ticks_diff(self.ms, w.fed) > w.timeout:
            self._end(NodeReset("watchdog: not fed for %d ms" % self.ticks_diff(self.ms, w.fed)))
            return
        try:
            v = self.host.send(None)
        except StopIteration:
            self._end(None)
            return
        except Exception as e:  # noqa: BLE001 - the host's failure, raised by run()
            self._end(e)
            return
        if v > 0:
            self.grant += v * 1000
        else:                   # a heap sample, tagged: taken at the top level
            self.tag = -v
            self.free = True

    def _end(self, failure):
        self.failure = failure
        self.done = True
        self.free = True

    def wait_us(self, us):
        """Block the whole board for `us` (a busy wait: UART flush, echo pulse)."""
        while us > 0:
            if self.free:
                self._step(us)
                return
            if self.grant <= 0:
                self._turn()
                continue
            d = us if us < self.grant else self.grant
            self._step(d)
            us -= d

    def sleep_ms(self, ms):
        """`await clock.sleep_ms(ms)`: the task leaves asyncio's queue until its deadline."""
        i = self.who.index(None)
        self.when[i] = (self.us + (ms * 1000 if ms > 0 else 0)) & MASK
        self.who[i] = core.cur_task
        yield

    # ---- the scheduler's outer loop, called by run.mjs ----
    def run(self):
        """Run the node and its host. 0: call again; -1: the scenario has ended; n > 0: the
        host's sample n (gc.collect() pending: run.mjs reads gc.mem_alloc() next)."""
        queue = core._task_queue
        when = self.when
        who = self.who
        diff = self.ticks_diff
        for _ in range(RUN_TURNS):
            core._run_iter()                # until every task sleeps
            if self.free:
                self.free = False
                if self.done:
                    if self.failure is not None:
                        raise self.failure
                    return -1
                gc.collect()
                return self.tag
            d = HALF
            for i in range(SLOTS):
                if who[i] is not None:
                    x = diff(when[i], self.us)
                    if x < d:
                        d = x
            if d == HALF:
                raise NodeReset("every task of the node has ended")
            if d < 0:
                d = 0
            if d > self.grant:
                if self.grant > 0:
                    self._step(self.grant)
                self._turn()
                continue
            self._step(d)
            for i in range(SLOTS):
                t = who[i]
                if t is not None and diff(when[i], self.us) <= 0:
                    who[i] = None
                    queue.push(t)
        return 0


clock = Clock()


def run():
    return clock.run()


def collect():
    """gc.collect() for run.mjs: done when this call returns to JavaScript."""
    gc.collect()
    return 0


def _asyncio_run(coro):
    """asyncio.run() on this port: the node's main task joins the queue, and the call that
    started the node (main.py, from run.mjs) ends, so that run() drives it from the top."""
    core.create_task(coro)
    raise Started()


# The port's asyncio hands its queue to JavaScript timers (setTimeout) and has no run():
# a plain queue (the ESP32's is one too), and run() above instead.
core._task_queue = core.TaskQueue()
asyncio.run = _asyncio_run
