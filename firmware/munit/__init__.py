"""The smartcross monitor unit: the independent signal monitor (monitor/) on a board of its
own (firmware/README.md, "The monitor unit"). Its files: monitor.json, read by config.py."""

# (code, line) of the boot's file check (node/manifest_check.py, run by boot.py): code 0 ok
files = (0, "")
