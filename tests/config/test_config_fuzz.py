"""Property: whatever a valid document is mutated into, the loader either returns a
consistent GroupConfig or raises ConfigError with located problems; never anything else.

The examples are parsed, mutated as data (values replaced by other numbers, strings,
booleans, lists, tables or times; keys removed; unknown keys added) and written back as
TOML. Run longer with HYPOTHESIS_PROFILE=long.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import math
import tomllib

import pytest
from cfgtools import EXAMPLES, dumps
from hypothesis import given, note
from hypothesis import strategies as st

from controller.config import ConfigError, GroupConfig, loads

DOCS = {p.name: tomllib.loads(p.read_text(encoding="utf-8")) for p in EXAMPLES}
SOURCE = "mutated.toml"

# Words the loader gives meaning to, so that mutations often land on almost-right values.
KEYWORDS = ["CIS", "EU", "US", "vehicle", "arrow", "pedestrian", "presence", "counting",
            "ped_button", "parking_bay", "fixed", "actuated", "none", "min", "max", "ped",
            "amber", "red", "N", "E", "O", "mon", "sun", "00:00", "23:59", "24:00", "7:00",
            "speeds", "", " ", "é", "\u0000"]
KEYS = ["id", "kind", "node", "input", "calls", "extends", "groups", "channels", "mode",
        "cycle_s", "offset_s", "green_s", "min_green_s", "max_green_s", "recall", "amber_s",
        "clear_m", "entry_m", "speeds", "area", "at", "plan", "days", "xyz"]
NUMBERS = [0, 0.0, -0.0, -1, 1, 0.05, 0.1, 2.9, 3.0, 3.5, 4.0, 11.0, 11.1, 20, 247, 248,
           300, 1e-9, 1e300, 2**53 + 1, math.nan, math.inf, -math.inf]


def _category(v) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, dict):
        return "table"
    return type(v).__name__


def _strings(node, out: set[str]) -> set[str]:
    if isinstance(node, str):
        out.add(node)
    elif isinstance(node, dict):
        for k, v in node.items():
            out.add(k)
            _strings(v, out)
    elif isinstance(node, list):
        for v in node:
            _strings(v, out)
    return out


STRINGS = {name: sorted(_strings(doc, set())) for name, doc in DOCS.items()}


def _paths(node, prefix=()):
    if prefix:
        yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _parent(doc, path):
    for step in path[:-1]:
        doc = doc[step]
    return doc


def scalars(doc_strings: list[str]):
    return st.one_of(
        st.integers(-5, 400),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(NUMBERS),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=8),
        st.sampled_from(doc_strings + KEYWORDS),
        st.booleans(),
        st.times(),
    )


def values(doc_strings: list[str]):
    s = scalars(doc_strings)
    return st.one_of(s, st.lists(s, max_size=4),
                     st.dictionaries(st.sampled_from(KEYS), s, max_size=3))


@st.composite
def mutated(draw, ops=("replace", "delete", "add"), other_type_only=False):
    name = draw(st.sampled_from(sorted(DOCS)))
    doc = copy.deepcopy(DOCS[name])
    strings = STRINGS[name]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_paths(doc))))
        parent, last = _parent(doc, path), path[-1]
        op = draw(st.sampled_from(ops))
        if op == "replace":
            old = parent[last]
            new = draw(values(strings).filter(
                lambda v, old=old: not other_type_only or _category(v) != _category(old)))
            parent[last] = new
        elif op == "delete":
            del parent[last]
        else:
            target = parent if isinstance(parent, dict) else parent[last]
            if isinstance(target, dict):
                added = scalars(strings)
                if other_type_only:     # KEYS has real keys: no numbers for them here
                    added = added.filter(lambda v: _category(v) != "number")
                target[draw(st.sampled_from(KEYS))] = draw(added)
        note(f"{name}: {op} at {path}")
    return name, doc


def _finite(obj, where="config"):
    """Every number in the model is finite."""
    if isinstance(obj, float):
        assert math.isfinite(obj), f"{where} is {obj}"
    elif dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            _finite(getattr(obj, f.name), f"{where}.{f.name}")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _finite(v, f"{where}[{k!r}]")
    elif isinstance(obj, tuple | list | frozenset):
        for i, v in enumerate(obj):
            _finite(v, f"{where}[{i}]")


def check_outcome(text: str) -> None:
    try:
        cfg = loads(text, SOURCE)
    except ConfigError as e:
        assert e.problems, "ConfigError without problems"
        for p in e.problems:
            assert p.file == SOURCE
            assert isinstance(p.path, str) and isinstance(p.message, str) and p.message
            assert "<object object" not in str(p), str(p)
        return
    assert isinstance(cfg, GroupConfig)
    _finite(cfg)
    for inter in cfg.intersections:
        for a, b in inter.conflicts:
            assert inter.intergreen[(a, b)] >= inter.group(a).change_s
        for s in inter.stages:
            assert not any(inter.conflicting(a, b) for a in s.groups for b in s.groups)
        for plan in inter.plans.values():
            if plan.mode == "fixed":
                order = list(plan.stages)
                greens = sum(sp.green_s for sp in plan.stages.values())
                lost = sum(inter.interstage_s(order[i], order[(i + 1) % len(order)])
                           for i in range(len(order))) if len(order) > 1 else 0.0
                assert greens + lost <= plan.cycle_s + 1e-6
                assert plan.offset_s < plan.cycle_s
    for e in cfg.schedule:
        assert 0 <= e.at_s < 86400
        assert all(e.plan in i.plans for i in cfg.intersections)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_writer_round_trips_every_example(path):
    doc = DOCS[path.name]
    assert tomllib.loads(dumps(doc)) == doc
    loads(dumps(doc), SOURCE)


def test_writer_handles_awkward_values():
    doc = {"a": 'quote " back \\ tab \t nul \u0000 del \u007f é', "b": [1, -2.5, 1e300],
           "c": {"d": True, "e": [], "f": {}}, "g": dt.time(7, 0, 0, 123), "h": -0.0}
    assert tomllib.loads(dumps(doc)) == doc
    nan = tomllib.loads(dumps({"n": math.nan, "i": -math.inf}))
    assert math.isnan(nan["n"]) and nan["i"] == -math.inf


@given(mutated(ops=("replace", "add"), other_type_only=True))
def test_values_of_the_wrong_type_and_unknown_keys_give_config_errors(case):
    _, doc = case
    check_outcome(dumps(doc))


@given(mutated())
def test_any_mutation_gives_a_config_or_a_config_error(case):
    _, doc = case
    check_outcome(dumps(doc))
