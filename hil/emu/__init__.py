"""The emulated smartcross board: MicroPython `machine` stand-in (machine.py, emu_*.py,
rom.py; run inside the board process) and its CPython host (host.py, pty_board.py)."""
