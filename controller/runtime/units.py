"""What the cabinet knows of each intersection's monitor unit (firmware/munit/): its last
status and when it last answered. Pure bookkeeping, no I/O: the service polls the unit's
status block (protocols/monitor_map.py) every cycle on the unit's bus and asks
`blocks_intersection(now)`.

The intersection goes to flash (a fault flash) when its unit
* has been silent for longer than its `comm_timeout_ms` (dead, hung, its line cut): with two
  poll cycles more this is within 1 s (controller/config/monitor_unit.py checks it);
* reports a table CRC that differs from the CRC of the table the configuration makes for it
  (monitor.table.crc of controller/config/monitor_table.py): it checks something else;
* reports a transfer (its relay dropped on a violation, latched until a local reset), its
  start-up flash, a configuration error, or firmware or a register layout it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.violation import KINDS
from protocols import monitor_map as mm

from ..config.model import Intersection, MonitorUnit
from ..config.monitor_table import monitor_table

EXPECTED_FW_MAJOR = 1


def fault_kinds(bits: int) -> list[str]:
    return [k for i, k in enumerate(KINDS) if bits >> i & 1]


@dataclass
class UnitState:
    unit: MonitorUnit
    intersection: Intersection
    expected_crc: int = 0
    last_ok: float | None = None             # street time of the last good answer
    status: dict | None = None
    polls: int = 0
    failures: int = 0
    error: str = ""
    groups: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        from monitor.table import crc

        table = monitor_table(self.intersection)
        self.expected_crc = crc(table)
        self.groups = [g["id"] for g in table["groups"]]

    @property
    def id(self) -> str:
        return self.unit.id

    def answered(self, now: float, regs: list[int]) -> bool:
        """A good read; True when the unit just came (back)."""
        came = not self.online(now)
        self.polls += 1
        self.last_ok = now
        self.status = mm.decode_status(regs)
        return came

    def missed(self, error: str) -> None:
        """A failed read (the unit counts as silent once comm_timeout_ms has passed)."""
        self.polls += 1
        self.failures += 1
        self.error = error

    def online(self, now: float) -> bool:
        return self.last_ok is not None and \
            round((now - self.last_ok) * 1000) <= self.unit.comm_timeout_ms   # 0.1 s steps

    def blocks_intersection(self, now: float) -> str | None:
        """Why the unit must keep its intersection in flash, or None."""
        if self.last_ok is None:
            return "not answering"
        if not self.online(now):
            return f"silent for more than its {self.unit.comm_timeout_ms} ms"
        st = self.status or {}
        if st.get("layout") != mm.MU_LAYOUT_VERSION or st.get("fw_major") != EXPECTED_FW_MAJOR:
            return (f"firmware {st.get('firmware')} with register layout {st.get('layout')}, "
                    f"expected {EXPECTED_FW_MAJOR}.x and {mm.MU_LAYOUT_VERSION}")
        if st.get("config_error"):
            code = st["config_error"]
            name = mm.MU_CFG_NAMES[code] if code < len(mm.MU_CFG_NAMES) else code
            return f"configuration error {code} ({name}): provision and flash it again"
        if st.get("table_crc") != self.expected_crc:
            return (f"table CRC 0x{st.get('table_crc', 0):08X}, the configuration gives "
                    f"0x{self.expected_crc:08X}: provision the unit again")
        if st.get("state") == mm.MU_TRANSFER:
            a, b = st.get("first_groups", (-1, -1))
            who = "/".join(self.groups[k] for k in (a, b) if 0 <= k < len(self.groups))
            return (f"transferred to flash ({', '.join(fault_kinds(st.get('faults', 0)))}"
                    + (f" {who}" if who else "") + "), latched until a local reset")
        if st.get("state") == mm.MU_STARTING or not st.get("relay"):
            return "in its start-up flash (transfer relay dropped)"
        return None

    def snapshot(self, now: float) -> dict:
        st = self.status or {}
        return {"intersection": self.intersection.id, "bus": self.unit.bus,
                "address": self.unit.address, "online": self.online(now),
                "state": mm.MU_STATE_NAMES[st["state"]] if st.get("state") is not None
                and st["state"] < len(mm.MU_STATE_NAMES) else "unknown",
                "relay": "energised" if st.get("relay") else "dropped",
                "faults": fault_kinds(st.get("faults", 0)),
                "table_crc": f"0x{st.get('table_crc', 0):08X}",
                "expected_crc": f"0x{self.expected_crc:08X}",
                "problem": self.blocks_intersection(now),
                "polls": self.polls, "failed_polls": self.failures}


def unit_states(inters: tuple[Intersection, ...]) -> dict[str, UnitState]:
    return {i.monitor_unit.id: UnitState(i.monitor_unit, i) for i in inters
            if i.monitor_unit is not None}
