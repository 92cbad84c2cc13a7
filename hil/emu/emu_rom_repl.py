"""What the ESP32's ROM and MicroPython's main loop do after a reset, for the raw-REPL board
(hil/emu/repl_board.py). MicroPython code: the board process imports it (`micropython -i
-c "import emu_rom_repl"`), then the unix port's own REPL follows.

The board's own files are run by name like on the ESP32 (boot.py always, main.py only when
the REPL it returns to is the friendly one: EMU_ROM_MAIN=1); a traceback is printed and the
REPL follows. The last line is the marker after which the host shows the REPL (SENTINEL in
repl_board.py).
"""

import os
import sys

SENTINEL = "\x00smartcross-rom-done\x00"


def _rom_run(name):
    try:
        os.stat(name + ".py")
    except OSError:
        return
    try:
        __import__(name)
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - a board prints the traceback and goes on
        sys.print_exception(e)


for _n in ("boot", "main") if os.getenv("EMU_ROM_MAIN") == "1" else ("boot",):
    try:
        _rom_run(_n)
    except KeyboardInterrupt:   # a second Ctrl-C while the first one's traceback printed
        pass
while True:
    try:
        print(SENTINEL)
        break
    except KeyboardInterrupt:
        pass
