"""The mpremote step of `smartcross flash`: the bundle and node.json onto the board, every
file read back and compared with the manifest, then a reset.

It talks to the board with mpremote's serial transport (raw REPL, raw-paste mode) and runs
small helpers on the board, so that nothing is left half-written unnoticed:

1. Ctrl-C (the node stops), raw REPL without a soft reset. The hardware watchdog that the
   node started cannot be stopped: the helpers take it over (`machine.WDT(timeout=30 s)`,
   fed by every step), so a deploy that dies half-way still ends in a reset. The signal
   heads of the old node.json are switched dark (all lamp outputs off), not left frozen.
2. The board is checked: MicroPython at least the bundle's release, the same .mpy version,
   enough free flash.
3. manifest.json first (written whole, then renamed into place), then every file that
   differs (each written as NAME.part and renamed, so a file is old or new, never half),
   then files in the bundle's packages (board/, node/, munit/, monitor/, protocols/) that
   the manifest does not list are removed (a stray .py would be imported instead of its
   .mpy). From the moment the new manifest is in place
   the node's boot check sees any file not yet written: an interrupted deploy boots into
   safe mode, never into a mix.
4. Every file's size and SHA-256 are computed on the board and compared with the manifest;
   nothing counts as deployed before this passes.
5. `machine.reset()`, and the node's boot check is read from the console.

A failure anywhere ends in a ToolError that says what state the board is in.
"""

from __future__ import annotations

import base64
import contextlib
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import FAILED, ToolError
from .bundle import COMPILED_DIRS, MANIFEST, FileEntry, Manifest
from .onboard import DEPLOY_HELPERS
from .progress import Progress
from .repl_session import Session

NODE_JSON = "node.json"
UNIT_JSON = "monitor.json"                  # a monitor unit's (firmware/munit/)
CHECK_MODULE = "node/manifest_check.mpy"    # the boot check: written first when present
DEPLOY_WDT_MS = 30000
CHUNK = 2048                                # bytes per write command (base64 on the wire)
BOOT_LINE = re.compile(rb"manifest: (ok|MISMATCH|none)[^\r\n]*")

@dataclass
class BoardPlan:
    """What goes onto one board: the bundle, the node's node.json, the board's manifest."""
    bundle_dir: Path
    bundle: Manifest
    node_doc: dict[str, Any]                       # node.json, or a unit's monitor.json
    node_json: bytes
    manifest: Manifest = field(init=False)         # the board's manifest.json
    manifest_bytes: bytes = field(init=False)

    def __post_init__(self) -> None:
        import hashlib

        unit = "unit_id" in self.node_doc        # a monitor unit's monitor.json
        self.config_name = UNIT_JSON if unit else NODE_JSON
        self.what = "monitor unit" if unit else "node"
        self.device_id = self.node_doc["unit_id" if unit else "node_id"]
        self.crc_name = "table CRC" if unit else "safety CRC"
        self.crc = self.node_doc["crc"] if unit else self.node_doc["safety"]["crc"]
        node_entry = FileEntry(self.config_name, len(self.node_json),
                               hashlib.sha256(self.node_json).hexdigest())
        b = self.bundle
        # a unit's manifest names the unit and its table CRC in node_id and safety_crc
        self.manifest = Manifest(firmware=b.firmware, layout_version=b.layout_version,
                                 micropython=b.micropython, mpy=b.mpy, march=b.march,
                                 files=[*b.files, node_entry], source=b.source,
                                 node_id=self.device_id, safety_crc=self.crc)
        self.manifest_bytes = self.manifest.dumps()

    def data(self, name: str) -> bytes:
        if name == self.config_name:
            return self.node_json
        if name == MANIFEST:
            return self.manifest_bytes
        return (self.bundle_dir / name).read_bytes()

    def order(self) -> list[str]:
        """Files in the order they are written (after manifest.json): the boot check first,
        node.json last."""
        names = [f.name for f in self.bundle.files]
        first = [n for n in (CHECK_MODULE, "boot.py") if n in names]
        rest = sorted(n for n in names if n not in first)
        return first + rest + [self.config_name]

    def folders(self) -> list[str]:
        dirs = set()
        for f in self.manifest.files:
            parts = f.name.split("/")[:-1]
            for k in range(1, len(parts) + 1):
                dirs.add("/".join(parts[:k]))
        return sorted(dirs, key=lambda d: (d.count("/"), d))

    def describe(self) -> list[str]:
        m = self.manifest
        lines = [f"board: write {MANIFEST} first ({len(self.manifest_bytes)} B, via "
                 f"{MANIFEST}.part and a rename): firmware {m.firmware}, layout "
                 f"{m.layout_version}, node {m.node_id}, {len(m.files)} files"]
        lines += [f"board: make folder {d}/" for d in self.folders()]
        for name in self.order():
            f = m.entry(name)
            assert f is not None
            lines.append(f"board: write {name} ({f.size} B, sha256 {f.sha256[:16]}...) via "
                         f"{name}.part, unless the board already has exactly this file")
        lines.append(f"board: remove files under {', '.join(d + '/' for d in COMPILED_DIRS)} "
                     "that the manifest does not list, and any *.part left over")
        lines.append(f"board: read back size and SHA-256 of all {len(m.files) + 1} files "
                     f"(with {MANIFEST}) and compare with the manifest")
        return lines


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text)[:3])


@dataclass
class Result:
    written: list[str]
    unchanged: list[str]
    removed: list[str]
    verified: int
    boot_line: str
    seconds: float


class Deployer:
    def __init__(self, port: str, baud: int = 115200, say: Callable[[str], None] = print,
                 progress_stream: Any = None, connect_timeout: float = 10.0,
                 boot_timeout: float = 10.0, force: bool = False, wdt_ms: int = DEPLOY_WDT_MS,
                 on_event: Callable[[str, str], None] | None = None) -> None:
        self.port = port
        self.baud = baud
        self.say = say
        self.stream = progress_stream
        self.connect_timeout = connect_timeout
        self.boot_timeout = boot_timeout
        self.force = force
        self.wdt_ms = wdt_ms
        self.on_event = on_event or (lambda what, name: None)
        self.stage = "connect"
        self.manifest_written = False
        self.on_board: dict[str, int] = {}

    # ------------------------------------------------------------------ failure messages
    def _state(self) -> str:
        if not self.manifest_written:
            return ("no file on the board was changed; its watchdog resets it within "
                    f"{self.wdt_ms / 1000:g} s and it runs its previous firmware again")
        return ("the board is half-written: it starts in safe mode (flashing, answering the "
                "bus, CONFIG_ERROR set) because its files no longer match manifest.json, "
                "until `smartcross flash` succeeds")

    def run(self, plan: BoardPlan) -> Result:
        from mpremote.transport import TransportError

        t0 = time.monotonic()
        try:
            return self._run(plan, t0)
        except ToolError:
            raise
        except (TransportError, OSError, struct.error) as e:
            raise ToolError(f"deploy failed while {self.stage}: connection to the board lost "
                            f"or refused ({str(e).strip() or type(e).__name__}); "
                            + self._state(), FAILED) from None

    def _run(self, plan: BoardPlan, t0: float) -> Result:
        from mpremote.transport import TransportError

        # The node's own watchdog runs on after Ctrl-C (it cannot be stopped) until the
        # deploy takes it over: a board that resets in between is simply asked again.
        for attempt in range(3):
            self.stage = "connecting"
            s = Session(self.port, self.baud, self.connect_timeout, wdt_ms=self.wdt_ms)
            try:
                self.stage = "taking over the board"
                s.exec(f"import machine\n_d = machine.WDT(timeout={int(self.wdt_ms)})")
                s.exec(DEPLOY_HELPERS.read_text())
                s.exec(f"_start({int(self.wdt_ms)}, {tuple(COMPILED_DIRS)!r})")
            except (TransportError, OSError, struct.error):
                s.close()
                if attempt == 2:
                    raise
                continue
            try:
                return self._deploy(s, plan, t0)
            finally:
                s.close()
        raise AssertionError("unreachable")

    def _deploy(self, s: Session, plan: BoardPlan, t0: float) -> Result:
        free = self._check_board(s, plan.manifest)
        same = self._unchanged(s, plan)
        todo = [n for n in plan.order() if n not in same]
        self._write_all(s, plan, todo, same, free)
        removed = self._remove_stale(s, plan)
        n_checked = self._verify_all(s, plan)
        boot_line = self._reset(s)
        return Result(written=[MANIFEST, *todo], unchanged=same, removed=removed,
                      verified=n_checked, boot_line=boot_line,
                      seconds=time.monotonic() - t0)

    def _check_board(self, s: Session, m: Manifest) -> int:
        """The board runs a MicroPython the bundle fits; returns its free flash (-1: unknown)."""
        version, mpy, platform, machine, free = s.eval("_info()")
        dark = s.eval("_dark()")
        self.say(f"board: MicroPython {'.'.join(map(str, version))} (.mpy v{mpy & 0xFF}), "
                 f"{machine or platform}; node stopped, watchdog held "
                 f"({self.wdt_ms / 1000:g} s), "
                 + (f"heads dark ({dark} lamp outputs off)" if dark >= 0
                    else "no node.json on the board yet"))
        need = version_tuple(m.micropython)
        if tuple(version[:len(need)]) < need or (mpy & 0xFF) != m.mpy[0]:
            raise ToolError(f"the board runs MicroPython {'.'.join(map(str, version))} "
                            f"(.mpy v{mpy & 0xFF}); this bundle needs {m.micropython} or "
                            f"later with .mpy v{m.mpy[0]}: flash a MicroPython {m.micropython} "
                            "image with --base-image. " + self._state(), FAILED)
        return free

    def _unchanged(self, s: Session, plan: BoardPlan) -> list[str]:
        """Files the board already has exactly (size, then SHA-256); none with --force."""
        m = plan.manifest
        self.stage = "reading the board's files"
        self.on_board = dict(s.eval("_ls()"))
        if self.force:
            return []
        same: list[str] = []
        candidates = [n for n in plan.order()
                      if self.on_board.get(n) == m.entry(n).size]    # type: ignore[union-attr]
        for name in candidates:
            got = s.eval(f"_h({name!r})")
            entry = m.entry(name)
            if got is not None and entry is not None and tuple(got) == (entry.size,
                                                                        entry.sha256):
                same.append(name)
        return same

    def _write_all(self, s: Session, plan: BoardPlan, todo: list[str], same: list[str],
                   free: int) -> None:
        """manifest.json first, then every file that differs; refused before any write
        when the flash is too small."""
        m = plan.manifest
        sizes = {n: m.entry(n).size for n in todo}                   # type: ignore[union-attr]
        grow = sum(max(0, sizes[n] - self.on_board.get(n, 0)) for n in todo)
        need_bytes = grow + max(sizes.values(), default=0) + len(plan.manifest_bytes) + 8192
        if 0 <= free < need_bytes:
            raise ToolError(f"the board has {free} bytes free, the deploy needs about "
                            f"{need_bytes}; nothing was written. " + self._state(), FAILED)

        self.stage = f"writing {MANIFEST}"
        for d in plan.folders():
            s.exec(f"_md({d!r})")
        self._write(s, MANIFEST, plan.manifest_bytes)
        self.manifest_written = True
        self.on_event("written", MANIFEST)

        with Progress(f"writing {len(todo)} files", sum(sizes.values()), "B",
                      self.stream) as bar:
            for name in todo:
                self.stage = f"writing {name}"
                self._write(s, name, plan.data(name), bar)
                self.on_event("written", name)
        if same:
            self.say(f"board: {len(same)} file(s) already as in the manifest, not rewritten")

    def _strays(self, s: Session, plan: BoardPlan) -> list[str]:
        """Files under the compiled folders that the manifest does not list, and *.part."""
        listed = {f.name for f in plan.manifest.files} | {MANIFEST}
        return [n for n in sorted(dict(s.eval("_ls()")))
                if (n.split("/")[0] in COMPILED_DIRS and n not in listed) or n.endswith(".part")]

    def _remove_stale(self, s: Session, plan: BoardPlan) -> list[str]:
        self.stage = "removing stale files"
        removed = self._strays(s, plan)
        for name in removed:
            s.exec(f"_rm({name!r})")
        if removed:
            self.say(f"board: removed {len(removed)} file(s) the manifest does not list: "
                     + ", ".join(removed))
        return removed

    def _verify_all(self, s: Session, plan: BoardPlan) -> int:
        """Every file read back on the board; a mismatch resets the board and fails."""
        self.stage = "reading every file back"
        self.on_event("verify", "")
        bad = self._verify(s, plan)
        bad += [f"{n}: not in the manifest" for n in self._strays(s, plan)]
        if bad:
            self.stage = "resetting after a failed check"
            with contextlib.suppress(Exception):
                s.send_no_follow("machine.reset()")
            raise ToolError(f"verification FAILED on {len(bad)} file(s): " + "; ".join(bad[:6])
                            + (f" (+{len(bad) - 6} more)" if len(bad) > 6 else "")
                            + ". Nothing was deployed; the node was reset and starts in safe "
                            "mode (its files do not match manifest.json). Run `smartcross "
                            "flash` again; if it fails the same way the board's flash may be "
                            "failing", FAILED)
        n_checked = len(plan.manifest.files) + 1
        self.say(f"verified: all {n_checked} files on the board match the manifest "
                 "(size and SHA-256, computed on the board)")
        return n_checked

    def _reset(self, s: Session) -> str:
        """Reset the node and read its boot check from the console."""
        self.stage = "resetting the node"
        s.send_no_follow("_d.feed()\nmachine.reset()")
        self.on_event("reset", "")
        boot = s.read_console(BOOT_LINE, self.boot_timeout)
        hit = BOOT_LINE.search(boot)
        boot_line = hit.group(0).decode(errors="replace") if hit else ""
        if hit and hit.group(1) == b"MISMATCH":
            raise ToolError(f"the node's own boot check refused its files: {boot_line}. It "
                            "runs in safe mode; run `smartcross flash` again", FAILED)
        return boot_line

    def _write(self, s: Session, name: str, data: bytes, bar: Progress | None = None) -> None:
        s.exec(f"_o({name!r})")
        for k in range(0, len(data), CHUNK):
            chunk = base64.b64encode(data[k:k + CHUNK]).decode()
            s.exec(f"_w({chunk!r})")
            if bar is not None:
                bar.advance(min(CHUNK, len(data) - k))
        s.exec(f"_c({name!r})")

    def _verify(self, s: Session, plan: BoardPlan) -> list[str]:
        import hashlib

        m = plan.manifest
        want = [(f.name, f.size, f.sha256) for f in m.files]
        want.append((MANIFEST, len(plan.manifest_bytes),
                     hashlib.sha256(plan.manifest_bytes).hexdigest()))
        bad = []
        with Progress(f"reading back {len(want)} files", len(want), "files", self.stream) as bar:
            for name, size, sha in want:
                got = s.eval(f"_h({name!r})")
                if got is None:
                    bad.append(f"{name}: missing")
                elif got[0] != size:
                    bad.append(f"{name}: {got[0]} bytes on the board, {size} in the manifest")
                elif got[1] != sha:
                    bad.append(f"{name}: SHA-256 on the board differs from the manifest")
                bar.advance()
        return bad
