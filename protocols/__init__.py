"""Shared between the field node (MicroPython) and the cabinet (CPython)."""
