"""Provisioning: what each field node is told, derived from the group configuration.

| module | what |
|---|---|
| `layout.py` | what each node holds in its own numbering (groups, detectors, bays) and its guard's safety tables with their CRC |
| `document.py` | the node's node.json: board and pins (config/wiring.py), bus settings, comm watchdog, guard tables |
| `node_file.py` | node.json as a file: checked with the node's own parser before it is written, read back for `flash` |

The runtime (register indices), `smartcross nodes provision`, `smartcross flash` and the HIL
rig all take a node's configuration from here, so the node and the cabinet agree by
construction.
"""

from .document import ProvisionError, node_document, node_documents
from .layout import ALL_RED_MARGIN_MS, NodeLayout, layouts

__all__ = ["ALL_RED_MARGIN_MS", "NodeLayout", "ProvisionError", "layouts", "node_document",
           "node_documents"]
