"""The esptool step of `smartcross flash --base-image`: erase the chip, write MicroPython.

The image is the technician's file (a MicroPython 1.28 release for the board); nothing is
downloaded. Before the chip is touched, the file is checked to be an ESP image for the chip
named (magic byte, chip id in the extended header), so a wrong file never leaves a board
erased. esptool 5 names throughout (`erase-flash`, `write-flash`); esptool verifies what it
wrote (its post-flash check is on unless --trust-flash-content, which is never passed).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import FAILED, INPUT, ToolError

# MicroPython's images start at the second-stage bootloader: 0x1000 on the ESP32, 0x0 on the
# ESP32-S3. Chip ids of the image's extended header (esptool's IMAGE_CHIP_ID).
CHIPS = {"esp32": (0x1000, 0), "esp32s3": (0x0, 9)}
ESP_IMAGE_MAGIC = 0xE9
FLASH_BAUD = 460800

Runner = Callable[[Sequence[str]], int]


@dataclass(frozen=True)
class EspStep:
    what: str
    argv: tuple[str, ...]

    def shell(self) -> str:
        return " ".join(self.argv)

    @property
    def command(self) -> str:
        return self.argv[self.argv.index("--baud") + 2]


def esptool_argv(chip: str, port: str, baud: int, *command: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "esptool", "--chip", chip, "--port", port, "--baud",
            str(baud), *command)


def check_image(path: str, chip: str) -> int:
    """The image's size, or ToolError if it is not an ESP image for `chip`."""
    if chip not in CHIPS:
        raise ToolError(f"--chip {chip}: one of {', '.join(CHIPS)}", INPUT)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ToolError(f"--base-image {path}: cannot read ({e.strerror or e})", INPUT) from None
    if len(data) < 24 or data[0] != ESP_IMAGE_MAGIC:
        raise ToolError(f"--base-image {path}: not an ESP firmware image (no 0xE9 magic byte at "
                        "the start); use the MicroPython .bin for your board", INPUT)
    chip_id = data[12] | (data[13] << 8)
    want = CHIPS[chip][1]
    if chip_id != want:
        names = {v[1]: k for k, v in CHIPS.items()}
        raise ToolError(f"--base-image {path}: an image for "
                        f"{names.get(chip_id, f'chip id {chip_id}')}, not {chip}", INPUT)
    return len(data)


def plan(image: str, chip: str, port: str, baud: int = FLASH_BAUD) -> list[EspStep]:
    """The esptool commands that put `image` on the board, in order."""
    check_image(image, chip)
    offset = CHIPS[chip][0]
    return [
        EspStep("erase the whole flash", esptool_argv(chip, port, baud, "erase-flash")),
        EspStep("write the MicroPython image (esptool verifies it)",
                esptool_argv(chip, port, baud, "write-flash", f"0x{offset:x}",
                             str(Path(image).resolve()))),
    ]


def run_subprocess(argv: Sequence[str]) -> int:
    """esptool with its own output (its progress bars) on the terminal."""
    try:
        return subprocess.run(list(argv)).returncode
    except OSError as e:
        raise ToolError(f"cannot run esptool: {e}", FAILED) from None


def run(steps: list[EspStep], runner: Runner | None = None,
        say: Callable[[str], None] = print) -> None:
    runner = runner or run_subprocess
    for k, step in enumerate(steps):
        say(f"esptool: {step.what}: {step.shell()}")
        code = runner(step.argv)
        if code != 0:
            state = ("the board is unchanged" if k == 0 else
                     "the flash is erased: the board has no MicroPython until this succeeds")
            raise ToolError(f"esptool {step.command} failed "
                            f"(exit status {code}); {state}. Check the port and the lead, "
                            "hold BOOT if the board does not enter its bootloader, and run "
                            "`smartcross flash` again", FAILED)
