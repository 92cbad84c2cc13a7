"""Helpers for the configuration tests: example texts, small textual edits, a TOML writer.

Bad configurations are made from a valid example by replacing one exact piece of text,
so each test reads as "take this file, change this line, expect this message".
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from controller.config import ConfigError, load

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


def example_text(name: str) -> str:
    return (ROOT / "examples" / name).read_text(encoding="utf-8")


def edit(text: str, *changes: tuple[str, str]) -> str:
    """Apply (old, new) replacements; each `old` must occur exactly once, so that an
    edit to the example cannot silently make a test change nothing."""
    for old, new in changes:
        n = text.count(old)
        assert n == 1, f"edit target occurs {n} times, expected once: {old!r}"
        text = text.replace(old, new)
    return text


def problems_of(tmp_path: Path, text: str | bytes, name: str = "bad.toml"):
    """Write `text` to a file, load it, and return the problems of the ConfigError.

    Any other exception propagates and fails the test: a configuration problem must
    always be reported as a ConfigError.
    """
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load(path)
    problems = info.value.problems
    assert problems, "ConfigError without problems"
    for p in problems:
        assert p.file == str(path), p
        assert "<object object" not in str(p), f"internal sentinel leaked into a message: {p}"
    return problems


def find(problems, path: str, *words: str):
    """The problem at `path` whose message contains every one of `words`."""
    for p in problems:
        if p.path == path and all(w in p.message for w in words):
            return p
    listing = "\n  ".join(f"{p.path!r}: {p.message}" for p in problems)
    raise AssertionError(f"no problem at {path!r} mentioning {words}; got:\n  {listing}")


def only(problems, path: str, *words: str):
    """Like `find`, and nothing else was reported (no follow-on noise)."""
    p = find(problems, path, *words)
    assert len(problems) == 1, "expected one problem, got:\n  " + "\n  ".join(
        f"{q.path!r}: {q.message}" for q in problems)
    return p


# -- a minimal TOML writer (inline tables only), for the property tests ------------------
def dumps(doc: dict) -> str:
    return "".join(f"{_key(k)} = {_value(v)}\n" for k, v in doc.items())


def _key(k: str) -> str:
    return _string(k)


def _string(s: str) -> str:
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, dt.time):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")
