"""The pretend cabinet of bench/node_heap.py, in the node's own MicroPython process.

MicroPython code, for MicroPython's WebAssembly port (run.mjs): the same scenario as the
unix-port bench's CPython host (bench/node_heap.py, hil/emu/drive.py), as a generator that
the board's clock resumes whenever board time reaches what it granted (emu_link.py):
every wire at a level from the start, the start-up polls until the node runs, then every
100 ms one FC23 poll (heartbeat, COMMAND = RUN, the signal plan's aspects; the process
image read back), vehicles on the two loops, the bays changing every 3 minutes, healthy
lamps whose current sense follows their outputs, and a heap sample at start-up, every
SAMPLE_EVERY polls and at the end.

It imports nothing of the node's (no protocols/: a module both used would count as the
stand-in's and be taken off the node's figure), so the frames are built here from plain
numbers that bench/node_heap.py takes from protocols/register_map.py (host.json): where
the registers are, the command registers of each step of the plan (heartbeat 0).
Everything it keeps is made in setup(), before run.mjs measures the stand-in's share.
"""

import json
import random

import emu_link
import machine

SAMPLE_EVERY = 6000     # polls: 10 minutes
TIMEOUT_MS = 10_000     # board ms without a complete response: the bench fails
FC_RW_MULTIPLE = 23


def crc16(buf, n):
    """Modbus CRC-16 of buf[:n]."""
    crc = 0xFFFF
    for i in range(n):
        crc ^= buf[i]
        for _ in range(8):
            if crc & 1:
                crc = (crc >> 1) ^ 0xA001
            else:
                crc >>= 1
    return crc


class Cabinet:
    def __init__(self, path):
        with open(path) as f:
            s = json.load(f)
        self.unit = s["unit"]
        self.hb_index = s["hb_index"]
        self.mode_index = s["mode_index"]
        self.refusals_index = s["refusals_index"]
        self.run_mode = s["run_mode"]
        self.startup = s["startup"]
        self.plan = [tuple(p) for p in s["plan"]]       # (t in the cycle, command regs)
        self.cycle = s["cycle"]
        self.steps = s["steps"]
        self.det_pins = tuple(s["det_pins"])
        self.bay_pin = s["bay_pin"]
        self.echo_pin = s["echo_pin"]
        self.lamps = [tuple(p) for p in s["lamps"]]    # (output, current-sense input)
        ra, rc, wa = s["read_addr"], s["read_count"], s["write_addr"]
        wc = len(self.startup)
        self.want = 5 + 2 * rc                          # response length
        f = bytearray(13 + 2 * wc)
        f[0:11] = bytes((self.unit, FC_RW_MULTIPLE, ra >> 8, ra & 255, rc >> 8, rc & 255,
                         wa >> 8, wa & 255, wc >> 8, wc & 255, 2 * wc))
        self.frame = f
        self.hb = 0
        self.mode = -1
        self.refusals = -1
        self.polls = 0
        self.actuations = 0
        self.det_off = [0] * len(self.det_pins)
        self.det_next = [0] * len(self.det_pins)
        random.seed(1)

    # ------------------------------------------------------------ the cabinet's poll
    def poll(self, regs):
        """One FC23: write the command registers (this poll's heartbeat), read the process
        image; waits for the response 1 ms of board time at a time."""
        self.hb = (self.hb + 1) & 0xFFFF
        f = self.frame
        for i in range(len(regs)):
            v = self.hb if i == self.hb_index else regs[i]
            f[11 + 2 * i] = v >> 8
            f[12 + 2 * i] = v & 255
        n = len(f) - 2
        crc = crc16(f, n)
        f[n] = crc & 255
        f[n + 1] = crc >> 8
        machine.uart_take()
        machine.uart_write(f)
        waited = 0
        while True:
            tx = machine.uart_tx()
            if len(tx) >= 5 and tx[1] & 0x80:
                raise RuntimeError("exception response %d" % tx[2])
            if len(tx) >= self.want:
                break
            if waited >= TIMEOUT_MS:
                raise RuntimeError("no response in %d ms" % TIMEOUT_MS)
            yield 1
            waited += 1
        r = machine.uart_take()
        n = self.want - 2
        if (len(r) != self.want or r[0] != self.unit or r[1] != FC_RW_MULTIPLE
                or r[2] != n - 3 or crc16(r, n) != r[n] | r[n + 1] << 8):
            raise RuntimeError("bad response %r" % (bytes(r),))
        i = 3 + 2 * self.mode_index
        self.mode = r[i] << 8 | r[i + 1]
        i = 3 + 2 * self.refusals_index
        self.refusals = r[i] << 8 | r[i + 1]
        self.polls += 1

    def lamps_follow(self):
        """Healthy lamps: each current-sense input shows what its output drives."""
        for out, sense in self.lamps:
            level = machine.output(out)
            if machine.input_level(sense) != level:
                machine.set_input(sense, level)

    # ------------------------------------------------------------ the scenario
    def scenario(self):
        """The host's side, resumed at each grant: yields ms of board time to grant, or
        -(1 + polls) for a heap sample."""
        pins = self.det_pins
        for pin in pins:                                  # every wire has a level from
            machine.set_input(pin, 0)                     # the start, so the stand-in's
        machine.set_input(self.bay_pin, 0)                # own tables do not grow later
        machine.set_echo(self.echo_pin, 150 * 58)
        regs = self.startup
        for _ in range(200):                              # start-up
            self.lamps_follow()
            yield from self.poll(regs)
            yield 97
            if self.mode == self.run_mode:
                break
        if self.mode != self.run_mode:
            raise RuntimeError("the node did not reach RUN: mode %d" % self.mode)
        self.polls = 0
        yield -1
        det_off = self.det_off
        det_next = self.det_next
        for i in range(len(pins)):
            det_next[i] = random.randrange(30, 80)
        for step in range(self.steps):
            t = step % self.cycle
            for pt, pregs in self.plan:
                if pt == t:
                    regs = pregs
            for i in range(len(pins)):
                if step == det_next[i]:
                    machine.set_input(pins[i], 1)
                    det_off[i] = step + random.randrange(3, 9)
                    det_next[i] = det_off[i] + random.randrange(20, 80)
                    self.actuations += 1
                elif step == det_off[i]:
                    machine.set_input(pins[i], 0)
            if step % 1800 == 900:                        # the bays change every 3 min
                machine.set_input(self.bay_pin, random.randrange(2))
                machine.set_echo(self.echo_pin, random.choice((40, 60, 150, 300)) * 58)
            self.lamps_follow()
            yield from self.poll(regs)
            yield 97
            if (step + 1) % SAMPLE_EVERY == 0 or step + 1 == self.steps:
                yield -1 - self.polls
        yield from self.poll(regs)
        print("@wasm32 result %d %d %d %d" % (self.steps, self.actuations, self.refusals,
                                              self.mode))


cabinet = None


def setup(path="/host/host.json"):
    """The cabinet and its scenario, the clock's host (before the node boots)."""
    global cabinet
    cabinet = Cabinet(path)
    emu_link.clock.host = cabinet.scenario()
    return 0
