"""The electrical side of the signal heads: which output lights which lamp, which input
senses its current, and which lamps have failed.

The current itself is emulated inside each board (hil/emu/machine.py): `LampPanel.wire()`
tells every board, before it starts, which of its outputs feeds which sense input, so a
lamp's current follows its output in the board's own time and the node's lamp sense never
depends on how fast this host runs. A failed lamp draws nothing: the board keeps its sense
input low although the node drives the lamp (`fail()`).

The panel only observes: `output()` turns the boards' output events into lamp bits per
head (a failed lamp is dark), and `bits()` gives them all at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocols.aspects import LAMP_AMBER, LAMP_GREEN, LAMP_RED

from .emu.drive import wire_lamps

LAMP_BITS = (("red", LAMP_RED), ("amber", LAMP_AMBER), ("green", LAMP_GREEN))


@dataclass
class Head:
    node: str
    intersection: str
    group: str
    red: int | None
    amber: int | None
    green: int | None
    feedback: dict[str, int]          # lamp name -> sense input pin
    sense_active_low: bool = False    # the sense input reads 0 while current flows
    outputs_active_low: bool = False  # the node lights a lamp by driving its output low

    def pins(self) -> list[tuple[str, int, int]]:
        """(lamp name, output pin, lamp bit) of the lamps this head has."""
        return [(lamp, pin, bit) for lamp, bit in LAMP_BITS
                if (pin := getattr(self, lamp)) is not None]


def heads_of(node_doc: dict) -> list[Head]:
    out = []
    low = bool(node_doc.get("outputs_active_low", False))
    for g in node_doc.get("groups", []):
        fb = dict(g.get("feedback", {}))
        sense_low = bool(fb.pop("active_low", False))
        out.append(Head(node_doc["node_id"], node_doc.get("intersection", ""), g["id"], g.get("red"),
                        g.get("amber"), g.get("green"),
                        fb, sense_low, low))
    return out


class LampPanel:
    """All heads of the boards: wires their lamps into the boards, fails lamps, and turns
    output events into lamp bits per intersection and group."""

    def __init__(self, boards: dict, docs: dict[str, dict]):
        self.boards = boards                      # node id -> Board
        self.docs = docs
        self.heads = [h for doc in docs.values() for h in heads_of(doc)]
        self.failed: set[tuple[str, str, str]] = set()   # (intersection, group, lamp)
        self._levels: dict[tuple[str, int], int] = {}     # (node, output) -> level
        self._by_pin = {(h.node, pin): h for h in self.heads for _, pin, _ in h.pins()}

    def wire(self) -> None:
        """Tell every board how its lamps hang on its outputs (before or after start)."""
        for nid, doc in self.docs.items():
            wire_lamps(self.boards[nid], doc)

    def _pin(self, intersection: str, group: str, lamp: str) -> tuple[Head, int] | None:
        for h in self.heads:
            if h.intersection == intersection and h.group == group:
                pin = getattr(h, lamp)
                return None if pin is None else (h, pin)
        raise KeyError(f"no head {intersection}/{group}")

    def fail(self, intersection: str, group: str, lamp: str = "red") -> tuple[str, str, int]:
        """The lamp fails; returns (intersection, group, lamp bits) of its head now."""
        return self._set_failed(intersection, group, lamp, True)

    def repair(self, intersection: str, group: str, lamp: str = "red") -> tuple[str, str, int]:
        return self._set_failed(intersection, group, lamp, False)

    def _set_failed(self, intersection, group, lamp, failed):
        key = (intersection, group, lamp)
        (self.failed.add if failed else self.failed.discard)(key)
        found = self._pin(intersection, group, lamp)
        if found is not None:
            h, pin = found
            self.boards[h.node].fail_lamp(pin, failed)
        h = next(h for h in self.heads if h.intersection == intersection and h.group == group)
        return h.intersection, h.group, self.head_bits(h)

    def output(self, node: str, pin: int, level: int) -> tuple[str, str, int] | None:
        """An output of `node` went to `level`: (intersection, group, lamp bits) of the head
        it belongs to, or None if it is not a lamp."""
        self._levels[(node, pin)] = level
        h = self._by_pin.get((node, pin))
        if h is None:
            return None
        return h.intersection, h.group, self.head_bits(h)

    def head_bits(self, h: Head) -> int:
        lit_at = 0 if h.outputs_active_low else 1
        b = 0
        for lamp, pin, bit in h.pins():
            level = self._levels.get((h.node, pin), 1 - lit_at)   # not driven yet: off
            if level == lit_at and (h.intersection, h.group, lamp) not in self.failed:
                b |= bit
        return b

    def bits(self) -> dict[str, dict[str, int]]:
        """Lamp bits lit per intersection and group."""
        out: dict[str, dict[str, int]] = {}
        for h in self.heads:
            out.setdefault(h.intersection, {})[h.group] = self.head_bits(h)
        return out
