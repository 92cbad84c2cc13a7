"""The smartcross monitor unit: the independent signal monitor (monitor/) on a board of its
own (firmware/README.md, "The monitor unit"). Its files: monitor.json, read by config.py."""
