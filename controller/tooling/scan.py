"""`smartcross nodes scan`: every node on an RS-485 bus, what it runs and how it is.

Monitor units (firmware/munit/) answer that read with ILLEGAL_DATA_ADDRESS; the scan then
reads their own status block (protocols/monitor_map.py) and lists them among the nodes, their
state as the mode and their table CRC as the safety CRC.

One FC03 per address (1..247) reads the node's status block (register_map STATUS_BLOCK:
layout and firmware version, uptime, reset cause, faults, mode, safety-table CRC, config
error, ...); a node that answers is then asked for its Modbus device identification (FC43:
its node id is the ModelName). An address that stays silent costs only the wait for the
first byte of an answer (--timeout-ms): a node answers within a few milliseconds of the
request's last byte, so the whole range takes seconds. A reply with a bad CRC is asked
again; if it stays garbled, two devices probably share that address.

The protocol side is the sans-IO codec of protocols/ (the node's own), over pyserial. Run it
with the cabinet service stopped: a bus has one master.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from protocols import monitor_map as mm
from protocols import register_map as rm
from protocols.rtu import master
from protocols.rtu.const import OBJ_MAJOR_MINOR_REVISION, OBJ_MODEL_NAME, FrameError, ModbusError

from . import FAILED, INPUT, ToolError
from .progress import Progress

RESET_NAMES = {rm.RESET_UNKNOWN: "unknown", rm.RESET_POWER_ON: "power-on",
               rm.RESET_HARD: "hard", rm.RESET_WATCHDOG: "watchdog",
               rm.RESET_DEEPSLEEP: "deep-sleep", rm.RESET_SOFT: "soft",
               rm.RESET_BROWNOUT: "brown-out"}
CFG_NAMES = dict(enumerate(rm.CFG_NAMES))     # CFG_FILES: the node's boot check
BITS = {"N": 10, "E": 11, "O": 11}


@dataclass
class NodeInfo:
    address: int
    node_id: str
    firmware: str
    layout_version: int
    safety_crc: int
    uptime_s: int
    reset_cause: str
    mode: str
    faults: list[str]
    config_error: str
    boot_count: int
    groups: int
    detectors: int
    bays: int
    frames_ok: int
    crc_errors: int
    notes: list[str] = field(default_factory=list)
    kind: str = "node"                  # or "monitor-unit" (protocols/monitor_map.py)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["safety_crc"] = f"{self.safety_crc:08X}"
        return d


@dataclass
class ScanResult:
    port: str
    baud: int
    parity: str
    addresses: int
    seconds: float
    nodes: list[NodeInfo]
    garbled: list[int]                    # answers that never had a good CRC
    others: list[tuple[int, str]]         # Modbus devices that are not smartcross nodes

    def to_json(self) -> dict[str, Any]:
        return {"port": self.port, "baud": self.baud, "parity": self.parity,
                "addresses": self.addresses, "seconds": round(self.seconds, 3),
                "nodes": [n.to_json() for n in self.nodes], "garbled": self.garbled,
                "other_devices": [{"address": a, "answer": t} for a, t in self.others]}


def decode_status(address: int, regs: list[int]) -> NodeInfo:
    def r(addr: int) -> int:
        return regs[addr - rm.STATUS_BLOCK]

    fw = r(rm.FW_VERSION)
    faults = r(rm.FAULTS)
    mode = r(rm.MODE)
    return NodeInfo(
        address=address, node_id="",
        firmware=f"{fw >> 8}.{fw & 0xFF}.{r(rm.FW_PATCH)}",
        layout_version=r(rm.LAYOUT_VERSION_REG),
        safety_crc=(r(rm.SAFETY_CRC) << 16) | r(rm.SAFETY_CRC + 1),
        uptime_s=(r(rm.UPTIME_S) << 16) | r(rm.UPTIME_S + 1),
        reset_cause=RESET_NAMES.get(r(rm.RESET_CAUSE), f"code-{r(rm.RESET_CAUSE)}"),
        mode=rm.MODE_NAMES[mode] if mode < len(rm.MODE_NAMES) else f"mode-{mode}",
        faults=[name for k, name in enumerate(rm.FAULT_NAMES) if faults & (1 << k)],
        config_error=CFG_NAMES.get(r(rm.CONFIG_ERROR), f"code-{r(rm.CONFIG_ERROR)}"),
        boot_count=r(rm.BOOT_COUNT), groups=r(rm.N_GROUPS), detectors=r(rm.N_DETECTORS),
        bays=r(rm.N_BAYS), frames_ok=r(rm.FRAMES_OK), crc_errors=r(rm.CRC_ERRORS))


def decode_unit_status(address: int, regs: list[int]) -> NodeInfo:
    """A monitor unit's status block in the scan's terms: its state as the mode, its table
    CRC as the safety CRC, its latched faults (monitor violation kinds)."""
    from monitor.violation import KINDS

    st = mm.decode_status(regs)
    state = st["state"]
    code = st["config_error"]
    return NodeInfo(
        address=address, node_id="", firmware=st["firmware"], layout_version=st["layout"],
        safety_crc=st["table_crc"], uptime_s=st["uptime_s"],
        reset_cause=RESET_NAMES.get(st["reset_cause"], f"code-{st['reset_cause']}"),
        mode="monitor " + (mm.MU_STATE_NAMES[state] if state < len(mm.MU_STATE_NAMES)
                           else f"state-{state}")
        + (", relay energised" if st["relay"] else ", relay dropped"),
        faults=[k for i, k in enumerate(KINDS) if st["faults"] >> i & 1],
        config_error=mm.MU_CFG_NAMES[code] if code < len(mm.MU_CFG_NAMES) else f"code-{code}",
        boot_count=0, groups=st["groups"], detectors=0, bays=0, frames_ok=0, crc_errors=0,
        kind="monitor-unit")


class Link:
    """A Modbus RTU master on a serial port: one request, one answer, short waits."""

    def __init__(self, port: str, baud: int, parity: str = "N", timeout_s: float = 0.02) -> None:
        import serial

        if parity not in BITS:
            raise ToolError(f"--parity {parity}: one of N, E, O", INPUT)
        self.char_s = BITS[parity] / baud
        self.silence_s = max(3.5 * self.char_s, 0.00175)
        self.timeout_s = timeout_s
        try:
            self.ser = serial.Serial(port, baudrate=baud, bytesize=8, parity=parity,
                                     stopbits=1, timeout=0)
        except (serial.SerialException, ValueError, OSError) as e:
            raise ToolError(f"--port {port}: cannot open it ({e})", INPUT) from None
        self._quiet_from = 0.0

    def close(self) -> None:
        self.ser.close()

    def transact(self, request: bytes, first_byte_s: float | None = None) -> bytes:
        """Send `request`; the bytes of the answer (b"" if none began in time)."""
        ser = self.ser
        gap = self._quiet_from + self.silence_s - time.monotonic()
        if gap > 0:
            time.sleep(gap)                  # the 3.5-character silence between frames
        ser.reset_input_buffer()
        ser.write(request)
        ser.flush()
        sent = time.monotonic() + len(request) * self.char_s
        want = master.response_length(request)
        wait = self.timeout_s if first_byte_s is None else first_byte_s
        deadline = sent + wait
        # after the first byte: the rest of the frame, with room for adapter latency
        idle_s = max(8 * self.char_s, 0.02)
        buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ser.timeout = left
            chunk = ser.read(1)
            if not chunk:
                break
            buf += chunk + ser.read(ser.in_waiting)
            deadline = time.monotonic() + idle_s
            if len(buf) >= 5 and buf[1] & 0x80:
                break
            if want and len(buf) >= want:
                break
        self._quiet_from = time.monotonic()
        return buf


class Scanner:
    def __init__(self, link: Link, retries: int = 1) -> None:
        self.link = link
        self.retries = retries

    def probe(self, address: int) -> tuple[str, Any]:
        """("node", NodeInfo) | ("none", None) | ("garbled", None) | ("other", text)."""
        req = master.read_holding_registers(address, rm.STATUS_BLOCK, rm.STATUS_BLOCK_COUNT)
        for _ in range(1 + self.retries):
            raw = self.link.transact(req)
            if not raw:
                return ("none", None)
            try:
                regs = master.decode(req, raw)
            except ModbusError as e:
                unit = self._unit(address) if e.args[0] == 2 else None   # illegal address
                if unit is not None:
                    return ("node", unit)
                return ("other", f"exception {e.args[0]} to a read of the status block")
            except FrameError:
                continue
            if len(regs) != rm.STATUS_BLOCK_COUNT:
                continue
            info = decode_status(address, regs)
            if info.layout_version != rm.LAYOUT_VERSION:
                info.notes.append(f"register layout {info.layout_version}, this tool reads "
                                  f"{rm.LAYOUT_VERSION}: fields may be wrong")
            self._identify(info)
            return ("node", info)
        return ("garbled", None)

    def _unit(self, address: int) -> NodeInfo | None:
        """A smartcross monitor unit at `address` (its status block), or None."""
        req = master.read_holding_registers(address, mm.MU_BLOCK, mm.MU_BLOCK_COUNT)
        for _ in range(1 + self.retries):
            try:
                regs = master.decode(req, self.link.transact(req))
            except ModbusError:
                return None
            except FrameError:
                continue
            if len(regs) != mm.MU_BLOCK_COUNT or regs[mm.MU_LAYOUT] != mm.MU_LAYOUT_VERSION:
                return None
            info = decode_unit_status(address, regs)
            self._identify(info)
            return info
        return None

    def _identify(self, info: NodeInfo) -> None:
        req = master.read_device_id(info.address, 2, 0)
        for _ in range(1 + self.retries):
            raw = self.link.transact(req)
            try:
                ident = master.decode(req, raw)
            except (ModbusError, FrameError):
                continue
            objects = ident.get("objects", {}) if isinstance(ident, dict) else {}
            name = objects.get(OBJ_MODEL_NAME, b"")
            info.node_id = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
            rev = objects.get(OBJ_MAJOR_MINOR_REVISION, b"")
            rev = rev.decode(errors="replace") if isinstance(rev, bytes) else str(rev)
            if rev and rev != info.firmware:
                info.notes.append(f"identification says firmware {rev}")
            return
        info.notes.append("no device identification (FC43)")

    def scan(self, addresses: Iterable[int], on_address: Callable[[int], None] | None = None
             ) -> tuple[list[NodeInfo], list[int], list[tuple[int, str]]]:
        nodes, garbled, others = [], [], []
        for a in addresses:
            kind, what = self.probe(a)
            if kind == "node":
                nodes.append(what)
            elif kind == "garbled":
                garbled.append(a)
            elif kind == "other":
                others.append((a, what))
            if on_address:
                on_address(a)
        return nodes, garbled, others


def scan(port: str, baud: int, parity: str = "N", timeout_ms: float = 20.0,
         addresses: Iterable[int] = range(1, 248), progress_stream: Any = None,
         retries: int = 1, expected: Iterable[int] = ()) -> ScanResult:
    """Probe `addresses`; those in `expected` that stayed silent are asked once more with a
    ten times longer wait before they count as missing (a busy adapter, a slow moment)."""
    if not 1 <= timeout_ms <= 5000:
        raise ToolError("--timeout-ms must be between 1 and 5000", INPUT)
    addrs = list(addresses)
    link = Link(port, baud, parity, timeout_ms / 1000)
    t0 = time.monotonic()
    try:
        scanner = Scanner(link, retries)
        with Progress(f"scanning {len(addrs)} addresses", len(addrs), "addresses",
                      progress_stream) as bar:
            nodes, garbled, others = scanner.scan(addrs, lambda a: bar.advance())
        heard = {n.address for n in nodes} | set(garbled) | {a for a, _ in others}
        again = [a for a in expected if a in addrs and a not in heard]
        if again:
            link.timeout_s = min(0.5, 10 * link.timeout_s)
            n2, g2, o2 = scanner.scan(again)
            nodes, garbled, others = (sorted(nodes + n2, key=lambda n: n.address),
                                      sorted(garbled + g2), sorted(others + o2))
    except OSError as e:
        raise ToolError(f"{port}: the port failed during the scan ({e})", FAILED) from None
    finally:
        link.close()
    return ScanResult(port, baud, parity, len(addrs), time.monotonic() - t0, nodes, garbled,
                      others)


def uptime(s: int) -> str:
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return (f"{d}d " if d else "") + f"{h:02d}:{m:02d}:{s:02d}"


def render(res: ScanResult) -> str:
    rows = [("addr", "node", "firmware", "layout", "safety CRC", "uptime", "reset", "mode",
             "config", "faults")]
    for n in res.nodes:
        rows.append((str(n.address), n.node_id or "?", n.firmware, str(n.layout_version),
                     f"{n.safety_crc:08X}", uptime(n.uptime_s), n.reset_cause, n.mode,
                     n.config_error, ",".join(n.faults) or "-"))
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    for n in res.nodes:
        for note in n.notes:
            lines.append(f"  address {n.address}: {note}")
    for a in res.garbled:
        lines.append(f"  address {a}: answers garbled (bad CRC every time): two devices at "
                     "this address, or a bad line")
    for a, text in res.others:
        lines.append(f"  address {a}: a Modbus device that is not a smartcross node ({text})")
    lines.append(f"{len(res.nodes)} node(s) on {res.port} at {res.baud} baud {res.parity}: "
                 f"{res.addresses} addresses in {res.seconds:.1f} s")
    return "\n".join(lines)
