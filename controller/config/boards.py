"""Board profiles: what a field node uses each pin of its module for.

The chip facts (which GPIOs exist, flash, input-only, UART0, USB, strapping pins) are
protocols/boards.py, which the node's own config parser reads too. A profile adds the pins
the node takes for itself on that board (the RS-485 UART and its driver enable, the
maintenance button, the status LED) and, from what is left, the pins usable for lamp outputs
(in output-channel order: `channels = [0, 1, 2]` are the first three) and for inputs (lamp
sense, loops, buttons, bays; input-only pins first). The S3 profile has no status LED: its
pins go to lamps and lamp sense (6 heads of 16 lamps and a red sense each fit), and the
DevKitC-1's own LED is an addressable RGB LED. Strapping pins are usable for neither:
a lamp driver, a detector card or a sense circuit that holds one at reset changes the boot
mode (GPIO 12 of the ESP32 high at reset selects a 1.8 V flash: the module does not start).

`pin_table(board)` is the technician's wiring table (controller/tooling/README.md shows it,
and a test keeps the two equal).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from protocols import boards as chips

DEFAULT_BOARD = "esp32"


@dataclass(frozen=True)
class Board:
    name: str                    # as `board = "..."` names it, and node.json's "board"
    module: str                  # what the technician buys
    uart: int                    # the RS-485 UART
    tx: int
    rx: int
    de: int                      # RS-485 driver enable (DE and /RE tied)
    maintenance: int             # held at boot: hardware watchdog off (active low)
    maintenance_note: str
    status_led: int | None
    facts: dict = field(repr=False, compare=False, default_factory=dict)

    def _of(self, key: str) -> tuple[int, ...]:
        return tuple(self.facts[key])

    @property
    def pads(self) -> tuple[int, ...]:
        """Every GPIO of the chip that the module brings out."""
        return tuple(p for p in self._of("gpio") if p not in self._of("absent"))

    @property
    def own(self) -> dict[int, str]:
        """Pins the node itself takes on this board, and what for."""
        out = {self.tx: f"RS-485 TX (UART{self.uart})", self.rx: f"RS-485 RX (UART{self.uart})",
               self.de: "RS-485 driver enable (DE, /RE)",
               self.maintenance: f"maintenance button: {self.maintenance_note}"}
        if self.status_led is not None:
            out[self.status_led] = "status LED"
        return out

    def refuse(self, pin: int, output: bool) -> str | None:
        """Why `pin` cannot be a lamp output (`output`) or an input on this board, or None.
        The node's own pins are not refused here: they are taken, see `own`."""
        if pin in self.own:
            return None
        f = self.facts
        if pin not in f["gpio"]:
            return f"does not exist on the {self.module.split(' (')[0]}"
        if pin in f["flash"]:
            return "is the module's flash or PSRAM (the chip stops)"
        if pin in f["absent"]:
            return f"is not brought out by the {self.module.split(' (')[0]}"
        if pin in f["uart0"]:
            return "is UART0, the USB console and REPL (flashing uses it)"
        if pin in f["usb"]:
            return "is the native USB (the console)"
        if pin in f["strapping"]:
            return ("is a strapping pin: a lamp driver or an input holding it at reset "
                    "changes the boot mode")
        if output and pin in f["input_only"]:
            return "is input only: it cannot drive a lamp"
        return None

    @property
    def outputs(self) -> tuple[int, ...]:
        """Lamp outputs in output-channel order."""
        return tuple(p for p in self.pads if p not in self.own and not self.refuse(p, True))

    @property
    def inputs(self) -> tuple[int, ...]:
        """Input pins in input order: input-only ones first, then the output-capable ones
        from the last output channel down (so inputs and outputs meet in the middle)."""
        only = [p for p in self.pads if p in self.facts["input_only"] and p not in self.own
                and not self.refuse(p, False)]
        return tuple(only) + tuple(reversed(self.outputs))


BOARDS = {b.name: b for b in (
    Board("esp32", "ESP32-WROOM-32 (a classic ESP32 DevKitC; not a WROVER: its PSRAM "
          "takes GPIO 16 and 17)", uart=2, tx=17, rx=16, de=4,
          maintenance=0, maintenance_note="the BOOT button", status_led=2,
          facts=chips.BOARDS["esp32"]),
    Board("esp32s3", "ESP32-S3-WROOM-1 (an ESP32-S3-DevKitC-1, any flash or PSRAM size)",
          uart=1, tx=17, rx=18, de=8, maintenance=0, maintenance_note="the BOOT button",
          status_led=None, facts=chips.BOARDS["esp32s3"]),
)}


_SHORT = (("absent", "not on the module"), ("flash", "flash or PSRAM: never"),
          ("uart0", "UART0: the USB console"), ("usb", "native USB: the console"),
          ("strapping", "strapping pin: not used"))


def _role(b: Board, pin: int) -> str:
    f = b.facts
    if pin in b.own:
        return b.own[pin] + (" (a strapping pin)" if pin in f["strapping"] else "")
    for key, text in _SHORT:
        if pin in f[key]:
            return text
    uses = []
    if pin in b.outputs:
        uses.append(f"output channel {b.outputs.index(pin)}")
    uses.append(f"input {b.inputs.index(pin)}")
    text = " or ".join(uses)
    return text + (" (input only, no pull-up)" if pin in f["input_only"] else "")


def pin_table(b: Board) -> str:
    """The module's pins as a Markdown table: what the node uses each for."""
    rows = [f"| GPIO | `board = \"{b.name}\"`: {b.module.split(' (')[0]} |", "|---|---|"]
    pins = b.pads
    k = 0
    while k < len(pins):                     # runs of unused pins share a row
        role = _role(b, pins[k])
        j = k
        while (j + 1 < len(pins) and pins[j + 1] == pins[j] + 1 and ": " in role
               and _role(b, pins[j + 1]) == role):
            j += 1
        name = str(pins[k]) if j == k else f"{pins[k]}-{pins[j]}"
        rows.append(f"| {name} | {role} |")
        k = j + 1
    return "\n".join(rows) + "\n"


def pin_tables() -> str:
    """Every board's pin table, as controller/tooling/README.md shows them."""
    return "\n".join(pin_table(b) for b in BOARDS.values())
