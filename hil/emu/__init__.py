"""The emulated smartcross board: MicroPython `machine` stand-in (machine.py, emu_*.py,
rom.py, emu_rom_repl.py; run inside the board process) and its CPython host: one host for
every kind (board_host.py: process, link, resets, teardown; watchdog.py: the hardware
watchdog, kept outside the board's process; pty_port.py: the one pty server), the node
board (host.py, pty_board.py) and the raw-REPL board (repl_board.py)."""
