"""Which GPIO of its node's board each lamp, lamp-sense input and detector is wired to.

Keys (documented in examples/*.toml):

    [[intersection.node]]     board = "esp32" (the default) or "esp32s3" (controller/config/boards.py)
    [[intersection.group]]    channels = [0, 1, 2]    the board's output channels (red, amber, green)
                              pins = {red = 25, amber = 26, green = 27}     or GPIOs
                              (neither: the next free output channels, in group order)
                              sense = {red = 34, green = 35}   lamp-sense GPIOs, exactly these;
                              without it, sense is assigned from the free inputs
    [[intersection.detector]] input = 3      the board's input number, or
                              pin = 34       a GPIO (neither: the next free input)

Explicit pins are claimed first, in file order; each must be usable for what it does on
that board (boards.Board.refuse) and used once, or the key path says why. Then lamp
outputs are assigned from the free output channels, detector and bay inputs from the free
inputs (input-only pins first), and lamp sense from what is left: red on every head first,
then green (walk), then amber. A node that needs more outputs or detector inputs than its
board has is an error; lamps that get no sense input are listed in `NodeWiring.unsensed`
(`check` and `provision` say so).
"""

from __future__ import annotations

from dataclasses import dataclass

from .boards import BOARDS, Board
from .model import Detector, Node, SignalGroup
from .reader import Table

LAMPS = ("red", "amber", "green")
PED_LAMPS = ("red", "green")
SENSE_PRIORITY = ("red", "green", "amber")   # which lamp is sensed first on every head


@dataclass(frozen=True)
class HeadWiring:
    lamps: dict[str, int]         # lamp -> output GPIO
    sense: dict[str, int]         # lamp -> lamp-sense input GPIO


@dataclass(frozen=True)
class NodeWiring:
    board: Board
    heads: dict[str, HeadWiring]           # signal group id -> its head
    inputs: dict[str, int]                 # detector (loop, button, bay) id -> GPIO
    unsensed: tuple[tuple[str, str], ...]  # (group id, lamp) without lamp sense

    def sense_note(self) -> str | None:
        """What the node cannot sense, for `check` and `provision`; None if it senses all."""
        if not self.unsensed:
            return None
        lit = sum(len(h.lamps) for h in self.heads.values())
        missing = ", ".join(f"{g} {lamp}" for g, lamp in self.unsensed)
        return (f"board {self.board.name} has inputs for lamp sense on {lit - len(self.unsensed)}"
                f" of {lit} lamps; not sensed: {missing}")


def read_lamp_pins(t: Table, key: str, pedestrian: bool, complete: bool) -> dict[str, int] | None:
    """`pins = {red = .., amber = .., green = ..}` or `sense = {...}`: a GPIO per lamp;
    `complete`: every lamp of the head must have one. None when the key is absent."""
    st = t.get_table(key)
    if st is None:
        return None
    lamps = PED_LAMPS if pedestrian else LAMPS
    out: dict[str, int] = {}
    for lamp in list(st.data):
        if lamp not in lamps:
            st.seen.add(lamp)
            st.error(lamp, f"a {'pedestrian' if pedestrian else 'vehicle'} head's lamps are "
                     f"{', '.join(lamps)}")
            continue
        v = st.get_int(lamp, lo=0)
        if v is not None:
            out[lamp] = v
    missing = [lamp for lamp in lamps if lamp not in st.data]
    if complete and missing:
        st.error(None, f"needs a GPIO for every lamp: no {', '.join(missing)}")
    return out


class _Pins:
    """The pins of one node's board as they are claimed; errors go to the intersection."""

    def __init__(self, t: Table, board: Board):
        self.t = t
        self.board = board
        self.owner = {p: f"the board's {what}" for p, what in board.own.items()}
        self.failed = False

    def claim(self, path: str, pin: int, output: bool, label: str = "") -> bool:
        """Take `pin` for the key `path` (`label`: how later claims name it)."""
        why = self.board.refuse(pin, output)
        if why is None and pin in self.owner:
            why = f"is already used by {self.owner[pin]}"
        if why:
            name = f"{label} (GPIO {pin})" if label else f"GPIO {pin}"
            self.t.error(path, f"{name} {why}")
            self.failed = True
            return False
        self.owner[pin] = f"{path} ({label})" if label else path
        return True

    def numbered(self, path: str, k: int, output: bool) -> int | None:
        """Output channel or input number `k` of the board, claimed."""
        table = self.board.outputs if output else self.board.inputs
        what = "output channel" if output else "input"
        if k >= len(table):
            self.t.error(path, f"{what} {k} does not exist on board {self.board.name} "
                         f"({what}s 0-{len(table) - 1})")
            self.failed = True
            return None
        return table[k] if self.claim(path, table[k], output, f"{what} {k}") else None

    def free(self, output: bool) -> list[int]:
        table = self.board.outputs if output else self.board.inputs
        return [p for p in table if p not in self.owner]


def wire_node(t: Table, node: Node, groups: list[SignalGroup],
              detectors: list[Detector]) -> NodeWiring | None:
    """The node's wiring, or None after reporting why it cannot be wired."""
    board = BOARDS[node.board]
    pins = _Pins(t, board)
    lamps: dict[str, dict[str, int]] = {}
    sense: dict[str, dict[str, int]] = {}
    inputs: dict[str, int] = {}
    for g in groups:                                   # explicit outputs and sense
        names = PED_LAMPS if g.is_pedestrian else LAMPS
        lamps[g.id] = {}
        if g.pins is not None:
            for lamp, p in g.pins.items():
                if pins.claim(f"group[{g.id}].pins.{lamp}", p, True):
                    lamps[g.id][lamp] = p
        elif g.channels is not None:
            for lamp, c in zip(names, g.channels):
                p = pins.numbered(f"group[{g.id}].channels", c, True)
                if p is not None:
                    lamps[g.id][lamp] = p
        if g.sense is not None:
            sense[g.id] = {lamp: p for lamp, p in g.sense.items()
                           if pins.claim(f"group[{g.id}].sense.{lamp}", p, False)}
    for d in detectors:                                # explicit detector inputs
        if d.pin is not None and pins.claim(f"detector[{d.id}].pin", d.pin, False):
            inputs[d.id] = d.pin
        elif d.pin is None and d.input is not None:
            p = pins.numbered(f"detector[{d.id}].input", d.input, False)
            if p is not None:
                inputs[d.id] = p
    _assign(t, node, pins, groups, detectors, lamps, inputs)
    if pins.failed:
        return None
    unsensed = _assign_sense(pins, groups, sense)
    heads = {g.id: HeadWiring(lamps[g.id], sense.get(g.id, {})) for g in groups}
    return NodeWiring(board, heads, inputs, unsensed)


def _assign(t: Table, node: Node, pins: _Pins, groups: list[SignalGroup],
            detectors: list[Detector], lamps: dict, inputs: dict) -> None:
    """Lamp outputs and detector inputs that were not given, from the free pins."""
    want = [(g.id, lamp) for g in groups if g.pins is None and g.channels is None
            for lamp in (PED_LAMPS if g.is_pedestrian else LAMPS)]
    free = pins.free(True)
    if len(want) > len(free):
        t.error(f"node[{node.id}]", f"needs {len(want)} more lamp outputs; board {node.board} "
                f"has {len(free)} free of its {len(pins.board.outputs)} output channels")
        pins.failed = True
        return
    for (gid, lamp), p in zip(want, free):
        pins.claim(f"group[{gid}] {lamp} lamp", p, True)
        lamps[gid][lamp] = p
    need = [d for d in detectors if d.pin is None and d.input is None]
    free = pins.free(False)
    if len(need) > len(free):
        t.error(f"node[{node.id}]", f"needs {len(need)} more detector inputs; board "
                f"{node.board} has {len(free)} free of its {len(pins.board.inputs)} inputs "
                f"after {sum(map(len, lamps.values()))} lamp outputs")
        pins.failed = True
        return
    for d, p in zip(need, free):
        pins.claim(f"detector[{d.id}]", p, False)
        inputs[d.id] = p


def _assign_sense(pins: _Pins, groups: list[SignalGroup],
                  sense: dict[str, dict[str, int]]) -> tuple[tuple[str, str], ...]:
    """Lamp sense from the inputs left, red on every head first, then green, then amber;
    returns the lamps left without."""
    free = pins.free(False)
    unsensed = []
    for lamp in SENSE_PRIORITY:
        for g in groups:
            if lamp == "amber" and g.is_pedestrian:
                continue
            if g.sense is not None:                    # wired as the file says
                if lamp not in sense[g.id]:
                    unsensed.append((g.id, lamp))
                continue
            if not free:
                unsensed.append((g.id, lamp))
                continue
            p = free.pop(0)
            pins.claim(f"group[{g.id}] {lamp} sense", p, False)
            sense.setdefault(g.id, {})[lamp] = p
    return tuple(unsensed)
