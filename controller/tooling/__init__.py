"""Field tooling: what a technician runs at a cabinet with a laptop and a USB lead.

| module | what |
|---|---|
| `bundle.py` | `smartcross firmware build`: firmware/ and protocols/ compiled to .mpy, with a manifest |
| `esp.py` | the esptool step of `smartcross flash` (erase, write the MicroPython image) |
| `deploy.py` | the mpremote step of `smartcross flash`: bundle and node.json onto the board, read back, reset |
| `repl_session.py` | one raw-REPL session on a board (mpremote's serial transport): Ctrl-C until a quiet prompt, watchdog taken over |
| `onboard/` | MicroPython that `flash` runs on the board (file helpers, read-back hashes), kept as real files |
| `scan.py` | `smartcross nodes scan`: every node on an RS-485 bus, what it runs and how it is |
| `progress.py` | progress bars on stderr |

The subcommands (parsers and handlers) are in controller/cli/tooling.py.

node.json itself (what each node holds, its pins, its guard tables) comes from
controller/provisioning/.

README.md in this folder is the technician's guide.

Every failure is a `ToolError`: a message for the technician and an exit status (2 for bad
input, 1 for a step that failed on the device); never a traceback.
"""


from ..errors import FAILED as FAILED
from ..errors import INPUT as INPUT
from ..errors import ToolError as ToolError
