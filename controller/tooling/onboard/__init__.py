"""Code that runs ON the board (MicroPython), sent as source over the raw REPL by
`smartcross flash`. Kept as real files so that the linters see it; never imported here."""

from pathlib import Path

DEPLOY_HELPERS = Path(__file__).with_name("deploy_helpers.py")
