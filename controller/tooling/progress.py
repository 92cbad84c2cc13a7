"""Progress bars on stderr for the long steps (compiling, writing, reading back, scanning).

On a terminal a bar redraws in place; into a file or a pipe (CI logs, tests) each step
writes one line when it starts and one when it ends, so a log stays readable.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, title: str, total: float, unit: str = "", stream: TextIO | None = None,
                 width: int = 28) -> None:
        self.title = title
        self.total = max(total, 1)
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.width = width
        self.done = 0.0
        self.t0 = time.monotonic()
        self._last_draw = 0.0
        self._closed = False
        if not self.tty:
            self.stream.write(f"{title} ...\n")
            self.stream.flush()
        else:
            self._draw()

    def _amount(self, v: float) -> str:
        if self.unit == "B":
            return f"{v / 1024:.1f} KB" if self.total >= 1024 else f"{v:.0f} B"
        return f"{v:.0f}{(' ' + self.unit) if self.unit else ''}"

    def _draw(self) -> None:
        frac = min(1.0, self.done / self.total)
        n = int(frac * self.width)
        bar = "#" * n + "." * (self.width - n)
        self.stream.write(f"\r{self.title} [{bar}] {frac * 100:3.0f}% "
                          f"{self._amount(self.done)}/{self._amount(self.total)}")
        self.stream.flush()

    def update(self, done: float) -> None:
        self.done = done
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw > 0.05 or done >= self.total:
                self._last_draw = now
                self._draw()

    def advance(self, n: float = 1) -> None:
        self.update(self.done + n)

    def close(self, note: str = "") -> None:
        if self._closed:
            return
        self._closed = True
        secs = time.monotonic() - self.t0
        tail = f" ({note})" if note else ""
        if self.tty:
            self._draw()
            self.stream.write(f" {secs:.1f} s{tail}\n")
        else:
            self.stream.write(f"{self.title}: {self._amount(self.done)} in {secs:.1f} s{tail}\n")
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.close("interrupted" if exc_type is not None else "")
