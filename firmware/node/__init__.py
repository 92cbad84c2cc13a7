"""The smartcross field node (MicroPython): see firmware/README.md."""
