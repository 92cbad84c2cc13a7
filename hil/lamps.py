"""The electrical side of the signal heads: lamp outputs seen as lamp bits, and lamp
current sense emulated from them (a healthy lamp draws current when its output is on).

A failed lamp draws nothing: its feedback input stays low although the node drives it.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocols.aspects import LAMP_AMBER, LAMP_GREEN, LAMP_RED


@dataclass
class Head:
    node: str
    intersection: str
    group: str
    red: int | None
    amber: int | None
    green: int | None
    feedback: dict[str, int]          # lamp name -> sense input pin


def heads_of(node_doc: dict) -> list[Head]:
    out = []
    for g in node_doc.get("groups", []):
        out.append(Head(node_doc["node_id"], node_doc["intersection"], g["id"], g.get("red"),
                        g.get("amber"),
                        g.get("green"), dict(g.get("feedback", {}))))
    return out


class LampPanel:
    """All heads of the boards; `sample()` reads outputs, drives current sense, and
    returns lamp bits per group."""

    def __init__(self, boards: dict, docs: dict[str, dict]):
        self.boards = boards                      # node id -> Board
        self.heads = [h for doc in docs.values() for h in heads_of(doc)]
        self.failed: set[tuple[str, str, str]] = set()   # (intersection, group, lamp)

    def fail(self, intersection: str, group: str, lamp: str = "red") -> None:
        self.failed.add((intersection, group, lamp))

    def repair(self, intersection: str, group: str, lamp: str = "red") -> None:
        self.failed.discard((intersection, group, lamp))

    def sample(self) -> dict[str, dict[str, int]]:
        """Lamp bits lit per intersection and group."""
        bits: dict[str, dict[str, int]] = {}
        for h in self.heads:
            board = self.boards[h.node]
            out = board.outputs
            b = 0
            for lamp, pin, bit in (("red", h.red, LAMP_RED), ("amber", h.amber, LAMP_AMBER),
                                   ("green", h.green, LAMP_GREEN)):
                if pin is None:
                    continue
                lit = out.get(pin, 0) == 1 and (h.intersection, h.group, lamp) not in self.failed
                if lit:
                    b |= bit
                sense = h.feedback.get(lamp)
                if sense is not None:
                    level = 1 if lit else 0
                    if board.inputs.get(sense) != level:
                        board.set_input(sense, level)
            bits.setdefault(h.intersection, {})[h.group] = b
        return bits
