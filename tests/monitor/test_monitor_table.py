"""The monitor's own table: what the controller's adapter makes of a configuration, what
the monitor accepts, and that the monitor package needs nothing but protocols/."""

from __future__ import annotations

import ast
import copy
import glob
import json
import os
import subprocess
import sys

import pytest

from controller.config import load
from controller.config.monitor_table import monitor_table
from monitor import FORMAT, SignalMonitor, validate

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.toml")))


@pytest.fixture(scope="module")
def cis():
    return load(os.path.join(ROOT, "examples", "astana_cis.toml")).intersections[0]


def test_table_of_the_cis_junction(cis):
    t = monitor_table(cis)
    assert t["format"] == FORMAT and t["intersection"] == "kb-turan"
    assert t["flash"] == cis.flash_aspect
    assert [g["id"] for g in t["groups"]] == [g.id for g in cis.groups]
    v1 = t["groups"][0]
    assert v1 == {"id": "V1", "kind": "vehicle", "min_green_ms": round(cis.group("V1").min_green_s
                                                                        * 1000),
                  "amber_ms": 3000, "red_amber": True, "flash_dont_walk": False}
    assert {(a, b) for a, b, _ in t["conflicts"]} == set(cis.conflicts)


@pytest.mark.parametrize("path", EXAMPLES)
def test_every_example_gives_a_valid_table_with_the_model_s_exact_times(path):
    for inter in load(path).intersections:
        t = monitor_table(inter)
        assert validate(t) is None, inter.id
        assert json.loads(json.dumps(t)) == t
        for g, row in zip(inter.groups, t["groups"], strict=True):
            # the minimum green, or the floor a preempt may cut it to (the guard's too)
            assert row["min_green_ms"] / 1000 == inter.green_floor_s(g.id) <= g.min_green_s
            if not inter.preempts:
                assert row["min_green_ms"] / 1000 == g.min_green_s
            assert row["amber_ms"] / 1000 == g.amber_s
        for a, b, ms in t["conflicts"]:
            assert ms / 1000 == inter.intergreen.get((a, b), 0.0)


def test_table_is_deterministic_whatever_the_hash_seed():
    code = ("import json; from controller.config import load; "
            "from controller.config.monitor_table import monitor_table; "
            f"print(json.dumps([monitor_table(i) for p in {EXAMPLES!r} "
            "for i in load(p).intersections]))")
    outs = set()
    for seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        outs.add(subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                                capture_output=True, text=True).stdout)
    assert len(outs) == 1


def test_the_monitor_runs_from_the_json_document(cis):
    doc = json.loads(json.dumps(monitor_table(cis)))
    mon = SignalMonitor(doc, tolerance_s=0.1)
    assert mon.intersection == "kb-turan"
    assert mon.feed(0.0, {"V1": 4, "V3": 4}) == []
    assert [v.kind for v in mon.feed(0.4, {"V1": 4, "V3": 4})] == ["conflict"]


def _broken(cis, change):
    t = copy.deepcopy(monitor_table(cis))
    change(t)
    return t


@pytest.mark.parametrize("change, problem", [
    (lambda t: t.update(format=2), "format"),
    (lambda t: t.update(flash="green"), "flash"),
    (lambda t: t["groups"][0].update(kind="tram"), "kind"),
    (lambda t: t["groups"][0].update(amber_ms=3.0), "amber_ms"),
    (lambda t: t["groups"][0].update(red_amber=1), "red_amber"),
    (lambda t: t["groups"].append(dict(t["groups"][0])), "duplicate"),
    (lambda t: t["conflicts"].append(["V1", "X9", 5000]), "unknown"),
    (lambda t: t["conflicts"].append(t["conflicts"][0]), "twice"),
    (lambda t: t["conflicts"].pop(0), "without"),
])
def test_a_broken_table_is_refused(cis, change, problem):
    t = _broken(cis, change)
    assert problem in validate(t)
    with pytest.raises(ValueError, match="monitor table"):
        SignalMonitor(t)


def test_the_monitor_package_imports_only_protocols():
    allowed = {"protocols", "collections"}      # collections: MicroPython's namedtuple
    for path in glob.glob(os.path.join(ROOT, "monitor", "*.py")):
        with open(path) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, (path, name)
