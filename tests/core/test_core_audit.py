"""The timing core's own safety check (its audit), aspect by aspect: any non-red
indication on two conflicting groups is a conflict, as a TS2 monitor counts it."""

from hypothesis import given
from hypothesis import strategies as st

from controller.config import load
from controller.core import events as E
from controller.core.signal_group import NEVER
from controller.engine import IntersectionCore
from protocols import aspects as A

from sc_paths import ROOT

ASTANA = load(ROOT / "examples" / "astana_cis.toml").intersections[0]
SHOWN = (A.RED, A.DARK, A.RED_AMBER, A.GREEN, A.FLASH_GREEN, A.AMBER, A.FLASH_RED)
REST = (A.RED, A.DARK)
T = 1000


def core_showing(aspects: dict[str, int]) -> IntersectionCore:
    """A core whose groups show `aspects` (the rest red), every green long begun."""
    core = IntersectionCore(ASTANA)
    for gid, g in core.groups.items():
        g.aspect, g.since, g.green_end = aspects.get(gid, A.RED), T - 100, NEVER
    return core


@given(a=st.sampled_from(SHOWN), b=st.sampled_from(SHOWN),
       pair=st.sampled_from([("V1", "V3"), ("V1", "P1"), ("V3", "P2"), ("V2", "V4")]))
def test_any_non_red_on_two_conflicting_groups_fails_the_audit(a, b, pair):
    assert ASTANA.conflicting(*pair)
    core = core_showing({pair[0]: a, pair[1]: b})
    assert core._audit(T) == (a in REST or b in REST)


@given(a=st.sampled_from(SHOWN), b=st.sampled_from(SHOWN))
def test_compatible_groups_may_show_anything_together(a, b):
    assert not ASTANA.conflicting("V1", "P2")
    assert core_showing({"V1": a, "P2": b})._audit(T)


def test_red_amber_with_a_walk_is_a_conflict():
    # the case: red+amber on V1 while the crossing P1 walks
    assert not core_showing({"V1": A.RED_AMBER, "P1": A.GREEN})._audit(T)
    assert not core_showing({"V1": A.RED_AMBER, "P1": A.FLASH_GREEN})._audit(T)


def test_green_before_its_intergreen_fails_the_audit():
    core = core_showing({"V3": A.GREEN})
    core.groups["V3"].since = T
    core.groups["V1"].green_end = T - 49               # V1 -> V3: 5 s
    assert not core._audit(T)
    core.groups["V1"].green_end = T - 50
    assert core._audit(T)


def test_a_failed_audit_flashes_at_once():
    core = IntersectionCore(ASTANA)
    for k in range(201):
        core.step(k / 10)                              # start-up over: running S1
    assert core.mode == "run"
    core.groups["V3"].aspect = A.RED_AMBER             # as if the core had gone wrong
    core._dirty = True
    out = core.step(20.1)
    assert core.mode == "flash"
    assert (E.FLASH_STATUS, E.FLASH_FAULT) in [(e.code, e.param) for e in out.events]
