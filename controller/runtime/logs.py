"""What the service says on stderr: its own messages; libraries only when they matter.

pymodbus reports a silent node at ERROR with a dump of the last frames (">>>>> send:
0x1 0x3 ...", "Repeating....") and a port it cannot open as a warning; the service
says both itself, per node and per bus (runtime/service.py, runtime/fieldbus.py). So
library loggers stay at WARNING, what pymodbus repeats of the service's own reports is
dropped, and anything else it says is kept as one line of the service's fieldbus log.
"""

from __future__ import annotations

import logging
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(message)s"
LIBRARIES = ("pymodbus", "asyncio", "serial")
OURS = {"pymodbus": "fieldbus", "serial": "fieldbus"}     # what the service calls that part
# what pymodbus logs that the service reports itself, in its own words
SAID_BY_THE_SERVICE = ("No response received", "Repeating....", "Failed to connect",
                       "Not connected, trying to connect")


class LibraryWords(logging.Filter):
    """Attached to the handler: records of LIBRARIES become the service's own lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".")[0] not in LIBRARIES:
            return True
        first = record.getMessage().split("\n", 1)[0].strip()
        if not first or first.startswith(">>>>>") or first.startswith(SAID_BY_THE_SERVICE):
            return False
        lib = record.name.split(".")[0]
        record.msg, record.args = f"{OURS.get(lib, lib)}: {first}", ()
        record.exc_info = record.exc_text = None       # one line, not a library's traceback
        record.name = f"smartcross.{OURS.get(lib, lib)}"
        return True


def configure_logging(stream: TextIO, level: int = logging.INFO) -> None:
    """The service's log on `stream`: its own messages at `level`, libraries at WARNING."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(LibraryWords())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
