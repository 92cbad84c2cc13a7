"""Cut a received byte stream into Modbus RTU frames by silence (and, for a master, by the
expected response length). Sans-IO: the caller hands in bytes with the time they arrived
and asks for frames; nothing here reads a clock or a port.

Timing model: `feed(data, now_us)` says that the LAST byte of `data` finished arriving at
`now_us`, and that the bytes of `data` came back to back. The silence before `data` is
therefore now_us - len(data) * char_us - (arrival of the previous byte). A frame ends when
that silence, or the silence seen by `poll(now_us)`, reaches 3.5 character times (1750 us
above 19200 baud). The 1.5-character inter-byte rule of the spec is not enforced: a frame
with a gap inside it is still one frame, and its CRC decides.

Frames with a bad CRC (or shorter than 4 bytes, or longer than MAX_ADU) are counted and
dropped; `poll` only ever returns frames whose CRC is right.

Besides silence, a frame may end by its length: the master's MasterDeframer knows the
length of the response it expects; the slave's SlaveDeframer computes the length of a
request from its first bytes (FC01-06: 8; FC15/16: 9 + byte count; FC23: 13 + byte count;
FC43/14: 7), so a node can answer without waiting out the 1.75 ms silence. The slave does
this only for a frame that began after a silence (or after reset(), i.e. after its own
transmission), and only when the bytes so far are exactly that long with a right CRC;
anything else (garbage, a frame that follows another without a silence, an unknown
function, more bytes than the length) ends by silence as before and its CRC decides.

Resynchronisation (slave): line noise followed by a request, with a silence the receiver did
not see (the node read both in one go, so their arrival times are lost), is one "frame" with
a bad CRC. Before dropping such a frame, the SlaveDeframer looks for a request that ends at
its end: an offset where the address is this node's (or broadcast), the function's length
rule gives exactly the bytes left, and the CRC of those bytes is right. It takes the longest
such request (counted in `resyncs`; the frame still counts as a CRC error). A random match
needs a 16-bit CRC to agree on top of the address and length rules, and only frames that
already failed are searched, so a good frame is never cut.

Two receive buffers are preallocated and swapped when a frame completes, so a complete frame
costs no copy; the memoryview that `poll` returns stays valid until the next frame
completes (that needs at least one more `feed`).
"""

from .const import ENCAPSULATED_INTERFACE, MAX_ADU, MEI_READ_DEVICE_ID
from .crc16 import check

BITS_PER_CHAR = 11          # the spec's character: start + 8 data + parity/2nd stop + stop


def char_us(baud, bits=BITS_PER_CHAR):
    """Microseconds per character, rounded up."""
    return (bits * 1000000 + baud - 1) // baud


def silence_us(baud, bits=BITS_PER_CHAR):
    """The inter-frame silence: 3.5 characters, fixed 1750 us above 19200 baud."""
    if baud > 19200:
        return 1750
    return (35 * bits * 1000000 + 10 * baud - 1) // (10 * baud)


class Deframer:
    """Slave side (and generic): frames end by silence only.

    ticks_period: 0 for plain integer microseconds; 1 << 30 (MicroPython's
    time.ticks_us() period on the ESP32) to accept wrapping ticks.
    bits: bits per character on the line (11 as the spec says; 10 for 8N1, which makes the
    length of a received chunk, and below 19200 baud the silence, exact).
    Counters: frames (good frames returned), crc_errors (bad CRC or too short),
    overruns (too long), dropped (a good frame replaced before it was polled).
    """

    def __init__(self, baud, ticks_period=0, max_frame=MAX_ADU, bits=BITS_PER_CHAR):
        self.baud = baud
        self.char_us = char_us(baud, bits)
        self.silence_us = silence_us(baud, bits)
        self.period = ticks_period
        self.max_frame = max_frame
        self._rx = bytearray(max_frame)
        self._out = bytearray(max_frame)
        self._rxv = memoryview(self._rx)
        self._outv = memoryview(self._out)
        self._n = 0             # bytes in _rx
        self._over = False      # current frame overflowed; drop it when it ends
        self._last = 0          # arrival time of the last byte in _rx
        self._ready = 0         # length of the complete frame in _out, 0 if none
        self._start = 0         # where that frame begins in _out
        self._timed = False     # _last holds a time (a byte arrived or poll() was called)
        self._gap_ok = False    # the line has been silent for a full silence: a frame
                                # starting now starts at a frame boundary
        self._aligned = False   # the frame in _rx started at a frame boundary
        self.frames = 0
        self.crc_errors = 0
        self.overruns = 0
        self.dropped = 0

    def _diff(self, a, b):
        d = a - b
        p = self.period
        if p:
            d = ((d + (p >> 1)) % p) - (p >> 1)
        return d

    def reset(self):
        """Forget any partial frame (e.g. after this node transmitted: the line is then at
        a frame boundary)."""
        self._n = 0
        self._over = False
        self._ready = 0
        self._gap_ok = True

    def pending(self):
        """Bytes of an unfinished frame."""
        return self._n

    def feed(self, data, now_us):
        n = len(data)
        if not n:
            return
        if self._timed and self._diff(now_us, self._last) - n * self.char_us >= self.silence_us:
            if self._n:
                self._complete()
            self._gap_ok = True
        if not self._n:                 # these bytes start a frame
            self._aligned = self._gap_ok
            self._gap_ok = False
        k = self._n
        if self._over or k + n > self.max_frame:
            if not self._over:
                self._over = True
            self._n = k + n if k + n < 0x7FFF else 0x7FFF
        else:
            self._rxv[k:k + n] = data
            self._n = k + n
        self._last = now_us
        self._timed = True
        self._after_feed()

    def _after_feed(self):
        pass

    def poll(self, now_us):
        """The next complete good frame (a memoryview: address .. CRC) or None."""
        if self._n:
            if self._diff(now_us, self._last) >= self.silence_us:
                self._complete()
                self._gap_ok = True
        elif not self._gap_ok:
            if not self._timed:
                self._last = now_us     # quiet from now on, as far as we know
                self._timed = True
            elif self._diff(now_us, self._last) >= self.silence_us:
                self._gap_ok = True
        r = self._ready
        if r:
            self._ready = 0
            s = self._start
            return self._outv[s:s + r]
        return None

    def _complete(self):
        n = self._n
        self._n = 0
        if self._over:
            self._over = False
            self.overruns += 1
            return
        if not check(self._rxv[:n]):
            self.crc_errors += 1
            return
        self._accept(n)

    def _accept(self, n, start=0):
        """The n bytes at _rx[start:] are a good frame."""
        self._n = 0
        if self._ready:
            self.dropped += 1
        # Swap buffers: the frame stays where it was received.
        self._rx, self._out = self._out, self._rx
        self._rxv, self._outv = self._outv, self._rxv
        self._ready = n
        self._start = start
        self.frames += 1


class MasterDeframer(Deframer):
    """Master side: besides silence, a response ends as soon as it has the length the
    request implies (`expect`), so the master need not wait out the silence.
    An exception response (function | 0x80) is 5 bytes whatever was expected."""

    def __init__(self, baud, ticks_period=0, max_frame=MAX_ADU, bits=BITS_PER_CHAR):
        super().__init__(baud, ticks_period, max_frame, bits)
        self._expect = 0

    def expect(self, length):
        """Length of the next response (address .. CRC); 0 or None: by silence only."""
        self._expect = length or 0

    def _after_feed(self):
        n = self._n
        if self._over or n < 2:
            return
        rx = self._rx
        if rx[1] & 0x80:
            want = 5
        elif rx[1] == ENCAPSULATED_INTERFACE:
            want = 0
        else:
            want = self._expect
        if want and n >= want:
            if n > want:
                self._over = True   # trailing garbage: the frame is not what we expected
            self._complete()


MIN_REQUEST = 7             # FC43/14 (address .. CRC); every other request is longer


def request_length(frame, n, at=0):
    """Length (address .. CRC) of the request whose first n (>= 2) bytes are in `frame` from
    index `at`, as far as they tell; 0 if they do not (yet), or if the function has no fixed
    shape."""
    fc = frame[at + 1]
    if 1 <= fc <= 6:
        return 8
    if fc == 15 or fc == 16:
        return 9 + frame[at + 6] if n >= 7 else 0
    if fc == 23:
        return 13 + frame[at + 10] if n >= 11 else 0
    if fc == ENCAPSULATED_INTERFACE:
        return 7 if n >= 3 and frame[at + 2] == MEI_READ_DEVICE_ID else 0
    return 0


class SlaveDeframer(Deframer):
    """Slave side: besides silence, a request that began at a frame boundary ends as soon as
    it has the length its first bytes imply and a right CRC (see the module docstring), so
    the slave can answer at once. Counters as Deframer's; a request that fails its CRC at
    that length is not counted then: it goes on to the silence, and is counted once.

    A frame with a bad CRC is searched for a request at its end (resynchronisation, see the
    module docstring): `address` is this node's (1..247; requests to it or to broadcast 0
    are looked for), None for any address. Counter: resyncs (requests found so)."""

    def __init__(self, baud, ticks_period=0, max_frame=MAX_ADU, bits=BITS_PER_CHAR,
                 address=None):
        super().__init__(baud, ticks_period, max_frame, bits)
        self.address = address
        self.resyncs = 0

    def _complete(self):
        n = self._n
        if self._over or n < 4:
            Deframer._complete(self)
            return
        if check(self._rxv[:n]):
            self._accept(n)
            return
        self._n = 0
        self.crc_errors += 1
        i = self._request_at_end(n)
        if i:
            self.resyncs += 1
            self._accept(n - i, i)

    def _request_at_end(self, n):
        """The smallest offset > 0 where a plausible request with a right CRC fills the
        rest of the n bytes in _rx; 0 if none. Cheap tests first: the CRC is computed only
        where the address and the length rule already fit."""
        rx = self._rx
        own = self.address
        i = 1
        last = n - MIN_REQUEST
        while i <= last:
            a = rx[i]
            if (a == 0 or a == own) if own is not None else a <= 247:
                m = n - i
                if request_length(rx, m, i) == m and check(self._rxv[i:n]):
                    return i
            i += 1
        return 0

    def _after_feed(self):
        n = self._n
        if n < 4 or self._over or not self._aligned:
            return
        if request_length(self._rx, n) == n and check(self._rxv[:n]):
            self._accept(n)
