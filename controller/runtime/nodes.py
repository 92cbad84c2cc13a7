"""What the cabinet knows of each field node: link health, identity, last process image,
and whether an intersection's nodes have finished their own start-up (`startup_hold`).

Pure bookkeeping, no I/O: the service feeds it transactions and reads verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from protocols import register_map as rm

from ..config.model import Intersection
from ..core import ALL_RED
from ..engine import GroupCore
from ..provisioning import NodeLayout

FLASH_MODES = (rm.MODE_BOOT_FLASH, rm.MODE_FLASH, rm.MODE_SAFE)
BLOCKING_FAULTS = rm.FAULT_RED_FAIL | rm.FAULT_CONFLICT | rm.FAULT_DUAL | rm.FAULT_CONFIG
EXPECTED_FW_MAJOR = 1
# A silent node is asked every this many cycles: each try costs its reply timeout (and a
# retry), which must not stretch the cycle of the nodes on its bus that do answer (their
# comm watchdogs count the time between their polls). Back within half a second.
SILENT_POLL_EVERY = 5


def fault_names(bits: int) -> list[str]:
    return [n for i, n in enumerate(rm.FAULT_NAMES) if bits & (1 << i)]


def mode_name(mode: int | None) -> str:
    if mode is None:
        return "unknown"
    return rm.MODE_NAMES[mode] if 0 <= mode < len(rm.MODE_NAMES) else f"mode {mode}"


@dataclass
class NodeState:
    layout: NodeLayout
    offline_after: int                       # missed polls before the node counts as silent
    online: bool = False
    misses: int = 0
    ever_answered: bool = False
    image: dict | None = None
    status: dict = field(default_factory=dict)
    identity_ok: bool | None = None          # None: not checked yet
    identity_msg: str = "identity not checked yet"
    heartbeat: int = 0
    polls: int = 0
    failures: int = 0

    @property
    def id(self) -> str:
        return self.layout.node.id

    def answered(self, regs: list[int]) -> bool:
        """A good poll. Returns True when the node just came (back) online."""
        self.polls += 1
        self.misses = 0
        self.image = rm.decode_process_image(regs, len(self.layout.groups))
        came = not self.online
        self.online = self.ever_answered = True
        return came

    def due(self, cycle: int) -> bool:
        """Poll this node in `cycle`: always while it answers, else every SILENT_POLL_EVERY."""
        return self.online or cycle % SILENT_POLL_EVERY == 0

    def missed(self) -> bool:
        """A failed poll. Returns True when the node just went silent."""
        self.polls += 1
        self.failures += 1
        self.misses += 1
        if self.online and self.misses >= self.offline_after:
            self.online = False
            self.identity_ok = None          # check again when it answers
            self.identity_msg = "identity not checked since the node came back"
            return True
        return False

    def check_identity(self, regs: list[int]) -> bool:
        """Compare the node's status block with what the configuration provisions."""
        def reg(addr: int) -> int:
            return regs[addr - rm.STATUS_BLOCK]

        crc = rm.join_u32(reg(rm.SAFETY_CRC), reg(rm.SAFETY_CRC + 1))
        fw = reg(rm.FW_VERSION)
        self.status = {
            "layout_version": reg(rm.LAYOUT_VERSION_REG),
            "firmware": f"{fw >> 8}.{fw & 0xFF}.{reg(rm.FW_PATCH)}",
            "uptime_s": rm.join_u32(reg(rm.UPTIME_S), reg(rm.UPTIME_S + 1)),
            "reset_cause": reg(rm.RESET_CAUSE),
            "boot_count": reg(rm.BOOT_COUNT),
            "faults": fault_names(reg(rm.FAULTS)),
            "frames_ok": reg(rm.FRAMES_OK),
            "crc_errors": reg(rm.CRC_ERRORS),
            "exceptions": reg(rm.EXCEPTIONS),
            "safety_crc": f"0x{crc:08X}",
            "config_error": reg(rm.CONFIG_ERROR),
        }
        lay = self.layout
        problems = []
        if reg(rm.LAYOUT_VERSION_REG) != rm.LAYOUT_VERSION:
            problems.append(f"register layout version {reg(rm.LAYOUT_VERSION_REG)}, "
                            f"expected {rm.LAYOUT_VERSION}")
        if fw >> 8 != EXPECTED_FW_MAJOR:
            problems.append(f"firmware {self.status['firmware']}, expected "
                            f"{EXPECTED_FW_MAJOR}.x")
        want = lay.safety_crc()
        if crc != want:
            problems.append(f"safety-table CRC 0x{crc:08X}, expected 0x{want:08X} "
                            "(re-provision the node from this configuration)")
        for what, addr, n in (("signal groups", rm.N_GROUPS, len(lay.groups)),
                              ("detectors", rm.N_DETECTORS, len(lay.detectors)),
                              ("parking bays", rm.N_BAYS, len(lay.bays))):
            if reg(addr) != n:
                problems.append(f"{reg(addr)} {what}, expected {n}")
        if reg(rm.CONFIG_ERROR) != rm.CFG_OK:
            problems.append(f"node configuration error {reg(rm.CONFIG_ERROR)}")
        self.identity_ok = not problems
        self.identity_msg = "; ".join(problems) if problems else "ok"
        return self.identity_ok

    def blocks_intersection(self, core_running: bool) -> str | None:
        """Why this node must keep its intersection in flash, or None."""
        if not self.online:
            return "silent" if self.ever_answered else "not answering"
        if self.identity_ok is False:
            return self.identity_msg
        if self.identity_ok is None:
            return "identity not checked yet"
        img = self.image or {}
        if img.get("faults", 0) & BLOCKING_FAULTS:
            return "fault: " + ", ".join(fault_names(img["faults"] & BLOCKING_FAULTS))
        if core_running and img.get("mode") in FLASH_MODES:
            return f"node is in {mode_name(img.get('mode'))}"
        return None


def startup_hold(core: GroupCore, inter: Intersection, nodes: Iterable[NodeState],
                 now: float) -> bool:
    """Hold the start-up all-red: a node of the intersection has not reached RUN yet.

    A node goes through its own start-up (flash at least startup_flash_ms, then all red
    all_red_ms, each from when it saw its commands) and refuses anything but red until
    it is done: a poll late by a few hundred ms must not make the core start the main
    stage into its refusals (they trip the node into its safe mode). A node not there
    within the whole start-up time once more is late for another reason: no holding."""
    ic = core.cores[inter.id]
    if ic.mode != ALL_RED:
        return False
    if now * 10 - ic.mode_since > (inter.startup_flash_s + inter.startup_all_red_s) * 10:
        return False
    return any(n.online and (n.image or {}).get("mode") != rm.MODE_RUN
               for n in nodes if n.layout.intersection.id == inter.id)
