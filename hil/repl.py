"""The raw-REPL board (an ESP32 as mpremote sees it): hil/emu/repl_board.py.

    python -m hil.repl FS_DIR      (or: smartcross hil repl-board FS_DIR)
"""

from __future__ import annotations

import sys

from hil.emu.repl_board import ReplBoard, main

__all__ = ["ReplBoard", "main"]

if __name__ == "__main__":
    sys.exit(main())
