"""The node's files against the manifest they were deployed with (boot.py, before
anything else of the node is imported).

`smartcross flash` writes manifest.json (controller/tooling/bundle.py) next to node.json
before any other file, and reads every file back before it reports success; this check
catches what happens afterwards or in between: a deploy cut half-way (lead pulled, power
lost), a file changed by hand, a flash that lost bits. It runs before any other module of
the node is imported, so a file that no longer imports is still named, and its verdict
fails the configuration once boot.py has read node.json (app.prepare()).

The rule (the same as controller/tooling/bundle.check_tree on the host):

* No manifest.json next to node.json: a development deploy (files copied by hand); the
  check passes and says so ("manifest: none").
* manifest.json unreadable, not format 1, or malformed: mismatch.
* Every file it lists (boot.py, main.py, board/*.mpy, node/*.mpy, protocols/**/*.mpy,
  node.json) must exist with exactly its size and SHA-256.
* No other .py or .mpy may be under board/, node/, munit/, monitor/ or protocols/ (the
  bundle's packages, both roles): MicroPython imports x.py before
  x.mpy, so a stray source file would replace a checked one.

A mismatch is a configuration error, CONFIG_ERROR = CFG_FILES (7), so the node does what it
does for any bad configuration: SAFE mode for good (heads flash, FAULT_CONFIG set, the bus
answers). One line goes to the console, which `smartcross flash` reads after its reset:

    manifest: ok, 34 files
    manifest: MISMATCH node/guard.mpy: SHA-256 differs
    manifest: none (files not checked)
"""

import hashlib
import json
import os

MANIFEST = "manifest.json"
FORMAT = 1
PACKAGES = ("board", "monitor", "munit", "node", "protocols")   # = bundle.COMPILED_DIRS
CFG_FILES = 7           # register_map.CFG_FILES (the check imports nothing of the node)
_BUF = 512


def _hex(b):
    return "".join("%02x" % x for x in b)


def _size(path):
    try:
        return os.stat(path)[6]
    except OSError:
        return -1


def _sha256(path, buf):
    h = hashlib.sha256()
    mv = memoryview(buf)
    with open(path, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(mv[:n])
    return _hex(h.digest())


def _walk(d, out):
    for n in os.listdir(d):
        p = d + "/" + n
        if os.stat(p)[0] & 0x4000:
            _walk(p, out)
        else:
            out.append(p)


def check(root=""):
    """(0, line) when the files match (or there is no manifest), (CFG_FILES, line) if not."""
    pre = root + "/" if root else ""
    try:
        with open(pre + MANIFEST) as f:
            doc = json.load(f)
    except OSError:
        return 0, "manifest: none (files not checked)"
    except Exception:   # noqa: BLE001 - any parse error is a broken manifest
        return CFG_FILES, "manifest: MISMATCH manifest.json unreadable"
    try:
        if doc["format"] != FORMAT:
            return CFG_FILES, "manifest: MISMATCH manifest format %r" % (doc["format"],)
        files = doc["files"]
        listed = set()
        buf = bytearray(_BUF)
        for e in files:
            name = e["name"]
            listed.add(name)
            size = _size(pre + name)
            if size < 0:
                return CFG_FILES, "manifest: MISMATCH %s: missing" % name
            if size != e["size"]:
                return CFG_FILES, "manifest: MISMATCH %s: %d bytes, manifest says %d" % (
                    name, size, e["size"])
            if _sha256(pre + name, buf) != e["sha256"]:
                return CFG_FILES, "manifest: MISMATCH %s: SHA-256 differs" % name
    except (KeyError, TypeError, ValueError, OSError) as ex:
        return CFG_FILES, "manifest: MISMATCH %r" % (ex,)
    for pkg in PACKAGES:
        found = []  # type: list[str]
        try:
            _walk(pre + pkg, found)
        except OSError:
            continue
        for p in found:
            name = p[len(pre):]
            if (name.endswith(".py") or name.endswith(".mpy")) and name not in listed:
                return CFG_FILES, "manifest: MISMATCH %s: not in the manifest" % name
    return 0, "manifest: ok, %d files" % len(listed)



def forget():
    """Unload this module (boot only): its bytecode leaves the heap."""
    import sys

    sys.modules.pop(__name__, None)
    pkg = sys.modules.get("node")
    if pkg is not None and "manifest_check" in pkg.__dict__:
        delattr(pkg, "manifest_check")
