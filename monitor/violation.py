"""What the monitor reports: a Violation per fault, of one of the KINDS."""

from collections import namedtuple

from protocols.aspects import LAMP_AMBER, LAMP_GREEN, LAMP_RED

KINDS = ("conflict", "short_intergreen", "short_green", "short_amber", "green_to_red",
         "dual_indication", "red_fail", "startup_flash")

# t: when it was detected (s); intersection: its id; kind: one of KINDS;
# groups: tuple of signal-group ids; detail: human-readable, with the measured and
# required figures. A plain namedtuple: MicroPython has no typing.NamedTuple.
Violation = namedtuple("Violation", ("t", "intersection", "kind", "groups", "detail"))


def secs(x: float) -> str:
    """2.5 -> "2.5 s", 3.0 -> "3 s", 0.25 -> "0.25 s"."""
    return f"{x:.2f}".rstrip("0").rstrip(".") + " s"


def show(bits: int) -> str:
    """Lamp bits as words: "red+amber", "dark"."""
    names = [n for b, n in ((LAMP_RED, "red"), (LAMP_AMBER, "amber"), (LAMP_GREEN, "green"))
             if bits & b]
    return "+".join(names) or "dark"
