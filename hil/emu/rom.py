"""What the ESP32's ROM and MicroPython do at reset, for the emulated board.

Runs boot.py then main.py (found on MICROPYPATH, i.e. the firmware folder), and when
main.py returns or raises, sits at the "REPL" as a real board would: outputs frozen, the
watchdog (if the firmware started it) resetting the board when it expires.
"""

import sys

import machine

try:
    import boot  # noqa: F401
    import main  # noqa: F401
except SystemExit:
    raise
except BaseException as e:  # noqa: BLE001 - a board prints the traceback and idles
    sys.print_exception(e)
machine.emu_repl_idle()
