# Freeze the node (node/ on the board layer board/, and protocols/) into an ESP32 MicroPython
# image, so that its bytecode runs from flash and the heap holds only the node's data
# (bench/node_heap.py):
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/smartcross/firmware/manifest.py
# boot.py, main.py and node.json stay on the board's filesystem.
# mypy: ignore-errors
# ruff: noqa: F821
include("$(PORT_DIR)/boards/manifest.py")
package("board")
package("node")
package("protocols", base_path="..")
