"""Loop detector to process image on the running node (virtual clock): a presence is in the
image the cabinet reads as soon as the input has held its debounce from its edge, whatever
the phase of the node's 10 ms scan, and a pulse that begins and ends between two polls is
still reported (once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fw_nodes import DET1, Cabinet, example

from hil.emu.host import Board

DEBOUNCE_MS = 20            # node.example.json, D1


@pytest.fixture
def board() -> Iterator[Board]:
    with Board(example(), clock="virtual") as b:
        b.advance(200)
        yield b


def presence(cab: Cabinet) -> int:
    return cab.poll()["det_presence"] & 1


@pytest.mark.parametrize("phase_ms", [0, 3, 7])
def test_presence_is_in_the_image_one_debounce_after_the_edge(board: Board,
                                                              phase_ms: int) -> None:
    cab = Cabinet(board)
    assert presence(cab) == 0
    board.advance(phase_ms)                 # the edge at any phase of the node's scan
    board.set_input(DET1, 1)
    board.advance(DEBOUNCE_MS - 3)
    assert presence(cab) == 0, "not before its debounce"
    board.advance(2)                        # the poll above took about 1 ms of line time
    assert presence(cab) == 1, "a poll right after the debounce sees it"


def test_pulse_between_two_polls_is_reported_once(board: Board) -> None:
    cab = Cabinet(board)
    assert presence(cab) == 0
    board.advance(20)
    board.set_input(DET1, 1)                # 40 ms of presence, 60 ms before the next poll
    board.advance(40)
    board.set_input(DET1, 0)
    board.advance(40)
    assert presence(cab) == 1, "the vehicle was there since the last poll"
    board.advance(99)
    assert presence(cab) == 0, "reported once"
