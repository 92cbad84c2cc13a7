"""The boards a node runs on: which GPIOs each module has and what the module itself uses.

Plain facts, shared by the node and the cabinet. The node's config parser
(firmware/node/config.py, boot only) refuses a pin its board cannot use at all: one the chip
or module does not have, the module's flash or PSRAM, an output on an input-only pin. The
cabinet's board profiles (controller/config/boards.py) add what the node uses each pin for,
and refuse more (UART0, USB, strapping pins).

Sources: Espressif's ESP32-WROOM-32 and ESP32-S3-WROOM-1 datasheets (pin definitions,
strapping pins), shared/DOMAIN.md "Field hardware facts".

Per board, tuples of GPIO numbers:
    gpio        the chip's GPIOs
    absent      GPIOs of the chip that the module does not bring out
    flash       the module's SPI flash (and PSRAM): never usable, the chip stops
    input_only  no output driver (and no pull-up)
    uart0       TX, RX of UART0: the USB console, the REPL, esptool
    usb         D-, D+ of the native USB (the S3's console)
    strapping   read at reset to choose the boot mode
"""


def _span(a, b):
    return tuple(range(a, b + 1))


BOARDS = {
    # ESP32-WROOM-32 (classic ESP32, e.g. on an ESP32-DevKitC): GPIO 20, 24, 28-31 do not
    # exist; 37 and 38 exist on the chip but not on the module's pads.
    "esp32": {
        "gpio": _span(0, 19) + (21, 22, 23, 25, 26, 27) + _span(32, 39),
        "absent": (37, 38),
        "flash": _span(6, 11),
        "input_only": _span(34, 39),
        "uart0": (1, 3),
        "usb": (),
        "strapping": (0, 2, 5, 12, 15),
    },
    # ESP32-S3-WROOM-1 (e.g. on an ESP32-S3-DevKitC-1): GPIO 22-25 do not exist; 26-32 are
    # the flash, 33-37 the octal PSRAM of the N8R8/N16R8 modules (reserved on every S3
    # board, so a node.json is right whichever module the technician was sold).
    "esp32s3": {
        "gpio": _span(0, 21) + _span(26, 48),
        "absent": _span(26, 34),
        "flash": _span(26, 37),
        "input_only": (),
        "uart0": (43, 44),
        "usb": (19, 20),
        "strapping": (0, 3, 45, 46),
    },
}


def unusable(board, pin, output):
    """Why `pin` cannot be used on `board` (a BOARDS entry) at all, or None."""
    if pin not in board["gpio"]:
        return "does not exist on this board"
    if pin in board["flash"]:
        return "is the module's flash or PSRAM"
    if pin in board["absent"]:
        return "is not brought out by the module"
    if output and pin in board["input_only"]:
        return "is input only"
    return None
